/**
 * End to end, what must not hurt a running stream, against the built server with two live ffmpeg
 * publishers: hostile TCP clients on the RTMP port (garbage, silence, half handshakes, a 16 MB
 * declared message); `kill -9` of one stream's FFmpeg (reaped, restarted, playlist continues, the
 * other stream untouched); SIGTERM (exit 0 within 10 s, no child left, playlists ended); and a
 * `kill -9` of the server itself (its FFmpegs exit on their own when stdin closes).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientHandshake, RtmpClient } from '@org/rtmp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Playlist, parsePlaylist } from '../helpers/media';
import {
  childrenOf,
  ffmpegOf,
  ffmpegPublisher,
  getPlaylist,
  isServerFfmpeg,
  killAll,
  type Proc,
  procState,
  type Server,
  sleep,
  startServer,
  waitForPlaylist,
  within,
} from './helpers/ingest';

/**
 * Long enough that this test's own handshake (the 16 MB message below) completes even when the
 * whole suite runs in parallel on two cores and the test process is starved for a while.
 */
const HANDSHAKE_TIMEOUT_MS = 4000;
const IDLE_TIMEOUT_MS = 6000; // above the handshake timeout: silent sockets must meet that one first
let tmp: string;
let server: Server;
const publishers: Proc[] = [];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'e2e-resilience-'));
  server = await startServer(join(tmp, 'out'), [
    ...['--handshake-timeout-ms', String(HANDSHAKE_TIMEOUT_MS), '--idle-timeout-ms', String(IDLE_TIMEOUT_MS)],
  ]);
  const base = `rtmp://127.0.0.1:${server.rtmpPort}/live/test`;
  // Long enough for every test in this file; killed in afterAll.
  publishers.push(ffmpegPublisher(`${base}/alice`, { seconds: 60, frequency: 440 }));
  publishers.push(ffmpegPublisher(`${base}/bob`, { seconds: 60, frequency: 880 }));
  await Promise.all([waitForPlaylist(server, 'alice', 2), waitForPlaylist(server, 'bob', 2)]);
}, 40_000);

afterAll(async () => {
  await killAll();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const seqOf = async (username: string): Promise<number> => {
  const p = await getPlaylist(server, username);
  if (typeof p === 'number') throw new Error(`${username}: HTTP ${p}`);
  return p.mediaSequence ?? -1;
};

const rss = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;

/**
 * Opens a TCP connection; resolves with it once connected, and tracks when the server closes it.
 * Whatever the server sends is read and dropped: a socket left unread never sees the server's FIN
 * behind the bytes it buffered (S0 S1 S2, when garbage happens to start with version 3), and its
 * `'close'` would never come.
 */
function dial(port: number): Promise<{ socket: net.Socket; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.resume();
    const t0 = Date.now();
    const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now() - t0)));
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

