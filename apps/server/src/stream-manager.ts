/**
 * Live streams by username: who may publish (one publisher per username, or takeover), the
 * reconnect grace, the end of a stream (ENDLIST, then removal), codec admission, and the numbers
 * the HTTP layer shows. Implements {@link StreamRegistry}.
 *
 * States of a stream:
 * ```
 *   (none) ──publish──▶ live ──publisher leaves──▶ reconnecting ──grace over──▶ ending ──cleanup──▶ (none)
 *                        ▲                              │
 *                        └──same username publishes─────┘
 * ```
 * `live` with a second publisher: refused (`NetStream.Publish.BadName`), or with `takeover` the
 * older publisher is disconnected and the newer continues the same playlist. A publish during
 * `ending` waits for the old stream to be removed and starts afresh.
 *
 * The output (FFmpeg + files) sits behind {@link StreamOutput}; tests pass a fake.
 */
import { join } from 'node:path';
import {
  type AudioCodecInfo,
  checkFfmpegSupport,
  FlvStreamState,
  type FlvTag,
  parseAudioTagHeader,
  parseVideoTagHeader,
  TagType,
  type VideoCodecInfo,
} from '@org/flv';
import type { AmfValue } from '@org/rtmp';
import type { HlsOutputEvents, StreamOutput } from './hls-output';
import type { Logger } from './logger';
import type { StreamCodecInfo, StreamInfo, StreamRegistry, StreamState } from './stream-registry';

/** onStatus codes the manager refuses with. */
export const PublishStatus = {
  BadName: 'NetStream.Publish.BadName',
  Rejected: 'NetStream.Publish.Rejected',
} as const;

/** A publish the manager will not take. `status`/`description` go to the client. */
export class PublishRefusal extends Error {
  readonly code: 'duplicate' | 'codec' | 'shutdown';
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

/** The manager's handle on a publisher's connection. */
export interface PublisherHandle {
  /** Connection id for logs. */
  readonly id: string;
  /**
   * Ends the connection. With `status`, the publisher is first told why (onStatus, level error).
   * The connection's end must then reach {@link PublishSession.end}.
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

/** Counters the manager reports to (the Prometheus metrics, or nothing). */
export interface IngestCounters {
  bytesIn?(n: number): void;
  droppedFrames?(n: number): void;
  ffmpegRestarts?(n: number): void;
}

export interface StreamManagerOptions {
  outputDir: string;
  reconnectGraceMs: number;
  cleanupDelayMs: number;
  takeover: boolean;
  /** Version of the FFmpeg in use ("5.1.9-0+deb12u1"): decides which codecs are admitted. */
  ffmpegVersion: string;
  logger: Logger;
  /** Creates the output of a new stream. */
  createOutput(username: string, dir: string, events: HlsOutputEvents, logger: Logger): StreamOutput;
  counters?: IngestCounters;
  /** Clock (ms). Default `Date.now`. */
  now?: () => number;
  /** Window of the bitrate estimate, ms. Default 5000. */
  bitrateWindowMs?: number;
  /**
   * A live publisher that sent no media for this long is presumed gone (a dropped link whose TCP
   * connection has not timed out yet): a new publisher for the username replaces it instead of
   * being refused as a duplicate. Default {@link DEFAULT_STALE_PUBLISHER_MS}.
   */
  stalePublisherMs?: number;
}

/**
 * 5 s: encoders send media many times a second, so this much silence means the link is gone, while
 * the connection itself may take the idle timeout (30 s) to notice; the publisher reconnecting
 * meanwhile must not be refused for that long.
 */
export const DEFAULT_STALE_PUBLISHER_MS = 5000;

export interface PublishRequest {
  username: string;
  app: string | undefined;
  publisher: PublisherHandle;
}

/** Viewers count as current this long after their last request. */
const VIEWER_TTL_MS = 30_000;
/** Most viewer keys remembered per stream (bounded memory whatever the clients do). */
const MAX_VIEWER_KEYS = 10_000;
/** Buckets of the bitrate window. */
const RATE_BUCKETS = 10;

interface Entry {
  username: string;
  app: string | undefined;
  dir: string;
  state: StreamState;
  since: number;
  log: Logger;
  output: StreamOutput;
  /** The directory was made (at the first frame): from then on the stream has files. */
  prepared: boolean;
  publisher: PublisherHandle | undefined;
  session: Session | undefined;
  graceTimer: NodeJS.Timeout | undefined;
  cleanupTimer: NodeJS.Timeout | undefined;
  /** Resolves once the stream is removed (set when it starts ending). */
  removed: Promise<void> | undefined;
  /** Cuts the cleanup delay short (a new publisher waits for the removal). */
  hurryRemoval: (() => void) | undefined;
  hurried: boolean;
  bytesIn: number;
  /** Last media message from the current publisher (or its publish), ms. */
  lastMediaAt: number;
  /** Bytes per time bucket, a ring indexed by bucket number modulo RATE_BUCKETS. */
  rate: { index: number[]; bytes: number[] };
  viewers: Map<string, number>;
  codecs: StreamCodecInfo;
  /** The FLV codec summaries `codecs` was built from. */
  codecsFrom?: { v: VideoCodecInfo | undefined; a: AudioCodecInfo | undefined } | undefined;
}

/** One publisher's run on a stream; stale once replaced or ended. */
class Session implements PublishSession {
  readonly flv = new FlvStreamState();
  private opened = false;
  private checkedVideo = false;
  private checkedAudio = false;
  active = true;

