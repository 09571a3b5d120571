/**
 * In-memory copies of each watched stream's current playlist and the segments it lists, so the hot
 * HLS routes answer from a Buffer instead of opening files per request.
 *
 * Correctness rests on FFmpeg's `temp_file` flag: it writes `live.m3u8.tmp` / `live_NNN.ts.tmp` and
 * renames them into place, so every `live.m3u8` or listed segment we open is complete, and a segment
 * never changes once listed (FFmpeg numbers them upwards, `append_list` included; a new publish of
 * the name is a new generation and starts afresh). A refresh reads the playlist through one
 * descriptor and publishes it at once, with the listed segments already held; the segments it lists
 * for the first time are then read (only when segments of the stream are being requested), and a
 * segment request arriving meanwhile waits for that read (`pending`). Each file is either the old or
 * the new version, never a mix.
 *
 * Refreshes are triggered by `fs.watch` on the stream directory (each rename of the playlist into
 * place) and, as a fallback when events are lost or the directory was recreated, by a request
 * finding the last check older than `checkIntervalMs` (one timestamp comparison per request; the
 * refresh itself runs in the background). A refresh opens files under the stream directory's real
 * path, checked inside the root's real path at most `verifyIntervalMs` ago; the check (realpath of
 * the root and the directory, the directory's inode for the watcher) and a re-read of the held
 * segments' identities run only then, so the refresh after each new segment costs the playlist
 * read and the new segment's read, not a path resolution per file.
 *
 * The cache only ever answers positively. Anything it does not hold (a stream never requested, a
 * refresh that failed, a segment not listed, over the byte budget, a symlink) falls back to the disk
 * path, which keeps every 403/404/500 rule of the original code. Files are resolved exactly like the
 * disk path (`resolveInsideRoot`: real path inside the root's real path; `O_NOFOLLOW` on open).
 */
import { constants, type FSWatcher, type Stats, watch } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveInsideRoot } from './safe-file';
import { PLAYLIST_FILE, SEGMENT_FILE_PATTERN } from './stream-path';

/** One file held in memory, with what the response needs precomputed. */
export interface CachedFile {
  readonly body: Buffer;
  /** `W/"size-mtime"` in hex, as @fastify/send computes it (segments only). */
  readonly etag: string;
  readonly lastModified: string;
  /** Identity of the file the bytes came from: a new inode, mtime or size means new bytes. */
  readonly ino: number;
  readonly mtimeMs: number;
}

export interface HlsCacheOptions {
  /** The configured output root: files are `{root}/{username}/{file}`. */
  root: string;
  /** Total bytes of all cached playlists and segments. Beyond it, new files are served from disk. */
  maxBytes: number;
  /** Largest playlist read (larger ones are left to the disk path, which answers 500). */
  maxPlaylistBytes: number;
  /** Largest single segment kept in memory. */
  maxSegmentBytes?: number;
  /** A request revalidates a stream whose last check is older than this (ms). Watch events refresh sooner. */
  checkIntervalMs?: number;
  /**
   * Longest time a refresh relies on the last check of the stream directory's real path (and on
   * the segments it holds being unchanged) before it checks again (ms).
   */
  verifyIntervalMs?: number;
  /** A stream not requested for this long is dropped (its watcher closed, its memory released). */
  idleMs?: number;
  /** Segments are cached only for a stream whose segments were requested within this long. */
  segmentInterestMs?: number;
  now?: () => number;
  /** Replaces `fs.watch` (tests); return undefined to simulate an unusable watcher. */
  watchDir?: (dir: string, onEvent: (file: string | null) => void) => FSWatcher | undefined;
}

export const DEFAULT_HLS_CACHE_BYTES = 256 * 1024 * 1024;
const DEFAULT_MAX_SEGMENT_BYTES = 32 * 1024 * 1024;
const DEFAULT_CHECK_INTERVAL_MS = 1000;
const DEFAULT_VERIFY_INTERVAL_MS = 5000;
const DEFAULT_IDLE_MS = 30_000;
const DEFAULT_SEGMENT_INTEREST_MS = 30_000;

interface Entry {
  readonly username: string;
  /** The publish this entry belongs to (the registry's `since`); another one starts afresh. */
  readonly generation: number;
  playlist: CachedFile | undefined;
  segments: Map<string, CachedFile>;
  bytes: number;
  watcher: FSWatcher | undefined;
  /** Inode of the directory the watcher was attached to (a recreated directory needs a new watcher). */
  dirIno: number | undefined;
  /** Real path of `{root}/{username}`, inside the root's real path as of `verifiedAt`. */
  dirReal: string | undefined;
  verifiedAt: number;
  checkedAt: number;
  lastUsed: number;
  segmentsWantedAt: number;
  refreshing: Promise<void> | undefined;
  /** A refresh was asked for while one ran: run another after it. */
  again: boolean;
  closed: boolean;
}

