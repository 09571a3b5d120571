import { describe, expect, it } from 'vitest';
import { HANDSHAKE_SIZE } from '../src/constants';
import { type RtmpError, RtmpProtocolError } from '../src/errors';
import {
  ClientHandshake,
  digestOffset,
  FMS_KEY_TEXT_LENGTH,
  FP_KEY_TEXT_LENGTH,
  findDigest,
  GENUINE_FMS_KEY,
  GENUINE_FP_KEY,
  makeDigestHandshakeBlock,
  makeS2Digest,
  ServerHandshake,
  verifyS2Digest,
} from '../src/handshake';
import { b, concat, seq, u32 } from './helpers/bytes';

/** Deterministic "random": bytes counting from a seed. */
const counting =
  (seed: number) =>
  (n: number): Uint8Array =>
    seq(n, seed);

const fpKey = GENUINE_FP_KEY.subarray(0, FP_KEY_TEXT_LENGTH);
const fmsKey = GENUINE_FMS_KEY.subarray(0, FMS_KEY_TEXT_LENGTH);

/** A plain C1: time, four zero bytes, filler. */
function plainC1(): Uint8Array {
  return b(
    u32(1234), // time
    u32(0), // zero: plain handshake
    seq(HANDSHAKE_SIZE - 8, 9), // filler
  );
}

function run(server: ServerHandshake, pieces: Uint8Array[]): { output: Uint8Array; done: boolean; rest: Uint8Array } {
  const output: Uint8Array[] = [];
  let done = false;
  const rest: Uint8Array[] = [];
  for (const p of pieces) {
    const step = server.push(p);
    output.push(...step.output);
    done = step.done;
    rest.push(step.rest);
  }
  return { output: concat(output), done, rest: concat(rest) };
}

describe('key constants', () => {
  it('are the Flash Player (62 bytes) and FMS (68 bytes) keys', () => {
    expect(GENUINE_FP_KEY).toHaveLength(62);
    expect(GENUINE_FMS_KEY).toHaveLength(68);
    expect(new TextDecoder().decode(fpKey)).toBe('Genuine Adobe Flash Player 001');
    expect(new TextDecoder().decode(fmsKey)).toBe('Genuine Adobe Flash Media Server 001');
    expect(GENUINE_FP_KEY.subarray(30)).toEqual(GENUINE_FMS_KEY.subarray(36));
  });

  it('digest offsets follow the two schemes', () => {
    const block = new Uint8Array(HANDSHAKE_SIZE);
    block.set([200, 200, 200, 200], 8); // 800 % 728 = 72 → 72 + 12
    block.set([1, 2, 3, 4], 772); // 10 → 10 + 776
    expect(digestOffset(block, 0)).toBe(84);
    expect(digestOffset(block, 1)).toBe(786);
  });
});

describe('ServerHandshake: plain', () => {
  const c0 = b(0x03); // version 3
  const c1 = plainC1();
  const c2 = seq(HANDSHAKE_SIZE, 77); // rtmp2sink-style C2 that differs from S1: length is all we check
  const connect = b(0x03, 0x00, 0x00, 0x00); // first bytes of the chunk stream

  it('answers C0+C1 with S0+S1+S2 (time, zeros, random; C1 echoed) and returns what follows C2', () => {
    const server = new ServerHandshake({ now: () => 0x01020304, random: counting(100) });
    const step1 = server.push(concat([c0, c1]));
    expect(step1.done).toBe(false);
    expect(step1.output).toHaveLength(1);
    const out = step1.output[0]!;
    expect(out).toHaveLength(1 + 2 * HANDSHAKE_SIZE);
    expect(out[0]).toBe(3);
    expect(out.subarray(1, 5)).toEqual(b(u32(0x01020304)));
    expect(out.subarray(5, 9)).toEqual(b(u32(0)));
    expect(out.subarray(9, 1 + HANDSHAKE_SIZE)).toEqual(seq(HANDSHAKE_SIZE - 8, 100));
    expect(out.subarray(1 + HANDSHAKE_SIZE)).toEqual(c1);
    expect(server.digest).toBe(false);

    const step2 = server.push(concat([c2, connect]));
    expect(step2).toEqual({ output: [], done: true, rest: connect });
    expect(server.done).toBe(true);
    // After completion every byte is passed through.
    expect(server.push(b(9, 9)).rest).toEqual(b(9, 9));
  });

  it('gives the same result however the bytes are split', () => {
    const all = concat([c0, c1, c2, connect]);
    const whole = run(new ServerHandshake({ now: () => 7, random: counting(1) }), [all]);
    expect(whole.done).toBe(true);
    expect(whole.rest).toEqual(connect);
    for (const cut of [1, 2, 1536, 1537, 1538, 3072, 3073, 3074, all.length - 1]) {
      const split = run(new ServerHandshake({ now: () => 7, random: counting(1) }), [
        all.subarray(0, cut),
        all.subarray(cut),
      ]);
      expect(split, `cut at ${cut}`).toEqual(whole);
    }
    const bytewise = run(
      new ServerHandshake({ now: () => 7, random: counting(1) }),
      Array.from(all, (x) => Uint8Array.of(x)),
    );
    expect(bytewise).toEqual(whole);
  });

  it('is not done until C2 is complete', () => {
    const server = new ServerHandshake();
    server.push(concat([c0, c1]));
    expect(server.push(c2.subarray(0, 1535))).toMatchObject({ done: false, output: [] });
    expect(server.push(c2.subarray(1535))).toMatchObject({ done: true });
  });
});