  constructor(
    private readonly manager: StreamManager,
    private readonly entry: Entry,
    readonly publisher: PublisherHandle,
  ) {}

  get username(): string {
    return this.entry.username;
  }

  metadata(data: { readonly [key: string]: AmfValue }): void {
    if (!this.active) return;
    this.flv.setMetadata(data);
  }

  audio(timestamp: number, payload: Uint8Array): void {
    this.media({ type: TagType.Audio, timestamp, payload });
  }

  video(timestamp: number, payload: Uint8Array): void {
    this.media({ type: TagType.Video, timestamp, payload });
  }

  private media(tag: FlvTag): void {
    if (!this.active) return;
    this.manager.countBytes(this.entry, tag.payload.length);
    const role = this.flv.observe(tag);
    if (role === 'malformed') return; // e.g. RTMP's empty "silence" audio: nothing FFmpeg could use
    if (!this.admitCodec(tag)) return;
    this.manager.updateCodecs(this.entry, this.flv);
    const isFrame = role !== 'video-config' && role !== 'audio-config';
    if (!this.opened) {
      // FFmpeg starts at the first frame: by then metadata and sequence headers (the primer) are
      // known and the codecs were admitted, so a refused codec never spawns anything.
      if (!isFrame) return;
      this.opened = true;
      this.manager.openOutput(this.entry, this.flv);
    }
    this.entry.output.write(tag);
  }

  /** Checks the first audio and the first video message against the FFmpeg in use. */
  private admitCodec(tag: FlvTag): boolean {
    const isVideo = tag.type === TagType.Video;
    if (isVideo ? this.checkedVideo : this.checkedAudio) return true;
    if (isVideo) this.checkedVideo = true;
    else this.checkedAudio = true;
    const info = (isVideo ? this.flv.videoCodec : this.flv.audioCodec) ?? headerCodecInfo(tag);
    if (info === undefined) return true; // unparsable header: FFmpeg will judge
    const verdict = checkFfmpegSupport(info, { ffmpegVersion: this.manager.ffmpegVersionNumber, hlsCopy: true });
    if (verdict.supported) return true;
    this.manager.refuseCodec(this.entry, this, info, verdict.reason);
    return false;
  }

  end(reason: string): void {
    if (!this.active) return;
    this.active = false;
    this.manager.detach(this.entry, this, reason);
  }
}

/**
 * Codec from the tag header alone, for when the configuration record did not parse (the codec is
 * still known from the FourCC / codec id, and decides admission).
 */
function headerCodecInfo(tag: FlvTag): VideoCodecInfo | AudioCodecInfo | undefined {
  try {
    if (tag.type === TagType.Video) {
      const h = parseVideoTagHeader(tag.payload);
      const info: VideoCodecInfo = { kind: 'video', codec: h.codec, enhanced: h.enhanced };
      if (h.codecId !== undefined) info.codecId = h.codecId;
      if (h.fourCc !== undefined) info.fourCc = h.fourCc;
      if (h.multitrack) info.multitrack = true;
      return info;
    }
    const h = parseAudioTagHeader(tag.payload);
    const info: AudioCodecInfo = { kind: 'audio', codec: h.codec, enhanced: h.enhanced, soundFormat: h.soundFormat };
    if (h.fourCc !== undefined) info.fourCc = h.fourCc;
    if (h.multitrack) info.multitrack = true;
    return info;
  } catch {
    return undefined;
  }
}

/** The version number in an `ffmpeg -version` first line ("ffmpeg version 5.1.9-0+deb12u1 …" → "5.1.9-0+deb12u1"). */
export function ffmpegVersionNumber(versionLine: string): string {
  const m = /version\s+(\S+)/.exec(versionLine);
  return m?.[1] ?? versionLine;
}

export class StreamManager implements StreamRegistry {
  private readonly o: StreamManagerOptions;
  private readonly streams = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly windowMs: number;
  private shuttingDown = false;
  /** For codec checks. */
  readonly ffmpegVersionNumber: string;

