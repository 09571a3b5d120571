/**
 * Timestamp rebasing for FLV output: RTMP's 32-bit millisecond clock → a per-track 64-bit timeline
 * that starts near 0, survives the 2^32 wrap, never goes backwards, and continues across publisher
 * reconnects into the same output.
 * Specs: Adobe RTMP 1.0 §5.3.1.2.1 (timestamps are 32-bit ms and wrap; compare serially, RFC 1982);
 * Adobe FLV 10.1 §E.4.1 (Timestamp UI24 + TimestampExtended UI8 = 32 bits).
 *
 * Output range: FLV stores 32 bits, so an output above 2^32 − 1 ms (49.7 days of continuous
 * output) is written modulo 2^32 by the muxer. Restart the FLV stream (new FFmpeg, new rebaser)
 * before that; `TimestampRebaser#lastOutput` tells how far along a stream is.
 */
import { FlvUsageError } from './errors';

/** 2^32: RTMP timestamps are taken modulo this. */
const WRAP = 0x100000000;
/** 2^31: a serial difference at or above this is a step backwards (RFC 1982 comparison). */
const HALF = 0x80000000;

/**
 * Signed distance from RTMP timestamp `from` to `to`, both modulo 2^32, in [−2^31, 2^31).
 * A forward step of ≥ 2^31 ms is indistinguishable from a backward step and counts as backward.
 */
export function serialDelta(from: number, to: number): number {
  const d = (to - from) % WRAP;
  const u = d < 0 ? d + WRAP : d;
  return u >= HALF ? u - WRAP : u;
}

/** Options of {@link TimestampRebaser}. */
export interface TimestampRebaserOptions {
  /**
   * A track stepping back by more than this many ms is treated as a new timeline for that track
   * (an encoder that restarted its clock): it continues 1 ms after its last output instead of being
   * pinned there. Smaller steps back (interleaving jitter, librtmp's −95 ms) are clamped to the
   * previous output. Default {@link DEFAULT_MAX_BACKWARD_JUMP_MS}.
   */
  maxBackwardJumpMs?: number;
  /** Output of the first sample. Default 0. */
  startAt?: number;
}

/** 10 s: far beyond any A/V interleaving jitter, far below a clock restart's usual jump. */
export const DEFAULT_MAX_BACKWARD_JUMP_MS = 10_000;

interface Track {
  /** Last raw 32-bit timestamp. */
  raw: number;
  /** Its unwrapped value on the shared 64-bit timeline. */
  unwrapped: number;
  /** Per-track shift added after a clock restart. */
  shift: number;
  /** Last output, for the monotonic clamp. */
  lastOut: number;
}

/**
 * Maps RTMP timestamps of several tracks (e.g. "audio", "video", "data") onto one output
 * timeline. All tracks share one base (the first sample of the stream → `startAt`), so their
 * relative timing (A/V sync) is kept. Per track:
 * - unwrap: each raw value is placed relative to that track's previous raw value by serial
 *   comparison, so crossing 2^32 continues upwards instead of jumping back 49.7 days;
 *   a new track is placed relative to the latest raw value of any track;
 * - monotonic: the output is never below the track's previous output (small backward steps are
 *   clamped to it);
 * - clock restarts: steps back beyond `maxBackwardJumpMs` shift the track to continue where it was.
 * {@link continueAfter} starts a new input timeline (publisher reconnect) at a given output time.
 */
export class TimestampRebaser {
  private readonly maxBackwardJump: number;
  private readonly tracks = new Map<string | number, Track>();
  /** Output time the current input timeline starts at. */
  private offset: number;
  /** Unwrapped input time that maps to `offset`, or undefined before the first sample. */
  private base: number | undefined;
  /** Latest raw/unwrapped pair of any track, to place new tracks on the shared timeline. */
  private refRaw = 0;
  private refUnwrapped = 0;
  private highest = -1;

  /** @throws FlvUsageError ERR_FLV_INVALID_OPTION */
  constructor(options: TimestampRebaserOptions = {}) {
    const jump = options.maxBackwardJumpMs ?? DEFAULT_MAX_BACKWARD_JUMP_MS;
    if (!(jump >= 0) || !Number.isFinite(jump)) {
      throw new FlvUsageError('ERR_FLV_INVALID_OPTION', `maxBackwardJumpMs must be a finite number ≥ 0, got ${jump}`);
    }
    const startAt = options.startAt ?? 0;
    if (!Number.isSafeInteger(startAt) || startAt < 0) {
      throw new FlvUsageError('ERR_FLV_INVALID_OPTION', `startAt must be a safe integer ≥ 0, got ${startAt}`);
    }
    this.maxBackwardJump = jump;
    this.offset = startAt;
  }

  /** Highest output produced so far on any track, or −1 before the first sample. */
  get lastOutput(): number {
    return this.highest;
  }

  /**
   * Output timestamp (integer ms, ≥ 0) for a sample of `track` with RTMP timestamp `rtmpTimestamp`
   * (taken modulo 2^32).
   * @throws FlvUsageError ERR_FLV_INVALID_ARGUMENT for a non-finite timestamp
   */
  rebase(track: string | number, rtmpTimestamp: number): number {
    if (!Number.isFinite(rtmpTimestamp)) {
      throw new FlvUsageError('ERR_FLV_INVALID_ARGUMENT', `timestamp ${rtmpTimestamp} is not finite`);
    }
    const raw = ((Math.trunc(rtmpTimestamp) % WRAP) + WRAP) % WRAP;
    let t = this.tracks.get(track);
    let out: number;
    if (t === undefined) {
      const unwrapped = this.base === undefined ? raw : this.refUnwrapped + serialDelta(this.refRaw, raw);
      if (this.base === undefined) this.base = unwrapped;
      out = Math.max(this.offset, this.offset + unwrapped - this.base);
      t = { raw, unwrapped, shift: 0, lastOut: out };
      this.tracks.set(track, t);
    } else {
      const delta = serialDelta(t.raw, raw);
      t.raw = raw;
      t.unwrapped += delta;
      const candidate = this.offset + t.unwrapped - this.base! + t.shift;
      if (candidate < t.lastOut - this.maxBackwardJump) {
        // Clock restart on this track: continue 1 ms after its last output.
        t.shift += t.lastOut + 1 - candidate;
        out = t.lastOut + 1;
      } else {
        out = Math.max(candidate, t.lastOut);
      }
      t.lastOut = out;
    }
    this.refRaw = raw;
    this.refUnwrapped = t.unwrapped;
    if (out > this.highest) this.highest = out;
    return out;
  }

  /**
   * Starts a new input timeline (a publisher reconnected into the same output): the next sample of
   * any track maps to `outputTimestamp`, or to the highest output so far if that is later, so the
   * output never goes backwards. Typical use: `continueAfter(rebaser.lastOutput + frameGapMs)`.
   * @throws FlvUsageError ERR_FLV_INVALID_ARGUMENT for a non-integer or negative value
   */
  continueAfter(outputTimestamp: number): void {
    if (!Number.isSafeInteger(outputTimestamp) || outputTimestamp < 0) {
      throw new FlvUsageError('ERR_FLV_INVALID_ARGUMENT', `continueAfter(${outputTimestamp}): not a safe integer ≥ 0`);
    }
    // Every track's next output is ≥ offset ≥ highest ≥ its previous output: still monotonic.
    this.offset = Math.max(outputTimestamp, this.highest);
    this.base = undefined;
    this.tracks.clear();
  }
}
