/**
 * The in-memory HLS cache (`HlsCache`) and the routes answering from it: new segments and replaced
 * playlists are picked up, removed segments 404, the byte budget falls back to disk, a reader racing
 * FFmpeg-style renames never sees a partial file, and the raw fast path sends the same headers as
 * the Fastify routes.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/config';
import { type CachedFile, HlsCache, listedSegments } from '../src/http/hls-cache';
import { buildHttpApp, MAX_PLAYLIST_BYTES } from '../src/http/index';
import { createMetrics } from '../src/metrics';
import type { StreamRegistry } from '../src/stream-registry';
import { fixedRegistry, streamInfo } from './helpers/streams';

const WAIT_MS = 3_000;

let tmp: string;
let root: string;
let dir: string;
const caches: HlsCache[] = [];
const apps: FastifyInstance[] = [];

/** Writes like FFmpeg with `temp_file`: the whole file to `name.tmp`, then a rename into place. */
async function put(name: string, data: Buffer | string): Promise<void> {
  await writeFile(join(dir, `${name}.tmp`), data);
  await rename(join(dir, `${name}.tmp`), join(dir, name));
}

function playlist(segments: string[], tag = ''): string {
  return `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n${tag}${segments.map((s) => `#EXTINF:2.0,\n${s}\n`).join('')}`;
}

function newCache(over: Partial<ConstructorParameters<typeof HlsCache>[0]> = {}): HlsCache {
  const c = new HlsCache({ root, maxBytes: 1 << 20, maxPlaylistBytes: MAX_PLAYLIST_BYTES, ...over });
  caches.push(c);
  return c;
}

