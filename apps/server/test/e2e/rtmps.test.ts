/**
 * RTMPS against the built server with a real ffmpeg and GStreamer rtmp2sink publishing over TLS
 * (the test certificate of packages/rtmp/test/fixtures/tls, which FFmpeg does not verify by default
 * and rtmp2sink is told not to), the certificate reread on SIGHUP and on a file change (a bad one
 * kept out, the stream going on), and the start-up refusals of half a configuration.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ffmpegPublisher,
  gstPublisher,
  killAll,
  MAIN,
  type Server,
  sleep,
  startServer,
  stop,
  waitForPlaylist,
} from './helpers/ingest';
import { watchPlaylist } from './helpers/rtmp-attack';

const FIXTURES = join(import.meta.dirname, '../../../../packages/rtmp/test/fixtures/tls');
let tmp: string;
let cert: string;
let key: string;
let server: Server;
let rtmpsPort: number;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'e2e-rtmps-'));
  cert = join(tmp, 'cert.pem');
  key = join(tmp, 'key.pem');
  copyFileSync(join(FIXTURES, 'cert.pem'), cert);
  copyFileSync(join(FIXTURES, 'key.pem'), key);
  server = await startServer(join(tmp, 'out'), ['--tls-cert', cert, '--tls-key', key, '--rtmps-port', '0']);
  rtmpsPort = server.logs().find((l) => l.msg === 'listening')?.rtmpsPort as number;
}, 30_000);

afterAll(async () => {
  await killAll();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const logged = (msg: RegExp) => server.logs().filter((l) => msg.test(String(l.msg)));

describe('RTMPS', () => {
  it('takes a real ffmpeg publishing over rtmps:// to a playing HLS stream', async () => {
    expect(rtmpsPort).toBeGreaterThan(0);
    expect(rtmpsPort).not.toBe(server.rtmpPort);
    ffmpegPublisher(`rtmps://127.0.0.1:${rtmpsPort}/live/test/secure`, { seconds: 40 });
    const p = await waitForPlaylist(server, 'secure', 2);
    expect(p.segments.length).toBeGreaterThanOrEqual(2);
  }, 40_000);

  it('takes GStreamer rtmp2sink over RTMPS (scheme rtmps, the OBS-style split)', async () => {
    const sink = ['rtmp2sink', 'scheme=rtmps', 'host=127.0.0.1', `port=${rtmpsPort}`, 'application=live'];
    // The test certificate is self-signed: GStreamer validates by default, so it is told not to.
    gstPublisher([...sink, 'stream=test/gstsecure', 'tls-validation-flags=0'], { seconds: 20, frequency: 660 });
    const p = await waitForPlaylist(server, 'gstsecure', 2);
    expect(p.segments.length).toBeGreaterThanOrEqual(2);
  }, 40_000);

  it('SIGHUP and a file change reread the certificate: a bad one is kept out, the stream goes on', async () => {
    const steady = watchPlaylist(server, 'secure');
    writeFileSync(cert, 'not a certificate\n');
    process.kill(server.pid, 'SIGHUP');
    await sleep(500);
    expect(logged(/^keeping the TLS certificate in use/).filter((l) => l.trigger === 'SIGHUP')).toHaveLength(1);
    // New connections still get the certificate in use.
    ffmpegPublisher(`rtmps://127.0.0.1:${rtmpsPort}/live/test/second`, { seconds: 15 });
    await waitForPlaylist(server, 'second', 1);
    copyFileSync(join(FIXTURES, 'cert.pem'), cert);
    process.kill(server.pid, 'SIGHUP');
    await sleep(500);
    expect(logged(/^TLS certificate reloaded/).filter((l) => l.trigger === 'SIGHUP')).toHaveLength(1);
    // The files are watched too: the restored certificate is taken without a signal as well.
    for (let i = 0; i < 40 && !logged(/^TLS certificate reloaded/).some((l) => l.trigger === 'file change'); i++) {
      await sleep(200);
    }
    expect(logged(/^TLS certificate reloaded/).some((l) => l.trigger === 'file change')).toBe(true);
    expect(await steady.stop(), 'longest standstill of the live playlist').toBeLessThan(3000);
    expect(server.output()).not.toContain('PRIVATE KEY');
  }, 40_000);

  it('serves RTMPS alone with --rtmp-port 0: no plain RTMP listener, publishers over TLS get in', async () => {
    const tlsOnly = await startServer(join(tmp, 'out-tls-only'), [
      ...['--tls-cert', cert, '--tls-key', key, '--rtmps-port', '0', '--rtmp-port', '0'],
    ]);
    const listening = tlsOnly.logs().find((l) => l.msg === 'listening') as Record<string, unknown>;
    expect(listening.rtmpPort).toBeUndefined();
    expect(tlsOnly.rtmpsPort).toBeGreaterThan(0);
    ffmpegPublisher(`rtmps://127.0.0.1:${tlsOnly.rtmpsPort}/live/test/tlsonly`, { seconds: 15 });
    const p = await waitForPlaylist(tlsOnly, 'tlsonly', 1);
    expect(p.segments.length).toBeGreaterThanOrEqual(1);
    await stop(tlsOnly);
    const none = spawnSync(process.execPath, [MAIN, '--rtmp-port', '0', '--http-port', '0'], { encoding: 'utf8' });
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('no publisher could connect');
  }, 40_000);

  it('refuses to start with half a TLS configuration or an unreadable key, in one line, status 2', () => {
    const run = (args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 15_000 });
    const half = run(['--tls-cert', cert, '--rtmp-port', '0', '--http-port', '0']);
    expect(half.status).toBe(2);
    expect(half.stderr).toContain('--tls-cert and --tls-key go together');
    const missing = run([
      '--tls-cert',
      cert,
      '--tls-key',
      join(tmp, 'nope.pem'),
      '--rtmp-port',
      '0',
      '--http-port',
      '0',
    ]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/cannot read the TLS key .*nope\.pem/);
  }, 40_000);
});
