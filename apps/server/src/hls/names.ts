/**
 * The names of a stream's HLS files, in one place: what the server serves, what a producer writes
 * and what nothing outside the server ever sees. Every file that needs a name or has to recognise
 * one imports it from here.
 */

/** The media playlist the server writes and serves (`/stream/{username}/live.m3u8`). */
export const PLAYLIST_NAME = 'live.m3u8';

/** printf pattern of segment names, for FFmpeg's `-hls_segment_filename`. */
export const SEGMENT_NAME_PATTERN = 'live_%03d.ts';

/**
 * A finished segment's name: at least three digits; capped at 20 so a name stays bounded (a
 * counter that large would take billions of years at one segment a second).
 */
const SEGMENT_NAME = /^live_(\d{3,20})\.ts$/;

/** Content types of the served files. */
export const PLAYLIST_CONTENT_TYPE = 'application/vnd.apple.mpegurl';
export const SEGMENT_CONTENT_TYPE = 'video/mp2t';

/** The name of segment `n` (`live_007.ts`), as {@link SEGMENT_NAME_PATTERN} makes it. */
export function segmentName(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`segment number ${n} is not a non-negative integer`);
  return `live_${String(n).padStart(3, '0')}.ts`;
}

/** The number in a segment name, or undefined when `name` is not a segment name. */
export function segmentNumber(name: string): number | undefined {
  const m = SEGMENT_NAME.exec(name);
  if (m === null) return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** True for a finished segment's name (never a temporary, never a path). */
export function isSegmentName(name: string): boolean {
  return segmentNumber(name) !== undefined;
}
