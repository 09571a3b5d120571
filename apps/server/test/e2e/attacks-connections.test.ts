/**
 * Attacks anyone who can open a TCP connection can make, against the built server on its
 * defaults, with a real ffmpeg publisher streaming throughout. Each reproduces a measured failure
 * of the hardening issue and asserts what must hold instead: the live playlist never stands still
 * over 3 s, a new legitimate publish gets in during the attack, the server's RSS stays under a
 * stated ceiling and comes back near its baseline, the log grows by a bounded amount and holds no
 * secret. Loopback only; every flood is bounded in count and time.
 */

import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChunkEncoder, encodeAmf0, RtmpClient } from '@org/rtmp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffmpegOf, ffmpegPublisher, killAll, type Server, sleep, startServer, waitForPlaylist } from './helpers/ingest';
import {
  handshakeAndConnect,
  metric,
  partialMessage,
  pings,
  type RawPeer,
  rawPeer,
  rssBytes,
  watchPlaylist,
  watchRss,
} from './helpers/rtmp-attack';

const MIB = 1024 * 1024;
/** The default `--rtmp-max-buffered-bytes`. */
const BUDGET = 256 * MIB;
/** What the process may add over its baseline, beyond what the attack's budget allows it to hold. */
const OVERHEAD = 160 * MIB;
/** How far above its baseline RSS may stay once an attack is over. */
const AFTER_ATTACK = 96 * MIB;
const SECRET = 'obs-split-secret-31337';

let tmp: string;
let server: Server;
let baseline: number;
let legit = 0;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'e2e-attacks-conn-'));
  server = await startServer(join(tmp, 'out'));
  ffmpegPublisher(`rtmp://127.0.0.1:${server.rtmpPort}/live/test/alice`, { seconds: 170 });
  await waitForPlaylist(server, 'alice', 3);
  baseline = rssBytes(server.pid);
}, 40_000);

