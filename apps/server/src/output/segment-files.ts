/**
 * Puts the native packager's finished segments on disk, one at a time and in order: each is
 * written whole to `live_NNN.ts.tmp` and renamed into place, so the HTTP side (which reads a
 * listed segment whole, `storage/safe-file.ts`) never sees half a file, and a crash leaves at
 * most a temporary. Segments wait in memory only while the disk is behind, and only up to
 * `maxQueuedBytes`: past it a segment is dropped (reported as failed) rather than memory growing
 * with a slow or full disk.
 */
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface SegmentFilesOptions {
  dir: string;
  /** Bytes of finished segments allowed to wait for the disk. */
  maxQueuedBytes: number;
  /** A segment could not be written (or was dropped: `err` undefined); it is not on disk. */
  failed(name: string, err: unknown): void;
}

export class SegmentFiles {
  private chain: Promise<void> = Promise.resolve();
  private queued = 0;

  constructor(private readonly o: SegmentFilesOptions) {}

  /** Bytes of segments waiting for the disk. */
  get queuedBytes(): number {
    return this.queued;
  }

  /** Queues `chunks` as segment `name`; `written` runs once it is on disk, else `failed` does. */
  add(name: string, chunks: readonly Uint8Array[], bytes: number, written: () => void): void {
    if (this.queued > 0 && this.queued + bytes > this.o.maxQueuedBytes) {
      this.o.failed(name, undefined);
      return;
    }
    this.queued += bytes;
    this.chain = this.chain.then(async () => {
      try {
        await this.write(name, chunks);
      } catch (err) {
        this.queued -= bytes;
        this.o.failed(name, err);
        return;
      }
      this.queued -= bytes;
      written();
    });
  }

  /** Resolves once every queued segment is written or failed. */
  idle(): Promise<void> {
    return this.chain;
  }

  private async write(name: string, chunks: readonly Uint8Array[]): Promise<void> {
    const target = join(this.o.dir, name);
    const tmp = `${target}.tmp`;
    try {
      const fh = await open(tmp, 'w');
      try {
        await fh.writev(chunks as Uint8Array[]);
      } finally {
        await fh.close();
      }
      await rename(tmp, target);
    } catch (err) {
      // A full disk leaves a cut-off temporary: removed, giving its space back.
      await unlink(tmp).catch(() => {});
      throw err;
    }
  }
}
