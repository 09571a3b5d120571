/**
 * The media path of one stream, from its publisher's messages to the playlist: the current
 * {@link PublisherSession} (FLV state, codec admission), the segment producer it feeds, the
 * server-owned {@link LivePlaylist} the producer's segments join, and the stream's directory (the
 * playlist written into it, expired segments deleted from it). Continues across publishers: each
 * new one is a new producer run and a discontinuity in the same playlist.
 */
import type { AudioCodecInfo, FlvStreamState, FlvTag, TagRole, VideoCodecInfo } from '@org/flv';
import type { LivePlaylist, SegmentReport } from '../hls/live-playlist';
import { LogLimiter } from '../log-limiter';
import type { Logger } from '../logger';
import type { SegmentProducer, SegmentProducerEvents } from '../output/segment-producer';
import type { StreamFiles } from '../storage/stream-dir';
import { BitrateMeter } from './bitrate';
import { type CodecRefusal, codecSummary } from './codec-admission';
import { type IngestLimitOptions, IngestRateLimit } from './ingest-limit';
import { type PublisherHandle, PublisherSession, PublishStatus, type SessionSink } from './publisher-session';
import type { StreamCodecInfo } from './registry';

/** Counters a stream reports to (the Prometheus metrics, or nothing). */
export interface StreamCounters {
  droppedFrames?(n: number): void;
  ffmpegRestarts?(n: number): void;
  segmentsOverTarget?(n: number): void;
  /** The producer stalled (stopped producing while fed) and was restarted. */
  ffmpegStalls?(n: number): void;
  /** Segment writes failed (those segments are not listed). */
  segmentWriteErrors?(n: number): void;
  /** A publisher went over its ingest bitrate limit (one per episode). */
  ingestLimitTrips?(n: number): void;
  /** A request from a new viewer of an address already at its viewer count (not counted). */
  viewerLimitTrips?(n: number): void;
}

export interface PipelineOptions {
  username: string;
  dir: StreamFiles;
  playlist: LivePlaylist;
  createProducer(events: SegmentProducerEvents): SegmentProducer;
  /** Version number of the FFmpeg in use: decides which codecs are admitted. */
  ffmpegVersion: string;
  /** Each publisher's ingest bitrate limit; none without it. */
  ingestLimit?: IngestLimitOptions | undefined;
  logger: Logger;
  counters?: StreamCounters;
  now: () => number;
}

export class StreamPipeline implements SessionSink {
  readonly playlist: LivePlaylist;
  readonly bitrate: BitrateMeter;
  private readonly o: PipelineOptions;
  private readonly producer: SegmentProducer;
  private session: PublisherSession | undefined;
  private onLeave: ((reason: string) => void) | undefined;
  /** Set at the stream's first frame: from then on the directory exists (or is being made). */
  private dirReady: Promise<void> | undefined;
  private codecsFrom: { v: VideoCodecInfo | undefined; a: AudioCodecInfo | undefined } | undefined;
  private warnedOverTarget = false;
  /** A publisher can go over and back under its limit every second: one line per 10 s at most. */
  private readonly limitLog = new LogLimiter(1);
  codecs: StreamCodecInfo = {};
  /** Last media message from the current publisher (or its publish), ms. */
  lastMediaAt: number;

  constructor(options: PipelineOptions) {
    this.o = options;
    this.playlist = options.playlist;
    this.bitrate = new BitrateMeter(options.now);
    this.lastMediaAt = options.now();
    const log = options.logger;
    this.producer = options.createProducer({
      segment: (report) => this.listSegment(report),
      restart: () => options.counters?.ffmpegRestarts?.(1),
      drop: (n) => options.counters?.droppedFrames?.(n),
      stall: () => options.counters?.ffmpegStalls?.(1),
      writeErrors: (n) => options.counters?.segmentWriteErrors?.(n),
      fatal: (reason) => this.producerFailed(reason),
    });
    this.playlist.subscribe({
      changed: () => {
        const body = this.playlist.body();
        if (body && this.hadMedia) void options.dir.writePlaylist(body);
      },
      expired: (name) => void options.dir.deleteFile(name),
    });
    log.debug({ dir: options.dir.path }, 'pipeline ready');
  }

  /** The stream's directory. */
  get dirPath(): string {
    return this.o.dir.path;
  }

  /** True once a publisher sent a frame: the stream has files and a playlist to keep. */
  get hadMedia(): boolean {
    return this.dirReady !== undefined;
  }

  get restarts(): number {
    return this.producer.restarts;
  }

  get droppedFrames(): number {
    return this.producer.droppedFrames;
  }

  get pid(): number | undefined {
    return this.producer.pid;
  }

  /** The current publisher, if any. */
  get publisher(): PublisherHandle | undefined {
    return this.session?.publisher;
  }

