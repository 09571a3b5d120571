import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpApp, type HttpAppOptions } from '../src/http/app';
import { PAGE_CSP, prefersJson } from '../src/http/page-routes';
import { classifyStreamFile } from '../src/http/stream-path';
import { createMetrics, METRIC_NAMES } from '../src/metrics/metrics';
import { observeStreams, STREAM_METRIC_NAMES } from '../src/metrics/stream-metrics';
import type { StreamInfo, StreamRegistry } from '../src/streams/registry';
import { FakeRegistry, playlistFromDisk, playlistOf, streamInfo } from './helpers/streams';

const run = promisify(execFile);

function stream(username: string, dir: string, over: Partial<StreamInfo> = {}): StreamInfo {
  return streamInfo(username, dir, {
    app: 'test',
    since: Date.parse('2024-01-01T00:00:00Z'),
    codecs: {
      video: { codec: 'h264', width: 160, height: 120, profile: 'High', level: '1.2' },
      audio: { codec: 'aac', sampleRate: 44100, channels: 2 },
    },
    bitrate: 1_500_000,
    bytesIn: 12345,
    viewers: 3,
    lastSegmentAt: Date.parse('2024-01-01T00:01:00Z'),
    ...over,
  });
}

const HOSTILE_APP = '<script>alert("x")</script>&\'';

let tmp: string;
let outputDir: string;
let secret: string;
let aliceDir: string;
let registry: FakeRegistry;
let app: FastifyInstance;
const logger = pino({ level: 'silent' });
const NOW = Date.parse('2024-01-01T00:01:05Z');

function build(over: Partial<HttpAppOptions> = {}, reg: StreamRegistry = registry): FastifyInstance {
  const metrics = createMetrics();
  observeStreams(metrics.registry, reg, { now: () => NOW });
  return buildHttpApp({
    outputDir,
    corsOrigin: '*',
    logger,
    registry: reg,
    metrics,
    ffmpegVersion: '5.1-test',
    now: () => NOW,
    ...over,
  });
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'http-test-'));
  outputDir = join(tmp, 'streams');
  aliceDir = join(outputDir, 'alice');
  await mkdir(aliceDir, { recursive: true });
  // A real, small HLS stream: 3 s of 160x120 video in 1 s segments.
  await run(
    'ffmpeg',
    [
      ...['-v', 'error', '-nostdin', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-t', '3'],
      ...['-c:v', 'libx264', '-g', '10', '-pix_fmt', 'yuv420p'],
      ...['-f', 'hls', '-hls_time', '1', '-hls_list_size', '0'],
      ...['-hls_segment_filename', join(aliceDir, 'live_%03d.ts'), join(aliceDir, 'live.m3u8')],
    ],
    { timeout: 30_000 },
  );
  // A sentinel just outside the output root, and links under the root that point at it.
  secret = `SECRET-${randomBytes(12).toString('hex')}`;
  await writeFile(join(tmp, 'secret.txt'), secret);
  await mkdir(join(tmp, 'evil'));
  await writeFile(join(tmp, 'evil', 'live_000.ts'), secret);
  await symlink(join(tmp, 'secret.txt'), join(aliceDir, 'live_999.ts'));
  await symlink(join(tmp, 'evil'), join(outputDir, 'mallory'));
  // The server's playlist of alice lists what FFmpeg wrote (and not the planted live_999.ts).
  registry = new FakeRegistry()
    .add(stream('alice', aliceDir), playlistFromDisk(aliceDir))
    .add(stream('mallory', join(outputDir, 'mallory')), playlistOf(['live_000.ts']))
    .add(stream('hostile', join(outputDir, 'hostile'), { app: HOSTILE_APP, state: 'reconnecting', viewers: 0 }));
  app = build();
  await app.ready();
}, 60_000);

