/**
 * The built server and its log output: a server whose stdout reader has gone (a pipe into `head`,
 * a restarted log collector) still exits 0 on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, MAIN } from './helpers/ingest';

describe('logging', () => {
  it('the built server exits 0 on SIGTERM after its stdout reader has gone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'log-sink-server-'));
    const rtmpPort = String(await freePort());
    const proc = spawn(
      process.execPath,
      [
        MAIN,
        ...['--rtmp-port', rtmpPort, '--http-port', '0', '--rtmp-host', '127.0.0.1', '--http-host', '127.0.0.1'],
        ...['--output-dir', join(dir, 'out')],
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    let out = '';
    await new Promise<void>((r) => {
      proc.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('"msg":"listening"')) r();
      });
    });
    proc.stdout.destroy(); // the reader goes away: every later log line meets EPIPE
    await new Promise((r) => setTimeout(r, 100));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 8000);
    const code = await exited;
    clearTimeout(timer);
    expect(code).toBe(0);
  }, 15_000);
});
