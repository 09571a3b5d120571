/**
 * Fuzzing: random bytes and mutated valid streams into the chunk decoder, the AMF decoder, the
 * command helpers and the handshakes. Only typed errors (`RtmpError`) may come out; never a
 * TypeError, RangeError or a hang. Iterations are bounded (a few thousand cases in all);
 * RTMP_FUZZ_SCALE=100 multiplies them for a long local run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AmfEcmaArray, decodeAmf0, decodeCommand, decodeData, encodeAmf0, encodeCommand, encodeData } from '../src/amf';
import { concatBytes } from '../src/bytes';
import { ChunkDecoder, ChunkEncoder } from '../src/chunk';
import { MessageType, type RtmpMessage } from '../src/constants';
import { isRtmpError } from '../src/errors';
import { ClientHandshake, ServerHandshake } from '../src/handshake';
import type { ChunkDecoderOptions } from '../src/options';

const SCALE = Math.max(1, Number(process.env.RTMP_FUZZ_SCALE ?? 1) || 1);
const runs = (n: number): number => n * SCALE;
const TIMEOUT = 15_000 * SCALE;

/** Runs `fn`; an error is fine only if it is one of ours. */
function onlyTypedErrors(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (!isRtmpError(err)) throw err;
  }
}

/** A valid publish-like stream: set chunk size, commands, metadata, audio and video. */
function validStream(chunkSize: number): Uint8Array {
  const enc = new ChunkEncoder();
  const messages: RtmpMessage[] = [
    { chunkStreamId: 2, type: 1, streamId: 0, timestamp: 0, payload: Uint8Array.of(0, 0, chunkSize >> 8, chunkSize) },
    {
      chunkStreamId: 3,
      type: MessageType.CommandAmf0,
      streamId: 0,
      timestamp: 0,
      payload: encodeCommand('connect', 1, { app: 'live', tcUrl: 'rtmp://h/live', fpad: false, capabilities: 15 }),
    },
    {
      chunkStreamId: 4,
      type: MessageType.DataAmf0,
      streamId: 1,
      timestamp: 0,
      payload: encodeData('@setDataFrame', 'onMetaData', new AmfEcmaArray({ width: 1280, height: 720, encoder: 'x' })),
    },
  ];
  let ts = 0xfffff0;
  for (let i = 0; i < 6; i++) {
    messages.push({
      chunkStreamId: 6,
      type: MessageType.Video,
      streamId: 1,
      timestamp: ts,
      payload: Uint8Array.from({ length: i === 0 ? 700 : 90 }, (_, j) => j * 31),
    });
    messages.push({
      chunkStreamId: 4,
      type: MessageType.Audio,
      streamId: 1,
      timestamp: ts + 5,
      payload: Uint8Array.of(0xaf, 1, i),
    });
    ts += 33;
  }
  const pieces: Uint8Array[] = [];
  for (const [i, m] of messages.entries()) {
    pieces.push(...enc.encode(m));
    if (i === 0) enc.setChunkSize(chunkSize);
  }
  return concatBytes(pieces);
}

type Mutation = { kind: 'set' | 'insert' | 'delete'; at: number; value: number };
const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('set', 'insert', 'delete'),
  at: fc.nat(),
  value: fc.nat({ max: 255 }),
});

function mutate(bytes: Uint8Array, mutations: Mutation[]): Uint8Array {
  const out = Array.from(bytes);
  for (const { kind, at, value } of mutations) {
    const i = at % (out.length + 1);
    if (kind === 'set' && i < out.length) out[i] = value;
    else if (kind === 'insert') out.splice(i, 0, value);
    else if (kind === 'delete') out.splice(i, 1);
  }
  return Uint8Array.from(out);
}

const optionsArb: fc.Arbitrary<ChunkDecoderOptions | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.record({
    maxMessageSize: fc.integer({ min: 1, max: 70000 }),
    maxChunkStreams: fc.integer({ min: 1, max: 8 }),
    maxPendingBytes: fc.integer({ min: 1, max: 100000 }),
    maxChunkSize: fc.integer({ min: 1, max: 0x7fffffff }),
    payloadSlabSize: fc.constantFrom(0, 4, 4096, 262144),
    inPlace: fc.boolean(),
  }),
);