/** Polls `get` (bounded) until `ok` holds; every poll is also a request the cache sees. */
async function until(get: () => CachedFile | undefined, ok: (f: CachedFile | undefined) => boolean): Promise<void> {
  const end = Date.now() + WAIT_MS;
  while (!ok(get())) {
    if (Date.now() > end) throw new Error('cache did not reach the expected state in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function registryOf(...names: string[]): StreamRegistry {
  return fixedRegistry(names.map((n) => streamInfo(n, join(root, n))));
}

async function listen(hlsCacheBytes?: number, corsOrigin = '*'): Promise<{ app: FastifyInstance; port: number }> {
  const registry = registryOf('alice');
  const app = buildHttpApp({
    config: { ...DEFAULT_CONFIG, outputDir: root, corsOrigin },
    logger: pino({ level: 'silent' }),
    registry,
    metrics: createMetrics({ streams: registry }),
    ffmpegVersion: 'test',
    ...(hlsCacheBytes === undefined ? {} : { hlsCacheBytes }),
  });
  apps.push(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  return { app, port: typeof addr === 'object' && addr ? addr.port : 0 };
}

function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, timeout: WAIT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout on ${path}`)));
    req.on('error', reject);
    req.end();
  });
}

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'http-cache-'));
  root = join(tmp, 'streams');
  dir = join(root, 'alice');
  await mkdir(dir, { recursive: true });
});

afterEach(async () => {
  for (const c of caches.splice(0)) c.close();
  for (const a of apps.splice(0)) await a.close();
  await rm(tmp, { recursive: true, force: true });
});

afterAll(async () => {
  for (const c of caches.splice(0)) c.close();
});

describe('HlsCache', () => {
  it('lists the segment URIs of a playlist', () => {
    const body = Buffer.from(`${playlist(['live_007.ts', 'live_008.ts'])}#EXT-X-ENDLIST\nother.ts\r\n`);
    expect(listedSegments(body)).toEqual(['live_007.ts', 'live_008.ts']);
  });

  it('serves a new segment and a replaced playlist from memory with the right bytes', async () => {
    const seg0 = randomBytes(188 * 50);
    await put('live_000.ts', seg0);
    await put('live.m3u8', playlist(['live_000.ts']));
    const c = newCache();
    await until(
      () => c.get('alice', 'live.m3u8', true),
      (f) => f !== undefined,
    );
    expect(c.get('alice', 'live.m3u8', true)?.body.toString()).toBe(playlist(['live_000.ts']));
    await until(
      () => c.get('alice', 'live_000.ts', false),
      (f) => f?.body.equals(seg0) === true,
    );
    // FFmpeg closes segment 1 and renames the new playlist over the old one: the watcher picks it up.
    const seg1 = randomBytes(188 * 70);
    await put('live_001.ts', seg1);
    await put('live.m3u8', playlist(['live_000.ts', 'live_001.ts']));
    await until(
      () => c.get('alice', 'live.m3u8', true),
      (f) => f?.body.toString() === playlist(['live_000.ts', 'live_001.ts']),
    );
    // The playlist is published first; the segment it lists for the first time is read right after.
    await c.settle('alice');
    expect(c.get('alice', 'live_001.ts', false)?.body.equals(seg1)).toBe(true);
    expect(c.get('alice', 'live_000.ts', false)?.body.equals(seg0)).toBe(true);
    expect(c.bytes).toBe(seg0.length + seg1.length + playlist(['live_000.ts', 'live_001.ts']).length);
  });

  it('forgets a segment once the playlist no longer lists it', async () => {
    await put('live_000.ts', randomBytes(188));
    await put('live_001.ts', randomBytes(188));
    await put('live.m3u8', playlist(['live_000.ts', 'live_001.ts']));
    const c = newCache();
    await until(
      () => c.get('alice', 'live_000.ts', false),
      (f) => f !== undefined,
    );
    await put('live.m3u8', playlist(['live_001.ts']));
    await unlink(join(dir, 'live_000.ts'));
    await until(
      () => c.get('alice', 'live_000.ts', false),
      (f) => f === undefined,
    );
    expect(c.get('alice', 'live_001.ts', false)).toBeDefined();
  });

  it('keeps to its byte budget: what does not fit is not held', async () => {
    const big = randomBytes(4000);
    await put('live_000.ts', big);
    await put('live_001.ts', randomBytes(100));
    await put('live.m3u8', playlist(['live_000.ts', 'live_001.ts']));
    const pl = playlist(['live_000.ts', 'live_001.ts']).length;
    const c = newCache({ maxBytes: pl + 1000 });
    await until(
      () => c.get('alice', 'live_001.ts', false),
      (f) => f !== undefined,
    );
    expect(c.get('alice', 'live_000.ts', false)).toBeUndefined();
    expect(c.bytes).toBeLessThanOrEqual(pl + 1000);
  });

  it('starts afresh for a new publish of the same name', async () => {
    const old = randomBytes(188);
    await put('live_000.ts', old);
    await put('live.m3u8', playlist(['live_000.ts']));
    const c = newCache();
    await until(
      () => c.get('alice', 'live_000.ts', false, 1),
      (f) => f?.body.equals(old) === true,
    );
    // The new publish's FFmpeg reuses the name; the old bytes must not be handed out meanwhile.
    const fresh = randomBytes(376);
    await put('live_000.ts', fresh);
    expect(c.get('alice', 'live_000.ts', false, 2)).toBeUndefined();
    await until(
      () => c.get('alice', 'live_000.ts', false, 2),
      (f) => f?.body.equals(fresh) === true,
    );
  });

  it('reads a held segment again only at the periodic check (a listed segment never changes)', async () => {
    const a = randomBytes(188 * 3);
    await put('live_000.ts', a);
    await put('live.m3u8', playlist(['live_000.ts']));
    const trusting = newCache({ verifyIntervalMs: 60_000 });
    const checking = newCache({ verifyIntervalMs: 0 });
    for (const c of [trusting, checking]) {
      await until(
        () => c.get('alice', 'live_000.ts', false),
        (f) => f?.body.equals(a) === true,
      );
    }
    // Not something FFmpeg does: new bytes under a listed name, then a new playlist.
    const b = randomBytes(188 * 4);
    await put('live_000.ts', b);
    await put('live_001.ts', randomBytes(188));
    await put('live.m3u8', playlist(['live_000.ts', 'live_001.ts']));
    for (const c of [trusting, checking]) {
      await until(
        () => c.get('alice', 'live_001.ts', false),
        (f) => f !== undefined,
      );
    }
    // The watcher's refresh read the new playlist and the new segment only.
    expect(trusting.get('alice', 'live_000.ts', false)?.body.equals(a)).toBe(true);
    await until(
      () => checking.get('alice', 'live_000.ts', false),
      (f) => f?.body.equals(b) === true,
    );
  });

  it('stops serving from memory once the stream directory leads out of the root', async () => {
    const outside = join(tmp, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'live.m3u8'), playlist([], '#OUTSIDE\n'));
    await put('live.m3u8', playlist([], '#INSIDE\n'));
    const c = newCache({ verifyIntervalMs: 0, checkIntervalMs: 1 });
    await until(
      () => c.get('alice', 'live.m3u8', true),
      (f) => f?.body.toString() === playlist([], '#INSIDE\n'),
    );
    // Swapped in two renames, so no refresh in between sees the directory missing.
    await symlink(outside, join(root, 'link.tmp'));
    await rename(dir, join(root, 'old'));
    await rename(join(root, 'link.tmp'), dir);
    const seen: string[] = [];
    await until(
      () => {
        const f = c.get('alice', 'live.m3u8', true);
        if (f) seen.push(f.body.toString());
        return f;
      },
      (f) => f === undefined,
    );
    expect(seen.filter((t) => t.includes('#OUTSIDE'))).toEqual([]);
  });

  it('reads a playlist longer than its first read whole, and refuses one over the limit', async () => {
    // 40 entries with long names: over the 4 KiB first read, so the second read path serves it.
    const long = playlist(
      Array.from({ length: 40 }, (_, i) => `live_${String(i).padStart(3, '0')}.ts`),
      `#${'x'.repeat(4000)}\n`,
    );
    expect(long.length).toBeGreaterThan(4096);
    await put('live.m3u8', long);
    const c = newCache();
    await until(
      () => c.get('alice', 'live.m3u8', true),
      (f) => f?.body.toString() === long,
    );
    // At the limit + 1 the cache holds nothing (the disk path answers it, with its own rule).
    const small = newCache({ maxPlaylistBytes: long.length - 1 });
    expect(small.get('alice', 'live.m3u8', true)).toBeUndefined();
    await small.settle('alice');
    expect(small.get('alice', 'live.m3u8', true)).toBeUndefined();
  });

  it('does not block on a FIFO in place of the playlist, and serves the file that replaces it', async () => {
    // Opening a FIFO for reading waits for a writer unless O_NONBLOCK: one would hang the refresh.
    const made = spawnSync('mkfifo', [join(dir, 'live.m3u8')]);
    expect(made.status).toBe(0);
    const c = newCache();
    expect(c.get('alice', 'live.m3u8', true)).toBeUndefined();
    await Promise.race([
      c.settle('alice'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('refresh blocked on the FIFO')), WAIT_MS)),
    ]);
    expect(c.get('alice', 'live.m3u8', true)).toBeUndefined();
    await put('live.m3u8', playlist(['live_000.ts']));
    await until(
      () => c.get('alice', 'live.m3u8', true),
      (f) => f?.body.toString() === playlist(['live_000.ts']),
    );
  });

  it('revalidates on requests when no watcher is available', async () => {
    await put('live.m3u8', playlist([], '#A\n'));
    const c = newCache({ watchDir: () => undefined, checkIntervalMs: 20 });
    await until(
      () => c.get('alice', 'live.m3u8', true),
      (f) => f?.body.toString() === playlist([], '#A\n'),
    );
    await put('live.m3u8', playlist([], '#B\n'));
    await until(
      () => c.get('alice', 'live.m3u8', true),
      (f) => f?.body.toString() === playlist([], '#B\n'),
    );
  });

  it('never hands out a partial playlist or segment while files are renamed into place', async () => {
    // Every version is self-checking: a playlist names its own length; a segment is one repeated byte.
    const version = (i: number) => {
      const pad = '#'.repeat((i * 7919) % 3000);
      const core = `${playlist([`live_${String(i).padStart(3, '0')}.ts`])}${pad}\n`;
      return `${core}#LEN:${String(core.length).padStart(8, '0')}\n`;
    };
    const checkPlaylist = (b: Buffer) => {
      const text = b.toString();
      const m = /#LEN:(\d{8})\n$/.exec(text);
      expect(m, 'playlist cut or mixed').not.toBeNull();
      expect(text.length - 14).toBe(Number(m?.[1]));
    };
    const segOf = (i: number) => Buffer.alloc(188 * (20 + (i % 50)), i % 256);
    await put('live_000.ts', segOf(0));
    await put('live.m3u8', version(0));
    const c = newCache({ checkIntervalMs: 1 });
    let stop = false;
    let seen = 0;
    const reader = (async () => {
      for (let n = 0; n < 200_000 && !stop; n++) {
        const pl = c.get('alice', 'live.m3u8', true);
        if (pl) {
          checkPlaylist(pl.body);
          const name = listedSegments(pl.body)[0] ?? '';
          const seg = c.get('alice', name, false);
          if (seg) {
            const i = Number(name.slice(5, -3));
            expect(seg.body.equals(segOf(i))).toBe(true);
            seen++;
          }
        }
        if (n % 50 === 0) await new Promise((r) => setImmediate(r));
      }
    })();
    for (let i = 1; i <= 60; i++) {
      await put(`live_${String(i).padStart(3, '0')}.ts`, segOf(i));
      await put('live.m3u8', version(i));
      await new Promise((r) => setTimeout(r, 3));
    }
    await new Promise((r) => setTimeout(r, 50));
    stop = true;
    await reader;
    expect(seen).toBeGreaterThan(0);
  });
});

