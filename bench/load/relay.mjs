/**
 * A timestamping loopback TCP relay between one publisher and the server under test.
 *
 * It forwards bytes both ways unchanged and decodes the publisher → server direction: after the
 * 3073-byte C0+C1+C2 handshake the rest is the chunk stream, which @org/rtmp's ChunkDecoder turns
 * into messages (it applies the publisher's Set Chunk Size itself). For every AVC keyframe video
 * message it records when the relay forwarded its last byte and a hash of its IDR NAL unit.
 */
import { createServer, connect as netConnect } from 'node:net';
import { flvIdrHash } from './media.mjs';

/** C0 (1) + C1 (1536) + C2 (1536): what the client sends before its first chunk. */
const CLIENT_HANDSHAKE_BYTES = 1 + 1536 + 1536;
const VIDEO = 9;
/** Keyframes kept: the clip loops every 20 s, a segment delay is far shorter; 10 min of keyframes. */
const MAX_KEYFRAMES = 300;

/**
 * @param {number} upstreamPort the server's RTMP port on 127.0.0.1
 * @param {typeof import('../../packages/rtmp/dist/index.js').ChunkDecoder} ChunkDecoder
 */
export async function startRelay(upstreamPort, ChunkDecoder) {
  const state = {
    port: 0,
    /** { at: performance.now() ms, hash, timestamp (RTMP ms) } in send order. */
    keyframes: [],
    firstKeyframeAt: null,
    firstByteAt: null,
    connections: 0,
    decodeError: null,
  };
  /** Resolvers of waitKeyframe() calls, run on the next keyframe. */
  let waiters = [];
  const sockets = new Set();
  const server = createServer((client) => {
    state.connections += 1;
    const upstream = netConnect({ host: '127.0.0.1', port: upstreamPort });
    sockets.add(client);
    sockets.add(upstream);
    const decoder = new ChunkDecoder();
    let skip = CLIENT_HANDSHAKE_BYTES;
    let decoding = true;
    client.on('data', (data) => {
      state.firstByteAt ??= performance.now();
      const ok = upstream.write(data);
      if (!ok) client.pause();
      let bytes = data;
      if (skip > 0) {
        const n = Math.min(skip, bytes.length);
        skip -= n;
        bytes = bytes.subarray(n);
      }
      if (!decoding || bytes.length === 0) return;
      const at = performance.now();
      let messages;
      try {
        messages = decoder.push(bytes);
      } catch (err) {
        state.decodeError = String(err?.message ?? err);
        decoding = false;
        return;
      }
      for (const msg of messages) {
        if (msg.type !== VIDEO) continue;
        const hash = flvIdrHash(msg.payload);
        if (!hash) continue;
        state.firstKeyframeAt ??= at;
        state.keyframes.push({ at, hash, timestamp: msg.timestamp });
        if (state.keyframes.length > MAX_KEYFRAMES) state.keyframes.shift();
        const woken = waiters;
        waiters = [];
        for (const wake of woken) wake(true);
      }
    });
    upstream.on('drain', () => client.resume());
    upstream.on('data', (data) => {
      if (!client.write(data)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  state.port = server.address().port;
  state.close = () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  /** Resolves true on the next keyframe the publisher sends, false after `timeoutMs`. */
  state.waitKeyframe = (timeoutMs) =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        waiters = waiters.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      function wake(v) {
        clearTimeout(timer);
        resolve(v);
      }
      waiters.push(wake);
    });
  /** The latest keyframe with this hash forwarded at or before `beforeMs` (the clip repeats). */
  state.findKeyframe = (hash, beforeMs) => {
    for (let i = state.keyframes.length - 1; i >= 0; i--) {
      const k = state.keyframes[i];
      if (k.hash === hash && k.at <= beforeMs) return k;
    }
    return null;
  };
  return state;
}