/**
 * @fastify/send's ETag: size and `stat.mtime.getTime()` in hex. Node rounds that Date to the nearest
 * millisecond, so `Math.trunc(mtimeMs)` differs whenever the fraction is ≥ 0.5 (and a cached answer's
 * ETag then never matched a conditional request served by the route).
 */
function etagOf(size: number, mtime: Date): string {
  return `W/"${size.toString(16)}-${mtime.getTime().toString(16)}"`;
}

/** Segment names listed in a playlist (URI lines), in order. */
export function listedSegments(playlist: Buffer): string[] {
  const out: string[] = [];
  for (const raw of playlist.toString('latin1').split('\n')) {
    const line = raw.trim();
    if (line !== '' && line[0] !== '#' && SEGMENT_FILE_PATTERN.test(line)) out.push(line);
  }
  return out;
}

/**
 * Bytes of a playlist's first read. A live playlist of a few segments is a few hundred bytes; a larger
 * one takes a second read.
 */
const PLAYLIST_FIRST_READ_BYTES = 4096;

function cachedFile(body: Buffer, st: Stats): CachedFile {
  return {
    body,
    etag: etagOf(st.size, st.mtime),
    lastModified: st.mtime.toUTCString(),
    ino: st.ino,
    mtimeMs: st.mtimeMs,
  };
}

/**
 * Reads `path` (no symlink as final component; a FIFO does not block the open) through one
 * descriptor. Returns undefined when it is missing, not a regular file, or larger than `maxBytes`.
 * `reuse` is returned as is when the file is still the same inode, mtime and size.
 *
 * With `firstRead` > 0 the file's stat and its first `firstRead` bytes are fetched at once: a file
 * that fits is then read in two thread-pool round trips (open, then stat and read together) instead
 * of five. The playlist is read this way: it is on the path from FFmpeg's rename to the viewer who
 * first sees a new segment, 25 times a second at 50 streams. FFmpeg renames every playlist into place
 * whole, so the file opened is never written again; bytes that disagree with the stat (a writer in
 * place) fall through to the full read, whose second stat rejects a file that changed under it.
 */
async function readWhole(
  path: string,
  maxBytes: number,
  reuse: CachedFile | undefined,
  firstRead = 0,
): Promise<CachedFile | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const head = firstRead > 0 ? Buffer.allocUnsafeSlow(firstRead) : undefined;
    const [st, headRead] = await Promise.all([handle.stat(), head ? handle.read(head, 0, firstRead, 0) : undefined]);
    if (!st.isFile() || st.size > maxBytes) return undefined;
    if (reuse && reuse.ino === st.ino && reuse.mtimeMs === st.mtimeMs && reuse.body.length === st.size) return reuse;
    // A short read of a regular file ended at EOF: the whole file, as large as its stat says.
    const headLen = headRead?.bytesRead ?? -1;
    if (head && headLen === st.size && headLen < firstRead)
      return cachedFile(Buffer.from(head.subarray(0, headLen)), st);
    const body = Buffer.allocUnsafe(st.size);
    let len = 0;
    while (len < st.size) {
      const { bytesRead } = await handle.read(body, len, st.size - len, len);
      if (bytesRead === 0) break;
      len += bytesRead;
    }
    // A file that changed size under us was not one FFmpeg had finished: do not keep it.
    if (len !== st.size) return undefined;
    const after = await handle.stat();
    if (after.size !== st.size || after.mtimeMs !== st.mtimeMs) return undefined;
    return cachedFile(body, st);
  } finally {
    // Nothing waits for the close: the bytes are ours already.
    handle.close().catch(() => {});
  }
}

export class HlsCache {
  private readonly entries = new Map<string, Entry>();
  private readonly opts: Required<Omit<HlsCacheOptions, 'watchDir'>> & Pick<HlsCacheOptions, 'watchDir'>;
  private totalBytes = 0;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(options: HlsCacheOptions) {
    this.opts = {
      maxSegmentBytes: DEFAULT_MAX_SEGMENT_BYTES,
      checkIntervalMs: DEFAULT_CHECK_INTERVAL_MS,
      verifyIntervalMs: DEFAULT_VERIFY_INTERVAL_MS,
      idleMs: DEFAULT_IDLE_MS,
      segmentInterestMs: DEFAULT_SEGMENT_INTEREST_MS,
      now: Date.now,
      ...options,
    };
  }

