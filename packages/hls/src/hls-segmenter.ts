/**
 * Where segments are cut (RFC 8216 §3, §6.2.1), above the muxer: a segment starts at a video
 * keyframe — the first one at or after `targetDuration` of DTS — or, for an audio-only stream, at
 * the first audio frame past it. Each segment starts with PAT/PMT. Finished segments are reported
 * with their sequence number, duration (from DTS, 90 kHz, wrap-aware), size and flags.
 *
 * LL-HLS seam (not built yet): parts will be a second, finer decision in {@link HlsSegmenter.#place}
 * — a `partTarget` option and a `part-end` event at each frame boundary past it (independent when it
 * starts at a keyframe) — leaving segment cuts and the muxer as they are; `segment-end` then closes
 * the last part too.
 */

import { DEFAULT_MAX_SEGMENT_DURATION, DEFAULT_TARGET_DURATION, TS_CLOCK_HZ } from './constants';
import { HlsUsageError } from './errors';
import { checkMs, msToTicks, tickDelta } from './timestamp';
import type { AudioFrame, TsMuxerOptions, VideoFrame } from './ts-muxer';
import { TsMuxer } from './ts-muxer';

/** Options of {@link HlsSegmenter}: the tracks and limits of its {@link TsMuxer}, and where to cut. */
export interface HlsSegmenterOptions extends TsMuxerOptions {
  /** Seconds of DTS after which the next keyframe cuts. Default {@link DEFAULT_TARGET_DURATION} (1). */
  targetDuration?: number;
  /**
   * Seconds after which a segment is cut at the next video frame even if it is no keyframe
   * (reported `independent: false`). Default: {@link DEFAULT_MAX_SEGMENT_DURATION} (10) or
   * twice the target, whichever is longer; at least the target.
   */
  maxSegmentDuration?: number;
  /** Media sequence number of the first segment. Default 0. */
  firstSequence?: number;
}

/** A finished segment. */
export interface SegmentInfo {
  /** Media sequence number (EXT-X-MEDIA-SEQUENCE counting). */
  sequence: number;
  /** The segment follows a forced cut with `discontinuity` (EXT-X-DISCONTINUITY before it). */
  discontinuity: boolean;
  /** It starts with a keyframe (always, for audio-only), so it decodes on its own. */
  independent: boolean;
  /** DTS of its first frame, 90 kHz ticks mod 2^33. */
  startDts: number;
  /** Duration in 90 kHz ticks: to the next segment's first DTS, or last DTS + last frame interval. */
  durationTicks: number;
  /** `durationTicks` in seconds (for EXTINF). */
  duration: number;
  /** Bytes written, a multiple of 188. */
  bytes: number;
  videoFrames: number;
  audioFrames: number;
}

/** What a write or a cut produced, in order. */
export type SegmenterEvent =
  | { type: 'segment-start'; sequence: number; discontinuity: boolean; independent: boolean; startDts: number }
  | { type: 'data'; sequence: number; data: Uint8Array }
  | { type: 'segment-end'; segment: SegmentInfo };

/** Options of {@link HlsSegmenter.cut}. */
export interface CutOptions {
  /** The next segment starts a new timeline (a reconnect): reported `discontinuity: true`. */
  discontinuity?: boolean;
}

interface OpenSegment extends Omit<SegmentInfo, 'durationTicks' | 'duration'> {
  lastDts: number;
  lastInterval: number;
}

function seconds(value: unknown, name: string, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new HlsUsageError('ERR_HLS_INVALID_OPTION', `${name} must be a positive number of seconds, got ${v}`);
  }
  return v;
}

/** Keyframe segmenter over a {@link TsMuxer}; see the module comment. */
export class HlsSegmenter {
  readonly #muxer: TsMuxer;
  readonly #target: number;
  readonly #max: number;
  #sequence: number;
  #current: OpenSegment | undefined;
  #discontinuity = false;
  #ended = false;
  #dropped = 0;

  constructor(options: HlsSegmenterOptions) {
    const target = seconds(options.targetDuration, 'targetDuration', DEFAULT_TARGET_DURATION);
    const max = seconds(
      options.maxSegmentDuration,
      'maxSegmentDuration',
      Math.max(DEFAULT_MAX_SEGMENT_DURATION, 2 * target),
    );
    if (max < target) {
      throw new HlsUsageError('ERR_HLS_INVALID_OPTION', `maxSegmentDuration ${max} < targetDuration ${target}`);
    }
    const first = options.firstSequence ?? 0;
    if (!Number.isSafeInteger(first) || first < 0) {
      throw new HlsUsageError('ERR_HLS_INVALID_OPTION', `firstSequence must be an integer ≥ 0, got ${first}`);
    }
    this.#muxer = new TsMuxer(options);
    this.#target = Math.round(target * TS_CLOCK_HZ);
    this.#max = Math.round(max * TS_CLOCK_HZ);
    this.#sequence = first;
  }