describe('ServerHandshake: bad versions', () => {
  it.each([
    [6, /RTMPE .*version 6/],
    [8, /RTMPE/],
    [9, /RTMPE/],
    [0x47, /HTTP .*0x47 'G'/],
    [0x16, /unsupported RTMP version 22/],
    [0xff, /HTTP or another protocol \(first byte 0xff\)/],
    [0, /unsupported RTMP version 0/],
  ])('C0 = %i → ERR_RTMP_BAD_VERSION', (version, says) => {
    const server = new ServerHandshake();
    let caught: unknown;
    try {
      server.push(b(version)); // C0 alone: refused before C1 arrives
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(RtmpProtocolError);
    expect((caught as RtmpError).code).toBe('ERR_RTMP_BAD_VERSION');
    expect((caught as RtmpError).message).toMatch(says);
  });

  it('an HTTP request line is refused on its first byte', () => {
    expect(() => new ServerHandshake().push(new TextEncoder().encode('GET / HTTP/1.1\r\n'))).toThrow(/HTTP/);
  });
});

describe('digest handshake', () => {
  it('a digest C1 (either scheme) gets an S1 signed with the FMS key and an S2 derived from the C1 digest', () => {
    for (const scheme of [0, 1] as const) {
      const c1 = makeDigestHandshakeBlock({
        time: 0,
        version: [9, 0, 124, 2],
        key: fpKey,
        scheme,
        random: seq(HANDSHAKE_SIZE, 3 + scheme),
      });
      const server = new ServerHandshake({ random: counting(50) });
      const [out] = server.push(concat([b(3), c1.block])).output;
      expect(server.digest).toBe(true);
      const s1 = out!.subarray(1, 1 + HANDSHAKE_SIZE);
      const s2 = out!.subarray(1 + HANDSHAKE_SIZE);
      const found = findDigest(s1, fmsKey);
      expect(found?.scheme).toBe(scheme);
      expect(s1.subarray(4, 8)).not.toEqual(b(0, 0, 0, 0));
      expect(verifyS2Digest(s2, c1.digest, GENUINE_FMS_KEY)).toBe(true);
      // The signature really depends on the client's digest.
      const other = c1.digest.slice();
      other[0]! ^= 1;
      expect(verifyS2Digest(s2, other, GENUINE_FMS_KEY)).toBe(false);
    }
  });

  it('a C1 with a version but no valid digest falls back to the plain answer (S2 = C1)', () => {
    const c1 = b(u32(0), [9, 0, 124, 2], seq(HANDSHAKE_SIZE - 8));
    const server = new ServerHandshake();
    const [out] = server.push(concat([b(3), c1])).output;
    expect(server.digest).toBe(false);
    expect(out!.subarray(1 + HANDSHAKE_SIZE)).toEqual(c1);
    expect(out!.subarray(5, 9)).toEqual(b(0, 0, 0, 0));
  });

  it('findDigest rejects a block whose digest was tampered with', () => {
    const { block } = makeDigestHandshakeBlock({
      time: 1,
      version: [1, 2, 3, 4],
      key: fpKey,
      scheme: 0,
      random: seq(2000),
    });
    expect(findDigest(block, fpKey)).not.toBeNull();
    expect(findDigest(block, fmsKey)).toBeNull();
    const tampered = block.slice();
    tampered[1000]! ^= 0xff;
    expect(findDigest(tampered, fpKey)).toBeNull();
  });

  it('makeS2Digest / verifyS2Digest agree and catch a flipped byte', () => {
    const peer = seq(32, 5);
    const s2 = makeS2Digest(peer, GENUINE_FMS_KEY, seq(2000, 1));
    expect(verifyS2Digest(s2, peer, GENUINE_FMS_KEY)).toBe(true);
    const bad = s2.slice();
    bad[10]! ^= 1;
    expect(verifyS2Digest(bad, peer, GENUINE_FMS_KEY)).toBe(false);
  });
});

describe('ClientHandshake ↔ ServerHandshake', () => {
  for (const digest of [false, true]) {
    it(`completes (${digest ? 'digest' : 'plain'} C1) with trailing bytes on both sides`, () => {
      const client = new ClientHandshake({ digest });
      const server = new ServerHandshake();
      const c0c1 = client.start();
      expect(c0c1).toHaveLength(1 + HANDSHAKE_SIZE);
      expect(c0c1[0]).toBe(3);
      expect(c0c1.subarray(5, 9).some((x) => x !== 0)).toBe(digest);

      const s = server.push(c0c1);
      expect(server.digest).toBe(digest);
      // Server's S0S1S2 plus a first server chunk, byte-split in two.
      const serverBytes = concat([...s.output, b(0x02, 0xaa)]);
      const c1 = client.push(serverBytes.subarray(0, 700));
      expect(c1.output).toEqual([]);
      const c2 = client.push(serverBytes.subarray(700));
      expect(c2.done).toBe(true);
      expect(c2.rest).toEqual(b(0x02, 0xaa));
      expect(c2.output).toHaveLength(1);
      expect(c2.output[0]).toHaveLength(HANDSHAKE_SIZE);

      const fin = server.push(concat([c2.output[0]!, b(0x03, 0x01)]));
      expect(fin.done).toBe(true);
      expect(fin.rest).toEqual(b(0x03, 0x01));
    });
  }

  it('a digest client verifies the server S2 and refuses a forged one', () => {
    const client = new ClientHandshake({ digest: true });
    const server = new ServerHandshake();
    const [out] = server.push(client.start()).output;
    const forged = out!.slice();
    forged[forged.length - 1]! ^= 1;
    expect(() => client.push(forged)).toThrow(/S2 signature/);
  });

  it('a digest C2 verifies against the server S1 digest with the Flash Player key', () => {
    const client = new ClientHandshake({ digest: true });
    const server = new ServerHandshake();
    const [out] = server.push(client.start()).output;
    const step = client.push(out!);
    const s1Digest = findDigest(out!.subarray(1, 1 + HANDSHAKE_SIZE), fmsKey)!.digest;
    expect(verifyS2Digest(step.output[0]!, s1Digest, GENUINE_FP_KEY)).toBe(true);
  });

  it('a plain client echoes S1 as C2', () => {
    const client = new ClientHandshake();
    const server = new ServerHandshake();
    const [out] = server.push(client.start()).output;
    const step = client.push(out!);
    expect(step.output[0]).toEqual(out!.subarray(1, 1 + HANDSHAKE_SIZE));
  });

  it('the client refuses a bad S0 and misuse', () => {
    const client = new ClientHandshake();
    expect(() => client.push(b(3))).toThrow(/before start/);
    client.start();
    expect(() => client.start()).toThrow(/twice/);
    expect(() => client.push(b(6))).toThrow(/RTMPE/);
  });
});

describe('handshake failure is final', () => {
  it('a server that refused C0 keeps refusing, even valid bytes', () => {
    const server = new ServerHandshake();
    let first: unknown;
    try {
      server.push(b(6));
    } catch (err) {
      first = err;
    }
    expect(() => server.push(b(3))).toThrow(first as Error);
  });

  it('a client that refused S0 keeps refusing', () => {
    const client = new ClientHandshake();
    client.start();
    expect(() => client.push(b(0x47))).toThrow(/HTTP/);
    expect(() => client.push(b(3))).toThrow(/HTTP/);
  });
});
