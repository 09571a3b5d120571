/**
 * The seam between a stream and whatever turns its media into HLS segments. A producer writes
 * segment files into the stream's directory and reports each finished one; the stream's
 * `LivePlaylist` lists them, and HTTP, the reconnect grace and cleanup never see the producer.
 * One FFmpeg per stream (`FfmpegProducer`) is the design's producer; a native packager would be a
 * second implementation of this interface.
 */
import type { FlvStreamState, FlvTag, TagRole } from '@org/flv';
import type { SegmentReport } from '../hls/live-playlist';

export interface SegmentProducer {
  /**
   * A publisher starts feeding (the first, or one continuing the stream). `state` supplies the
   * primer of every run; `ready` resolves once the stream directory exists. The first segment
   * after a previous publisher's is reported with `discontinuity`.
   */
  open(state: FlvStreamState, ready: Promise<void>): void;
  /** A live tag of the current publisher and its role (as `FlvStreamState#observe` gave it). */
  write(tag: FlvTag, role: TagRole): void;
  /** The publisher left: the segment in progress is finished and reported; resolves when idle. */
  close(): Promise<void>;
  /** Stops at once, synchronously (process exit). */
  killNow(): void;
  /** Restarts after crashes, all time. */
  readonly restarts: number;
  /** Frames dropped because the producer could not keep up, all time. */
  readonly droppedFrames: number;
  /** PID of the producer's process, if it has one running. */
  readonly pid: number | undefined;
}

/** What a producer reports to its stream. */
export interface SegmentProducerEvents {
  /** A segment file is complete under its name. */
  segment(report: SegmentReport): void;
  /** The producer crashed and will be restarted. */
  restart?(attempt: number, delayMs: number): void;
  /** The producer cannot go on (crashed too often, cannot start): the publisher should go. */
  fatal?(reason: string): void;
  /** Frames were dropped. */
  drop?(count: number): void;
  /** The producer stopped producing while fed and is being restarted (counted as a restart too). */
  stall?(): void;
  /** Segment writes failed (the failed segments are never reported through {@link segment}). */
  writeErrors?(count: number): void;
}
