/**
 * Rate limits for log lines a peer can trigger at will (a refused connection, a dropped publish):
 * without them every attempt is a line, and an attacker's loop writes the log as fast as it
 * connects. Per key, the first `burst` lines of each interval go out; the rest are counted, and the
 * next line that goes out for that key says how many were suppressed.
 */
import type { Logger } from './logger';

/** Lines per key and interval by default: enough to see what happens, few enough to never flood. */
export const DEFAULT_LOG_BURST = 10;
/** Interval of {@link DEFAULT_LOG_BURST}, ms. */
export const DEFAULT_LOG_INTERVAL_MS = 10_000;
/** Keys remembered at once; an attacker varying keys cannot grow the table past it. */
const MAX_KEYS = 1024;

interface Window {
  startedAt: number;
  sent: number;
  suppressed: number;
}

export type LogLevelName = 'warn' | 'info' | 'error';

export class LogLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly burst = DEFAULT_LOG_BURST,
    private readonly intervalMs = DEFAULT_LOG_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Logs `msg` with `fields` at `level` unless `key` (a bounded code, never user input) has had
   * its share this interval. Returns true when the line was written.
   */
  log(logger: Logger, level: LogLevelName, key: string, fields: object, msg: string): boolean {
    const t = this.now();
    let w = this.windows.get(key);
    if (w === undefined || t - w.startedAt >= this.intervalMs) {
      const suppressed = w?.suppressed ?? 0;
      if (w === undefined && this.windows.size >= MAX_KEYS) this.evictOldest();
      w = { startedAt: t, sent: 0, suppressed };
      this.windows.set(key, w);
    }
    if (w.sent >= this.burst) {
      w.suppressed++;
      return false;
    }
    w.sent++;
    const extra = w.suppressed > 0 ? { suppressed: w.suppressed } : {};
    w.suppressed = 0;
    logger[level]({ ...fields, ...extra }, msg);
    return true;
  }

  private evictOldest(): void {
    const first = this.windows.keys().next();
    if (!first.done) this.windows.delete(first.value);
  }
}