  /** Sequence number the next segment will take. */
  get nextSequence(): number {
    return this.#sequence;
  }

  /** Frames dropped while waiting for the first keyframe (of the stream or after a cut). */
  get droppedFrames(): number {
    return this.#dropped;
  }

  /** Whether a segment is open. */
  get open(): boolean {
    return this.#current !== undefined;
  }

  setVideoConfig(record: Uint8Array): void {
    this.#muxer.setVideoConfig(record);
  }

  setAudioConfig(config: Uint8Array): void {
    this.#muxer.setAudioConfig(config);
  }

  writeVideo(frame: VideoFrame): SegmenterEvent[] {
    this.#checkOpen();
    if (!this.#muxer.hasVideo) throw new HlsUsageError('ERR_HLS_NO_SUCH_TRACK', 'no video track');
    const dts = msToTicks(checkMs(frame.dts, 'dts'));
    return this.#place(dts, frame.keyframe === true, 'video', () => this.#muxer.writeVideo(frame));
  }

  writeAudio(frame: AudioFrame): SegmenterEvent[] {
    this.#checkOpen();
    if (!this.#muxer.hasAudio) throw new HlsUsageError('ERR_HLS_NO_SUCH_TRACK', 'no audio track');
    const pts = msToTicks(checkMs(frame.pts, 'pts'));
    return this.#place(pts, !this.#muxer.hasVideo, 'audio', () => this.#muxer.writeAudio(frame));
  }

  /**
   * Ends the open segment now (a reconnect, a configuration change). The next segment starts at
   * the next keyframe (video) or frame (audio-only); with `discontinuity` it is flagged so.
   */
  cut(options: CutOptions = {}): SegmenterEvent[] {
    this.#checkOpen();
    if (options.discontinuity) this.#discontinuity = true;
    return this.#close(undefined);
  }

  /** Ends the open segment and the stream; later writes throw ERR_HLS_ENDED. */
  end(): SegmenterEvent[] {
    if (this.#ended) return [];
    const events = this.#close(undefined);
    this.#ended = true;
    return events;
  }

  /**
   * Places one frame: on the timing track (video, or audio when audio-only) it may cut first.
   * `time` is the frame's DTS in ticks; `mux` writes it (throwing before anything changed).
   */
  #place(time: number, startsSegment: boolean, track: 'video' | 'audio', mux: () => Uint8Array): SegmenterEvent[] {
    const cur = this.#current;
    const timing = track === 'video' || !this.#muxer.hasVideo;
    let cut: 'independent' | 'forced' | undefined;
    if (cur === undefined) {
      if (!startsSegment) {
        this.#dropped++;
        return [];
      }
      cut = 'independent';
    } else if (timing) {
      const elapsed = tickDelta(cur.startDts, time);
      if (startsSegment && elapsed >= this.#target) cut = 'independent';
      else if (elapsed >= this.#max) cut = 'forced';
    }
    if (cut !== undefined && timing && this.#discontinuity) this.#muxer.markDiscontinuity();
    const data = mux();
    const events = cut === undefined ? [] : this.#close(time);
    if (cut !== undefined) events.push(...this.#openAt(time, cut === 'independent'));
    const seg = this.#current!;
    if (timing) {
      const interval = tickDelta(seg.lastDts, time);
      if (interval > 0) seg.lastInterval = interval;
      seg.lastDts = time;
    }
    if (track === 'video') seg.videoFrames++;
    else seg.audioFrames++;
    seg.bytes += data.length;
    events.push({ type: 'data', sequence: seg.sequence, data });
    return events;
  }

  /** Opens the next segment at `time`: its start event, then its PAT/PMT as its first data. */
  #openAt(time: number, independent: boolean): SegmenterEvent[] {
    const tables = this.#muxer.segmentStart();
    const seg: OpenSegment = {
      sequence: this.#sequence++,
      discontinuity: this.#discontinuity,
      independent,
      startDts: time,
      bytes: tables.length,
      videoFrames: 0,
      audioFrames: 0,
      lastDts: time,
      lastInterval: 0,
    };
    this.#discontinuity = false;
    this.#current = seg;
    const { sequence, discontinuity } = seg;
    return [
      { type: 'segment-start', sequence, discontinuity, independent, startDts: time },
      { type: 'data', sequence, data: tables },
    ];
  }

  #close(nextStart: number | undefined): SegmenterEvent[] {
    const seg = this.#current;
    if (seg === undefined) return [];
    this.#current = undefined;
    const end = nextStart ?? seg.lastDts;
    const durationTicks = Math.max(0, tickDelta(seg.startDts, end) + (nextStart === undefined ? seg.lastInterval : 0));
    const { lastDts: _d, lastInterval: _i, ...info } = seg;
    return [{ type: 'segment-end', segment: { ...info, durationTicks, duration: durationTicks / TS_CLOCK_HZ } }];
  }

  #checkOpen(): void {
    if (this.#ended) throw new HlsUsageError('ERR_HLS_ENDED', 'the segmenter was ended');
  }
}
