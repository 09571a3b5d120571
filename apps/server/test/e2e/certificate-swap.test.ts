/**
 * A certificate swap under load drops no stream: ten publishers stream over RTMPS (and two over
 * plain RTMP) while the certificate is replaced six times, by SIGHUP and by rewriting its files
 * (alternating between two real key pairs). After every swap a new TLS connection is served the
 * new certificate and a new RTMPS publisher gets in; every live playlist keeps advancing and no
 * publisher is cut off. The publishers copy one pre-encoded clip, so the load is the server's.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, type Proc, type Server, sleep, start, startServer, waitForPlaylist } from './helpers/ingest';
import { watchPlaylist } from './helpers/rtmp-attack';

const FIXTURES = join(import.meta.dirname, '../../../../packages/rtmp/test/fixtures/tls');
const TLS_PUBLISHERS = 10;
const PLAIN_PUBLISHERS = 2;
const SWAPS = 6;
let tmp: string;
let server: Server;
let rtmpsPort: number;
let clip: string;
/** The two key pairs the test swaps between: [cert file, key file]. */
let pairs: [string, string][];

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'e2e-cert-swap-'));
  const second: [string, string] = [join(tmp, 'second-cert.pem'), join(tmp, 'second-key.pem')];
  run('openssl', [
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
    ...['-keyout', second[1], '-out', second[0], '-days', '2', '-subj', '/CN=localhost'],
    ...['-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
  ]);
  pairs = [[join(FIXTURES, 'cert.pem'), join(FIXTURES, 'key.pem')], second];
  clip = join(tmp, 'clip.flv');
  run('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', '10'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-pix_fmt', 'yuv420p', '-c:a', 'aac', clip],
  ]);
  copyFileSync(pairs[0]![0], join(tmp, 'cert.pem'));
  copyFileSync(pairs[0]![1], join(tmp, 'key.pem'));
  const tls = ['--tls-cert', join(tmp, 'cert.pem'), '--tls-key', join(tmp, 'key.pem'), '--rtmps-port', '0'];
  server = await startServer(join(tmp, 'out'), tls);
  rtmpsPort = server.logs().find((l) => l.msg === 'listening')?.rtmpsPort as number;
}, 60_000);

afterAll(async () => {
  await killAll();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** An ffmpeg looping the clip (codecs copied) to `url` for `seconds`. */
const clipPublisher = (url: string, seconds: number): Proc =>
  start('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', clip],
    ...['-t', String(seconds), '-c', 'copy', '-f', 'flv', url],
  ]);

/** The fingerprint of the certificate a new TLS connection to the RTMPS port is served. */
function servedFingerprint(): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: rtmpsPort, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerX509Certificate()?.fingerprint256 ?? '');
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

const fingerprintOf = (certFile: string) => new X509Certificate(readFileSync(certFile)).fingerprint256;

describe('a certificate swap under load', () => {
  it('drops no stream and serves the new certificate to new connections', async () => {
    const names = [
      ...Array.from({ length: TLS_PUBLISHERS }, (_, i) => ({ name: `tls${i}`, port: rtmpsPort, scheme: 'rtmps' })),
      ...Array.from({ length: PLAIN_PUBLISHERS }, (_, i) => ({
        name: `plain${i}`,
        port: server.rtmpPort,
        scheme: 'rtmp',
      })),
    ];
    const publishers = names.map(({ name, port, scheme }) =>
      clipPublisher(`${scheme}://127.0.0.1:${port}/live/test/${name}`, 60),
    );
    for (const { name } of names) await waitForPlaylist(server, name, 1, 30_000);
    const watches = names.map(({ name }) => watchPlaylist(server, name));
    expect(await servedFingerprint()).toBe(fingerprintOf(pairs[0]![0]));

    const reloads = () => server.logs().filter((l) => String(l.msg).startsWith('TLS certificate reloaded')).length;
    for (let swap = 1; swap <= SWAPS; swap++) {
      const [certFile, keyFile] = pairs[swap % 2]!;
      const before = reloads();
      copyFileSync(keyFile, join(tmp, 'key.pem'));
      copyFileSync(certFile, join(tmp, 'cert.pem'));
      if (swap % 2 === 1) process.kill(server.pid, 'SIGHUP'); // else the file watch (2 s) takes it
      for (let i = 0; i < 50 && reloads() === before; i++) await sleep(100);
      expect(reloads(), `swap ${swap} reloaded`).toBeGreaterThan(before);
      expect(await servedFingerprint(), `swap ${swap} served`).toBe(fingerprintOf(certFile));
      const late = `late${swap}`;
      clipPublisher(`rtmps://127.0.0.1:${rtmpsPort}/live/test/${late}`, 15);
      await waitForPlaylist(server, late, 1, 20_000);
      await sleep(1000);
    }
    const gaps = await Promise.all(watches.map((w) => w.stop()));
    console.log(`certificate swap: ${SWAPS} swaps, longest playlist gaps (ms) ${gaps.join(' ')}`);

    expect(publishers.map((p) => p.proc.exitCode)).toEqual(publishers.map(() => null));
    for (const [i, gap] of gaps.entries()) expect(gap, `${names[i]!.name}'s longest gap`).toBeLessThan(3000);
    const warnings = server.logs().filter((l) => (l.level as number) >= 40);
    expect(warnings.map((l) => l.msg)).toEqual([]);
    const api = (await (await fetch(server.url('/api/streams'))).json()) as { streams: { username: string }[] };
    const live = api.streams.map((s) => s.username);
    for (const { name } of names) expect(live).toContain(name);
  }, 150_000);
});
