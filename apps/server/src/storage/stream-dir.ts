/**
 * A stream's directory, `{outputDir}/{username}`: made empty when a stream starts, the served
 * playlist written into it (for operators and tools that read the files; players get it from
 * memory), expired segments deleted one by one, the whole directory removed when the stream ends.
 * Producers write their segments into it; this class owns everything else done to it.
 */
import { mkdir, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PLAYLIST_NAME } from '../hls/names';

/**
 * Failed playlist writes are reported at most once per this interval (a full disk fails every
 * write, one or two a second per stream); the next report says how many there were.
 */
export const PLAYLIST_ERROR_INTERVAL_MS = 10_000;

/** What a stream does with its directory (a fake implements it in tests). */
export interface StreamFiles {
  readonly path: string;
  prepare(): Promise<void>;
  writePlaylist(body: Buffer): Promise<void>;
  deleteFile(name: string): Promise<void>;
  flush(): Promise<void>;
  remove(): Promise<void>;
}

export class StreamDir implements StreamFiles {
  readonly path: string;
  private readonly onError: (what: string, err: unknown) => void;
  /** The newest playlist text not yet on disk, if a write is running. */
  private nextPlaylist: Buffer | undefined;
  private writing: Promise<void> | undefined;
  private readonly now: () => number;
  /** Failed playlist writes not reported yet, and when the last report went out. */
  private unreported = 0;
  private reportedAt = Number.NEGATIVE_INFINITY;

  constructor(path: string, onError: (what: string, err: unknown) => void, now: () => number = Date.now) {
    this.path = path;
    this.onError = onError;
    this.now = now;
  }

  /** An empty directory for a new stream (leftovers of an earlier one are removed). */
  async prepare(): Promise<void> {
    await rm(this.path, { recursive: true, force: true });
    await mkdir(this.path, { recursive: true });
  }

  /**
   * Puts `body` on disk as the playlist, atomically (a temporary file renamed over), so a reader
   * sees either version whole. Writes are coalesced: while one runs, only the newest text waits.
   * Resolves once `body` or a newer text is on disk; failures are reported (rate-limited), not
   * thrown. A failed write (ENOSPC, EIO) leaves the previous playlist whole and its temporary is
   * removed; the next text is tried again.
   */
  writePlaylist(body: Buffer): Promise<void> {
    this.nextPlaylist = body;
    this.writing ??= this.drain();
    return this.writing;
  }

  private async drain(): Promise<void> {
    const target = join(this.path, PLAYLIST_NAME);
    const tmp = `${target}.tmp`;
    try {
      for (let body = this.nextPlaylist; body !== undefined; body = this.nextPlaylist) {
        this.nextPlaylist = undefined;
        try {
          await writeFile(tmp, body);
          await rename(tmp, target);
        } catch (err) {
          // A full disk leaves a cut-off temporary: removed, giving its space back.
          await unlink(tmp).catch(() => {});
          this.playlistFailed(err);
        }
      }
    } finally {
      this.writing = undefined;
    }
  }

  private playlistFailed(err: unknown): void {
    this.unreported++;
    const t = this.now();
    if (t - this.reportedAt < PLAYLIST_ERROR_INTERVAL_MS) return;
    const n = this.unreported;
    this.unreported = 0;
    this.reportedAt = t;
    this.onError(n > 1 ? `cannot write the playlist (${n} failed writes)` : 'cannot write the playlist', err);
  }

  /** Deletes one file of the directory (a name from `names.ts`); a missing file is no error. */
  async deleteFile(name: string): Promise<void> {
    try {
      await unlink(join(this.path, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.onError(`cannot delete ${name}`, err);
    }
  }

  /** Waits for the playlist write in progress, if any. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** Removes the directory and everything in it. */
  async remove(): Promise<void> {
    await this.flush();
    await rm(this.path, { recursive: true, force: true });
  }
}
