/**
 * FFmpeg's stderr lines that say a segment could not be written.
 *
 * What the server's FFmpeg (the lean 5.1 build of scripts/build-ffmpeg.sh, and Debian's 5.1 alike)
 * really prints, run with the server's argv (`-loglevel level+warning`):
 *
 * - output on a full file system (ENOSPC, tmpfs and ext4): nothing at all. The muxer's I/O
 *   context records the error and silently writes no more of that file; the segment is renamed
 *   into place empty or cut off and listed on stdout as usual. Only the file itself tells
 *   ({@link SegmentChecker}).
 * - a file that cannot be created (read-only file system, permissions), then FFmpeg exits:
 *   `[hls @ 0x…] [error] Failed to open file 'dir/live_003.ts.tmp'`,
 *   `[error] av_interleaved_write_frame(): Read-only file system`,
 *   `[hls @ 0x…] [error] failed to rename file dir/live_003.ts.tmp to dir/live_003.ts: Read-only file system`.
 *
 * So a line counts when it is one of those shapes or carries the text of an errno that means the
 * bytes did not reach the disk; the segment it names, if any, is returned.
 */
import { basename } from 'node:path';
import { segmentNumber } from '../hls/names';

/** One write failure FFmpeg reported. */
export interface FfmpegWriteError {
  /** Number of the segment the line names (without its `.tmp`), if it names one. */
  segment: number | undefined;
}

/** strerror texts of the errnos that lose bytes of an output file (glibc wording, as FFmpeg prints them). */
const ERRNO_TEXTS = [
  'No space left on device',
  'Disk quota exceeded',
  'Read-only file system',
  'Input/output error',
  'Permission denied',
  'File too large',
];
const SHAPES = [/Failed to open (?:file|segment)/i, /failed to rename file/i, /Error (?:writing|closing)/i];
const ERRNO = new RegExp(ERRNO_TEXTS.map((t) => t.replace(/[/.]/g, '\\$&')).join('|'));
/** A path FFmpeg names: quoted, or the first word ending in `.ts` / `.ts.tmp` after "file". */
const NAMED = /'([^']+\.ts)(?:\.tmp)?'|file (\S+\.ts)(?:\.tmp)?[:\s]|to (\S+\.ts)(?:\.tmp)?:/;

/** The write failure `line` reports, or undefined when it reports none. */
export function ffmpegWriteError(line: string): FfmpegWriteError | undefined {
  if (!ERRNO.test(line) && !SHAPES.some((s) => s.test(line))) return undefined;
  const m = NAMED.exec(line);
  const path = m?.[1] ?? m?.[2] ?? m?.[3];
  return { segment: path === undefined ? undefined : segmentNumber(basename(path)) };
}
