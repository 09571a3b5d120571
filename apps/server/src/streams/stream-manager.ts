/**
 * Which streams exist: one {@link LiveStream} per username, created when a publisher is admitted
 * and forgotten once it is gone. Routes each publish to its username's stream (one publisher per
 * username, takeover, reconnect; see `lifecycle.ts`), answers the HTTP layer's questions
 * ({@link StreamRegistry}) and shuts every stream down in order.
 *
 * Usernames that differ only in case are one name to the manager: a publish as `Alice` while
 * `alice` exists (live, in its grace or ending) is refused. Two such streams would share a
 * directory on a case-insensitive file system, and to a person they are the same channel; the
 * HTTP side stays exact (`/stream/alice/…` only), so a refused variant never shadows the live one.
 */
import { join } from 'node:path';
import { LivePlaylist } from '../hls/live-playlist';
import type { Logger } from '../logger';
import type { SegmentProducer, SegmentProducerEvents } from '../output/segment-producer';
import { StreamDir, type StreamFiles } from '../storage/stream-dir';
import { ffmpegVersionNumber } from './codec-admission';
import type { IngestLimitOptions } from './ingest-limit';
import { LiveStream, PublishRefusal, type PublishRequest } from './live-stream';
import { type StreamCounters, StreamPipeline } from './pipeline';
import { type PublishSession, PublishStatus } from './publisher-session';
import type { HlsSource, StreamInfo, StreamRegistry } from './registry';

/**
 * 5 s: encoders send media many times a second, so this much silence means the link is gone, while
 * the connection itself may take the idle timeout (30 s) to notice; the publisher reconnecting
 * meanwhile must not be refused for that long.
 */
export const DEFAULT_STALE_PUBLISHER_MS = 5000;

/** Creates a stream's segment producer writing into `dir`. */
export type ProducerFactory = (dir: string, events: SegmentProducerEvents, logger: Logger) => SegmentProducer;

export interface StreamManagerOptions {
  outputDir: string;
  reconnectGraceMs: number;
  cleanupDelayMs: number;
  takeover: boolean;
  /** HLS target segment duration, seconds. */
  hlsTime: number;
  /** Segments in the playlist window. */
  hlsListSize: number;
  /** The FFmpeg in use (its `-version` line or number): decides which codecs are admitted. */
  ffmpegVersion: string;
  /** Each publisher's ingest bitrate limit; none without it. */
  ingestLimit?: IngestLimitOptions | undefined;
  /**
   * Most streams at once, live, in their grace or ending (each may have an FFmpeg running); a
   * publish for a new username beyond it is refused. Default unbounded.
   */
  maxStreams?: number | undefined;
  /** Distinct viewers one address counts as per stream (default 4). */
  maxViewersPerAddress?: number | undefined;
  logger: Logger;
  createProducer: ProducerFactory;
  /** Creates the handle on a stream's directory. Default: a {@link StreamDir}. */
  createDir?: (path: string, onError: (what: string, err: unknown) => void) => StreamFiles;
  counters?: StreamCounters;
  /** Clock (ms). Default `Date.now`. */
  now?: () => number;
  /** Default {@link DEFAULT_STALE_PUBLISHER_MS}. */
  stalePublisherMs?: number;
}

/** A publish during `ending` waits for the old stream's removal at most this many times. */
const MAX_REMOVAL_WAITS = 3;

export class StreamManager implements StreamRegistry {
  private readonly o: StreamManagerOptions;
  /** Keyed by {@link foldUsername}; a stream keeps the case it was first published with. */
  private readonly streams = new Map<string, LiveStream>();
  private readonly now: () => number;
  private readonly ffmpegVersion: string;
  private shuttingDown = false;

  constructor(options: StreamManagerOptions) {
    this.o = options;
    this.now = options.now ?? Date.now;
    this.ffmpegVersion = ffmpegVersionNumber(options.ffmpegVersion);
  }