  /** Bytes held now (all streams). */
  get bytes(): number {
    return this.totalBytes;
  }

  /**
   * The cached playlist or segment of a stream, or undefined (serve from disk). Never waits: a stale
   * or missing entry starts a background refresh. `username`/`file` must already be validated.
   * `generation` identifies the publish (the registry's `since`): a different one drops what is held.
   */
  get(username: string, file: string, isPlaylist: boolean, generation = 0): CachedFile | undefined {
    const t = this.opts.now();
    let e = this.entries.get(username);
    if (e !== undefined && e.generation !== generation) {
      // A new publish of the same name (FFmpeg starts its numbering again): nothing old may be served.
      this.drop(username);
      e = undefined;
    }
    if (e === undefined) {
      e = this.open(username, t, generation);
    }
    e.lastUsed = t;
    if (!isPlaylist && t - e.segmentsWantedAt > this.opts.segmentInterestMs) {
      // First segment interest (or after a pause): load the listed segments now.
      e.segmentsWantedAt = t;
      this.refresh(e);
    } else if (!isPlaylist) {
      e.segmentsWantedAt = t;
    }
    // Without a watcher (none possible, or lost), check more often.
    if (t - e.checkedAt > (e.watcher ? this.opts.checkIntervalMs : this.opts.checkIntervalMs >> 2)) this.refresh(e);
    return isPlaylist ? e.playlist : e.segments.get(file);
  }

  /**
   * The refresh running for a stream, if any: a request that missed can wait for it (one read for
   * all waiters) rather than each going to disk while the stream warms up.
   */
  pending(username: string): Promise<void> | undefined {
    return this.entries.get(username)?.refreshing;
  }

  /** Resolves when the stream's pending refreshes are done (tests, warm-up). */
  async settle(username: string): Promise<void> {
    const e = this.entries.get(username);
    while (e?.refreshing) await e.refreshing;
  }

