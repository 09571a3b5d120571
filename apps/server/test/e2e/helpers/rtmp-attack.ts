/**
 * What the attack tests send and measure: raw RTMP peers from chosen loopback addresses (a
 * handshake and `connect` written blind, then whatever the attack is), the server's RSS from /proc,
 * one sample of a `/metrics` series, and a watcher of a live playlist's longest standstill.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { ChunkEncoder, encodeAmf0 } from '@org/rtmp';
import { getPlaylist, type Server, sleep } from './ingest';

export interface RawPeer {
  socket: Socket;
  /** Bytes the server sent so far. */
  received(): number;
  /** Set once the socket closed. */
  closed(): boolean;
  write(bytes: Uint8Array): boolean;
  destroy(): void;
}

/** A TCP connection to the server's RTMP port from `localAddress`; no byte sent yet. */
export function rawPeer(server: Server, localAddress: string): Promise<RawPeer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: server.rtmpPort, localAddress });
    let received = 0;
    let closed = false;
    socket.on('data', (d) => {
      received += d.length;
    });
    socket.on('error', () => {}); // resets are what some attacks get; closed() tells
    socket.on('close', () => {
      closed = true;
    });
    const peer: RawPeer = {
      socket,
      received: () => received,
      closed: () => closed,
      write: (b) => !closed && socket.write(b),
      destroy: () => socket.destroy(),
    };
    socket.once('connect', () => resolve(peer));
    socket.once('error', reject);
  });
}

/** C0 C1 C2 (plain handshake, sent without waiting, as the server accepts) and `connect` to `app`. */
export function handshakeAndConnect(app = 'live/test'): Uint8Array {
  const c0c1 = new Uint8Array(1 + 1536);
  c0c1[0] = 3;
  for (let i = 9; i < c0c1.length; i++) c0c1[i] = (i * 7) & 0xff;
  const connectCommand = new ChunkEncoder().encodeToBuffer({
    chunkStreamId: 3,
    type: 20,
    streamId: 0,
    timestamp: 0,
    payload: encodeAmf0('connect', 1, { app, tcUrl: `rtmp://127.0.0.1/${app}` }),
  });
  return Buffer.concat([c0c1, new Uint8Array(1536), connectCommand]);
}

/** Set Chunk Size 65536, then the first `sent` bytes of a video message declaring `declared` bytes. */
export function partialMessage(declared: number, sent: number): Buffer {
  const enc = new ChunkEncoder();
  const setChunkSize = enc.encodeToBuffer({
    chunkStreamId: 2,
    type: 1,
    streamId: 0,
    timestamp: 0,
    payload: Uint8Array.of(0, 1, 0, 0),
  });
  enc.setChunkSize(65536);
  const video = enc.encodeToBuffer({
    chunkStreamId: 6,
    type: 9,
    streamId: 1,
    timestamp: 0,
    payload: new Uint8Array(declared).fill(0x17, 0, 1),
  });
  return Buffer.concat([setChunkSize, video.subarray(0, sent)]);
}

/** `count` User Control Ping Requests (the server answers each with a Ping Response). */
export function pings(count: number): Buffer {
  const enc = new ChunkEncoder();
  const parts: Uint8Array[] = [];
  for (let v = 0; v < count; v++) {
    const payload = Uint8Array.of(0, 6, (v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
    parts.push(enc.encodeToBuffer({ chunkStreamId: 2, type: 4, streamId: 0, timestamp: 0, payload }));
  }
  return Buffer.concat(parts);
}

/** Resident set size of `pid`, bytes. */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m?.[1]) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** Samples RSS every 100 ms until stopped; resolves with the highest seen. */
export function watchRss(pid: number): { stop(): Promise<number> } {
  let peak = rssBytes(pid);
  let on = true;
  const loop = (async () => {
    while (on) {
      peak = Math.max(peak, rssBytes(pid));
      await sleep(100);
    }
  })();
  return {
    async stop() {
      on = false;
      await loop;
      return Math.max(peak, rssBytes(pid));
    },
  };
}

/** The sum of a `/metrics` series over the label sets that contain `labels` (e.g. `limit="x"`). */
export async function metric(server: Server, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(server.url('/metrics'), { signal: AbortSignal.timeout(10_000) })).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith(' ') || rest.startsWith('{'))) continue;
    if (labels && !rest.includes(labels)) continue;
    sum += Number(rest.slice(rest.lastIndexOf(' ') + 1));
  }
  return sum;
}

/**
 * Polls `username`'s playlist every 100 ms; `stop()` resolves with the longest time its newest
 * segment stayed the same (the standstill a viewer saw), ms.
 */
export function watchPlaylist(server: Server, username: string): { stop(): Promise<number> } {
  let on = true;
  let lastChange = Date.now();
  let lastNewest = '';
  let longest = 0;
  const loop = (async () => {
    while (on) {
      const p = await getPlaylist(server, username).catch(() => 0);
      const newest = typeof p === 'number' ? '' : (p.segments.at(-1) ?? '');
      const now = Date.now();
      if (newest !== lastNewest) {
        longest = Math.max(longest, now - lastChange);
        lastChange = now;
        lastNewest = newest;
      }
      await sleep(100);
    }
    longest = Math.max(longest, Date.now() - lastChange);
  })();
  return {
    async stop() {
      on = false;
      await loop;
      return longest;
    },
  };
}
