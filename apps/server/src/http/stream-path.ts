/**
 * Classifies `/stream/:username/:file` from its (already percent-decoded, once) route parameters
 * before anything touches the filesystem. Only two shapes exist: the playlist `live.m3u8` and
 * segments `live_NNN.ts`; everything else is refused here, so no other name ever reaches a path join.
 */
import { isSafeSegment, isSafeUsername } from '@org/auth';
import { isSegmentName, PLAYLIST_NAME } from '../hls/names';
import { HttpError } from './errors';

export type StreamFileKind = 'playlist' | 'segment';

export interface StreamFileRequest {
  kind: StreamFileKind;
  username: string;
  /** `live.m3u8` or `live_NNN.ts`: one segment, ASCII, no dots except the extension. */
  file: string;
}

/**
 * @throws HttpError `ERR_HTTP_BAD_USERNAME` (400) when `username` fails the @org/auth rule;
 *   `ERR_HTTP_BAD_FILE_NAME` (400) when `file` is not one safe path segment (it holds `/`, `\`, `%`,
 *   NUL, non-ASCII, or is dot-only); `ERR_HTTP_NOT_FOUND` (404) for a safe name that is neither a
 *   playlist nor a segment.
 */
export function classifyStreamFile(username: unknown, file: unknown): StreamFileRequest {
  if (!isSafeUsername(username)) {
    throw new HttpError('ERR_HTTP_BAD_USERNAME', 'username must be 1-64 of A-Z a-z 0-9 _ -');
  }
  if (!isSafeSegment(file)) {
    throw new HttpError('ERR_HTTP_BAD_FILE_NAME', 'file name must be live.m3u8 or live_NNN.ts');
  }
  if (file === PLAYLIST_NAME) return { kind: 'playlist', username, file };
  if (isSegmentName(file)) return { kind: 'segment', username, file };
  throw new HttpError('ERR_HTTP_NOT_FOUND', 'only live.m3u8 and live_NNN.ts are served');
}
