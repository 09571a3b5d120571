/**
 * Resolves a validated `{username}/{file}` under the output root and proves the real file stays
 * inside it: symlinks are followed with realpath and the result must still be under the root's
 * own realpath, so a link planted under the output root cannot serve `/etc/passwd`.
 */
import { constants } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { HttpError } from './errors';

export interface ResolvedFile {
  /** The output root's real path; pass as `sendFile` root. */
  root: string;
  /** The file's real path relative to `root`, with `/` separators. */
  relative: string;
  /** The file's size in bytes at resolution time. */
  size: number;
  /** Its inode at resolution time. */
  ino: number;
}

/** Extra room read past the stat size, so a file that grew a little needs no second buffer. */
const READ_SLACK_BYTES = 4096;

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
 * @throws HttpError `ERR_HTTP_NOT_FOUND` when the root or file is missing or not a regular file (a
 *   directory with `directory`); `ERR_HTTP_PATH_ESCAPE` when its real path leaves the root's real path.
 */
export async function resolveInsideRoot(
  root: string,
  segments: readonly string[],
  options: { directory?: boolean } = {},
): Promise<ResolvedFile> {
  const realRoot = await real(root);
  if (realRoot === undefined) throw new HttpError('ERR_HTTP_NOT_FOUND', 'no such file');
  const realFile = await real(join(root, ...segments));
  if (realFile === undefined) throw new HttpError('ERR_HTTP_NOT_FOUND', 'no such file');
  const prefix = realRoot.endsWith(sep) ? realRoot : realRoot + sep;
  if (!realFile.startsWith(prefix)) {
    throw new HttpError('ERR_HTTP_PATH_ESCAPE', 'file resolves outside the output directory');
  }
  let found: { size: number; ino: number } | undefined;
  try {
    const s = await stat(realFile);
    if (options.directory ? s.isDirectory() : s.isFile()) found = { size: s.size, ino: s.ino };
  } catch (err) {
    if (!MISSING.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
  if (found === undefined) throw new HttpError('ERR_HTTP_NOT_FOUND', 'no such file');
  return { root: realRoot, relative: relative(realRoot, realFile).split(sep).join('/'), ...found };
}

/**
 * Reads a small file through one descriptor, so a file replaced by rename while we read (FFmpeg
 * rewrites the playlist that way every segment) is read whole, old or new, never mixed or cut at
 * a stale length. `O_NOFOLLOW` refuses a final component swapped for a symlink since `resolveInsideRoot`.
 * @throws HttpError `ERR_HTTP_NOT_FOUND` when the file vanished or became a link; RangeError when
 *   it is larger than `maxBytes`.
 */
export async function readSmallFile(path: string, maxBytes: number): Promise<Buffer> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (MISSING.has(code)) throw new HttpError('ERR_HTTP_NOT_FOUND', 'no such file');
    throw err;
  }
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) throw new RangeError(`${path} is ${size} bytes, more than ${maxBytes}`);
    // Read to EOF, not to `size`: a writer appending in place would otherwise be cut. Bounded by maxBytes.
    let buf = Buffer.allocUnsafe(Math.min(size + READ_SLACK_BYTES, maxBytes + 1));
    let len = 0;
    for (;;) {
      if (len === buf.length) {
        if (len > maxBytes) throw new RangeError(`${path} grew past ${maxBytes} bytes`);
        const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, maxBytes + 1));
        buf.copy(bigger, 0, 0, len);
        buf = bigger;
      }
      const { bytesRead } = await handle.read(buf, len, buf.length - len, len);
      if (bytesRead === 0) break;
      len += bytesRead;
    }
    if (len > maxBytes) throw new RangeError(`${path} grew past ${maxBytes} bytes`);
    return buf.subarray(0, len);
  } finally {
    await handle.close();
  }
}
