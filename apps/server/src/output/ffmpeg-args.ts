/**
 * The argv of a stream's FFmpeg: FLV on stdin, codecs copied, MPEG-TS segments cut at keyframes
 * in the stream's directory. FFmpeg does not own the playlist players see: it writes a private one
 * to its stdout (`pipe:1`, read by `producer-playlist.ts`) from which the server learns each
 * finished segment and its duration, and the server writes `live.m3u8` itself (see
 * `hls/live-playlist.ts`). So FFmpeg deletes nothing (the server removes a segment only after its
 * RFC 8216 §6.2.2 availability) and never continues an old playlist (a new run starts numbering
 * where the last one stopped).
 */
import { join } from 'node:path';
import { SEGMENT_NAME_PATTERN } from '../hls/names';

/**
 * Probe window given to FFmpeg's FLV demuxer (µs). FFmpeg's default (5 s, and 0 means default)
 * made the first playlist appear ~1.6 s after the first frame instead of ~1.05 s: the demuxer
 * keeps reading to estimate frame rates although the primer already gave it every sequence header.
 * Measured on this machine (320x240 H.264 + AAC, 1 s GOP, paced in real time): first playlist
 * 1637 ms with the default, 1049–1056 ms with 1 µs … 500 ms, all with correct codecs and sizes per
 * ffprobe. 500 ms keeps a margin for a late audio sequence header.
 *
 * There is deliberately no `-re`: the input is a live publish already paced by the publisher, and
 * `-re` only added delay (first playlist 1596 ms instead of 1054 ms, measured the same way) and,
 * after a stall, refused to catch up, turning a backlog into dropped frames.
 */
export const ANALYZE_DURATION_US = 500_000;

/**
 * Segments in FFmpeg's private playlist. It is written whole to the pipe after every cut and
 * nothing on a pipe is lost, so the newest entry is all the server needs.
 */
export const PRODUCER_PLAYLIST_SIZE = 1;

export interface FfmpegArgsOptions {
  /** The stream's directory (contains the username, which therefore shows in `ps`). */
  dir: string;
  /** Target segment duration, seconds (`-hls_time`). */
  hlsTime: number;
  /** Number of the first segment this run writes (`-start_number`). */
  startNumber: number;
  /** FFmpeg log level for stderr. Default `warning`. */
  logLevel?: string;
}

/** The FFmpeg argv (no shell: every element is one argument, paths are never parsed). */
export function buildFfmpegArgs(o: FfmpegArgsOptions): string[] {
  return [
    ...['-hide_banner', '-nostats', '-loglevel', `level+${o.logLevel ?? 'warning'}`],
    ...['-analyzeduration', String(ANALYZE_DURATION_US)],
    ...['-f', 'flv', '-i', 'pipe:0', '-c', 'copy'],
    ...['-f', 'hls', '-hls_time', String(o.hlsTime), '-hls_list_size', String(PRODUCER_PLAYLIST_SIZE)],
    // temp_file: a segment appears under its name only once complete. (FFmpeg warns once that the
    // playlist, on a pipe, cannot be renamed: it is not a file, nothing reads it half-written.)
    ...['-hls_flags', 'temp_file+independent_segments+omit_endlist'],
    ...['-hls_segment_type', 'mpegts', '-start_number', String(o.startNumber)],
    ...['-hls_segment_filename', join(o.dir, SEGMENT_NAME_PATTERN)],
    'pipe:1',
  ];
}