  /** A publisher takes the stream; `onLeave` hears once when it goes (not when it is let go). */
  attach(publisher: PublisherHandle, onLeave: (reason: string) => void): PublisherSession {
    this.letGo();
    const limit = this.o.ingestLimit ? new IngestRateLimit(this.o.ingestLimit, this.o.now) : undefined;
    const session = new PublisherSession(this.o.username, publisher, this.o.ffmpegVersion, this, limit);
    this.session = session;
    this.onLeave = onLeave;
    this.lastMediaAt = this.o.now();
    this.codecs = {};
    this.codecsFrom = undefined;
    return session;
  }

  /** Lets the current publisher go without telling the stream (replaced, shutdown). */
  letGo(): PublisherHandle | undefined {
    const session = this.session;
    session?.deactivate();
    this.session = undefined;
    this.onLeave = undefined;
    return session?.publisher;
  }

  // ---- SessionSink: only the current session reaches these --------------------------------

  received(bytes: number): void {
    this.lastMediaAt = this.o.now();
    this.bitrate.add(bytes);
  }

  admitted(flv: FlvStreamState): void {
    const v = flv.videoCodec;
    const a = flv.audioCodec;
    // Called for every media message; the summaries change only with a sequence header.
    if (this.codecsFrom !== undefined && this.codecsFrom.v === v && this.codecsFrom.a === a) return;
    this.codecsFrom = { v, a };
    this.codecs = codecSummary(v, a);
  }

  media(tag: FlvTag, role: TagRole, flv: FlvStreamState, opening: boolean): void {
    if (opening) {
      this.dirReady ??= this.o.dir.prepare().catch((err: unknown) => {
        this.o.logger.error({ err }, 'cannot create the stream directory');
        this.producerFailed('cannot create the stream directory');
        throw err;
      });
      this.producer.open(flv, this.dirReady);
    }
    this.producer.write(tag, role);
  }

  refused(session: PublisherSession, refusal: CodecRefusal): void {
    const { info, label, reason } = refusal;
    this.o.logger.warn({ conn: session.publisher.id, codec: label, kind: info.kind, reason }, 'codec refused');
    session.publisher.disconnect(`codec ${label} refused`, {
      code: PublishStatus.Rejected,
      description: `codec ${label} (${info.codec}) refused: ${reason}`,
    });
    this.left(session, `codec ${label} refused`);
  }

  overLimit(session: PublisherSession, limit: IngestRateLimit): void {
    this.o.counters?.ingestLimitTrips?.(1);
    const limitKbps = Math.round(limit.maxBitsPerSecond / 1000);
    const fields = {
      conn: session.publisher.id,
      limitKbps,
      bitrateKbps: Math.round(this.bitrate.bitsPerSecond(0) / 1000),
    };
    if (limit.action === 'drop') {
      const dropped = session.droppedOverLimit;
      this.limitLog.log(
        this.o.logger,
        'warn',
        'drop',
        { ...fields, dropped },
        'publisher over its ingest bitrate limit: dropping frames',
      );
      return;
    }
    this.o.logger.warn(fields, 'disconnecting the publisher: over its ingest bitrate limit');
    session.deactivate();
    session.publisher.disconnect('over the ingest bitrate limit', {
      code: PublishStatus.Rejected,
      description: `ingest bitrate over the limit of ${limitKbps} kbit/s`,
    });
    this.left(session, 'over the ingest bitrate limit');
  }

  left(session: PublisherSession, reason: string): void {
    if (session !== this.session) return;
    const onLeave = this.onLeave;
    this.session = undefined;
    this.onLeave = undefined;
    onLeave?.(reason);
  }

  // ---- the stream's steps -----------------------------------------------------------------

  /** The publisher left: the producer finishes its segment and stops; the playlist stays open. */
  close(): Promise<void> {
    return this.producer.close();
  }

  /** The stream is over: producer stopped, `#EXT-X-ENDLIST` written and on disk. */
  async finish(): Promise<void> {
    await this.producer.close();
    this.playlist.end();
    if (this.hadMedia) await this.o.dir.flush();
  }

  /** After {@link finish}: removes the directory; the playlist stops its timers. */
  async remove(): Promise<void> {
    this.playlist.close();
    await this.o.dir.remove();
  }

  killNow(): void {
    this.producer.killNow();
  }

  private listSegment(report: SegmentReport): void {
    const over = this.playlist.append(report);
    if (!over) return;
    this.o.counters?.segmentsOverTarget?.(1);
    if (this.warnedOverTarget) return;
    this.warnedOverTarget = true;
    this.o.logger.warn(
      { segment: report.name, duration: report.duration, targetDuration: this.playlist.targetDuration },
      "segment longer than the playlist's target duration: the publisher's keyframe interval grew",
    );
  }

  /** The producer cannot be kept running: drop the publisher (the stream then follows the grace path). */
  private producerFailed(reason: string): void {
    const publisher = this.session?.publisher;
    if (!publisher) return;
    this.o.logger.error({ conn: publisher.id, reason }, 'disconnecting the publisher: its producer keeps failing');
    publisher.disconnect(reason, { code: PublishStatus.Rejected, description: `stream failed: ${reason}` });
  }
}
