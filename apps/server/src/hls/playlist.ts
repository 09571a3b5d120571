/**
 * An HLS media playlist as data, and its text form both ways (RFC 8216 §4). One model for every
 * playlist the server touches: the live playlist it serves ({@link serializeMediaPlaylist}) and
 * the playlist a producer such as FFmpeg writes to say which segments are finished
 * ({@link parseMediaPlaylist}). Pure: no I/O.
 *
 * Tags written (RFC 8216 section): `EXTM3U` 4.3.1.1, `EXT-X-VERSION` 4.3.1.2, `EXT-X-TARGETDURATION`
 * 4.3.3.1, `EXT-X-MEDIA-SEQUENCE` 4.3.3.2, `EXT-X-DISCONTINUITY-SEQUENCE` 4.3.3.3,
 * `EXT-X-INDEPENDENT-SEGMENTS` 4.3.5.1, `EXT-X-DISCONTINUITY` 4.3.2.3, `EXT-X-PROGRAM-DATE-TIME`
 * 4.3.2.6, `EXTINF` 4.3.2.1, `EXT-X-ENDLIST` 4.3.3.4. Not `EXT-X-ALLOW-CACHE`: removed in protocol
 * version 7 and ignored by players before that.
 */

/**
 * Protocol version of the playlists written: 3 is the lowest that allows decimal EXTINF durations
 * (RFC 8216 §7); nothing else written needs more.
 */
export const PLAYLIST_VERSION = 3;

/** Digits after the point of an EXTINF duration (milliseconds: what RTMP timestamps resolve). */
const DURATION_DECIMALS = 3;

export interface MediaSegment {
  /** URI line of the segment: here always a file name beside the playlist. */
  readonly uri: string;
  /** EXTINF duration, seconds. */
  readonly duration: number;
  /** An `EXT-X-DISCONTINUITY` precedes the segment (a new timeline starts with it). */
  readonly discontinuity: boolean;
  /** `EXT-X-PROGRAM-DATE-TIME` of its first sample, ms since the epoch, if known. */
  readonly programDateTime?: number | undefined;
}

export interface MediaPlaylist {
  readonly version: number;
  /** `EXT-X-TARGETDURATION`, whole seconds. */
  readonly targetDuration: number;
  /** Media sequence number of the first segment. */
  readonly mediaSequence: number;
  /** Discontinuity sequence number of the first segment. */
  readonly discontinuitySequence: number;
  readonly independentSegments: boolean;
  readonly segments: readonly MediaSegment[];
  /** `EXT-X-ENDLIST`: no segment will be added. */
  readonly endList: boolean;
}

/** Codes of {@link PlaylistParseError}. */
export type PlaylistParseErrorCode = 'ERR_HLS_NOT_A_PLAYLIST' | 'ERR_HLS_BAD_TAG' | 'ERR_HLS_TOO_MANY_SEGMENTS';

/** The text is not a media playlist this parser accepts; `code` says why. */
export class PlaylistParseError extends Error {
  readonly code: PlaylistParseErrorCode;
  constructor(code: PlaylistParseErrorCode, message: string) {
    super(message);
    this.name = 'PlaylistParseError';
    this.code = code;
  }
}

