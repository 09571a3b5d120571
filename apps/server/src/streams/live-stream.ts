/**
 * One username's stream: applies the {@link transition} table of `lifecycle.ts` with its timers
 * (reconnect grace, cleanup delay), and owns the stream's {@link StreamPipeline} and
 * {@link ViewerTracker}. The manager routes publishers to it; everything else reaches it only
 * through its pipeline's sessions (a leaving publisher) or the read-only views.
 */
import type { Logger } from '../logger';
import { type LifecycleAction, type LifecycleEvent, type LifecycleState, transition } from './lifecycle';
import type { StreamPipeline } from './pipeline';
import { type PublisherHandle, type PublishSession, PublishStatus } from './publisher-session';
import type { HlsSource, StreamInfo } from './registry';
import { ViewerTracker } from './viewers';

/** A publish the stream will not take. `status`/`description` go to the client. */
export class PublishRefusal extends Error {
  readonly code: 'duplicate' | 'case_collision' | 'max_streams' | 'codec' | 'shutdown';
  readonly status: string;
  readonly description: string;
  constructor(code: PublishRefusal['code'], status: string, description: string) {
    super(`${status}: ${description}`);
    this.name = 'PublishRefusal';
    this.code = code;
    this.status = status;
    this.description = description;
  }
}

export interface PublishRequest {
  username: string;
  app: string | undefined;
  publisher: PublisherHandle;
}

export interface LiveStreamOptions {
  username: string;
  pipeline: StreamPipeline;
  logger: Logger;
  reconnectGraceMs: number;
  cleanupDelayMs: number;
  /** A live publisher silent this long is presumed gone and may be replaced. */
  stalePublisherMs: number;
  /** Distinct viewers one address counts as (default 4, `MAX_VIEWERS_PER_ADDRESS` in viewers.ts). */
  maxViewersPerAddress?: number | undefined;
  /** A new viewer of an address already at its count was not counted. */
  onViewerRefused?: () => void;
  now: () => number;
}

/** What a publish to the stream came to: a session, or a wait for the old stream's removal. */
export type PublishOutcome = { session: PublishSession } | { waitFor: Promise<void> };

export class LiveStream implements HlsSource {
  readonly username: string;
  readonly pipeline: StreamPipeline;
  readonly viewers: ViewerTracker;
  /** Resolves once the stream is gone (removed, dropped, or ended by the shutdown). */
  readonly gone: Promise<void>;
  private readonly o: LiveStreamOptions;
  private readonly log: Logger;
  private lifecycle: LifecycleState = 'none';
  private app: string | undefined;
  private since: number;
  private graceTimer: NodeJS.Timeout | undefined;
  private cleanupTimer: NodeJS.Timeout | undefined;
  private ending: Promise<void> | undefined;
  /** Cuts the cleanup delay short: a new publisher waits for the removal. */
  private hurry: (() => void) | undefined;
  private hurried = false;
  private keepFiles = false;
  private markGone!: () => void;

  constructor(options: LiveStreamOptions) {
    this.o = options;
    this.username = options.username;
    this.pipeline = options.pipeline;
    this.log = options.logger;
    this.viewers = new ViewerTracker(options.now, options.maxViewersPerAddress, options.onViewerRefused);
    this.since = options.now();
    this.gone = new Promise((resolve) => {
      this.markGone = resolve;
    });
  }

  get state(): LifecycleState {
    return this.lifecycle;
  }

  get dir(): string {
    return this.o.pipeline.dirPath;
  }

  get playlist() {
    return this.pipeline.playlist;
  }

  noteViewer(addressGroup: string, key: string): void {
    this.viewers.note(addressGroup, key);
  }

  private apply(event: LifecycleEvent): LifecycleAction {
    const t = transition(this.lifecycle, event);
    this.lifecycle = t.state;
    return t.action;
  }

