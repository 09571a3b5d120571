/**
 * HTTPS against the built server: a real ffmpeg publishes RTMP; hls.js in headless Chromium plays
 * the stream over HTTPS with HTTP/2 (the protocol read off Resource Timing for the playlist and
 * every segment), trusting the self-signed test certificates by their public keys alone
 * (`--ignore-certificate-errors-spki-list`: a browser without it refuses the page); curl gets the
 * same routes over HTTP/1.1 and HTTP/2 with the certificate as its CA, HSTS only over HTTPS; and a
 * certificate swap (SIGHUP, a renewed certificate) while the player plays: the player goes on, new
 * connections get the renewed one, RTMPS's too.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { copyFileSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM, type PageGlobals } from './helpers/chromium';
import { ffmpegPublisher, killAll, MAIN, type Server, sleep, startServer, waitForPlaylist } from './helpers/ingest';

const run = promisify(execFile);
const RTMPS_FIXTURES = join(import.meta.dirname, '../../../../packages/rtmp/test/fixtures/tls');
const RENEWED_FIXTURES = join(import.meta.dirname, '../fixtures/tls');
const USERNAME = 'secureviewer';
const HSTS_MAX_AGE = 600;

let tmp: string;
let cert: string;
let key: string;
let server: Server;
let httpsPort: number;
let rtmpsPort: number;
let browser: Browser | undefined;
let page: Page | undefined;

/** What Chromium's `--ignore-certificate-errors-spki-list` names: base64 SHA-256 of the SubjectPublicKeyInfo. */
function spkiHash(pemFile: string): string {
  const spki = new X509Certificate(readFileSync(pemFile)).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

const fingerprint = (pemFile: string) => new X509Certificate(readFileSync(pemFile)).fingerprint256;

/** The SHA-256 fingerprint of the certificate a new TLS connection to `port` is shown. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerX509Certificate()?.fingerprint256 ?? '');
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

/** curl with the test certificate as its only CA: status line version, headers, body. */
async function curl(args: string[], url: string): Promise<{ version: string; headers: string; body: string }> {
  const { stdout } = await run('curl', ['-sS', '--cacert', cert, '-D', '-', '-w', '\n%{http_version}', ...args, url], {
    timeout: 15_000,
  });
  const cut = stdout.indexOf('\r\n\r\n');
  const rest = stdout.slice(cut + 4);
  const nl = rest.lastIndexOf('\n');
  return { headers: stdout.slice(0, cut).toLowerCase(), body: rest.slice(0, nl), version: rest.slice(nl + 1) };
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'e2e-https-'));
  cert = join(tmp, 'cert.pem');
  key = join(tmp, 'key.pem');
  copyFileSync(join(RTMPS_FIXTURES, 'cert.pem'), cert);
  copyFileSync(join(RTMPS_FIXTURES, 'key.pem'), key);
  server = await startServer(join(tmp, 'out'), [
    ...['--tls-cert', cert, '--tls-key', key, '--rtmps-port', '0', '--https-port', '0'],
    ...['--hsts-max-age', String(HSTS_MAX_AGE)],
  ]);
  const listening = server.logs().find((l) => l.msg === 'listening') ?? {};
  httpsPort = listening.httpsPort as number;
  rtmpsPort = listening.rtmpsPort as number;
  ffmpegPublisher(`rtmp://127.0.0.1:${server.rtmpPort}/live/test/${USERNAME}`, { seconds: 90 });
  await waitForPlaylist(server, USERNAME, 2, 30_000);
}, 45_000);

