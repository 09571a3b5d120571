/**
 * File descriptors in reserve, against the built server started under an open-file limit of 1024
 * with a real ffmpeg publisher streaming: more idle HTTP connections than the limit itself (from 21
 * loopback addresses, one of them past its per-address cap, and more arriving all along) plus idle
 * RTMP connections. Meanwhile `/healthz` and the playlist are answered on new connections, the
 * playlist keeps advancing, a new publisher gets in, and an FFmpeg killed with SIGKILL is spawned
 * again; the trips are counted in /metrics. Without the caps the process runs out of descriptors:
 * new connections are reset and the respawn fails with EMFILE. Bounded: at most 2500 HTTP and 60
 * RTMP connections, about 30 s.
 */
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Playlist, parsePlaylist } from '../helpers/media';
import { ffmpegOf, ffmpegPublisher, killAll, type Server, sleep, startServer, within } from './helpers/ingest';
import { rssBytes, watchRss } from './helpers/rtmp-attack';

const NOFILE = 1024;
/** 20 addresses below their per-address cap (64) and one past it: 1180 connections, more than NOFILE. */
const FLOOD_ADDRESSES = Array.from({ length: 20 }, (_, i) => `127.0.0.${10 + i}`);
const PER_FLOOD_ADDRESS = 55;
const GREEDY_ADDRESS = '127.0.0.30';
const GREEDY_CONNECTIONS = 80;
const RTMP_ADDRESSES = ['127.0.0.40', '127.0.0.41', '127.0.0.42'];
const RTMP_PER_ADDRESS = 20;
/** Bound on every HTTP connection the flood opens, the initial burst and the trickle after it. */
const MAX_FLOOD_CONNECTIONS = 2500;

let tmp: string;
let server: Server;
const sockets = new Set<Socket>();
let floodOpened = 0;
/** The loops the flood test starts; stopped in afterAll too, should the test fail midway. */
const loops = { running: true, done: [] as Promise<void>[] };

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'e2e-descriptors-'));
  server = await startServer(join(tmp, 'out'), [], { nofile: NOFILE });
  ffmpegPublisher(`rtmp://127.0.0.1:${server.rtmpPort}/live/test/alice`, { seconds: 50 });
  await waitForSegments('alice', 2, 20_000);
}, 40_000);

afterAll(async () => {
  loops.running = false;
  await Promise.all(loops.done);
  for (const s of sockets) s.destroy();
  sockets.clear();
  await killAll();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** A GET on a connection of its own (no pool), closed after the answer. */
function freshGet(path: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(server.url(path), { agent: false, headers: { connection: 'close' }, timeout: timeoutMs });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

async function playlistOf(username: string): Promise<Playlist | undefined> {
  const r = await freshGet(`/stream/${username}/live.m3u8`);
  return r.status === 200 ? parsePlaylist(r.body) : undefined;
}

async function until(ms: number, what: string, ok: () => boolean): Promise<void> {
  await within(
    ms,
    what,
    (async () => {
      while (!ok()) await sleep(100);
    })(),
  );
}

async function waitForSegments(username: string, min: number, ms: number): Promise<Playlist> {
  const deadline = Date.now() + ms;
  for (;;) {
    const p = await playlistOf(username).catch(() => undefined);
    if (p !== undefined && p.segments.length >= min) return p;
    if (Date.now() > deadline) throw new Error(`no playlist for ${username} with ${min} segments`);
    await sleep(200);
  }
}

/** An idle TCP connection from `localAddress` that never sends; resolves once connected or refused. */
function idleConnection(port: number, localAddress: string): Promise<void> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1', localAddress });
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => {
      sockets.delete(s);
      resolve();
    });
    s.once('connect', () => resolve());
  });
}

async function openHttp(addresses: readonly string[], each: number): Promise<void> {
  const all = addresses.flatMap((a) => Array.from({ length: each }, () => a));
  for (let i = 0; i < all.length && floodOpened < MAX_FLOOD_CONNECTIONS; i += 50) {
    const batch = all.slice(i, i + 50).slice(0, MAX_FLOOD_CONNECTIONS - floodOpened);
    floodOpened += batch.length;
    await Promise.all(batch.map((a) => idleConnection(server.httpPort, a)));
  }
}

/** What the test watches while the flood runs: answers, failures, when alice's playlist moved. */
interface Watch {
  failures: string[];
  answered: { healthz: number; playlist: number };
  /** Times the last segment of alice's playlist changed. */
  moves: number[];
  last: string | undefined;
  maxFds: number;
}

async function watchLoop(w: Watch): Promise<void> {
  for (let tick = 0; loops.running; tick++) {
    const at = Date.now();
    try {
      const p = await playlistOf('alice');
      if (p === undefined) w.failures.push('playlist not 200');
      else {
        w.answered.playlist++;
        if (p.segments.at(-1) !== w.last) w.moves.push(Date.now());
        w.last = p.segments.at(-1);
      }
      if (tick % 4 === 0) {
        const h = await freshGet('/healthz');
        if (h.status === 200) w.answered.healthz++;
        else w.failures.push(`healthz ${h.status}`);
      }
    } catch (err) {
      w.failures.push((err as Error).message);
    }
    w.maxFds = Math.max(w.maxFds, readdirSync(`/proc/${server.pid}/fd`).length);
    await sleep(Math.max(0, 250 - (Date.now() - at)));
  }
}

/** More idle connections all along, as an attacker reconnects what the server closed. */
async function trickle(): Promise<void> {
  for (let i = 0; loops.running && floodOpened < MAX_FLOOD_CONNECTIONS; i++) {
    await openHttp(FLOOD_ADDRESSES.slice((i * 5) % 20, ((i * 5) % 20) + 5), 2);
    await sleep(100);
  }
}

