/**
 * When to hand FFmpeg the FLV tags held back for it.
 *
 * Writing every RTMP message to FFmpeg's stdin as it arrives (~75 per second for 30 fps video with
 * AAC) wakes FFmpeg for each one; those wake-ups and the matching pipe writes were most of the
 * CPU of both processes (see docs/benchmarks-history.md, "Ingest optimisation"). Nothing a viewer sees
 * needs them to be that prompt: a segment is published only when FFmpeg cuts it, and it cuts only
 * on a video keyframe. So tags are held and written as one vectored write when:
 *
 * - a video keyframe arrives (it may close a segment: it goes out at once, with what was held);
 * - after that keyframe, an audio frame arrives: a stock FFmpeg's muxer interleaves by timestamp
 *   and releases the keyframe only once it has an audio packet at or after it, so audio is written
 *   at once until one with a timestamp ≥ the keyframe's has gone out (the lean build's patched HLS
 *   muxer does not wait; for it these are a few extra writes per GOP);
 * - decoder configuration or metadata arrives (rare, and FFmpeg may have to reconfigure);
 * - `maxBytes` are held (bounds memory and FFmpeg's read size) or the held tags span
 *   `maxSpanMs` of media time (bounds how stale FFmpeg's view gets in a low-bitrate stream).
 *
 * A stream without video has no keyframes to cut on (FFmpeg cuts audio-only HLS on any packet), so
 * it is written straight through: construct with `hasVideo: false` and every tag flushes.
 * Pure policy: no I/O, no timers; the caller holds and flushes.
 */
import { type FlvTag, isEssentialRole, type TagRole, TagType, tagWireSize } from '@org/flv';

export interface FeedBatchOptions {
  /** The stream has video: batching applies. Without it every tag flushes. */
  hasVideo: boolean;
  /** The stream has audio: after a keyframe, flush on audio until one reaches its timestamp. */
  hasAudio: boolean;
  /** Flush once this many wire bytes are held. 0 disables batching. */
  maxBytes: number;
  /** Flush once the held tags span this many ms of media time. */
  maxSpanMs: number;
}

/** 64 KiB: one pipe buffer; about 0.2 s of a 2.5 Mb/s stream. */
export const DEFAULT_FEED_BATCH_BYTES = 64 * 1024;
/** 250 ms of media time. */
export const DEFAULT_FEED_BATCH_SPAN_MS = 250;

export class FeedBatch {
  private readonly o: FeedBatchOptions;
  private heldBytes = 0;
  private firstTs = -1;
  /** Timestamp of the last keyframe while its releasing audio frame has not gone out, else -1. */
  private keyframeTs = -1;

  constructor(options: FeedBatchOptions) {
    this.o = options;
  }

  /** Bytes held since the last flush. */
  get bytes(): number {
    return this.heldBytes;
  }

  /**
   * Accounts for a tag that was just held (timestamps on FFmpeg's timeline; `role` as
   * `FlvStreamState#observe` gave it) and says whether the held tags must be written now. When it
   * returns true, the caller flushes.
   */
  add(tag: FlvTag, role: TagRole): boolean {
    const o = this.o;
    if (!o.hasVideo || o.maxBytes <= 0) return true;
    const ts = tag.timestamp;
    if (this.firstTs < 0) this.firstTs = ts;
    this.heldBytes += tagWireSize(tag);
    let now = false;
    if (tag.type === TagType.Video) {
      if (role === 'video-keyframe') {
        now = true;
        if (o.hasAudio) this.keyframeTs = ts;
      } else if (isEssentialRole(role)) now = true;
    } else if (tag.type === TagType.Audio) {
      if (this.keyframeTs >= 0) {
        now = true;
        if (ts >= this.keyframeTs) this.keyframeTs = -1;
      } else if (isEssentialRole(role)) now = true;
    } else now = true;
    if (!now && (this.heldBytes >= o.maxBytes || ts - this.firstTs >= o.maxSpanMs || ts < this.firstTs)) now = true;
    if (now) {
      this.heldBytes = 0;
      this.firstTs = -1;
    }
    return now;
  }
}
