/**
 * The log sink: lines reach the descriptor whole; a broken stdout drops lines instead of hanging
 * the process (the built server's side of it: test/e2e/logging.test.ts).
 */
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger, LogSink } from '../src/logger';

describe('LogSink', () => {
  it('writes each line whole to its descriptor, through pino', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'log-sink-')), 'out.log');
    const fd = openSync(file, 'w');
    const log = createLogger('info', new LogSink(fd));
    log.info({ n: 1 }, 'first');
    log.debug('below the level');
    log.warn('second');
    closeSync(fd);
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.msg, l.level, l.service])).toEqual([
      ['first', 30, 'rtmp-hls'],
      ['second', 40, 'rtmp-hls'],
    ]);
  });

  it('drops lines on a closed descriptor instead of throwing', () => {
    const fd = openSync(join(mkdtempSync(join(tmpdir(), 'log-sink-')), 'x.log'), 'w');
    closeSync(fd);
    const sink = new LogSink(fd);
    expect(() => sink.write('a\n')).not.toThrow();
    sink.write('b\n');
    expect(sink.dropped).toBe(2);
  });
});