describe('hostile input', () => {
  it('garbage, silence, half handshakes and a 16 MB message do not stall a live stream', async () => {
    const rssBefore = rss(server.pid);
    const seqBefore = await within(10_000, 'first playlist fetch', seqOf('alice'));
    const t0 = Date.now();
    // A publisher that goes silent after its publish is dropped after the idle timeout.
    const idler = await RtmpClient.connect({ host: '127.0.0.1', port: server.rtmpPort, app: 'live/test' });
    const idlerClosed = new Promise<number>((r) => idler.on('close', () => r(Date.now() - t0)));
    await idler.publish('idler');
    const conns: { socket: net.Socket; closed: Promise<number> }[] = [];
    for (let i = 0; i < 20; i++) {
      const c = await within(5000, `garbage connection ${i}`, dial(server.rtmpPort));
      const garbage = randomBytes(64 * 1024); // random bytes, starting with a random version byte…
      if (i < 5) garbage[0] = 3; // …or with version 3: random C1, C2 and then random chunks
      c.socket.write(garbage);
      conns.push(c);
    }
    const silent = [];
    for (let i = 0; i < 10; i++) silent.push(await within(5000, `silent connection ${i}`, dial(server.rtmpPort)));
    const half = [];
    for (let i = 0; i < 10; i++) {
      const c = await within(5000, `half-handshake connection ${i}`, dial(server.rtmpPort));
      c.socket.write(Buffer.concat([Buffer.from([3]), randomBytes(700)])); // C0 + part of C1
      half.push(c);
    }
    // A proper handshake, then a chunk header declaring a 16 MB (2^24 − 1 bytes) command message.
    const big = await within(5000, '16 MB connection', dial(server.rtmpPort));
    const hs = new ClientHandshake();
    big.socket.write(hs.start());
    await within(
      HANDSHAKE_TIMEOUT_MS + 2000,
      '16 MB connection handshake',
      new Promise<void>((resolve, reject) => {
        big.socket.on('data', (d: Buffer) => {
          if (hs.done) return;
          const step = hs.push(d);
          for (const out of step.output) big.socket.write(out);
          if (step.done) resolve();
        });
        // Fail with a reason rather than hang if the server gives up on us first.
        void big.closed.then((ms) =>
          reject(new Error(`server closed the connection during the handshake after ${ms} ms`)),
        );
      }),
    );
    const fmt0Csid3 = [0x03];
    const timestamp = [0x00, 0x00, 0x00];
    const length16M = [0xff, 0xff, 0xff]; // 16 777 215 bytes
    const amf0Command = [0x14];
    const streamId = [0x00, 0x00, 0x00, 0x00];
    big.socket.write(Buffer.from([...fmt0Csid3, ...timestamp, ...length16M, ...amf0Command, ...streamId]));
    big.socket.write(randomBytes(128 * 1024));

    // The stream keeps advancing while all that goes on.
    const deadline = Date.now() + 8000;
    while (Date.now() < deadline && (await seqOf('alice')) < seqBefore + 3) await sleep(200);
    expect(await seqOf('alice')).toBeGreaterThanOrEqual(seqBefore + 3);

    // Every hostile connection is closed by the server: garbage and the big message at once,
    // silent and half-handshaken ones by the handshake timeout, the idler by the idle timeout.
    const closeWait = IDLE_TIMEOUT_MS + 4000;
    const closeTimes = await within(
      closeWait,
      'server closes garbage and 16 MB connections',
      Promise.all([...conns, big].map((c) => c.closed)),
    );
    expect(Math.max(...closeTimes)).toBeLessThan(HANDSHAKE_TIMEOUT_MS);
    const slowTimes = await within(
      closeWait,
      'server closes silent and half-handshake connections',
      Promise.all([...silent, ...half].map((c) => c.closed)),
    );
    for (const t of slowTimes) {
      expect(t).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_MS - 100);
      expect(t).toBeLessThan(HANDSHAKE_TIMEOUT_MS + 1500);
    }
    const idleClose = await within(closeWait, 'server closes the idle publisher', idlerClosed);
    expect(idleClose).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS - 100);
    expect(idleClose).toBeLessThan(IDLE_TIMEOUT_MS + 1500);
    expect(Date.now() - t0).toBeLessThan(12_000);
    const health = await fetch(server.url('/healthz'), { signal: AbortSignal.timeout(5000) });
    expect(health.status).toBe(200);
    expect(rss(server.pid) - rssBefore).toBeLessThan(64 * 1024 * 1024);
    // The server logs each close as it closes; the line reaches its stdout (an asynchronous log
    // destination) a moment after the client sees the close, so wait for it, bounded.
    const expected = [
      'ERR_RTMP_HANDSHAKE_TIMEOUT',
      'ERR_RTMP_MESSAGE_TOO_LARGE',
      'ERR_RTMP_BAD_VERSION',
      'ERR_RTMP_IDLE_TIMEOUT',
    ];
    const closeCodes = () =>
      server
        .logs()
        .filter((l) => l.msg === 'rtmp connection closed')
        .map((l) => l.code);
    for (const end = Date.now() + 3000; Date.now() < end && !expected.every((c) => closeCodes().includes(c)); ) {
      await sleep(50);
    }
    const codes = closeCodes();
    for (const c of expected) expect(codes).toContain(c);
  }, 40_000);
});