afterAll(async () => {
  await app?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('HLS delivery', () => {
  it('serves the playlist with its type, no-cache and CORS, and notes the viewer', async () => {
    const before = registry.viewers.length;
    const res = await app.inject({
      url: '/stream/alice/live.m3u8',
      headers: { 'user-agent': 'test-agent' },
      remoteAddress: '10.1.2.3',
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.apple.mpegurl');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.body).toBe(registry.hls('alice')?.playlist.body()?.toString());
    expect(res.body).toMatch(/^#EXTM3U/);
    expect(res.body).toContain('#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:00.000Z');
    expect(res.body).toContain('live_000.ts');
    expect(registry.viewers.length).toBe(before + 1);
    const [user, key] = registry.viewers.at(-1)!;
    expect(user).toBe('alice');
    expect(key).toMatch(/^[0-9a-f]{16}$/);
    expect(key).not.toContain('10.1.2.3');
  });

  it('serves a segment byte for byte with video/mp2t and a short max-age', async () => {
    const res = await app.inject({ url: '/stream/alice/live_001.ts' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('video/mp2t');
    expect(res.headers['cache-control']).toBe('public, max-age=10');
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.rawPayload.equals(await readFile(join(aliceDir, 'live_001.ts')))).toBe(true);
  });

  it('answers a Range request on a segment with 206 and exactly those bytes', async () => {
    const whole = await readFile(join(aliceDir, 'live_000.ts'));
    const res = await app.inject({ url: '/stream/alice/live_000.ts', headers: { range: 'bytes=188-375' } });
    expect(res.statusCode).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes 188-375/${whole.length}`);
    expect(res.headers['content-length']).toBe('188');
    expect(res.rawPayload.equals(whole.subarray(188, 376))).toBe(true);
    const tail = await app.inject({ url: '/stream/alice/live_000.ts', headers: { range: 'bytes=-10' } });
    expect(tail.statusCode).toBe(206);
    expect(tail.rawPayload.equals(whole.subarray(whole.length - 10))).toBe(true);
    const beyond = await app.inject({ url: '/stream/alice/live_000.ts', headers: { range: `bytes=${whole.length}-` } });
    expect(beyond.statusCode).toBe(416);
  });

  it('answers HEAD with headers and no body', async () => {
    const res = await app.inject({ method: 'HEAD', url: '/stream/alice/live.m3u8' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.apple.mpegurl');
    expect(res.body).toBe('');
    const seg = await app.inject({ method: 'HEAD', url: '/stream/alice/live_002.ts' });
    expect(seg.statusCode).toBe(200);
    expect(seg.headers['content-type']).toBe('video/mp2t');
    expect(Number(seg.headers['content-length'])).toBe((await readFile(join(aliceDir, 'live_002.ts'))).length);
    expect(seg.body).toBe('');
  });

  it('answers CORS preflight on playlists and segments without touching files', async () => {
    for (const url of ['/stream/alice/live.m3u8', '/stream/alice/live_000.ts']) {
      const res = await app.inject({
        method: 'OPTIONS',
        url,
        headers: { origin: 'https://player.example', 'access-control-request-method': 'GET' },
      });
      expect(res.statusCode).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-allow-methods']).toBe('GET, HEAD, OPTIONS');
      expect(res.headers['access-control-allow-headers']).toBe('Range');
    }
  });

  it('uses the configured CORS origin', async () => {
    const other = build({ corsOrigin: 'https://player.example' });
    const res = await other.inject({ url: '/stream/alice/live.m3u8' });
    expect(res.headers['access-control-allow-origin']).toBe('https://player.example');
    expect(res.headers.vary).toContain('Origin');
    await other.close();
  });

  it.each([
    ['an unknown stream', '/stream/bob/live.m3u8', 'ERR_HTTP_STREAM_NOT_FOUND'],
    ['a missing segment', '/stream/alice/live_500.ts', 'ERR_HTTP_NOT_FOUND'],
    ['a known stream without files', '/stream/hostile/live.m3u8', 'ERR_HTTP_NOT_FOUND'],
    ['another file name', '/stream/alice/index.html', 'ERR_HTTP_NOT_FOUND'],
    ['a segment name with too few digits', '/stream/alice/live_1.ts', 'ERR_HTTP_NOT_FOUND'],
    ['a deeper path', '/stream/alice/x/live.m3u8', 'ERR_HTTP_NOT_FOUND'],
    ['an unknown route', '/nope', 'ERR_HTTP_NOT_FOUND'],
  ])('404s %s as JSON', async (_name, url, code) => {
    const res = await app.inject({ url });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: code, message: expect.any(String) });
  });

  it.each([
    ['a space in the username', '/stream/al%20ice/live.m3u8', 'ERR_HTTP_BAD_USERNAME'],
    ['an encoded slash in the username', '/stream/alice%2f..%2f..%2f/live.m3u8', 'ERR_HTTP_BAD_USERNAME'],
    ['an encoded slash in the file', '/stream/alice/..%2f..%2fsecret.txt', 'ERR_HTTP_BAD_FILE_NAME'],
    ['a double-encoded dot-dot', '/stream/alice/%252e%252e%252fsecret.txt', 'ERR_HTTP_BAD_FILE_NAME'],
    ['a backslash', '/stream/alice/..%5c..%5csecret.txt', 'ERR_HTTP_BAD_FILE_NAME'],
    ['a NUL', '/stream/alice/live.m3u8%00', 'ERR_HTTP_BAD_FILE_NAME'],
    ['a NUL in the username', '/stream/alice%00/live.m3u8', 'ERR_HTTP_BAD_USERNAME'],
    ['a non-ASCII username', '/stream/%C3%A9/live.m3u8', 'ERR_HTTP_BAD_USERNAME'],
    ['overlong UTF-8 dots', '/stream/alice/%c0%ae%c0%ae', 'ERR_HTTP_BAD_URL'],
    ['overlong UTF-8 in the username', '/stream/%c0%ae%c0%ae/live.m3u8', 'ERR_HTTP_BAD_URL'],
    ['a stray percent', '/stream/alice/%zz', 'ERR_HTTP_BAD_URL'],
    // inject() parses URLs with WHATWG rules, which fold `..`, `%2e%2e` and `\` before routing; those raw
    // forms are sent over a socket in test/e2e/traversal.test.ts, and classifyStreamFile is tested below.
  ])('400s %s without reading a file', async (_name, url, code) => {
    const res = await app.inject({ url });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: code, message: expect.any(String) });
    expect(res.body).not.toContain(secret);
  });

  it('refuses symlinks that lead outside the output root', async () => {
    const seg = await app.inject({ url: '/stream/alice/live_999.ts' });
    expect(seg.statusCode).toBe(403);
    expect(seg.json().error).toBe('ERR_HTTP_PATH_ESCAPE');
    expect(seg.body).not.toContain(secret);
    // A stream directory replaced by a link out of the root: its listed segment is refused.
    const dir = await app.inject({ url: '/stream/mallory/live_000.ts' });
    expect(dir.statusCode).toBe(403);
    expect(dir.body).not.toContain(secret);
  });

  it('classifies names before any file access', () => {
    expect(classifyStreamFile('alice', 'live.m3u8')).toEqual({
      kind: 'playlist',
      username: 'alice',
      file: 'live.m3u8',
    });
    expect(classifyStreamFile('a_b-9', 'live_12345.ts')).toEqual({
      kind: 'segment',
      username: 'a_b-9',
      file: 'live_12345.ts',
    });
    expect(() => classifyStreamFile('alice', `live_${'1'.repeat(21)}.ts`)).toThrow(/only live/);
    expect(() => classifyStreamFile('a'.repeat(65), 'live.m3u8')).toThrow(/username/);
    expect(() => classifyStreamFile('alice', 'live.M3U8')).toThrow(/only live/);
    expect(() => classifyStreamFile(undefined, 'live.m3u8')).toThrow(/username/);
    for (const bad of ['..', '.', '', '..\\..', 'a/b', 'a\0', '%2e%2e', 'é']) {
      expect(() => classifyStreamFile(bad, 'live.m3u8')).toThrow(/username/);
      expect(() => classifyStreamFile('alice', bad)).toThrow(/file name/);
    }
  });
});

describe('pages', () => {
  it('lists streams on / as escaped HTML with security headers and a refresh', async () => {
    const res = await app.inject({ url: '/', headers: { accept: 'text/html,*/*;q=0.8' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toBe(PAGE_CSP);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers.vary).toContain('Accept');
    const html = res.body;
    expect(html).toContain('<meta http-equiv="refresh" content="5">');
    expect(html).toContain('<a href="/watch/alice">alice</a>');
    expect(html).toContain('160x120');
    expect(html).toContain('1.50 Mbit/s');
    expect(html).toContain('h264 High 1.2 / aac 44.1 kHz 2ch');
    expect(html).toContain('1m05s');
    expect(html).toContain('reconnecting');
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;');
    expect(html).not.toContain(outputDir);
    expect(html).not.toMatch(/<script[^>]*>[^<]/); // no inline script at all
  });

  it('shows an empty state when nothing is live', async () => {
    const empty = build({}, new FakeRegistry());
    const res = await empty.inject({ url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('No stream is live right now');
    expect((await empty.inject({ url: '/api/streams' })).json()).toEqual({ streams: [] });
    await empty.close();
  });

  it('negotiates JSON on / and always answers JSON on /api/streams', async () => {
    const json = await app.inject({ url: '/', headers: { accept: 'application/json' } });
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    const api = await app.inject({ url: '/api/streams', headers: { accept: 'text/html' } });
    expect(api.headers['content-type']).toMatch(/^application\/json/);
    expect(json.json()).toEqual(api.json());
    const { streams } = api.json() as { streams: Array<Record<string, unknown>> };
    expect(streams.map((s) => s.username)).toEqual(['alice', 'hostile', 'mallory']);
    expect(streams[0]).toEqual({
      username: 'alice',
      app: 'test',
      state: 'live',
      since: '2024-01-01T00:00:00.000Z',
      uptimeSeconds: 65,
      codecs: registry.streams.get('alice')!.info.codecs,
      resolution: '160x120',
      bitrate: 1_500_000,
      bytesIn: 12345,
      viewers: 3,
      ffmpegRestarts: 0,
      droppedFrames: 0,
      playlist: '/stream/alice/live.m3u8',
      watch: '/watch/alice',
    });
    expect(streams[1]?.app).toBe(HOSTILE_APP);
    expect(streams[1]?.viewers).toBe(0);
    expect(JSON.stringify(streams)).not.toContain(outputDir);
  });

  it.each([
    ['application/json', true],
    ['text/html', false],
    ['text/html,application/json', false],
    ['application/json;q=0.9,text/html;q=0.5', true],
    ['*/*', false],
    ['application/json, */*', true],
    [undefined, false],
  ])('prefersJson(%s) is %s', (accept, expected) => {
    expect(prefersJson(accept)).toBe(expected);
  });

  it('serves the player page with the same-origin hls.js script', async () => {
    const res = await app.inject({ url: '/watch/alice' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).toBe(PAGE_CSP);
    expect(res.body).toContain('<script src="/assets/hls.min.js"></script>');
    expect(res.body).toContain('<script src="/assets/player.js"></script>');
    expect(res.body).toContain('data-src="/stream/alice/live.m3u8"');
    expect(res.body).not.toMatch(/https?:\/\//);
  });

  it('answers a bad /watch username with a 400 page', async () => {
    for (const url of ['/watch/%3Cscript%3E', '/watch/%2e%2e%2f', '/watch/a%2fb', '/watch/a%00']) {
      const res = await app.inject({ url });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).not.toContain('<script>');
    }
  });

  it('serves hls.js, the player and the stylesheet from the server itself', async () => {
    const hls = await app.inject({ url: '/assets/hls.min.js' });
    expect(hls.statusCode).toBe(200);
    expect(hls.headers['content-type']).toBe('application/javascript; charset=utf-8');
    const path = createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js');
    expect(hls.rawPayload.equals(await readFile(path))).toBe(true);
    const player = await app.inject({ url: '/assets/player.js' });
    expect(player.headers['content-type']).toBe('application/javascript; charset=utf-8');
    expect(player.body).toContain('liveSyncDurationCount: 2');
    expect(player.body).toContain("canPlayType('application/vnd.apple.mpegurl')");
    const css = await app.inject({ url: '/assets/style.css' });
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    for (const url of ['/assets/nope.js', '/assets/constructor', '/assets/..%2fpackage.json']) {
      expect((await app.inject({ url })).statusCode).toBe(404);
    }
  });

  it('reports health', async () => {
    const res = await app.inject({ url: '/healthz' });
    expect(res.json()).toEqual({ status: 'ok', ffmpeg: '5.1-test', streams: 3 });
  });
});

describe('/metrics', () => {
  it('exposes every documented metric, the default process metrics and request counts', async () => {
    await app.inject({ url: '/stream/alice/live.m3u8' });
    await app.inject({ url: '/stream/alice/live_000.ts' });
    await app.inject({ url: '/stream/bob/live.m3u8' });
    await app.inject({ url: '/' });
    await app.inject({ url: '/nope' });
    const res = await app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = res.body;
    for (const name of [...Object.values(METRIC_NAMES), ...Object.values(STREAM_METRIC_NAMES)]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toMatch(/^http_requests_total\{route="playlist",status="200",protocol="http"\} [1-9]/m);
    expect(text).toMatch(/^http_requests_total\{route="segment",status="200",protocol="http"\} [1-9]/m);
    expect(text).toMatch(/^http_requests_total\{route="playlist",status="404",protocol="http"\} [1-9]/m);
    expect(text).toMatch(/^http_requests_total\{route="page",status="200",protocol="http"\} [1-9]/m);
    expect(text).toMatch(/^http_requests_total\{route="other",status="404",protocol="http"\} [1-9]/m);
    expect(text).toMatch(/^hls_streams_live 2$/m);
    expect(text).toMatch(/^hls_segment_age_seconds\{username="alice"\} 5$/m);
    expect(text).toMatch(/^stream_bytes_in_total\{username="alice"\} 12345$/m);
    expect(text).toMatch(/^stream_viewers\{username="hostile"\} 0$/m);
  });
});