/** SIGKILLs alice's FFmpeg; resolves once another runs and the playlist has moved on after it. */
async function killAndAwaitRespawn(w: Watch): Promise<void> {
  const before = ffmpegOf(server.pid, 'alice')?.pid;
  expect(before).toBeDefined();
  process.kill(before as number, 'SIGKILL');
  const killedAt = Date.now();
  const lastBeforeKill = w.last;
  await until(15_000, 'respawn', () => {
    const now = ffmpegOf(server.pid, 'alice')?.pid;
    return now !== undefined && now !== before;
  });
  await until(15_000, 'playlist after respawn', () => (w.moves.at(-1) ?? 0) > killedAt && w.last !== lastBeforeKill);
}

/** Longest time between moves of the playlist within [start, end], counting from the move before `start`. */
function maxGap(times: readonly number[], start: number, end: number): number {
  let gap = 0;
  let previous = times.filter((t) => t < start).at(-1) ?? start;
  for (const t of times.filter((t) => t >= start && t <= end)) {
    gap = Math.max(gap, t - previous);
    previous = t;
  }
  return Math.max(gap, end - previous);
}

function metric(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('file descriptors in reserve (open-file limit 1024)', () => {
  it('lowers the default caps to fit the limit, saying so', () => {
    const line = server.logs().find((l) => String(l.msg).startsWith('connection caps lowered'));
    expect(line?.level).toBe(40);
    expect(line?.openFileLimit).toBe(NOFILE);
    expect(line?.fdsNeeded as number).toBeLessThanOrEqual(NOFILE);
    expect(line?.httpMaxConnections as number).toBeLessThan(PER_FLOOD_ADDRESS * FLOOD_ADDRESSES.length);
    expect(String(line?.msg)).toContain('--http-max-connections 4096 -> ');
  });

  it('serves, publishes and respawns FFmpeg through a flood of idle connections', async () => {
    const caps = server.logs().find((l) => String(l.msg).startsWith('connection caps lowered')) ?? {};
    const httpCap = caps.httpMaxConnections as number;
    const w: Watch = { failures: [], answered: { healthz: 0, playlist: 0 }, moves: [], last: undefined, maxFds: 0 };
    loops.done.push(watchLoop(w));
    await until(5000, 'watching', () => w.moves.length > 0);
    const baseline = rssBytes(server.pid);
    const rss = watchRss(server.pid);
    const logBefore = server.outputBytes();
    const floodStart = Date.now();
    expect(RTMP_ADDRESSES.length * RTMP_PER_ADDRESS).toBeGreaterThan(caps.rtmpMaxConnections as number);
    const rtmpIdle = RTMP_ADDRESSES.flatMap((a) =>
      Array.from({ length: RTMP_PER_ADDRESS }, () => idleConnection(server.rtmpPort, a)),
    );
    await within(20_000, 'flood burst', openHttp([...FLOOD_ADDRESSES, GREEDY_ADDRESS], PER_FLOOD_ADDRESS));
    await within(10_000, 'greedy address', openHttp([GREEDY_ADDRESS], GREEDY_CONNECTIONS - PER_FLOOD_ADDRESS));
    await Promise.all(rtmpIdle);
    const trickling = trickle();
    loops.done.push(trickling);

    // A new publisher gets in while the flood goes on, and alice's playlist never stalls.
    const bob = ffmpegPublisher(`rtmp://127.0.0.1:${server.rtmpPort}/live/test/bob`, { seconds: 30 });
    await waitForSegments('bob', 2, 15_000);
    await sleep(Math.max(0, 8000 - (Date.now() - floodStart)));
    expect(maxGap(w.moves, floodStart, Date.now())).toBeLessThan(3000);

    await killAndAwaitRespawn(w);
    loops.running = false;
    await trickling;
    const metrics = (await freshGet('/metrics')).body;
    await Promise.all(loops.done);
    bob.proc.kill('SIGKILL');

    expect(w.failures).toEqual([]);
    expect(w.answered.healthz).toBeGreaterThan(5);
    expect(w.answered.playlist).toBeGreaterThan(20);
    expect(floodOpened).toBeGreaterThan(NOFILE);
    expect(w.maxFds).toBeLessThan(NOFILE);
    expect(server.output()).not.toContain('EMFILE');
    expect(server.output()).not.toContain('giving up');
    // Thousands of refused and evicted connections: rate-limited warnings, flat memory.
    expect(server.outputBytes() - logBefore, 'log bytes written during the flood').toBeLessThan(200_000);
    expect((await rss.stop()) - baseline, 'peak RSS over the baseline').toBeLessThan(160 * 1024 * 1024);
    const trips = (limit: string) => metric(metrics, `limit_trips_total{limit="${limit}"}`);
    expect(trips('http_max_connections')).toBeGreaterThan(NOFILE - httpCap);
    expect(trips('http_max_connections_per_address')).toBeGreaterThanOrEqual(
      GREEDY_CONNECTIONS - (caps.httpMaxConnectionsPerAddress as number),
    );
    expect(trips('rtmp_max_connections')).toBeGreaterThan(0);
    expect(metric(metrics, 'http_connections_active')).toBeLessThanOrEqual(httpCap);
    expect(metric(metrics, 'http_connections_active')).toBeGreaterThan(httpCap / 2);
  }, 60_000);

  it('forgets the connections once they are gone', async () => {
    for (const s of sockets) s.destroy();
    await until(5000, 'sockets closed', () => sockets.size === 0);
    let active = Number.NaN;
    for (let i = 0; i < 40; i++) {
      active = metric((await freshGet('/metrics')).body, 'http_connections_active');
      if (active <= 1) break;
      await sleep(100);
    }
    expect(active).toBeLessThanOrEqual(1);
  });
});
