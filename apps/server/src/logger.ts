import { type Logger, pino } from 'pino';
import type { LogLevel } from './config';

export type { Logger };

/** JSON logs on stdout; components take child loggers bound to their connection/stream ids. */
export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { service: 'rtmp-hls' }, timestamp: pino.stdTimeFunctions.isoTime });
}
