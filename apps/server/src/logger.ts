import { write as fsWrite, writeSync } from 'node:fs';
import { type Logger, pino } from 'pino';
import type { LogLevel } from './config';

export type { Logger };

/**
 * Bytes of log lines held while the descriptor does not take them (a stalled reader); lines
 * beyond are dropped and counted, so a reader that stops reading cannot grow the process.
 */
export const DEFAULT_MAX_BUFFERED_LOG_BYTES = 16 * 1024 * 1024;
/** At process exit, how long a full descriptor may hold up the last lines before they are dropped. */
const EXIT_FLUSH_MS = 200;
/** While the descriptor is full (EAGAIN), the next try comes this much later. */
const FULL_RETRY_MS = 20;

const pauseCell = new Int32Array(new SharedArrayBuffer(4));
const pause = (ms: number) => Atomics.wait(pauseCell, 0, 0, ms);

/**
 * Where the server's log lines go: a file descriptor (stdout) written off the event loop. Lines
 * are queued and written by `fs.write` on the thread pool, whatever piled up meanwhile in one
 * write, so a slow or full descriptor never holds up the event loop; {@link flushSync} writes what
 * is queued at process exit and on fatal errors, for at most {@link EXIT_FLUSH_MS} of a full
 * descriptor. A descriptor whose reader has gone (EPIPE) or that was closed (EBADF) drops lines
 * from then on instead of failing, so a server whose log reader died still exits on SIGTERM.
 *
 * pino's own asynchronous destination (sonic-boom) is not used: its synchronous flush retries a
 * write that failed with EPIPE forever, and pino runs that flush at exit, so a server whose stdout
 * reader had gone never exited.
 */
export class LogSink {
  /** Lines not written (descriptor broken, or over the buffer limit). */
  dropped = 0;
  private queue: string[] = [];
  private queuedBytes = 0;
  private writing = false;
  private broken = false;

  constructor(
    private readonly fd = 1,
    private readonly maxBufferedBytes = DEFAULT_MAX_BUFFERED_LOG_BYTES,
  ) {}

  write(line: string): void {
    if (this.broken || this.queuedBytes + line.length > this.maxBufferedBytes) {
      this.dropped++;
      return;
    }
    this.queue.push(line);
    this.queuedBytes += line.length;
    if (!this.writing) this.writeQueued();
  }

  private writeQueued(): void {
    const lines = this.queue.length;
    const buf = Buffer.from(this.queue.join(''));
    this.queue = [];
    this.queuedBytes = 0;
    this.writing = true;
    this.writeOut(buf, lines);
  }

  private writeOut(buf: Buffer, lines: number): void {
    fsWrite(this.fd, buf, 0, buf.length, null, (err, n) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EBUSY') {
          setTimeout(() => this.writeOut(buf, lines), FULL_RETRY_MS).unref();
          return;
        }
        this.fail(lines);
        return;
      }
      if (n < buf.length) return this.writeOut(buf.subarray(n), lines);
      this.writing = false;
      if (this.queue.length > 0 && !this.broken) this.writeQueued();
    });
  }

  private fail(lines: number): void {
    this.broken = true;
    this.writing = false;
    this.dropped += lines + this.queue.length;
    this.queue = [];
    this.queuedBytes = 0;
  }

  /** Writes what is queued now, synchronously (process exit, fatal errors). */
  flushSync(): void {
    if (this.broken) return;
    // A write on the thread pool finishes in microseconds: give it the time, so lines keep their order.
    if (this.writing) pause(5);
    let buf = Buffer.from(this.queue.join(''));
    const lines = this.queue.length;
    this.queue = [];
    this.queuedBytes = 0;
    const deadline = Date.now() + EXIT_FLUSH_MS;
    while (buf.length > 0) {
      try {
        buf = buf.subarray(writeSync(this.fd, buf));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if ((code === 'EAGAIN' || code === 'EBUSY') && Date.now() < deadline) {
          pause(1);
          continue;
        }
        this.fail(lines);
        return;
      }
    }
  }
}

/** JSON logs on stdout; components take child loggers bound to their connection/stream ids. */
export function createLogger(level: LogLevel, sink: { write(line: string): void } = new LogSink()): Logger {
  return pino({ level, base: { service: 'rtmp-hls' }, timestamp: pino.stdTimeFunctions.isoTime }, sink);
}
