/**
 * Classifies `/stream/:username/:file` from its (already percent-decoded, once) route parameters
 * before anything touches the filesystem. Only two shapes exist: the playlist `live.m3u8` and
 * segments `live_NNN.ts`; everything else is refused here, so no other name ever reaches a path join.
 */
import { isSafeSegment, isSafeUsername } from '@org/auth';
import { HttpError } from './errors';

/** The playlist FFmpeg writes in each stream directory. */
export const PLAYLIST_FILE = 'live.m3u8';

/**
 * Segment names FFmpeg writes (`live_%03d.ts`): at least three digits; capped at 20 so the
 * name stays bounded (a counter that large would take billions of years at one segment a second).
 */
export const SEGMENT_FILE_PATTERN = /^live_\d{3,20}\.ts$/;

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
  if (file === PLAYLIST_FILE) return { kind: 'playlist', username, file };
  if (SEGMENT_FILE_PATTERN.test(file)) return { kind: 'segment', username, file };
  throw new HttpError('ERR_HTTP_NOT_FOUND', 'only live.m3u8 and live_NNN.ts are served');
}