  /** Drops one stream's entry. */
  drop(username: string): void {
    const e = this.entries.get(username);
    if (!e) return;
    e.closed = true;
    e.watcher?.close();
    this.totalBytes -= e.bytes;
    this.entries.delete(username);
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const u of [...this.entries.keys()]) this.drop(u);
  }

  private open(username: string, t: number, generation: number): Entry {
    const e: Entry = {
      username,
      generation,
      playlist: undefined,
      segments: new Map(),
      bytes: 0,
      watcher: undefined,
      dirIno: undefined,
      dirReal: undefined,
      verifiedAt: Number.NEGATIVE_INFINITY,
      checkedAt: t,
      lastUsed: t,
      segmentsWantedAt: Number.NEGATIVE_INFINITY,
      refreshing: undefined,
      again: false,
      closed: false,
    };
    this.entries.set(username, e);
    // The real watcher is attached by the first refresh, which learns the directory's inode.
    if (this.opts.watchDir) this.attachWatcher(e);
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.sweep(), Math.max(1000, this.opts.idleMs / 2));
      this.sweeper.unref();
    }
    this.refresh(e);
    return e;
  }

  /** Watches the stream directory (again, if it was recreated or watching failed before). */
  private attachWatcher(e: Entry, dirIno?: number): void {
    e.watcher?.close();
    e.watcher = undefined;
    e.dirIno = dirIno;
    const onEvent = (file: string | null) => {
      if (file !== null && file !== PLAYLIST_FILE) return;
      // One event per rename into place; a refresh already running runs once more after it.
      if (!e.closed) this.refresh(e);
    };
    const dir = join(this.opts.root, e.username);
    try {
      const w = this.opts.watchDir
        ? this.opts.watchDir(dir, onEvent)
        : watch(dir, { persistent: false }, (_ev, f) => onEvent(f));
      w?.on('error', () => {
        // Directory removed or watch limit hit: the per-request check takes over until reattached.
        w.close();
        if (e.watcher === w) e.watcher = undefined;
      });
      e.watcher = w;
    } catch {
      e.watcher = undefined; // no directory yet: the next refresh tries again
    }
  }

  private sweep(): void {
    const t = this.opts.now();
    for (const e of [...this.entries.values()]) if (t - e.lastUsed > this.opts.idleMs) this.drop(e.username);
    if (this.entries.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  private refresh(e: Entry): void {
    e.checkedAt = this.opts.now();
    if (e.refreshing) {
      e.again = true;
      return;
    }
    e.refreshing = this.load(e)
      .catch(() => this.clear(e))
      .finally(() => {
        e.refreshing = undefined;
        if (e.again && !e.closed) {
          e.again = false;
          this.refresh(e);
        }
      });
  }

  private clear(e: Entry): void {
    this.totalBytes -= e.bytes;
    e.bytes = 0;
    e.playlist = undefined;
    e.segments = new Map();
    e.dirReal = undefined; // the next refresh checks the path again
  }

  /**
   * The stream directory's real path, checked inside the root's real path (and the watcher
   * re-attached if the directory is a new one). Undefined: no directory, or it leads out of the root.
   */
  private async verifyDir(e: Entry): Promise<string | undefined> {
    let resolved: Awaited<ReturnType<typeof resolveInsideRoot>>;
    try {
      resolved = await resolveInsideRoot(this.opts.root, [e.username], { directory: true });
    } catch {
      return undefined; // missing, or a link out of the root: the disk path answers 404/403
    }
    const dirReal = join(resolved.root, resolved.relative);
    if (!this.opts.watchDir && !e.closed) {
      // A stream directory removed and recreated (new publish) leaves the old watcher deaf.
      if (e.watcher === undefined || resolved.ino !== e.dirIno) this.attachWatcher(e, resolved.ino);
    }
    return dirReal;
  }

  /** Makes `playlist` + `segments` the entry's state, within the byte budget; false if it cannot fit. */
  private commit(e: Entry, playlist: CachedFile, segments: Map<string, CachedFile>): boolean {
    let bytes = playlist.body.length;
    for (const f of segments.values()) bytes += f.body.length;
    // Other streams may have grown meanwhile: drop the oldest segments until the total fits.
    for (const [name, file] of segments) {
      if (this.totalBytes - e.bytes + bytes <= this.opts.maxBytes) break;
      segments.delete(name);
      bytes -= file.body.length;
    }
    if (this.totalBytes - e.bytes + bytes > this.opts.maxBytes) {
      this.clear(e);
      return false;
    }
    this.totalBytes += bytes - e.bytes;
    e.bytes = bytes;
    e.segments = segments;
    e.playlist = playlist;
    return true;
  }

  private async load(e: Entry): Promise<void> {
    const full = e.dirReal === undefined || this.opts.now() - e.verifiedAt >= this.opts.verifyIntervalMs;
    if (full) {
      const verifiedAt = this.opts.now();
      const dirReal = await this.verifyDir(e);
      if (e.closed) return;
      if (dirReal === undefined) {
        this.clear(e);
        return;
      }
      e.dirReal = dirReal;
      e.verifiedAt = verifiedAt;
    }
    const dir = e.dirReal as string;
    const playlist = await readWhole(
      join(dir, PLAYLIST_FILE),
      this.opts.maxPlaylistBytes,
      e.playlist,
      PLAYLIST_FIRST_READ_BYTES,
    );
    if (e.closed) return;
    if (playlist === undefined) {
      this.clear(e); // gone, or a link: the disk path decides
      return;
    }
    const names = this.wantsSegments(e) ? listedSegments(playlist.body) : [];
    // Held segments are kept as they are (a listed segment never changes) unless this is a full check.
    const kept = new Map<string, CachedFile>();
    const toRead: string[] = [];
    for (const name of names) {
      const held = e.segments.get(name);
      if (held !== undefined) kept.set(name, held);
      if (held === undefined || full) toRead.push(name);
    }
    if (playlist === e.playlist && toRead.length === 0 && kept.size === e.segments.size) return;
    if (!this.commit(e, playlist, kept) || toRead.length === 0) return;
    const files = await Promise.all(
      toRead.map((name) =>
        readWhole(join(dir, name), this.opts.maxSegmentBytes, e.segments.get(name)).catch(() => undefined),
      ),
    );
    const read = new Map(toRead.map((name, i) => [name, files[i]]));
    if (e.closed || e.playlist !== playlist) return; // a newer refresh or a clear came first
    const segments = new Map<string, CachedFile>();
    let bytes = playlist.body.length;
    // In listed order; what does not fit the budget (or is gone, or a link) is left to the disk path.
    const budget = this.opts.maxBytes - this.totalBytes + e.bytes;
    for (const name of names) {
      const file = read.has(name) ? read.get(name) : e.segments.get(name);
      if (file === undefined || bytes + file.body.length > budget) continue;
      segments.set(name, file);
      bytes += file.body.length;
    }
    this.commit(e, playlist, segments);
  }

  private wantsSegments(e: Entry): boolean {
    return this.opts.now() - e.segmentsWantedAt <= this.opts.segmentInterestMs;
  }
}