describe('FFmpeg supervision', () => {
  it('kill -9 of one stream’s FFmpeg: reaped, restarted, playlist continues; the other stream untouched', async () => {
    const victim = ffmpegOf(server.pid, 'alice');
    const other = ffmpegOf(server.pid, 'bob');
    expect(victim, 'alice has an ffmpeg child').toBeDefined();
    expect(other).toBeDefined();
    const seqAlice = await seqOf('alice');
    const seqBob = await seqOf('bob');
    const seen: Playlist[] = [];
    process.kill(victim?.pid as number, 'SIGKILL');

    let replacement: number | undefined;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const p = await getPlaylist(server, 'alice');
      expect(p, 'alice playlist must stay available').not.toBeTypeOf('number');
      seen.push(p as Playlist);
      const current = ffmpegOf(server.pid, 'alice')?.pid;
      if (current !== victim?.pid) replacement ??= current;
      if (replacement !== undefined && seen.some((s) => s.discontinuities > 0)) break;
      await sleep(200);
    }
    expect(procState(victim?.pid as number)).toBeUndefined(); // reaped: no zombie left in /proc
    expect(replacement).toBeDefined();
    expect(replacement).not.toBe(victim?.pid);
    expect(seen.some((s) => s.discontinuities > 0)).toBe(true);
    const seqs = seen.map((s) => s.mediaSequence ?? -1);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThanOrEqual(seqs[i - 1] as number);
    expect(seqs.at(-1)).toBeGreaterThanOrEqual(seqAlice);
    // Bob's FFmpeg is the same process and his playlist kept moving.
    expect(ffmpegOf(server.pid, 'bob')?.pid).toBe(other?.pid);
    expect(await seqOf('bob')).toBeGreaterThan(seqBob);
    expect(childrenOf(server.pid).filter((p) => p.state === 'Z')).toEqual([]);
    const log = server.logs();
    expect(log.some((l) => l.msg === 'ffmpeg exited unexpectedly' && l.stream === 'alice')).toBe(true);
    expect(log.some((l) => l.msg === 'restarting ffmpeg' && l.stream === 'alice')).toBe(true);
    const metrics = await (await fetch(server.url('/metrics'))).text();
    expect(metrics).toMatch(/^ffmpeg_restarts_total 1$/m);
  }, 30_000);
});

describe('shutdown', () => {
  it('SIGTERM with live streams: exit 0 within 10 s, no child left, playlists ended', async () => {
    const ffmpegs = childrenOf(server.pid).filter((p) => isServerFfmpeg(p));
    expect(ffmpegs).toHaveLength(2);
    const t0 = Date.now();
    server.proc.kill('SIGTERM');
    const { code } = await server.exited;
    const took = Date.now() - t0;
    console.log(`SIGTERM → exit in ${took} ms`);
    expect(code).toBe(0);
    expect(took).toBeLessThan(10_000);
    for (const f of ffmpegs) expect(procState(f.pid), `ffmpeg ${f.pid}`).toBeUndefined();
    expect(childrenOf(server.pid)).toEqual([]);
    for (const u of ['alice', 'bob']) {
      const pl = parsePlaylist(await readFile(join(server.outputDir, u, 'live.m3u8'), 'utf8'));
      expect(pl.ended, u).toBe(true);
      expect(pl.segments.length).toBeGreaterThan(0);
    }
    expect(server.logs().some((l) => l.msg === 'stopped')).toBe(true);
  }, 20_000);

  it('kill -9 of the server: its FFmpegs exit by themselves when their stdin closes', async () => {
    const second = await startServer(join(tmp, 'out2'));
    const pub = ffmpegPublisher(`rtmp://127.0.0.1:${second.rtmpPort}/live/test/carol`, { seconds: 30 });
    await waitForPlaylist(second, 'carol', 1);
    const ff = ffmpegOf(second.pid, 'carol');
    expect(ff).toBeDefined();
    second.proc.kill('SIGKILL');
    await second.exited;
    const deadline = Date.now() + 5000;
    while (procState(ff?.pid as number) !== undefined && Date.now() < deadline) await sleep(100);
    expect(procState(ff?.pid as number)).toBeUndefined();
    pub.proc.kill('SIGKILL');
    await pub.exited;
  }, 30_000);
});
