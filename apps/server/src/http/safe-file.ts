/**
 * Resolves a validated `{username}/{file}` under the output root and proves the real file stays
 * inside it: symlinks are followed with realpath and the result must still be under the root's
 * own realpath, so a link planted under the output root cannot serve `/etc/passwd`.
 */
import { realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { HttpError } from './errors';

export interface ResolvedFile {
  /** The output root's real path; pass as `sendFile` root. */
  root: string;
  /** The file's real path relative to `root`, with `/` separators. */
  relative: string;
  /** The file's size in bytes at resolution time. */
  size: number;
}

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
 * @throws HttpError `ERR_HTTP_NOT_FOUND` when the root or file is missing or not a regular file;
 *   `ERR_HTTP_PATH_ESCAPE` when its real path leaves the root's real path.
 */
export async function resolveInsideRoot(root: string, segments: readonly string[]): Promise<ResolvedFile> {
  const realRoot = await real(root);
  if (realRoot === undefined) throw new HttpError('ERR_HTTP_NOT_FOUND', 'no such file');
  const realFile = await real(join(root, ...segments));
  if (realFile === undefined) throw new HttpError('ERR_HTTP_NOT_FOUND', 'no such file');
  const prefix = realRoot.endsWith(sep) ? realRoot : realRoot + sep;
  if (!realFile.startsWith(prefix)) {
    throw new HttpError('ERR_HTTP_PATH_ESCAPE', 'file resolves outside the output directory');
  }
  let size: number | undefined;
  try {
    const s = await stat(realFile);
    if (s.isFile()) size = s.size;
  } catch (err) {
    if (!MISSING.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
  if (size === undefined) throw new HttpError('ERR_HTTP_NOT_FOUND', 'no such file');
  return { root: realRoot, relative: relative(realRoot, realFile).split(sep).join('/'), size };
}