  constructor(options: StreamManagerOptions) {
    this.o = options;
    this.now = options.now ?? Date.now;
    this.windowMs = options.bitrateWindowMs ?? 5000;
    this.ffmpegVersionNumber = ffmpegVersionNumber(options.ffmpegVersion);
  }

  /**
   * Admits a publisher for `username`, or throws {@link PublishRefusal}. Resolves once the
   * publisher owns the stream; nothing is created on disk before that.
   */
  async publish(req: PublishRequest): Promise<PublishSession> {
    const { username } = req;
    // A stream in `ending` must be gone before a new one starts; bounded: each wait removes it.
    for (let i = 0; i < 3; i++) {
      const existing = this.streams.get(username);
      if (existing?.state !== 'ending') break;
      existing.hurried = true;
      existing.hurryRemoval?.();
      await existing.removed;
    }
    if (this.shuttingDown) throw new PublishRefusal('shutdown', PublishStatus.Rejected, 'the server is shutting down');
    const existing = this.streams.get(username);
    if (existing && existing.state === 'ending') {
      throw new PublishRefusal('duplicate', PublishStatus.BadName, `stream "${username}" is ending; retry`);
    }
    if (existing?.state === 'live') {
      const silentMs = this.now() - existing.lastMediaAt;
      const stale = silentMs >= (this.o.stalePublisherMs ?? DEFAULT_STALE_PUBLISHER_MS);
      if (!this.o.takeover && !stale) {
        existing.log.warn({ conn: req.publisher.id, current: existing.publisher?.id }, 'duplicate publisher refused');
        throw new PublishRefusal('duplicate', PublishStatus.BadName, `"${username}" is already publishing`);
      }
      const old = existing.publisher;
      const oldSession = existing.session;
      existing.log.info(
        { conn: req.publisher.id, replaced: old?.id, silentMs },
        stale ? 'silent publisher replaced by a newer one' : 'publisher taken over by a newer one',
      );
      if (oldSession) oldSession.active = false;
      existing.session = undefined;
      existing.publisher = undefined;
      old?.disconnect('replaced by a newer publisher', {
        code: PublishStatus.Rejected,
        description: `replaced by a newer publisher for "${username}"`,
      });
      return this.attach(existing, req);
    }
    if (existing?.state === 'reconnecting') {
      if (existing.graceTimer) clearTimeout(existing.graceTimer);
      existing.graceTimer = undefined;
      existing.log.info({ conn: req.publisher.id }, 'publisher back within the reconnect grace');
      return this.attach(existing, req);
    }
    const dir = join(this.o.outputDir, username);
    const log = this.o.logger.child({ stream: username });
    let entry!: Entry;
    const output = this.o.createOutput(
      username,
      dir,
      {
        onRestart: () => this.o.counters?.ffmpegRestarts?.(1),
        onDrop: (n) => this.o.counters?.droppedFrames?.(n),
        onFatal: (reason) => this.outputFailed(entry, reason),
      },
      log,
    );
    entry = {
      username,
      app: req.app,
      dir,
      state: 'live',
      since: this.now(),
      log,
      output,
      prepared: false,
      publisher: undefined,
      session: undefined,
      graceTimer: undefined,
      cleanupTimer: undefined,
      removed: undefined,
      hurryRemoval: undefined,
      hurried: false,
      bytesIn: 0,
      lastMediaAt: this.now(),
      rate: { index: [], bytes: [] },
      viewers: new Map(),
      codecs: {},
    };
    this.streams.set(username, entry);
    log.info({ conn: req.publisher.id, dir }, 'stream started');
    return this.attach(entry, req);
  }

  private attach(entry: Entry, req: PublishRequest): PublishSession {
    const session = new Session(this, entry, req.publisher);
    entry.state = 'live';
    entry.publisher = req.publisher;
    entry.session = session;
    entry.since = this.now();
    entry.lastMediaAt = entry.since;
    entry.app = req.app;
    entry.codecs = {};
    entry.codecsFrom = undefined;
    return session;
  }

