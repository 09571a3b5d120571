import { writeSync } from 'node:fs';
import { type Logger, pino } from 'pino';
import type { LogLevel } from './config';

export type { Logger };

const pauseCell = new Int32Array(new SharedArrayBuffer(4));
/** How many 1 ms waits a line gets while a non-blocking stdout is full (EAGAIN) before it is dropped. */
const FULL_RETRIES = 100;

/**
 * Where the server's log lines go: one synchronous write per line to a file descriptor (stdout).
 * A stdout whose reader has gone (EPIPE) or that was closed (EBADF) makes this drop lines instead of
 * failing: pino's default destination retries such a write forever in its exit-time flush, so a
 * server whose log reader died (a pipe into `head`, a restarted collector) never exited on SIGTERM.
 */
export class LogSink {
  private broken = false;
  /** Lines not written (stdout broken, or full for longer than the retries allow). */
  dropped = 0;

  constructor(private readonly fd = 1) {}

  write(line: string): void {
    if (this.broken) {
      this.dropped++;
      return;
    }
    let buf = Buffer.from(line);
    let retries = 0;
    while (buf.length > 0) {
      try {
        buf = buf.subarray(writeSync(this.fd, buf));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if ((code === 'EAGAIN' || code === 'EBUSY') && retries++ < FULL_RETRIES) {
          Atomics.wait(pauseCell, 0, 0, 1);
          continue;
        }
        if (code !== 'EAGAIN' && code !== 'EBUSY') this.broken = true;
        this.dropped++;
        return;
      }
    }
  }
}

/** JSON logs on stdout; components take child loggers bound to their connection/stream ids. */
export function createLogger(level: LogLevel, sink: { write(line: string): void } = new LogSink()): Logger {
  return pino({ level, base: { service: 'rtmp-hls' }, timestamp: pino.stdTimeFunctions.isoTime }, sink);
}
