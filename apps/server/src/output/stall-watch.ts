/**
 * Tells a stalled FFmpeg (stopped, wedged, its pipe stuck) from one that has nothing to cut yet.
 *
 * FFmpeg's HLS muxer cuts a segment at the first keyframe (any packet for audio only) whose time
 * on the run's timeline is at or after `hls_time × segments so far`; the segments it reported add
 * up to at least that, so a cut candidate at or after `reported media time + hls_time` is one
 * FFmpeg must cut on ("overdue"). From the moment such a tag is handed to FFmpeg's writer (written,
 * queued or dropped: a full queue is a stuck FFmpeg too) a segment must be reported within the
 * timeout. A long keyframe interval never arms the watch early (the candidate comes only with the
 * keyframe), and the timeout counts only time during which the publisher kept sending: a gap
 * between two tags counts at most {@link MAX_COUNTED_GAP_MS}, so a network hiccup, during which
 * FFmpeg may be waiting for the next packet to release its cut, never adds up to a stall.
 *
 * Pure: the caller passes the clock with every call; no timers (a stall is noticed on the tag that
 * completes the timeout, and with no tags there is nothing FFmpeg could be late with).
 */

/** Default timeout: a few 1 s segments; far above FFmpeg's cut-to-report time (about a millisecond). */
export const DEFAULT_FFMPEG_STALL_TIMEOUT_MS = 5000;
/** Longest gap between two tags counted as "the publisher kept sending". */
export const MAX_COUNTED_GAP_MS = 1000;
/** Slack for EXTINF rounding (microseconds) and the first packet's offset on the run's timeline. */
const CUT_SLACK_MS = 100;

export interface StallWatchOptions {
  /** Target segment duration, ms (`hls_time`). */
  hlsTimeMs: number;
  /** Publisher-active time allowed between an overdue cut candidate and the report; 0 = off. */
  timeoutMs: number;
}

/** A stall as {@link StallWatch.handed} reports it. */
export interface Stall {
  /** Wall time since the overdue candidate was handed to the writer (or since the last report). */
  waitedMs: number;
  /** Timeline position of the overdue candidate, ms. */
  candidateMs: number;
  /** Media time FFmpeg had reported when the stall was declared, ms. */
  reportedMs: number;
}

export class StallWatch {
  private readonly o: StallWatchOptions;
  private reportedMs = 0;
  /** Newest cut candidate handed to the writer, timeline ms. */
  private newestCandidate = Number.NEGATIVE_INFINITY;
  /** Since an overdue candidate was handed (or a report came with one already handed): wall ms. */
  private armedAt: number | undefined;
  private armedCandidate = 0;
  private activeMs = 0;
  private lastTagAt = 0;
  private fired = false;

  constructor(options: StallWatchOptions) {
    this.o = options;
  }

  /** Timeline position from which a cut candidate is overdue, ms. */
  get dueMs(): number {
    return this.reportedMs + this.o.hlsTimeMs + CUT_SLACK_MS;
  }

  /** True while an overdue candidate waits for a report. */
  get armed(): boolean {
    return this.armedAt !== undefined;
  }

  /**
   * A tag at `timestampMs` (run timeline) was handed to FFmpeg's writer at `nowMs`; `candidate`:
   * FFmpeg may cut on it (a video keyframe, or any audio tag of a stream without video). Returns
   * the stall once (the first tag that completes the timeout), else undefined.
   */
  handed(candidate: boolean, timestampMs: number, nowMs: number): Stall | undefined {
    if (this.o.timeoutMs <= 0 || this.fired) return undefined;
    const armedAt = this.armedAt;
    if (armedAt !== undefined) {
      if (nowMs > this.lastTagAt) {
        this.activeMs += Math.min(nowMs - this.lastTagAt, MAX_COUNTED_GAP_MS);
        this.lastTagAt = nowMs;
      }
      if (this.activeMs >= this.o.timeoutMs) {
        this.fired = true;
        return { waitedMs: nowMs - armedAt, candidateMs: this.armedCandidate, reportedMs: this.reportedMs };
      }
    }
    if (!candidate) return undefined;
    if (timestampMs > this.newestCandidate) this.newestCandidate = timestampMs;
    if (armedAt === undefined && timestampMs >= this.dueMs) this.arm(timestampMs, nowMs);
    return undefined;
  }

  /** FFmpeg reported a segment of `durationS` seconds at `nowMs`. */
  reported(durationS: number, nowMs: number): void {
    this.reportedMs += durationS * 1000;
    this.armedAt = undefined;
    // FFmpeg may be behind (a backlog in the pipe): a candidate handed already is due from now.
    if (this.newestCandidate >= this.dueMs) this.arm(this.newestCandidate, nowMs);
  }

  private arm(candidateMs: number, nowMs: number): void {
    this.armedAt = nowMs;
    this.armedCandidate = candidateMs;
    this.activeMs = 0;
    this.lastTagAt = nowMs;
  }
}