  /** The session's publisher is gone. */
  detach(entry: Entry, session: Session, reason: string): void {
    if (entry.session !== session) return; // replaced by a takeover meanwhile
    entry.session = undefined;
    entry.publisher = undefined;
    if (entry.state !== 'live') return;
    if (!entry.prepared) {
      // Never produced a frame (refused codec, or left at once): nothing on disk, nothing to keep.
      entry.state = 'ending';
      entry.removed = Promise.resolve();
      if (this.streams.get(entry.username) === entry) this.streams.delete(entry.username);
      entry.log.info({ conn: session.publisher.id, reason }, 'publisher left before any media; stream dropped');
      return;
    }
    entry.state = 'reconnecting';
    entry.log.info({ conn: session.publisher.id, reason, graceMs: this.o.reconnectGraceMs }, 'publisher left');
    void entry.output.close().catch((err: unknown) => entry.log.error({ err }, 'error stopping ffmpeg'));
    entry.graceTimer = setTimeout(() => {
      entry.graceTimer = undefined;
      this.end(entry, 'reconnect grace over');
    }, this.o.reconnectGraceMs);
  }

  /** First frame of a publisher: FFmpeg starts (in a fresh directory for a new stream). */
  openOutput(entry: Entry, flv: FlvStreamState): void {
    if (!entry.prepared) {
      entry.prepared = true;
      void entry.output.prepare().catch((err: unknown) => {
        entry.log.error({ err }, 'cannot create the stream directory');
        this.outputFailed(entry, 'cannot create the stream directory');
      });
    }
    entry.output.open(flv);
  }

  /** Ends a stream: ENDLIST now, directory removed `cleanupDelayMs` later. */
  private end(entry: Entry, why: string): void {
    if (entry.state === 'ending') return;
    entry.state = 'ending';
    entry.log.info({ reason: why }, 'stream ending');
    entry.removed = (async () => {
      try {
        await entry.output.finish();
      } catch (err) {
        entry.log.error({ err }, 'error finishing the playlist');
      }
      if (this.shuttingDown) return; // keep the ended playlist on disk at shutdown
      await new Promise<void>((resolve) => {
        if (entry.hurried) return resolve();
        entry.hurryRemoval = resolve;
        entry.cleanupTimer = setTimeout(resolve, this.o.cleanupDelayMs);
      });
      if (entry.cleanupTimer) clearTimeout(entry.cleanupTimer);
      entry.cleanupTimer = undefined;
      if (this.shuttingDown) return;
      try {
        await entry.output.remove();
      } catch (err) {
        entry.log.error({ err }, 'cannot remove the stream directory');
      }
      if (this.streams.get(entry.username) === entry) this.streams.delete(entry.username);
      entry.log.info('stream removed');
    })();
  }

  /** FFmpeg cannot be kept running: drop the publisher (the stream then follows the grace path). */
  private outputFailed(entry: Entry, reason: string): void {
    const publisher = entry.publisher;
    if (!publisher) return;
    entry.log.error({ conn: publisher.id, reason }, 'disconnecting the publisher: its ffmpeg keeps failing');
    publisher.disconnect(reason, { code: PublishStatus.Rejected, description: `stream failed: ${reason}` });
  }

  /** A codec FFmpeg cannot take: tell the publisher and let it go. */
  refuseCodec(entry: Entry, session: Session, info: VideoCodecInfo | AudioCodecInfo, reason: string): void {
    const label = info.fourCc ?? info.codec;
    entry.log.warn({ conn: session.publisher.id, codec: label, kind: info.kind, reason }, 'codec refused');
    session.active = false;
    session.publisher.disconnect(`codec ${label} refused`, {
      code: PublishStatus.Rejected,
      description: `codec ${label} (${info.codec}) refused: ${reason}`,
    });
    this.detach(entry, session, `codec ${label} refused`);
  }

  countBytes(entry: Entry, n: number): void {
    entry.lastMediaAt = this.now();
    entry.bytesIn += n;
    this.o.counters?.bytesIn?.(n);
    const bucket = Math.floor(this.now() / (this.windowMs / RATE_BUCKETS));
    const slot = bucket % RATE_BUCKETS;
    const r = entry.rate;
    if (r.index[slot] !== bucket) {
      r.index[slot] = bucket;
      r.bytes[slot] = 0;
    }
    r.bytes[slot] = (r.bytes[slot] ?? 0) + n;
  }

