/**
 * The two ways the server opens a stream's files. {@link resolveInsideRoot} proves that a
 * validated `{username}/{file}` really lies under the output root (symlinks are followed with
 * realpath and the result must stay under the root's own realpath, so a link planted under the
 * root cannot serve `/etc/passwd`). {@link readWholeFile} reads a file the producer has finished
 * (renamed into place, never written again) whole through one descriptor.
 */
import { constants, type Stats } from 'node:fs';
import { type FileHandle, open, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

export interface ResolvedFile {
  /** The output root's real path. */
  root: string;
  /** The file's real path relative to `root`, with `/` separators. */
  relative: string;
  size: number;
  ino: number;
}

/** Why nothing is served: no such file (or not the kind asked for), or a real path out of the root. */
export type ResolveFailure = 'missing' | 'escape';

/** errno codes that mean "nothing servable here" (ELOOP: O_NOFOLLOW met a symlink). */
const MISSING = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'EACCES', 'ENAMETOOLONG']);

async function real(path: string): Promise<string | undefined> {
  try {
    return await realpath(path);
  } catch (err) {
    if (MISSING.has((err as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw err;
  }
}

/**
 * @param root the configured output root (absolute).
 * @param segments path segments already validated as safe single segments (no `/`, `\`, `..`).
 * @param options.directory resolve a directory strictly under the root instead of a regular file.
 * @returns the resolved file, or why there is none.
 */
export async function resolveInsideRoot(
  root: string,
  segments: readonly string[],
  options: { directory?: boolean } = {},
): Promise<ResolvedFile | ResolveFailure> {
  const realRoot = await real(root);
  if (realRoot === undefined) return 'missing';
  const realFile = await real(join(root, ...segments));
  if (realFile === undefined) return 'missing';
  const prefix = realRoot.endsWith(sep) ? realRoot : realRoot + sep;
  if (!realFile.startsWith(prefix)) return 'escape';
  try {
    const s = await stat(realFile);
    if (!(options.directory ? s.isDirectory() : s.isFile())) return 'missing';
    return { root: realRoot, relative: relative(realRoot, realFile).split(sep).join('/'), size: s.size, ino: s.ino };
  } catch (err) {
    if (MISSING.has((err as NodeJS.ErrnoException).code ?? '')) return 'missing';
    throw err;
  }
}

/** A file's bytes with the identity they were read under. */
export interface FileSnapshot {
  readonly body: Buffer;
  readonly ino: number;
  readonly mtimeMs: number;
  readonly mtime: Date;
}

export interface ReadWholeOptions {
  /**
   * Fetch the file's stat and its first `firstRead` bytes at once: a file that fits is then read
   * in two thread-pool round trips (open, then stat and read together) instead of five. For the
   * small, often-read producer playlist.
   */
  firstRead?: number;
  /** Returned as is when the file is still the same inode, mtime and size (nothing is read). */
  reuse?: FileSnapshot;
}

function snapshot(body: Buffer, st: Stats): FileSnapshot {
  return { body, ino: st.ino, mtimeMs: st.mtimeMs, mtime: st.mtime };
}

/**
 * Reads `path` (no symlink as final component; a FIFO does not block the open) through one
 * descriptor. Undefined when it is missing, not a regular file, larger than `maxBytes`, or changed
 * while it was read (a file that changes under us was not one its producer had finished).
 */
export async function readWholeFile(
  path: string,
  maxBytes: number,
  options: ReadWholeOptions = {},
): Promise<FileSnapshot | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const firstRead = options.firstRead ?? 0;
    const head = firstRead > 0 ? Buffer.allocUnsafeSlow(firstRead) : undefined;
    const [st, headRead] = await Promise.all([handle.stat(), head ? handle.read(head, 0, firstRead, 0) : undefined]);
    if (!st.isFile() || st.size > maxBytes) return undefined;
    const reuse = options.reuse;
    if (reuse && reuse.ino === st.ino && reuse.mtimeMs === st.mtimeMs && reuse.body.length === st.size) return reuse;
    // A short read of a regular file ended at EOF: the whole file, as large as its stat says.
    const headLen = headRead?.bytesRead ?? -1;
    if (head && headLen === st.size && headLen < firstRead) return snapshot(Buffer.from(head.subarray(0, headLen)), st);
    const body = Buffer.allocUnsafe(st.size);
    let len = 0;
    while (len < st.size) {
      const { bytesRead } = await handle.read(body, len, st.size - len, len);
      if (bytesRead === 0) break;
      len += bytesRead;
    }
    if (len !== st.size) return undefined;
    const after = await handle.stat();
    if (after.size !== st.size || after.mtimeMs !== st.mtimeMs) return undefined;
    return snapshot(body, st);
  } finally {
    // Nothing waits for the close: the bytes are ours already.
    handle.close().catch(() => {});
  }
}
