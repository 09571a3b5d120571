/**
 * The log sink: lines reach the descriptor whole and in order without a synchronous write per
 * line; a broken descriptor drops lines instead of throwing (the built server's side of it:
 * test/e2e/logging.test.ts).
 */
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger, LogSink } from '../src/logger';

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('LogSink', () => {
  it('writes each line whole and in order to its descriptor, through pino', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'log-sink-')), 'out.log');
    const fd = openSync(file, 'w');
    const sink = new LogSink(fd);
    const log = createLogger('info', sink);
    log.info({ n: 1 }, 'first');
    log.debug('below the level');
    log.warn('second');
    // Written off the event loop (the thread pool), soon after.
    await new Promise((r) => setTimeout(r, 50));
    expect(lines(file).map((l) => [l.msg, l.level, l.service])).toEqual([
      ['first', 30, 'rtmp-hls'],
      ['second', 40, 'rtmp-hls'],
    ]);
    // flushSync puts what is held on disk at once (exit, fatal errors).
    for (let i = 0; i < 100; i++) log.info({ i }, 'burst');
    sink.flushSync();
    expect(lines(file)).toHaveLength(102);
    expect(lines(file).at(-1)).toMatchObject({ i: 99 });
    closeSync(fd);
  });

  it('drops lines on a closed descriptor instead of throwing', async () => {
    const fd = openSync(join(mkdtempSync(join(tmpdir(), 'log-sink-')), 'x.log'), 'w');
    closeSync(fd);
    const sink = new LogSink(fd);
    expect(() => sink.write('a\n')).not.toThrow();
    await new Promise((r) => setTimeout(r, 50)); // the write fails (EBADF) off the event loop
    sink.write('b\n');
    expect(sink.dropped).toBeGreaterThanOrEqual(1);
    expect(() => sink.flushSync()).not.toThrow();
  });
});
