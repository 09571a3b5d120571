/**
 * One publisher's run on a stream: its `@org/flv` state (metadata, sequence headers, codecs), its
 * codec admission, its ingest bitrate limit, and the order in which its messages reach the
 * pipeline. Stale once replaced or ended: later calls are ignored.
 */
import { FlvStreamState, type FlvTag, type TagRole, TagType } from '@org/flv';
import type { AmfValue } from '@org/rtmp';
import { CodecAdmission, type CodecRefusal } from './codec-admission';
import type { IngestRateLimit } from './ingest-limit';

/** onStatus codes a publish is refused or ended with. */
export const PublishStatus = {
  BadName: 'NetStream.Publish.BadName',
  Rejected: 'NetStream.Publish.Rejected',
} as const;

/** The stream's handle on a publisher's connection. */
export interface PublisherHandle {
  /** Connection id for logs. */
  readonly id: string;
  /**
   * Ends the connection. With `status`, the publisher is first told why (onStatus, level error).
   * The connection's end then reaches {@link PublishSession.end}, which is ignored if the stream
   * already let the session go.
   */
  disconnect(reason: string, status?: { code: string; description: string }): void;
}

/** What a publisher's connection feeds; calls after {@link end} (or after being replaced) are ignored. */
export interface PublishSession {
  readonly username: string;
  metadata(data: { readonly [key: string]: AmfValue }): void;
  audio(timestamp: number, payload: Uint8Array): void;
  video(timestamp: number, payload: Uint8Array): void;
  /** The publisher is gone (unpublish, disconnect, timeout). */
  end(reason: string): void;
}

/** Where a session's messages go (its stream's pipeline). */
export interface SessionSink {
  /** Payload bytes of a media message. */
  received(bytes: number): void;
  /** A media message passed codec admission: the codec summary may have changed. */
  admitted(flv: FlvStreamState): void;
  /** A media message the producer may take; `opening` for the publisher's first frame. */
  media(tag: FlvTag, role: TagRole, flv: FlvStreamState, opening: boolean): void;
  /**
   * `session` went over its ingest bitrate limit (once per episode: until a frame fits again).
   * With the `disconnect` action the sink ends the session; with `drop` frames are dropped.
   */
  overLimit(session: PublisherSession, limit: IngestRateLimit): void;
  /** The codec of `session` is refused; the session has stopped. */
  refused(session: PublisherSession, refusal: CodecRefusal): void;
  /** The publisher is gone. */
  left(session: PublisherSession, reason: string): void;
}

export class PublisherSession implements PublishSession {
  readonly flv = new FlvStreamState();
  private readonly admission: CodecAdmission;
  private opened = false;
  private active = true;
  /** Over the limit since the last frame that fitted. */
  private overLimit = false;
  /** A video frame was dropped: inter frames are useless until the next keyframe. */
  private videoGap = false;
  private dropped = 0;

  constructor(
    readonly username: string,
    readonly publisher: PublisherHandle,
    ffmpegVersion: string,
    private readonly sink: SessionSink,
    private readonly limit?: IngestRateLimit,
  ) {
    this.admission = new CodecAdmission(ffmpegVersion);
  }

  /** Frames dropped by the ingest bitrate limit. */
  get droppedOverLimit(): number {
    return this.dropped;
  }

  /** False once the session ended or was let go. */
  get isActive(): boolean {
    return this.active;
  }

  /** The stream lets this session go (replaced, shutdown); nothing it sends counts any more. */
  deactivate(): void {
    this.active = false;
  }

  metadata(data: { readonly [key: string]: AmfValue }): void {
    if (this.active) this.flv.setMetadata(data);
  }

  audio(timestamp: number, payload: Uint8Array): void {
    this.media({ type: TagType.Audio, timestamp, payload });
  }

  video(timestamp: number, payload: Uint8Array): void {
    this.media({ type: TagType.Video, timestamp, payload });
  }

  private media(tag: FlvTag): void {
    if (!this.active) return;
    this.sink.received(tag.payload.length);
    const role = this.flv.observe(tag);
    if (role === 'malformed') return; // e.g. RTMP's empty "silence" audio: nothing FFmpeg could use
    const refusal = this.admission.check(tag, this.flv);
    if (refusal) {
      this.active = false;
      this.sink.refused(this, refusal);
      return;
    }
    this.sink.admitted(this.flv);
    const isFrame = role !== 'video-config' && role !== 'audio-config';
    // The producer starts at the first frame: by then metadata and sequence headers (the primer)
    // are known and the codecs were admitted, so a refused codec never starts anything.
    if (!this.opened && !isFrame) return;
    if (isFrame && this.limit !== undefined && !this.withinLimit(this.limit, tag, role)) return;
    const opening = !this.opened;
    this.opened = true;
    this.sink.media(tag, role, this.flv, opening);
  }

  /** Charges a frame to the limit; false when it is dropped (or the session was ended for it). */
  private withinLimit(limit: IngestRateLimit, tag: FlvTag, role: TagRole): boolean {
    const video = tag.type === TagType.Video;
    if (video && this.videoGap && role !== 'video-keyframe') {
      this.dropped++;
      return false;
    }
    if (limit.admit(tag.payload.length)) {
      this.overLimit = false;
      if (video) this.videoGap = false;
      return true;
    }
    if (!this.overLimit) {
      this.overLimit = true;
      this.sink.overLimit(this, limit);
    }
    if (!this.active) return false;
    this.dropped++;
    if (video) this.videoGap = true;
    return false;
  }

  end(reason: string): void {
    if (!this.active) return;
    this.active = false;
    this.sink.left(this, reason);
  }
}