  /** Bits per second over the last `bitrateWindowMs` (or since the publish started, if later). */
  private bitrate(entry: Entry): number {
    if (entry.state !== 'live') return 0;
    const t = this.now();
    const bucketMs = this.windowMs / RATE_BUCKETS;
    const current = Math.floor(t / bucketMs);
    let bytes = 0;
    for (let slot = 0; slot < RATE_BUCKETS; slot++) {
      const index = entry.rate.index[slot];
      if (index !== undefined && index > current - RATE_BUCKETS && index <= current)
        bytes += entry.rate.bytes[slot] ?? 0;
    }
    const windowSpan = (RATE_BUCKETS - 1) * bucketMs + (t - current * bucketMs);
    const spanMs = Math.max(1, Math.min(windowSpan, t - entry.since));
    return Math.round((bytes * 8 * 1000) / spanMs);
  }

  updateCodecs(entry: Entry, flv: FlvStreamState): void {
    const v = flv.videoCodec;
    const a = flv.audioCodec;
    // Called for every media message; the summaries change only with a sequence header.
    if (entry.codecsFrom !== undefined && entry.codecsFrom.v === v && entry.codecsFrom.a === a) return;
    entry.codecsFrom = { v, a };
    const codecs: StreamCodecInfo = {};
    if (v) {
      codecs.video = { codec: v.codec };
      if (v.width !== undefined) codecs.video.width = v.width;
      if (v.height !== undefined) codecs.video.height = v.height;
      if (v.profileName !== undefined) codecs.video.profile = v.profileName;
      if (v.level !== undefined) codecs.video.level = displayLevel(v.codec, v.level);
    }
    if (a) {
      codecs.audio = { codec: a.codec };
      if (a.sampleRate !== undefined) codecs.audio.sampleRate = a.sampleRate;
      if (a.channels !== undefined) codecs.audio.channels = a.channels;
    }
    entry.codecs = codecs;
  }

  // ---- StreamRegistry -------------------------------------------------------------------------

  list(): StreamInfo[] {
    return [...this.streams.values()].map((e) => this.info(e));
  }

  get(username: string): StreamInfo | undefined {
    const e = this.streams.get(username);
    return e ? this.info(e) : undefined;
  }

  noteViewer(username: string, viewerKey: string): void {
    const e = this.streams.get(username);
    if (!e) return;
    const t = this.now();
    if (!e.viewers.has(viewerKey) && e.viewers.size >= MAX_VIEWER_KEYS) this.pruneViewers(e, t);
    if (e.viewers.size >= MAX_VIEWER_KEYS) return;
    e.viewers.set(viewerKey, t);
  }

  private pruneViewers(e: Entry, t: number): void {
    for (const [k, seen] of e.viewers) if (t - seen > VIEWER_TTL_MS) e.viewers.delete(k);
  }

  private info(e: Entry): StreamInfo {
    const t = this.now();
    this.pruneViewers(e, t);
    const dropped = e.output.droppedFrames;
    return {
      username: e.username,
      app: e.app,
      state: e.state,
      since: e.since,
      codecs: e.codecs,
      bitrate: this.bitrate(e),
      bytesIn: e.bytesIn,
      viewers: e.viewers.size,
      dir: e.dir,
      ffmpegRestarts: e.output.restarts,
      droppedFrames: dropped,
    };
  }

  /** PIDs of running FFmpegs (diagnostics, tests). */
  ffmpegPids(): Map<string, number> {
    const out = new Map<string, number>();
    for (const e of this.streams.values()) if (e.output.pid !== undefined) out.set(e.username, e.output.pid);
    return out;
  }

  /**
   * Shutdown: refuses new publishers, disconnects every publisher, stops every FFmpeg and ends
   * every playlist with `#EXT-X-ENDLIST` (directories are kept). Resolves when all FFmpegs exited.
   */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    const pending: Promise<unknown>[] = [];
    for (const e of this.streams.values()) {
      if (e.graceTimer) clearTimeout(e.graceTimer);
      e.graceTimer = undefined;
      const session = e.session;
      if (session) {
        session.active = false;
        e.session = undefined;
        e.publisher = undefined;
        session.publisher.disconnect('server shutting down');
      }
      if (e.state !== 'ending') this.end(e, 'server shutting down');
      e.hurryRemoval?.();
      pending.push(e.removed ?? Promise.resolve());
    }
    await Promise.all(pending);
  }

  /** Synchronous last resort (process exit): SIGKILL every FFmpeg. */
  killAll(): void {
    for (const e of this.streams.values()) e.output.killNow();
  }
}

/**
 * A codec level as people write it: H.264 level_idc 30 → "3.0", HEVC general_level_idc 93 → "3.1"
 * (30 × level); other codecs' levels as they are.
 */
export function displayLevel(codec: string, level: number): string {
  if (codec === 'h264') return (level / 10).toFixed(1);
  if (codec === 'hevc') return (level / 30).toFixed(1);
  return String(level);
}
