/**
 * Segments in memory (`SegmentCache`) and the HLS routes answering from it on a real socket: the
 * raw fast path sends the same headers as the Fastify route; a segment is served while its
 * playlist lists it or retains it (RFC 8216 §6.2.2) and 404 after; the byte budget falls back to
 * disk; a segment or a directory that leads out of the root is never read.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LivePlaylist } from '../src/hls/live-playlist';
import { buildHttpApp } from '../src/http/app';
import { SegmentCache } from '../src/http/segment-cache';
import { createMetrics } from '../src/metrics/metrics';
import { FakeRegistry, playlistOf, streamInfo } from './helpers/streams';

const WAIT_MS = 3_000;

let tmp: string;
let root: string;
let dir: string;
const apps: FastifyInstance[] = [];
const caches: SegmentCache[] = [];

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'segment-cache-'));
  root = join(tmp, 'streams');
  dir = join(root, 'alice');
  await mkdir(dir, { recursive: true });
});

afterEach(async () => {
  for (const c of caches.splice(0)) c.close();
  for (const a of apps.splice(0)) await a.close();
  await rm(tmp, { recursive: true, force: true });
});

async function listen(playlist: LivePlaylist, segmentCacheBytes?: number, corsOrigin = '*') {
  const registry = new FakeRegistry().add(streamInfo('alice', dir), playlist);
  const app = buildHttpApp({
    outputDir: root,
    corsOrigin,
    logger: pino({ level: 'silent' }),
    registry,
    metrics: createMetrics(),
    ffmpegVersion: 'test',
    ...(segmentCacheBytes === undefined ? {} : { segmentCacheBytes }),
  });
  apps.push(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  return { app, port: typeof addr === 'object' && addr ? addr.port : 0 };
}

function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, method, timeout: WAIT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout on ${path}`)));
    req.on('error', reject);
    req.end();
  });
}

describe('SegmentCache', () => {
  it('loads what the playlist lists on first interest, then every appended segment, and forgets expired ones', async () => {
    const a = randomBytes(1000);
    const b = randomBytes(2000);
    await writeFile(join(dir, 'live_000.ts'), a);
    await writeFile(join(dir, 'live_001.ts'), b);
    const playlist = playlistOf(['live_000.ts']);
    const cache = new SegmentCache({ root, maxBytes: 1 << 20 });
    caches.push(cache);
    const source = { username: 'alice', playlist };
    expect(cache.get(source, 'live_000.ts')).toBeUndefined(); // the first request starts the load
    await cache.pending(source, 'live_000.ts');
    expect(cache.get(source, 'live_000.ts')?.body.equals(a)).toBe(true);
    playlist.append({ name: 'live_001.ts', duration: 0.05, discontinuity: false, programDateTime: Date.now() });
    await cache.pending(source, 'live_001.ts');
    expect(cache.get(source, 'live_001.ts')?.body.equals(b)).toBe(true);
    expect(cache.bytes).toBe(3000);
    playlist.close(); // the stream is gone
    expect(cache.bytes).toBe(0);
  });

  it('keeps to its byte budget and never reads through a link out of the root', async () => {
    await writeFile(join(dir, 'live_000.ts'), randomBytes(600));
    await writeFile(join(dir, 'live_001.ts'), randomBytes(600));
    await writeFile(join(tmp, 'secret.txt'), 'secret');
    await symlink(join(tmp, 'secret.txt'), join(dir, 'live_002.ts'));
    const cache = new SegmentCache({ root, maxBytes: 1000 });
    caches.push(cache);
    const source = { username: 'alice', playlist: playlistOf(['live_000.ts', 'live_001.ts', 'live_002.ts']) };
    cache.get(source, 'live_000.ts');
    await Promise.all(['live_000.ts', 'live_001.ts', 'live_002.ts'].map((n) => cache.pending(source, n)));
    expect(cache.bytes).toBe(600);
    expect(cache.get(source, 'live_002.ts')).toBeUndefined();
  });
});

describe('HLS routes', () => {
  it('answer from memory with the same headers as the Fastify route', async () => {
    const seg = randomBytes(188 * 40);
    await writeFile(join(dir, 'live_000.ts'), seg);
    // An mtime with a sub-millisecond part ≥ 0.5: Node rounds stat.mtime (what @fastify/send uses
    // for its ETag) where truncating mtimeMs would not, and a conditional request then misses.
    await utimes(join(dir, 'live_000.ts'), 1_700_000_000, 1_700_000_000.0007);
    const playlist = playlistOf(['live_000.ts']);
    const { app, port } = await listen(playlist, undefined, 'https://player.example');
    const disk = await app.inject({ url: '/stream/alice/live_000.ts', headers: { range: 'bytes=0-' } });
    await get(port, '/stream/alice/live_000.ts'); // warms the cache
    await new Promise((r) => setTimeout(r, 200));
    // Gone from disk but still listed: only the in-memory copy can answer.
    await rename(join(dir, 'live_000.ts'), join(dir, 'moved.bin'));
    const fast = await get(port, '/stream/alice/live_000.ts');
    await rename(join(dir, 'moved.bin'), join(dir, 'live_000.ts'));
    expect(fast.status).toBe(200);
    expect(fast.body.equals(seg)).toBe(true);
    const same = ['content-type', 'cache-control', 'accept-ranges', 'access-control-allow-origin'];
    for (const h of [
      ...same,
      'access-control-expose-headers',
      'vary',
      'x-content-type-options',
      'etag',
      'last-modified',
    ]) {
      expect(fast.headers[h], h).toBe(disk.headers[h]);
    }
    expect(fast.headers['content-length']).toBe(String(seg.length));
    const pl = await get(port, '/stream/alice/live.m3u8');
    expect(pl.headers['content-type']).toBe('application/vnd.apple.mpegurl');
    expect(pl.headers['cache-control']).toBe('no-cache');
    expect(pl.headers.etag).toBeUndefined();
    expect(pl.headers['access-control-allow-origin']).toBe('https://player.example');
    expect(pl.body.equals(playlist.body() as Buffer)).toBe(true);
    const head = await get(port, '/stream/alice/live_000.ts', {}, 'HEAD');
    expect([head.status, head.headers['content-length'], head.body.length]).toEqual([200, String(seg.length), 0]);
    // Range still works (through @fastify/send) and conditional requests still get 304.
    const part = await get(port, '/stream/alice/live_000.ts', { range: 'bytes=188-375' });
    expect(part.status).toBe(206);
    expect(part.body.equals(seg.subarray(188, 376))).toBe(true);
    const again = await get(port, '/stream/alice/live_000.ts', { 'if-none-match': String(fast.headers.etag) });
    expect(again.status).toBe(304);
    const metrics = await app.inject({ url: '/metrics' });
    expect(metrics.body).toMatch(/^http_requests_total\{route="segment",status="200",protocol="http"\} [2-9]/m);
    expect(metrics.body).toMatch(/^http_requests_total\{route="playlist",status="200",protocol="http"\} 1$/m);
  });

  it('serve a removed segment until its availability time has passed, then 404 (from memory and from disk)', async () => {
    for (let n = 0; n < 4; n++) await writeFile(join(dir, `live_00${n}.ts`), randomBytes(188));
    const playlist = playlistOf([]);
    const disk = await listen(playlist, 0); // no cache: the disk path decides
    const memory = await listen(playlist);
    const append = (n: number) =>
      playlist.append({ name: `live_00${n}.ts`, duration: 1, discontinuity: false, programDateTime: Date.now() });
    append(0);
    for (const { port } of [disk, memory]) expect((await get(port, '/stream/alice/live_000.ts')).status).toBe(200);
    for (let n = 1; n < 4; n++) append(n);
    const removedAt = Date.now();
    // live_000 left the playlist; it was in playlists of at most 3 s, and lasts 1 s: 4 s more.
    expect(playlist.segments.map((x) => x.name)).toEqual(['live_001.ts', 'live_002.ts', 'live_003.ts']);
    const statuses = async () =>
      Promise.all([disk, memory].map(async ({ port }) => (await get(port, '/stream/alice/live_000.ts')).status));
    expect(await statuses()).toEqual([200, 200]);
    await new Promise((r) => setTimeout(r, 3700 - (Date.now() - removedAt)));
    expect(await statuses()).toEqual([200, 200]);
    await new Promise((r) => setTimeout(r, 4100 - (Date.now() - removedAt)));
    expect(await statuses()).toEqual([404, 404]);
    expect(await readFile(join(dir, 'live_000.ts'))).toBeDefined(); // on disk still: the HTTP side decided
  }, 10_000);

  it('fall back to disk past the byte budget, and refuse a listed segment that links out of the root', async () => {
    const seg = randomBytes(188 * 100);
    await writeFile(join(dir, 'live_000.ts'), seg);
    const token = `TOKEN-${randomBytes(8).toString('hex')}`;
    await writeFile(join(tmp, 'secret.txt'), token);
    await symlink(join(tmp, 'secret.txt'), join(dir, 'live_005.ts'));
    const { port } = await listen(playlistOf(['live_000.ts', 'live_005.ts']), 1000);
    for (let i = 0; i < 10; i++) {
      const res = await get(port, '/stream/alice/live_000.ts');
      expect(res.status).toBe(200);
      expect(res.body.equals(seg)).toBe(true);
      const link = await get(port, '/stream/alice/live_005.ts');
      expect(link.status).toBe(403);
      expect(link.body.toString()).not.toContain(token);
    }
    expect(await readFile(join(tmp, 'secret.txt'), 'utf8')).toBe(token);
    expect((await get(port, '/stream/bob/live.m3u8')).status).toBe(404);
  });
});
