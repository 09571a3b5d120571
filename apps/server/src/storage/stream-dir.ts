/**
 * A stream's directory, `{outputDir}/{username}`: made empty when a stream starts, the served
 * playlist written into it (for operators and tools that read the files; players get it from
 * memory), expired segments deleted one by one, the whole directory removed when the stream ends.
 * Producers write their segments into it; this class owns everything else done to it.
 */
import { mkdir, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PLAYLIST_NAME } from '../hls/names';

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

  constructor(path: string, onError: (what: string, err: unknown) => void) {
    this.path = path;
    this.onError = onError;
  }

  /** An empty directory for a new stream (leftovers of an earlier one are removed). */
  async prepare(): Promise<void> {
    await rm(this.path, { recursive: true, force: true });
    await mkdir(this.path, { recursive: true });
  }

  /**
   * Puts `body` on disk as the playlist, atomically (a temporary file renamed over), so a reader
   * sees either version whole. Writes are coalesced: while one runs, only the newest text waits.
   * Resolves once `body` or a newer text is on disk; failures are reported, not thrown.
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
          this.onError('cannot write the playlist', err);
        }
      }
    } finally {
      this.writing = undefined;
    }
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