  /** A publisher for this username; see `lifecycle.ts` for what it comes to. */
  publish(req: PublishRequest, o: { takeover: boolean; shuttingDown: boolean }): PublishOutcome {
    const silentMs = this.o.now() - this.pipeline.lastMediaAt;
    const stale = this.lifecycle === 'live' && silentMs >= this.o.stalePublisherMs;
    const action = this.apply({ type: 'publish', takeover: o.takeover, stale, shuttingDown: o.shuttingDown });
    const conn = req.publisher.id;
    switch (action) {
      case 'refuse-shutdown':
        throw new PublishRefusal('shutdown', PublishStatus.Rejected, 'the server is shutting down');
      case 'refuse-duplicate':
        this.log.warn({ conn, current: this.pipeline.publisher?.id }, 'duplicate publisher refused');
        throw new PublishRefusal('duplicate', PublishStatus.BadName, `"${this.username}" is already publishing`);
      case 'wait-for-removal':
        this.hurried = true;
        this.hurry?.();
        return { waitFor: this.gone };
      case 'replace': {
        const old = this.pipeline.letGo();
        const how = stale ? 'silent publisher replaced by a newer one' : 'publisher taken over by a newer one';
        this.log.info({ conn, replaced: old?.id, silentMs }, how);
        old?.disconnect('replaced by a newer publisher', {
          code: PublishStatus.Rejected,
          description: `replaced by a newer publisher for "${this.username}"`,
        });
        break;
      }
      case 'resume':
        if (this.graceTimer) clearTimeout(this.graceTimer);
        this.graceTimer = undefined;
        this.log.info({ conn }, 'publisher back within the reconnect grace');
        break;
      case 'start':
        this.log.info({ conn, dir: this.dir }, 'stream started');
        break;
      default:
        throw new Error(`unexpected lifecycle action ${action} on publish`);
    }
    this.app = req.app;
    this.since = this.o.now();
    return { session: this.pipeline.attach(req.publisher, (reason) => this.leave(conn, reason)) };
  }

  private leave(conn: string, reason: string): void {
    const action = this.apply({ type: 'leave', hadMedia: this.pipeline.hadMedia });
    if (action === 'drop') {
      // Never produced a frame (refused codec, or left at once): nothing on disk, nothing to keep.
      this.log.info({ conn, reason }, 'publisher left before any media; stream dropped');
      this.pipeline.playlist.close();
      this.markGone();
    } else if (action === 'start-grace') {
      this.log.info({ conn, reason, graceMs: this.o.reconnectGraceMs }, 'publisher left');
      void this.pipeline.close().catch((err: unknown) => this.log.error({ err }, 'error stopping the producer'));
      this.graceTimer = setTimeout(() => {
        this.graceTimer = undefined;
        if (this.apply({ type: 'grace-over' }) === 'end') this.end('reconnect grace over');
      }, this.o.reconnectGraceMs);
    }
  }

  /**
   * ENDLIST now; the directory is removed `cleanupDelayMs` later, or once the last removed segment's
   * availability time (RFC 8216 §6.2.2) has passed if that is later (not at shutdown).
   */
  private end(why: string): void {
    this.log.info({ reason: why }, 'stream ending');
    this.ending = (async () => {
      try {
        await this.pipeline.finish();
      } catch (err) {
        this.log.error({ err }, 'error finishing the playlist');
      }
      if (this.keepFiles) return this.markGone();
      await new Promise<void>((resolve) => {
        if (this.hurried) return resolve();
        this.hurry = resolve;
        const wait = Math.max(this.o.cleanupDelayMs, this.pipeline.playlist.msUntilRetainedExpire());
        this.cleanupTimer = setTimeout(resolve, wait);
      });
      if (this.cleanupTimer) clearTimeout(this.cleanupTimer);
      this.cleanupTimer = undefined;
      if (this.keepFiles) return this.markGone();
      try {
        await this.pipeline.remove();
      } catch (err) {
        this.log.error({ err }, 'cannot remove the stream directory');
      }
      this.apply({ type: 'removed' });
      this.log.info('stream removed');
      this.markGone();
    })();
  }

  /**
   * Shutdown: the publisher is let go, the playlist ended with `#EXT-X-ENDLIST`, the files kept.
   * Resolves when the producer has stopped.
   */
  shutdown(): Promise<void> {
    this.keepFiles = true;
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    this.pipeline.letGo()?.disconnect('server shutting down');
    if (this.apply({ type: 'shutdown' }) === 'end') this.end('server shutting down');
    this.hurry?.();
    return this.ending ?? Promise.resolve();
  }

  killNow(): void {
    this.pipeline.killNow();
  }

  info(): StreamInfo {
    const p = this.pipeline;
    return {
      username: this.username,
      app: this.app,
      state: this.lifecycle === 'none' ? 'ending' : this.lifecycle,
      since: this.since,
      codecs: p.codecs,
      bitrate: this.lifecycle === 'live' ? p.bitrate.bitsPerSecond(this.since) : 0,
      bytesIn: p.bitrate.bytesIn,
      viewers: this.viewers.count(),
      dir: this.dir,
      ffmpegRestarts: p.restarts,
      droppedFrames: p.droppedFrames,
      lastSegmentAt: p.playlist.lastAppendAt,
    };
  }
}
