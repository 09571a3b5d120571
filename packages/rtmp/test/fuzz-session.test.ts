/**
 * Random and mutated input into RtmpSession: `feed` never throws, and every close carries a typed error
 * of a known code (never ERR_RTMP_INTERNAL, which would mean an exception escaped our own code).
 * Deterministic seeds, so a failure prints what to reproduce.
 */
import { describe, expect, it } from 'vitest';
import { isRtmpError, type RtmpError } from '../src/errors';
import { RtmpSession, type RtmpSessionOptions } from '../src/session';
import { fixtureNames, HANDSHAKE_BYTES, loadFixture } from './helpers/fixtures';
import { clientHandshakeBytes } from './helpers/harness';
import { prng } from './helpers/prng';

/** Every code a session may close with because of its input. */
const EXPECTED_CODES = new Set([
  'ERR_RTMP_BAD_VERSION',
  'ERR_RTMP_HANDSHAKE',
  'ERR_RTMP_CHUNK_STREAM_NOT_OPEN',
  'ERR_RTMP_TOO_MANY_CHUNK_STREAMS',
  'ERR_RTMP_HEADER_MID_MESSAGE',
  'ERR_RTMP_MESSAGE_TOO_LARGE',
  'ERR_RTMP_PENDING_BYTES',
  'ERR_RTMP_BAD_CHUNK_SIZE',
  'ERR_RTMP_CHUNK_SIZE_TOO_LARGE',
  'ERR_RTMP_BAD_CONTROL_MESSAGE',
  'ERR_RTMP_BAD_COMMAND',
  'ERR_RTMP_UNEXPECTED_COMMAND',
  'ERR_RTMP_QUEUE_FULL',
  'ERR_RTMP_REJECTED', // play, empty publish name, publish on an unknown stream
  'ERR_AMF_TRUNCATED',
  'ERR_AMF_UNKNOWN_MARKER',
  'ERR_AMF_DEPTH',
  'ERR_AMF_TOO_LARGE',
  'ERR_AMF_BAD_REFERENCE',
  'ERR_AMF_UNSUPPORTED',
]);

/** Feeds `pieces` and returns how the session ended (null if still open). */
function run(pieces: Uint8Array[], options: RtmpSessionOptions = {}): { err: RtmpError | undefined } | null {
  const s = new RtmpSession({ maxMessageSize: 1 << 20, maxPendingBytes: 2 << 20, ...options });
  let closed: { err: RtmpError | undefined } | null = null;
  s.on('close', (err) => {
    closed = { err };
  });
  s.on('data', () => {});
  for (const p of pieces) {
    expect(() => s.feed(p)).not.toThrow();
    if (closed) break;
  }
  s.close('fuzz done');
  return closed;
}

function check(result: { err: RtmpError | undefined } | null, what: string): void {
  if (result?.err === undefined) return;
  expect(isRtmpError(result.err), what).toBe(true);
  if (!EXPECTED_CODES.has(result.err.code)) {
    expect.unreachable(`${what}: unexpected close code ${result.err.code}: ${result.err.message}`);
  }
}

function split(bytes: Uint8Array, rand: () => number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let o = 0;
  while (o < bytes.length) {
    const n = 1 + Math.floor(rand() * (rand() < 0.2 ? 16 : 3000));
    out.push(bytes.subarray(o, o + n));
    o += n;
  }
  return out;
}

describe('fuzzing RtmpSession', () => {
  it('random bytes, with and without a valid handshake first', { timeout: 20_000 }, () => {
    const rand = prng(12345);
    const { c0c1, c2 } = clientHandshakeBytes();
    const deadline = Date.now() + 8_000;
    for (let i = 0; i < 400 && Date.now() < deadline; i++) {
      const body = Uint8Array.from({ length: Math.floor(rand() * 4096) }, () => Math.floor(rand() * 256));
      check(run([body]), `raw #${i}`);
      check(run([c0c1, c2, ...split(body, rand)]), `after handshake #${i}`);
    }
  });

  it('random chunk-shaped input (plausible basic headers) after a handshake', { timeout: 20_000 }, () => {
    const rand = prng(777);
    const { c0c1, c2 } = clientHandshakeBytes();
    for (let i = 0; i < 300; i++) {
      const parts: number[] = [];
      for (let c = 0; c < 20; c++) {
        const fmt = Math.floor(rand() * 4);
        parts.push((fmt << 6) | (2 + Math.floor(rand() * 6)));
        const len = [11, 7, 3, 0][fmt]!;
        for (let k = 0; k < len; k++) parts.push(k === 3 || k === 4 ? 0 : Math.floor(rand() * 256));
        if (fmt <= 1) parts[parts.length - len + 6] = [1, 3, 4, 5, 6, 8, 9, 18, 20, 22][Math.floor(rand() * 10)]!;
        for (let k = 0; k < rand() * 200; k++) parts.push(Math.floor(rand() * 256));
      }
      check(run([c0c1, c2, ...split(Uint8Array.from(parts), rand)]), `chunky #${i}`);
    }
  });

  it.each(fixtureNames())('mutations of %s', { timeout: 20_000 }, (name) => {
    const f = loadFixture(name);
    const rand = prng(name.length * 31 + 7);
    const deadline = Date.now() + 4_000;
    for (let i = 0; i < 40 && Date.now() < deadline; i++) {
      const bytes = Uint8Array.from(f.c2s);
      const flips = 1 + Math.floor(rand() * 8);
      for (let k = 0; k < flips; k++) {
        const at = HANDSHAKE_BYTES + Math.floor(rand() * (bytes.length - HANDSHAKE_BYTES));
        bytes[at] = rand() < 0.5 ? Math.floor(rand() * 256) : bytes[at]! ^ (1 << Math.floor(rand() * 8));
      }
      const cut = rand() < 0.3 ? bytes.subarray(0, Math.floor(rand() * bytes.length)) : bytes;
      check(run(split(cut, rand)), `${name} mutation #${i}`);
    }
  });

  it('mutated captures with async hooks (queued input) end typed too', async () => {
    const rand = prng(4242);
    for (const name of ['ffmpeg-av', 'gst-rtmp2sink', 'gst-rtmpsink']) {
      const f = loadFixture(name);
      for (let i = 0; i < 10; i++) {
        const bytes = Uint8Array.from(f.c2s);
        for (let k = 0; k < 4; k++) {
          const at = HANDSHAKE_BYTES + Math.floor(rand() * (bytes.length - HANDSHAKE_BYTES));
          bytes[at] = Math.floor(rand() * 256);
        }
        const s = new RtmpSession({
          onConnect: () => Promise.resolve(),
          onPublish: async () => {
            await new Promise((r) => setTimeout(r, 1));
          },
        });
        let result: { err: RtmpError | undefined } | null = null;
        s.on('close', (err) => {
          result = { err };
        });
        for (const p of split(bytes, rand)) expect(() => s.feed(p)).not.toThrow();
        await new Promise((r) => setTimeout(r, 5));
        check(result, `${name} async #${i}`);
        s.close();
      }
    }
  });
});
