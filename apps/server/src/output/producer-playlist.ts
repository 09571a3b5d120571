/**
 * How the server learns that FFmpeg finished a segment: FFmpeg writes its private playlist to its
 * stdout (`pipe:1`) after every cut, and this reader takes the `#EXTINF` / URI pairs out of that
 * byte stream as they come. No file, no directory watch, no read per segment: a file playlist
 * cost FFmpeg a rename and the server an inotify wake-up per write FFmpeg made to a segment plus
 * four thread-pool round trips per cut, about a fifth of the server's CPU per stream
 * (docs/benchmarks.md). (What is learned here is checked with one `stat` per segment before it is
 * listed: segment-checker.ts.)
 *
 * The stream is FFmpeg's whole playlist again at every cut, so segments repeat; the caller keeps
 * those it has not seen. The reader is a line state machine bounded by {@link MAX_LINE_LENGTH}:
 * whatever arrives (a crash mid-line, a binary that is not FFmpeg) it buffers at most one line.
 */
import { segmentNumber } from '../hls/names';
import { extinfDuration } from '../hls/playlist';

/** A finished segment as FFmpeg's playlist lists it. */
export interface ProducedSegment {
  readonly name: string;
  readonly number: number;
  /** EXTINF, seconds. */
  readonly duration: number;
}

/** Longest line kept: FFmpeg's playlist lines are tens of bytes. Longer lines are skipped whole. */
export const MAX_LINE_LENGTH = 1024;

const NEWLINE = 0x0a;

export class ProducerPlaylistReader {
  private partial = '';
  /** Inside a line longer than {@link MAX_LINE_LENGTH}: dropped up to its newline. */
  private skipping = false;
  private duration: number | undefined;
  private skippedLines = 0;

  /** @param onSegment every `#EXTINF` + segment URI pair read, in stream order (repeats included) */
  constructor(private readonly onSegment: (segment: ProducedSegment) => void) {}

  /** Lines that were not playlist lines (too long, or a malformed `#EXTINF`). */
  get skipped(): number {
    return this.skippedLines;
  }

  /** Characters of an unfinished line held until its newline (at most {@link MAX_LINE_LENGTH}). */
  get buffered(): number {
    return this.partial.length;
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE, start); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      const piece = chunk.toString('latin1', start, nl);
      start = nl + 1;
      if (this.skipping || this.partial.length + piece.length > MAX_LINE_LENGTH) {
        this.skip();
        continue;
      }
      const line = this.partial + piece;
      this.partial = '';
      this.line(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
    if (start === chunk.length || this.skipping) return;
    if (this.partial.length + (chunk.length - start) > MAX_LINE_LENGTH) {
      this.partial = '';
      this.skipping = true;
      return;
    }
    this.partial += chunk.toString('latin1', start);
  }

  private skip(): void {
    this.partial = '';
    this.skipping = false;
    this.duration = undefined;
    this.skippedLines++;
  }

  private line(line: string): void {
    if (line.startsWith('#EXTINF:')) {
      try {
        this.duration = extinfDuration(line.slice('#EXTINF:'.length));
      } catch {
        this.skip();
      }
      return;
    }
    if (line === '#EXTM3U') this.duration = undefined;
    if (line === '' || line.startsWith('#')) return;
    const duration = this.duration;
    this.duration = undefined;
    const number = segmentNumber(line);
    if (duration !== undefined && number !== undefined) this.onSegment({ name: line, number, duration });
  }
}