describe('HLS routes with the cache', () => {
  it('answers from memory with the same headers as the Fastify route', async () => {
    const seg = randomBytes(188 * 40);
    await put('live_000.ts', seg);
    // An mtime with a sub-millisecond part ≥ 0.5: Node rounds stat.mtime (what @fastify/send uses
    // for its ETag) where truncating mtimeMs would not, and a conditional request then misses.
    await utimes(join(dir, 'live_000.ts'), 1_700_000_000, 1_700_000_000.0007);
    await put('live.m3u8', playlist(['live_000.ts']));
    const { app, port } = await listen(undefined, 'https://player.example');
    // First requests warm the cache (served from disk meanwhile); loading takes milliseconds.
    const disk = await app.inject({ url: '/stream/alice/live_000.ts' });
    await get(port, '/stream/alice/live.m3u8');
    await get(port, '/stream/alice/live_000.ts');
    await new Promise((r) => setTimeout(r, 300));
    // Gone from disk but still listed: only the in-memory copy can answer (a segment listed is on disk
    // in real life; the unlink here just proves where the bytes come from).
    await rename(join(dir, 'live_000.ts'), join(dir, 'moved.bin'));
    const fast = await get(port, '/stream/alice/live_000.ts');
    await rename(join(dir, 'moved.bin'), join(dir, 'live_000.ts'));
    expect(fast.status).toBe(200);
    expect(fast.body.equals(seg)).toBe(true);
    for (const h of [
      'content-type',
      'cache-control',
      'accept-ranges',
      'access-control-allow-origin',
      'access-control-expose-headers',
      'vary',
      'x-content-type-options',
      'content-length',
      'etag',
      'last-modified',
    ]) {
      expect(fast.headers[h], h).toBe(disk.headers[h]);
    }
    const pl = await get(port, '/stream/alice/live.m3u8');
    expect(pl.headers['content-type']).toBe('application/vnd.apple.mpegurl');
    expect(pl.headers['cache-control']).toBe('no-cache');
    expect(pl.headers.etag).toBeUndefined();
    expect(pl.body.toString()).toBe(playlist(['live_000.ts']));
    // HEAD: the length, no body.
    const head = await new Promise<{ status: number; len: string | undefined; bytes: number }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/stream/alice/live_000.ts', method: 'HEAD' }, (res) => {
        let bytes = 0;
        res.on('data', (d: Buffer) => {
          bytes += d.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, len: res.headers['content-length'], bytes }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(head).toEqual({ status: 200, len: String(seg.length), bytes: 0 });
    // Range still works (through @fastify/send) and conditional requests still get 304.
    const part = await get(port, '/stream/alice/live_000.ts', { range: 'bytes=188-375' });
    expect(part.status).toBe(206);
    expect(part.body.equals(seg.subarray(188, 376))).toBe(true);
    const again = await get(port, '/stream/alice/live_000.ts', { 'if-none-match': String(fast.headers.etag) });
    expect(again.status).toBe(304);
    // Counted like any other request.
    const metrics = await app.inject({ url: '/metrics' });
    expect(metrics.body).toMatch(/^http_requests_total\{route="segment",status="200"\} [1-9]/m);
  });

  it('404s a segment once it is gone, and an unknown stream', async () => {
    await put('live_000.ts', randomBytes(188));
    await put('live_001.ts', randomBytes(188));
    await put('live.m3u8', playlist(['live_000.ts', 'live_001.ts']));
    const { port } = await listen();
    await get(port, '/stream/alice/live_000.ts');
    await new Promise((r) => setTimeout(r, 300));
    const end = Date.now() + WAIT_MS;
    await put('live.m3u8', playlist(['live_001.ts']));
    await unlink(join(dir, 'live_000.ts'));
    let status = 0;
    while (Date.now() < end) {
      status = (await get(port, '/stream/alice/live_000.ts')).status;
      if (status === 404) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(status).toBe(404);
    expect((await get(port, '/stream/bob/live.m3u8')).status).toBe(404);
  });

  it('falls back to disk past the byte budget', async () => {
    const seg = randomBytes(188 * 100);
    await put('live_000.ts', seg);
    await put('live.m3u8', playlist(['live_000.ts']));
    const { port } = await listen(1000);
    for (let i = 0; i < 20; i++) {
      const res = await get(port, '/stream/alice/live_000.ts');
      expect(res.status).toBe(200);
      expect(res.body.equals(seg)).toBe(true);
      await new Promise((r) => setTimeout(r, 5));
    }
  });

  it('never caches a listed segment that is a link out of the root', async () => {
    const token = `TOKEN-${randomBytes(8).toString('hex')}`;
    await writeFile(join(tmp, 'secret.txt'), token);
    await symlink(join(tmp, 'secret.txt'), join(dir, 'live_005.ts'));
    await put('live.m3u8', playlist(['live_005.ts']));
    const { port } = await listen();
    for (let i = 0; i < 20; i++) {
      const res = await get(port, '/stream/alice/live_005.ts');
      expect(res.status).toBe(403);
      expect(res.body.toString()).not.toContain(token);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(await readFile(join(tmp, 'secret.txt'), 'utf8')).toBe(token);
  });
});