afterAll(async () => {
  await killAll();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** A legitimate publish from an address no attack uses: resolves once the server accepted it. */
async function legitimatePublish(): Promise<void> {
  const c = await RtmpClient.connect(`rtmp://127.0.0.1:${server.rtmpPort}/live/test`, {
    localAddress: '127.0.0.250',
    timeout: 10_000,
  });
  try {
    await c.publish(`legit${++legit}`);
  } finally {
    c.destroy();
  }
}

async function openPeers(count: number, address: (i: number) => string): Promise<RawPeer[]> {
  const peers: RawPeer[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = Array.from({ length: Math.min(50, count - i) }, (_, j) => rawPeer(server, address(i + j)));
    peers.push(...(await Promise.all(batch)));
  }
  return peers;
}

/** One line of what an attack measured, for the CI log (MiB over the baseline, ms). */
function report(what: string, m: { peak: number; after: number; gap: number; [k: string]: number }): void {
  const mib = (b: number) => ((b - baseline) / MIB).toFixed(0);
  const rest = Object.entries(m)
    .filter(([k]) => !['peak', 'after', 'gap'].includes(k))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  console.log(`${what}: RSS peak +${mib(m.peak)} MiB, after +${mib(m.after)} MiB, playlist gap ${m.gap} ms; ${rest}`);
}

/** Waits (bounded) until RSS is back within {@link AFTER_ATTACK} of the baseline; returns it. */
async function rssAfter(): Promise<number> {
  let rss = rssBytes(server.pid);
  for (let i = 0; i < 40 && rss > baseline + AFTER_ATTACK; i++) {
    await sleep(250);
    rss = rssBytes(server.pid);
  }
  return rss;
}

describe('connection-level attacks', () => {
  it('runs the server with the malloc setting that lets freed buffers leave, and its FFmpeg without it', () => {
    const env = (pid: number) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    expect(env(server.pid)).toContain('MALLOC_MMAP_THRESHOLD_=131072');
    const ffmpeg = ffmpegOf(server.pid, 'alice');
    expect(ffmpeg).toBeDefined();
    expect(env(ffmpeg?.pid ?? 0).filter((v) => v.startsWith('MALLOC_'))).toEqual([]);
  });

  it('100 connections each starting an 8 MiB message they never finish', async () => {
    const rss = watchRss(server.pid);
    const playlist = watchPlaylist(server, 'alice');
    const tripsBefore = await metric(server, 'limit_trips_total', 'limit="rtmp_max_buffered_bytes"');
    const peers = await openPeers(100, (i) => `127.0.1.${1 + (i % 5)}`);
    const opening = handshakeAndConnect();
    const partial = partialMessage(8 * MIB - 64, 6 * MIB);
    const deadline = Date.now() + 20_000;
    const flood = Promise.all(
      peers.map(async (p) => {
        p.write(opening);
        await sleep(200);
        if (p.write(partial)) return;
        // Until the server took it all or closed the connection, bounded by the deadline.
        await new Promise<void>((r) => {
          const timer = setTimeout(r, Math.max(0, deadline - Date.now()));
          const done = () => {
            clearTimeout(timer);
            r();
          };
          p.socket.once('drain', done);
          p.socket.once('close', done);
        });
      }),
    );
    await sleep(1500);
    await legitimatePublish();
    await flood;
    await sleep(500);
    const peak = await rss.stop();
    for (const p of peers) p.destroy();
    const gap = await playlist.stop();
    const trips = (await metric(server, 'limit_trips_total', 'limit="rtmp_max_buffered_bytes"')) - tripsBefore;
    const after = await rssAfter();
    report('partial messages', { peak, after, gap, trips });
    expect(trips, 'connections closed for the memory budget').toBeGreaterThan(0);
    expect(peak - baseline, `peak RSS over the baseline (${baseline >> 20} MiB)`).toBeLessThan(BUDGET + OVERHEAD);
    expect(after - baseline, 'RSS over the baseline after the attack').toBeLessThan(AFTER_ATTACK);
    expect(gap, 'longest standstill of the live playlist').toBeLessThan(3000);
  }, 60_000);

  it('20 peers flooding pings and never reading the replies', async () => {
    const rss = watchRss(server.pid);
    const playlist = watchPlaylist(server, 'alice');
    const peers = await openPeers(20, (i) => `127.0.1.${10 + i}`);
    for (const p of peers) p.write(handshakeAndConnect());
    await sleep(500);
    for (const p of peers) p.socket.pause();
    const batch = pings(5000); // 90 kB, 5000 replies
    let heldPeak = 0;
    const end = Date.now() + 6000;
    const flood = Promise.all(
      peers.map(async (p) => {
        for (let i = 0; i < 500 && Date.now() < end && !p.closed(); i++) {
          p.write(batch);
          await sleep(10);
        }
      }),
    );
    await sleep(2000);
    heldPeak = Math.max(heldPeak, await metric(server, 'rtmp_buffered_bytes'));
    await legitimatePublish();
    heldPeak = Math.max(heldPeak, await metric(server, 'rtmp_buffered_bytes'));
    await flood;
    const peak = await rss.stop();
    for (const p of peers) p.destroy();
    const gap = await playlist.stop();
    const after = await rssAfter();
    report('ping flood', { peak, after, gap, heldPeak });
    // Each flooder is read no faster than its control budget refills, and what it was sent waits
    // in its own socket (a peer that does not read is not read either).
    expect(await metric(server, 'limit_trips_total', 'limit="rtmp_control_rate"')).toBeGreaterThan(0);
    expect(heldPeak, 'bytes the server held for all peers').toBeLessThan(20 * 2 * MIB);
    expect(peak - baseline, 'peak RSS over the baseline').toBeLessThan(OVERHEAD);
    expect(after - baseline, 'RSS over the baseline after the attack').toBeLessThan(AFTER_ATTACK);
    expect(gap, 'longest standstill of the live playlist').toBeLessThan(3000);
  }, 60_000);

  it('2000 idle connections from one address take only its share of the table', async () => {
    const playlist = watchPlaylist(server, 'alice');
    const tripsBefore = await metric(server, 'limit_trips_total', 'limit="rtmp_max_connections_per_address"');
    const peers = await openPeers(2000, () => '127.0.2.1');
    await legitimatePublish();
    await sleep(1000);
    const open = peers.filter((p) => !p.closed()).length;
    const trips = (await metric(server, 'limit_trips_total', 'limit="rtmp_max_connections_per_address"')) - tripsBefore;
    for (const p of peers) p.destroy();
    expect(open, 'connections the address kept').toBeLessThanOrEqual(32);
    expect(trips).toBeGreaterThanOrEqual(2000 - 32);
    expect(await playlist.stop(), 'longest standstill of the live playlist').toBeLessThan(3000);
  }, 60_000);

  it('1024 connections that connect and then idle are dropped by the publish timeout, publishers get in', async () => {
    const playlist = watchPlaylist(server, 'alice');
    const closedFor = () =>
      Promise.all(
        ['rtmp_publish_timeout', 'rtmp_max_handshakes', 'rtmp_max_connections'].map((l) =>
          metric(server, 'limit_trips_total', `limit="${l}"`),
        ),
      ).then((v) => v.reduce((a, b) => a + b, 0));
    const closedBefore = await closedFor();
    const peers = await openPeers(1024, (i) => `127.0.3.${1 + (i % 32)}`);
    const opening = handshakeAndConnect();
    for (const p of peers) p.write(opening);
    const started = Date.now();
    await sleep(2000);
    await legitimatePublish(); // the table is full: an idle connection makes room
    // Server pings do not keep them: connect-then-nothing is idle; all go within the 10 s timeout.
    while (peers.some((p) => !p.closed()) && Date.now() - started < 20_000) await sleep(250);
    const heldFor = Date.now() - started;
    const closedByLimits = (await closedFor()) - closedBefore;
    for (const p of peers) p.destroy();
    expect(heldFor, 'time until every idle connection was closed').toBeLessThan(14_000);
    // Each closed by one of the limits: the publish timeout, or (1024 at once) the handshake bound
    // and the full table making room.
    expect(closedByLimits).toBeGreaterThanOrEqual(1000);
    expect(await playlist.stop(), 'longest standstill of the live playlist').toBeLessThan(3000);
  }, 60_000);
});

/** `createStream` then `publish` of `name` on a raw connection already connected. */
function publishCommands(name: string): Buffer {
  const enc = new ChunkEncoder();
  const create = enc.encodeToBuffer({
    chunkStreamId: 3,
    type: 20,
    streamId: 0,
    timestamp: 0,
    payload: encodeAmf0('createStream', 2, null),
  });
  const publish = enc.encodeToBuffer({
    chunkStreamId: 8,
    type: 20,
    streamId: 1,
    timestamp: 0,
    payload: encodeAmf0('publish', 3, null, name, 'live'),
  });
  return Buffer.concat([create, publish]);
}

describe('what a peer can make the server log and count', () => {
  it('60 refused publishes, half with 7 MiB names, write a bounded log without the key', async () => {
    const logBefore = server.outputBytes();
    const peers = await openPeers(60, (i) => `127.0.5.${1 + (i % 6)}`);
    const huge = `x${'A'.repeat(7 * MIB)}`; // the 7 MiB names: 945 MiB of log for 135 of them
    for (const [i, p] of peers.entries()) {
      // Half of them the OBS way: the key in the server URL, so in `app`.
      const app = i % 2 === 0 ? `live/test?key=${SECRET}` : 'live/test';
      p.write(handshakeAndConnect(app));
      p.write(publishCommands(i % 2 === 0 ? `alice?key=${SECRET}` : huge));
    }
    const end = Date.now() + 15_000;
    while (peers.some((p) => !p.closed()) && Date.now() < end) await sleep(200);
    for (const p of peers) p.destroy();
    const grew = server.outputBytes() - logBefore;
    expect(grew, 'log bytes written for 60 refusals').toBeLessThan(100_000);
    expect(server.output()).not.toContain(SECRET);
    expect(server.output()).not.toContain('A'.repeat(300));
  }, 30_000);

  it('300 playlist requests with 300 user agents from one address count as at most 4 viewers', async () => {
    const before = await metric(server, 'stream_viewers', 'username="alice"');
    for (let i = 0; i < 300; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = request(server.url('/stream/alice/live.m3u8'), {
          localAddress: '127.0.6.1',
          headers: { 'user-agent': `agent-${i}` },
          agent: false,
        });
        req.on('response', (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
        req.end();
      });
    }
    const after = await metric(server, 'stream_viewers', 'username="alice"');
    expect(after - before).toBeGreaterThan(0);
    expect(after - before).toBeLessThanOrEqual(4);
    expect(await metric(server, 'limit_trips_total', 'limit="viewers_per_address"')).toBeGreaterThanOrEqual(296);
  }, 30_000);

  it('a publish whose username differs only in case from a live one is refused with the reason', async () => {
    const c = await RtmpClient.connect(`rtmp://127.0.0.1:${server.rtmpPort}/live/test`, {
      localAddress: '127.0.0.251',
    });
    try {
      await expect(c.publish('Alice')).rejects.toMatchObject({
        status: 'NetStream.Publish.BadName',
        description: '"Alice" differs only in case from the existing stream "alice"',
      });
    } finally {
      c.destroy();
    }
  });
});

describe('a publisher cycling usernames', () => {
  it('gets no more streams than --max-streams; a freed slot is taken again', async () => {
    const small = await startServer(join(tmp, 'out-small'), ['--max-streams', '3']);
    const url = `rtmp://127.0.0.1:${small.rtmpPort}/live/test`;
    const clients: RtmpClient[] = [];
    const attempt = async (name: string) => {
      const c = await RtmpClient.connect(url, { localAddress: '127.0.7.1' });
      clients.push(c);
      try {
        await c.publish(name);
        return 'accepted';
      } catch (err) {
        c.destroy();
        return String((err as { description?: string }).description);
      }
    };
    try {
      const outcomes: string[] = [];
      for (let i = 0; i < 6; i++) outcomes.push(await attempt(`cycler${i}`));
      expect(outcomes.slice(0, 3)).toEqual(['accepted', 'accepted', 'accepted']);
      expect(outcomes.slice(3)).toEqual(Array(3).fill('the server carries its most streams (3); retry later'));
      expect(await metric(small, 'limit_trips_total', 'limit="max_streams"')).toBe(3);
      // A publisher that leaves before sending a frame leaves no stream behind: its slot is free.
      clients[0]?.destroy();
      await sleep(300);
      expect(await attempt('cycler6')).toBe('accepted');
    } finally {
      for (const c of clients) c.destroy();
    }
  }, 30_000);
});
