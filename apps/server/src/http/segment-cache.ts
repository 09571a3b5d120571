/**
 * Segments held in memory, so the hot segment requests are answered from a Buffer instead of a
 * file opened per request. Only for streams whose segments are being requested: the first request
 * of a stream's segments loads what its playlist lists, and from then on every segment the playlist
 * appends is read as soon as it is listed (it is complete by then: producers rename segments into
 * place before reporting them), until no segment of the stream was requested for
 * `interestMs`. A segment leaves memory when its availability ends (`expired`).
 *
 * Files are read under the stream directory's real path, checked to be inside the output root's
 * real path at most `verifyIntervalMs` before (a directory replaced by a link out of the root is
 * never read), with `O_NOFOLLOW` on the final component. The cache only ever answers positively:
 * what it does not hold is served from disk by the caller, with every 403/404 rule there.
 */
import { join } from 'node:path';
import type { LivePlaylist } from '../hls/live-playlist';
import { type FileSnapshot, readWholeFile, resolveInsideRoot } from '../storage/safe-file';

/** A segment in memory, with its response validators. */
export interface CachedSegment {
  readonly body: Buffer;
  /** `W/"size-mtime"` in hex, as @fastify/send computes it, so conditional requests agree. */
  readonly etag: string;
  readonly lastModified: string;
}

/** What the cache needs of a stream. */
export interface CacheSource {
  readonly username: string;
  readonly playlist: LivePlaylist;
}

export interface SegmentCacheOptions {
  /** The output root: segments are `{root}/{username}/{name}`. */
  root: string;
  /** Bytes of all cached segments. Beyond it, new segments are served from disk. */
  maxBytes: number;
  /** Largest single segment kept. Default 32 MiB. */
  maxSegmentBytes?: number;
  /** A stream whose segments were not requested this long is dropped from memory. Default 30 s. */
  interestMs?: number;
  /** Longest time the stream directory's checked real path is relied on. Default 5 s. */
  verifyIntervalMs?: number;
  now?: () => number;
}

export const DEFAULT_SEGMENT_CACHE_BYTES = 256 * 1024 * 1024;

interface Entry {
  readonly source: CacheSource;
  readonly segments: Map<string, CachedSegment>;
  readonly loading: Map<string, Promise<void>>;
  bytes: number;
  wantedAt: number;
  dirReal: string | undefined;
  verifiedAt: number;
  unsubscribe: () => void;
}

/**
 * @fastify/send's ETag: size and `stat.mtime.getTime()` in hex. Node rounds that Date to the nearest
 * millisecond, so `Math.trunc(mtimeMs)` would differ whenever the fraction is ≥ 0.5.
 */
function cached(file: FileSnapshot): CachedSegment {
  return {
    body: file.body,
    etag: `W/"${file.body.length.toString(16)}-${file.mtime.getTime().toString(16)}"`,
    lastModified: file.mtime.toUTCString(),
  };
}

export class SegmentCache {
  private readonly o: Required<SegmentCacheOptions>;
  private readonly entries = new Map<LivePlaylist, Entry>();
  private totalBytes = 0;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(options: SegmentCacheOptions) {
    this.o = {
      maxSegmentBytes: 32 * 1024 * 1024,
      interestMs: 30_000,
      verifyIntervalMs: 5000,
      now: Date.now,
      ...options,
    };
  }

  /** Bytes held now (all streams). */
  get bytes(): number {
    return this.totalBytes;
  }

  /** The segment if held; never waits. Marks the stream's segments as wanted. */
  get(source: CacheSource, name: string): CachedSegment | undefined {
    const e = this.entries.get(source.playlist) ?? this.open(source);
    e.wantedAt = this.o.now();
    return e.segments.get(name);
  }

  /** The read in flight for a segment, if any: a request that missed may wait for it. */
  pending(source: CacheSource, name: string): Promise<void> | undefined {
    return this.entries.get(source.playlist)?.loading.get(name);
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const e of [...this.entries.values()]) this.drop(e);
  }

  private open(source: CacheSource): Entry {
    const e: Entry = {
      source,
      segments: new Map(),
      loading: new Map(),
      bytes: 0,
      wantedAt: this.o.now(),
      dirReal: undefined,
      verifiedAt: Number.NEGATIVE_INFINITY,
      unsubscribe: () => {},
    };
    e.unsubscribe = source.playlist.subscribe({
      appended: (s) => this.load(e, s.name),
      expired: (name) => this.forget(e, name),
      closed: () => this.drop(e),
    });
    this.entries.set(source.playlist, e);
    for (const s of source.playlist.segments) this.load(e, s.name);
    this.sweeper ??= setInterval(() => this.sweep(), Math.max(1000, this.o.interestMs / 2));
    this.sweeper.unref();
    return e;
  }

  private drop(e: Entry): void {
    if (this.entries.get(e.source.playlist) !== e) return;
    e.unsubscribe();
    this.totalBytes -= e.bytes;
    e.bytes = 0;
    e.segments.clear();
    this.entries.delete(e.source.playlist);
  }

  private sweep(): void {
    const t = this.o.now();
    for (const e of [...this.entries.values()]) if (t - e.wantedAt > this.o.interestMs) this.drop(e);
    if (this.entries.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  private forget(e: Entry, name: string): void {
    const s = e.segments.get(name);
    if (!s) return;
    e.segments.delete(name);
    e.bytes -= s.body.length;
    this.totalBytes -= s.body.length;
  }

  private load(e: Entry, name: string): void {
    if (e.segments.has(name) || e.loading.has(name)) return;
    const read = this.read(e, name)
      .catch(() => undefined)
      .then((file) => {
        e.loading.delete(name);
        // Gone meanwhile (stream dropped, segment expired), or over the budget: the disk serves it.
        if (!file || this.entries.get(e.source.playlist) !== e || !e.source.playlist.lookup(name)) return;
        if (this.totalBytes + file.body.length > this.o.maxBytes) return;
        e.segments.set(name, cached(file));
        e.bytes += file.body.length;
        this.totalBytes += file.body.length;
      });
    e.loading.set(name, read);
  }

  private async read(e: Entry, name: string): Promise<FileSnapshot | undefined> {
    if (e.dirReal === undefined || this.o.now() - e.verifiedAt >= this.o.verifyIntervalMs) {
      const verifiedAt = this.o.now();
      const dir = await resolveInsideRoot(this.o.root, [e.source.username], { directory: true });
      if (typeof dir === 'string') {
        e.dirReal = undefined;
        return undefined; // missing, or a link out of the root: the disk path answers 404/403
      }
      e.dirReal = join(dir.root, dir.relative);
      e.verifiedAt = verifiedAt;
    }
    return readWholeFile(join(e.dirReal, name), this.o.maxSegmentBytes);
  }
}