  /**
   * Admits a publisher for `req.username`, or throws {@link PublishRefusal}. Resolves once the
   * publisher owns the stream; nothing is created on disk before its first frame.
   */
  async publish(req: PublishRequest): Promise<PublishSession> {
    const o = { takeover: this.o.takeover, shuttingDown: this.shuttingDown };
    for (let i = 0; i <= MAX_REMOVAL_WAITS; i++) {
      const other = this.streams.get(foldUsername(req.username));
      if (other !== undefined && other.username !== req.username) {
        throw new PublishRefusal(
          'case_collision',
          PublishStatus.BadName,
          `"${req.username}" differs only in case from the existing stream "${other.username}"`,
        );
      }
      const existing = this.current(req.username);
      if (existing === undefined && other === undefined && this.streams.size >= (this.o.maxStreams ?? Infinity)) {
        throw new PublishRefusal(
          'max_streams',
          PublishStatus.Rejected,
          `the server carries its most streams (${this.streams.size}); retry later`,
        );
      }
      const stream = existing ?? this.create(req.username);
      const outcome = stream.publish(req, { ...o, shuttingDown: this.shuttingDown });
      if ('session' in outcome) return outcome.session;
      await outcome.waitFor;
    }
    throw new PublishRefusal('duplicate', PublishStatus.BadName, `stream "${req.username}" is ending; retry`);
  }

  /** The username's stream, unless it is gone. */
  private current(username: string): LiveStream | undefined {
    const s = this.streams.get(foldUsername(username));
    return s === undefined || s.state === 'none' || s.username !== username ? undefined : s;
  }

  private create(username: string): LiveStream {
    const o = this.o;
    const log = o.logger.child({ stream: username });
    const path = join(o.outputDir, username);
    const onError = (what: string, err: unknown) => log.warn({ err }, what);
    const dir = o.createDir ? o.createDir(path, onError) : new StreamDir(path, onError);
    const playlist = new LivePlaylist({
      targetSegmentSeconds: o.hlsTime,
      windowSegments: o.hlsListSize,
      now: this.now,
    });
    const pipeline = new StreamPipeline({
      username,
      dir,
      playlist,
      createProducer: (events) => o.createProducer(path, events, log),
      ffmpegVersion: this.ffmpegVersion,
      ingestLimit: o.ingestLimit,
      logger: log,
      ...(o.counters ? { counters: o.counters } : {}),
      now: this.now,
    });
    const stream = new LiveStream({
      username,
      pipeline,
      logger: log,
      reconnectGraceMs: o.reconnectGraceMs,
      cleanupDelayMs: o.cleanupDelayMs,
      stalePublisherMs: o.stalePublisherMs ?? DEFAULT_STALE_PUBLISHER_MS,
      maxViewersPerAddress: o.maxViewersPerAddress,
      onViewerRefused: () => o.counters?.viewerLimitTrips?.(1),
      now: this.now,
    });
    const key = foldUsername(username);
    this.streams.set(key, stream);
    void stream.gone.then(() => {
      // At shutdown the ended streams stay listed until the process exits.
      if (!this.shuttingDown && this.streams.get(key) === stream) this.streams.delete(key);
    });
    return stream;
  }

  // ---- StreamRegistry -------------------------------------------------------------------------

  list(): StreamInfo[] {
    const out: StreamInfo[] = [];
    for (const s of this.streams.values()) if (s.state !== 'none') out.push(s.info());
    return out;
  }

  get(username: string): StreamInfo | undefined {
    return this.current(username)?.info();
  }

  hls(username: string): HlsSource | undefined {
    return this.current(username);
  }

  /** PIDs of running producers (diagnostics, tests). */
  producerPids(): Map<string, number> {
    const out = new Map<string, number>();
    for (const s of this.streams.values()) {
      const pid = s.pipeline.pid;
      if (pid !== undefined) out.set(s.username, pid);
    }
    return out;
  }

  /**
   * Shutdown: refuses new publishers, lets every publisher go, stops every producer and ends every
   * playlist with `#EXT-X-ENDLIST` (directories are kept). Resolves when all producers stopped.
   */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    await Promise.all([...this.streams.values()].map((s) => s.shutdown()));
  }

  /** Synchronous last resort (process exit): SIGKILL every producer. */
  killAll(): void {
    for (const s of this.streams.values()) s.killNow();
  }
}

/** The form usernames are compared in: Unicode lower case (locale-independent in JavaScript). */
export function foldUsername(username: string): string {
  return username.toLowerCase();
}