/** The playlist's text (LF line ends, a final LF). */
export function serializeMediaPlaylist(p: MediaPlaylist): string {
  const lines = [
    '#EXTM3U',
    `#EXT-X-VERSION:${p.version}`,
    `#EXT-X-TARGETDURATION:${p.targetDuration}`,
    `#EXT-X-MEDIA-SEQUENCE:${p.mediaSequence}`,
    `#EXT-X-DISCONTINUITY-SEQUENCE:${p.discontinuitySequence}`,
  ];
  if (p.independentSegments) lines.push('#EXT-X-INDEPENDENT-SEGMENTS');
  for (const s of p.segments) {
    if (s.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    if (s.programDateTime !== undefined) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${formatDateTime(s.programDateTime)}`);
    lines.push(`#EXTINF:${s.duration.toFixed(DURATION_DECIMALS)},`, s.uri);
  }
  if (p.endList) lines.push('#EXT-X-ENDLIST');
  lines.push('');
  return lines.join('\n');
}

/** ISO 8601 with milliseconds and a time zone, as `EXT-X-PROGRAM-DATE-TIME` wants it. */
function formatDateTime(ms: number): string {
  return new Date(ms).toISOString();
}

export interface ParseOptions {
  /** Most segments accepted; more is an error (a producer's playlist is a short window). Default 10 000. */
  maxSegments?: number;
}

const DEFAULT_MAX_SEGMENTS = 10_000;

interface Pending {
  duration: number | undefined;
  discontinuity: boolean;
  programDateTime: number | undefined;
}

/**
 * Reads a media playlist. Unknown tags are skipped (RFC 8216 §6.3.1: clients ignore them); a
 * malformed value of a known tag, or a first line other than `#EXTM3U`, throws
 * {@link PlaylistParseError}.
 */
export function parseMediaPlaylist(text: string, options: ParseOptions = {}): MediaPlaylist {
  const max = options.maxSegments ?? DEFAULT_MAX_SEGMENTS;
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trim() !== '#EXTM3U') throw new PlaylistParseError('ERR_HLS_NOT_A_PLAYLIST', 'no #EXTM3U header');
  const out = {
    version: 1,
    targetDuration: 0,
    mediaSequence: 0,
    discontinuitySequence: 0,
    independentSegments: false,
    segments: [] as MediaSegment[],
    endList: false,
  };
  let next: Pending = { duration: undefined, discontinuity: false, programDateTime: undefined };
  for (let i = 1; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    if (!line.startsWith('#')) {
      if (next.duration === undefined) throw bad(`segment ${line} has no EXTINF`);
      if (out.segments.length >= max) {
        throw new PlaylistParseError('ERR_HLS_TOO_MANY_SEGMENTS', `more than ${max} segments`);
      }
      out.segments.push({ uri: line, duration: next.duration, ...segmentTags(next) });
      next = { duration: undefined, discontinuity: false, programDateTime: undefined };
      continue;
    }
    const colon = line.indexOf(':');
    const tag = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1);
    switch (tag) {
      case '#EXT-X-VERSION':
        out.version = integer(tag, value);
        break;
      case '#EXT-X-TARGETDURATION':
        out.targetDuration = integer(tag, value);
        break;
      case '#EXT-X-MEDIA-SEQUENCE':
        out.mediaSequence = integer(tag, value);
        break;
      case '#EXT-X-DISCONTINUITY-SEQUENCE':
        out.discontinuitySequence = integer(tag, value);
        break;
      case '#EXT-X-INDEPENDENT-SEGMENTS':
        out.independentSegments = true;
        break;
      case '#EXT-X-ENDLIST':
        out.endList = true;
        break;
      case '#EXT-X-DISCONTINUITY':
        next.discontinuity = true;
        break;
      case '#EXT-X-PROGRAM-DATE-TIME':
        next.programDateTime = dateTime(value);
        break;
      case '#EXTINF':
        next.duration = extinfDuration(value);
        break;
    }
  }
  return out;
}

function segmentTags(p: Pending): { discontinuity: boolean; programDateTime?: number } {
  return p.programDateTime === undefined
    ? { discontinuity: p.discontinuity }
    : { discontinuity: p.discontinuity, programDateTime: p.programDateTime };
}

function bad(message: string): PlaylistParseError {
  return new PlaylistParseError('ERR_HLS_BAD_TAG', message);
}

function integer(tag: string, value: string): number {
  if (!/^\d{1,15}$/.test(value)) throw bad(`${tag}: ${JSON.stringify(value.slice(0, 40))} is not a decimal integer`);
  return Number(value);
}

/**
 * The duration of an `#EXTINF:` tag's value (what follows the colon), seconds.
 * @throws PlaylistParseError `ERR_HLS_BAD_TAG` when it is not a decimal number of seconds
 */
export function extinfDuration(value: string): number {
  const text = value.split(',', 1)[0] ?? '';
  if (!/^\d{1,9}(\.\d{1,12})?$/.test(text))
    throw bad(`#EXTINF: ${JSON.stringify(text.slice(0, 40))} is not a duration`);
  return Number(text);
}

function dateTime(value: string): number {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw bad(`#EXT-X-PROGRAM-DATE-TIME: ${JSON.stringify(value.slice(0, 40))} is not a date`);
  return ms;
}