afterAll(async () => {
  await browser?.close();
  await killAll();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const secure = (path: string) => `https://127.0.0.1:${httpsPort}${path}`;
const logged = (msg: RegExp) => server.logs().filter((l) => msg.test(String(l.msg)));

/** The player's media time, for "still playing" checks. */
const mediaTime = (p: Page) =>
  p.evaluate(() => (globalThis as unknown as PageGlobals).document.getElementById('video')?.currentTime ?? 0);

/** Waits until `p`'s player has played `seconds` more than it had. */
async function playsOn(p: Page, seconds: number, timeout = 20_000): Promise<void> {
  const t0 = await mediaTime(p);
  await p.waitForFunction(
    (t) => ((globalThis as unknown as PageGlobals).document.getElementById('video')?.currentTime ?? 0) > t,
    t0 + seconds,
    { timeout, polling: 200 },
  );
}

/** When the certificate in `pemFile` became valid, in seconds, as Playwright's securityDetails() says it. */
const validFrom = (pemFile: string) => Date.parse(new X509Certificate(readFileSync(pemFile)).validFrom) / 1000;

/**
 * Opens the player in a new context (its own connections), checks the page came with the
 * certificate in `expectedPem`, and waits until it plays.
 */
async function openPlayer(b: Browser, expectedPem: string): Promise<Page> {
  const context = await b.newContext({ viewport: { width: 800, height: 600 } });
  const p = await context.newPage();
  const response = await p.goto(secure(`/watch/${USERNAME}`));
  expect((await response?.securityDetails())?.validFrom).toBe(validFrom(expectedPem));
  await p.waitForFunction(() => (globalThis as unknown as PageGlobals).document.body.dataset.state === 'playing', {
    timeout: 30_000,
  });
  await playsOn(p, 1);
  return p;
}

/** Resource Timing of the stream's playlist and segments as the page fetched them. */
async function streamFetches(p: Page): Promise<{ playlists: string[]; segments: string[] }> {
  const entries = await p.evaluate(() =>
    (globalThis as unknown as PageGlobals).performance
      .getEntriesByType('resource')
      .map((e) => ({ name: e.name, protocol: e.nextHopProtocol })),
  );
  const of = (re: RegExp) => entries.filter((e) => re.test(new URL(e.name).pathname)).map((e) => e.protocol);
  return {
    playlists: of(new RegExp(`^/stream/${USERNAME}/live\\.m3u8$`)),
    segments: of(new RegExp(`^/stream/${USERNAME}/live_\\d+\\.ts$`)),
  };
}

describe('HTTPS', () => {
  it('listens on its own port, logged with the others', () => {
    expect(httpsPort).toBeGreaterThan(0);
    expect(new Set([httpsPort, rtmpsPort, server.httpPort, server.rtmpPort]).size).toBe(4);
  });

  it('serves every route to curl over HTTP/1.1 and HTTP/2, with HSTS only over HTTPS', async () => {
    for (const [flag, version] of [
      ['--http1.1', '1.1'],
      ['--http2', '2'],
    ] as const) {
      const playlist = await curl([flag], secure(`/stream/${USERNAME}/live.m3u8`));
      expect(playlist.version, flag).toBe(version);
      expect(playlist.headers).toMatch(/^http\/[\d.]+ 200/);
      expect(playlist.headers).toContain(`strict-transport-security: max-age=${HSTS_MAX_AGE}`);
      const segment = playlist.body.match(/^live_\d+\.ts$/m)?.[0];
      const range = await curl([flag, '-r', '0-187', '-o', '/dev/null'], secure(`/stream/${USERNAME}/${segment}`));
      expect(range.headers).toMatch(/^http\/[\d.]+ 206/);
      for (const path of ['/', '/healthz', '/api/streams', '/metrics', `/watch/${USERNAME}`]) {
        expect((await curl([flag, '-o', '/dev/null'], secure(path))).headers, `${flag} ${path}`).toMatch(
          /^http\/[\d.]+ 200/,
        );
      }
    }
    const plain = await fetch(server.url(`/stream/${USERNAME}/live.m3u8`));
    expect(plain.status).toBe(200);
    expect(plain.headers.get('strict-transport-security')).toBeNull();
    await plain.body?.cancel();
  }, 30_000);

  it.skipIf(!HAVE_CHROMIUM)(
    'refuses the page in a browser that does not trust the test certificate',
    async () => {
      const untrusting = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
      try {
        const p = await untrusting.newPage();
        await expect(p.goto(secure(`/watch/${USERNAME}`))).rejects.toThrow(/ERR_CERT_AUTHORITY_INVALID/);
      } finally {
        await untrusting.close();
      }
    },
    30_000,
  );

  it.skipIf(!HAVE_CHROMIUM)(
    'plays in Chromium with hls.js, playlist and segments over HTTP/2',
    async () => {
      const trusted = [spkiHash(cert), spkiHash(join(RENEWED_FIXTURES, 'renewed-cert.pem'))].join(',');
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${trusted}`],
      });
      page = await openPlayer(browser, cert);
      await playsOn(page, 2);
      const fetched = await streamFetches(page);
      expect(fetched.playlists.length).toBeGreaterThanOrEqual(1);
      expect(fetched.segments.length).toBeGreaterThanOrEqual(2);
      expect(new Set([...fetched.playlists, ...fetched.segments])).toEqual(new Set(['h2']));
      const metrics = await (await fetch(server.url('/metrics'))).text();
      expect(metrics).toMatch(/^http_requests_total\{route="segment",status="200",protocol="h2"\} [1-9]/m);
      expect(metrics).toMatch(/^http_requests_total\{route="playlist",status="200",protocol="h2"\} [1-9]/m);
    },
    60_000,
  );

  it.skipIf(!HAVE_CHROMIUM)(
    'swaps the certificate on SIGHUP while the player plays on',
    async () => {
      const player = page as Page;
      const renewedCert = join(RENEWED_FIXTURES, 'renewed-cert.pem');
      expect(await servedFingerprint(httpsPort)).toBe(fingerprint(cert));
      copyFileSync(join(RENEWED_FIXTURES, 'renewed-key.pem'), key);
      copyFileSync(renewedCert, cert);
      process.kill(server.pid, 'SIGHUP');
      for (let i = 0; i < 25 && !logged(/^TLS certificate reloaded/).some((l) => l.trigger === 'SIGHUP'); i++) {
        await sleep(200);
      }
      expect(logged(/^TLS certificate reloaded/).some((l) => l.trigger === 'SIGHUP')).toBe(true);
      expect(await servedFingerprint(httpsPort)).toBe(fingerprint(renewedCert));
      expect(await servedFingerprint(rtmpsPort)).toBe(fingerprint(renewedCert));
      // The player's session keeps the certificate it began with, and the stream.
      await playsOn(player, 4);
      const fetched = await streamFetches(player);
      expect(new Set([...fetched.playlists, ...fetched.segments])).toEqual(new Set(['h2']));
      // A new player connects with the renewed certificate and plays too.
      const second = await openPlayer(browser as Browser, renewedCert);
      expect((await streamFetches(second)).segments.length).toBeGreaterThanOrEqual(1);
      await playsOn(player, 1);
    },
    60_000,
  );

  it('refuses --https-port without a certificate, in one line, status 2', () => {
    const r = spawnSync(process.execPath, [MAIN, '--https-port', '9443', '--http-port', '0'], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('error: --https-port needs a certificate: give --tls-cert and --tls-key');
  });
});