/** Feeds `bytes` in pieces; decodes AMF bodies of what comes out, as a session would. */
function feed(bytes: Uint8Array, cuts: number[], options: ChunkDecoderOptions | undefined): void {
  const dec = new ChunkDecoder(options);
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let prev = 0;
  let failed: unknown = null;
  for (const p of [...points, bytes.length]) {
    let out: RtmpMessage[];
    try {
      out = dec.push(options?.inPlace ? bytes.slice(prev, p) : bytes.subarray(prev, p));
    } catch (err) {
      if (!isRtmpError(err)) throw err;
      // Once failed, the decoder keeps throwing the same error.
      if (failed !== null) expect(err).toBe(failed);
      failed = err;
      prev = p;
      continue;
    }
    expect(failed).toBeNull();
    prev = p;
    for (const m of out) {
      if (m.type === MessageType.CommandAmf0 || m.type === MessageType.CommandAmf3) {
        onlyTypedErrors(() => decodeCommand(m.payload, m.type));
      } else if (m.type === MessageType.DataAmf0 || m.type === MessageType.DataAmf3) {
        onlyTypedErrors(() => decodeData(m.payload, m.type));
      }
    }
  }
}

describe('fuzz: ChunkDecoder', () => {
  it(
    'random bytes give messages or typed errors',
    () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 3000, size: 'max' }),
          fc.array(fc.nat(), { maxLength: 8 }),
          optionsArb,
          (bytes, cuts, options) => {
            feed(bytes, cuts, options);
          },
        ),
        { numRuns: runs(1500) },
      );
    },
    TIMEOUT,
  );

  it(
    'random bytes behind a valid header prefix (so the decoder gets deep into its states)',
    () => {
      const prefix = validStream(128).subarray(0, 40);
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 2000, size: 'max' }),
          fc.array(fc.nat(), { maxLength: 8 }),
          (tail, cuts) => {
            feed(concatBytes([prefix, tail]), cuts, undefined);
          },
        ),
        { numRuns: runs(500) },
      );
    },
    TIMEOUT,
  );

  it(
    'mutated valid streams give messages or typed errors',
    () => {
      const streams = [validStream(128), validStream(60), validStream(4096)];
      fc.assert(
        fc.property(
          fc.constantFrom(...streams),
          fc.array(mutationArb, { minLength: 1, maxLength: 6 }),
          fc.array(fc.nat(), { maxLength: 8 }),
          optionsArb,
          (stream, mutations, cuts, options) => {
            feed(mutate(stream, mutations), cuts, options);
          },
        ),
        { numRuns: runs(1500) },
      );
    },
    TIMEOUT,
  );
});

describe('fuzz: AMF', () => {
  const valid = [
    encodeCommand('connect', 1, { app: 'live', nested: { a: [1, 2, { b: null }] }, d: new Date(0) }, 'x'),
    encodeData('@setDataFrame', 'onMetaData', new AmfEcmaArray({ width: 1, codec: 'avc1', list: [true, false] })),
    // AMF3 behind AVM+: an array holding an object with sealed members, references and a byte array.
    Uint8Array.of(
      0x11,
      0x09,
      0x07,
      0x01,
      0x0a,
      0x13,
      0x03,
      0x43,
      0x03,
      0x76,
      0x06,
      0x00,
      0x0a,
      0x01,
      0x04,
      0x07,
      0x0a,
      0x02,
    ),
    Uint8Array.of(0x11, 0x0c, 0x07, 1, 2, 3, 0x11, 0x08, 0x01, 0, 0, 0, 0, 0, 0, 0, 0),
    encodeAmf0([1, 'two', { three: 3 }]),
  ];

  it(
    'random bytes give values or typed errors',
    () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 400, size: 'max' }), (bytes) => {
          onlyTypedErrors(() => decodeAmf0(bytes));
          onlyTypedErrors(() => decodeAmf0(Uint8Array.of(0x11, ...bytes)));
          onlyTypedErrors(() => decodeCommand(bytes, 17));
        }),
        { numRuns: runs(1500) },
      );
    },
    TIMEOUT,
  );

  it(
    'mutated valid AMF gives values or typed errors',
    () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...valid),
          fc.array(mutationArb, { minLength: 1, maxLength: 5 }),
          (bytes, mutations) => {
            const mutated = mutate(bytes, mutations);
            onlyTypedErrors(() => decodeAmf0(mutated, { maxDepth: 4, maxItems: 50 }));
            onlyTypedErrors(() => decodeAmf0(mutated));
          },
        ),
        { numRuns: runs(1500) },
      );
    },
    TIMEOUT,
  );
});

describe('fuzz: handshakes', () => {
  it(
    'random bytes give progress or typed errors',
    () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 1, maxLength: 4000, size: 'max' }),
          fc.array(fc.nat(), { maxLength: 4 }),
          (bytes, cuts) => {
            const server = new ServerHandshake();
            const client = new ClientHandshake({ digest: true });
            client.start();
            const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
            let prev = 0;
            for (const p of [...points, bytes.length]) {
              const piece = bytes.subarray(prev, p);
              onlyTypedErrors(() => server.push(piece));
              onlyTypedErrors(() => client.push(piece));
              prev = p;
            }
          },
        ),
        { numRuns: runs(300) },
      );
    },
    TIMEOUT,
  );
});
