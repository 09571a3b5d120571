/**
 * Property tests: whatever the encoder writes, the decoder reads back, for random message lists,
 * chunk sizes (changed mid-stream), timestamps near the 24-bit and 32-bit edges, chunks of messages
 * on different csids interleaved, and random split points.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes } from '../src/bytes';
import { ChunkDecoder, ChunkEncoder } from '../src/chunk';
import { MessageType, type RtmpMessage } from '../src/constants';
import { plain, u32 } from './helpers/bytes';

const csidArb = fc.oneof(fc.integer({ min: 2, max: 8 }), fc.constantFrom(63, 64, 65, 319, 320, 321, 65599));
const timestampArb = fc.oneof(
  fc.integer({ min: 0, max: 200 }),
  fc.constantFrom(0xfffffe, 0xffffff, 0x1000000, 0x1000001, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff),
  fc.integer({ min: 0xffff00, max: 0x1000100 }),
  fc.integer({ min: 0xffffff00, max: 0xffffffff }),
  fc.nat({ max: 0xffffffff }),
);
const payloadArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) },
  { weight: 6, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 600 }) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 600, max: 5000 }).map((n) => Uint8Array.from({ length: n }, (_, i) => i * 7)),
  },
);
const messageArb: fc.Arbitrary<RtmpMessage> = fc.record({
  chunkStreamId: csidArb,
  type: fc.constantFrom(MessageType.Audio, MessageType.Video, MessageType.DataAmf0, MessageType.CommandAmf0, 4, 22),
  streamId: fc.oneof(fc.constantFrom(0, 1, 1), fc.nat({ max: 0xffffffff })),
  timestamp: timestampArb,
  payload: payloadArb,
});
/** Successive messages on a csid usually move forward a little, as real streams do. */
const streamArb = fc
  .array(fc.tuple(messageArb, fc.boolean(), fc.integer({ min: 0, max: 70 })), { minLength: 1, maxLength: 40 })
  .map((items) => {
    const last = new Map<number, number>();
    return items.map(([m, relative, delta]) => {
      const prev = last.get(m.chunkStreamId);
      const timestamp = relative && prev !== undefined ? (prev + delta) >>> 0 : m.timestamp;
      last.set(m.chunkStreamId, timestamp);
      return { ...m, timestamp };
    });
  });
const chunkSizeArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 70000 }) },
  { weight: 2, arbitrary: fc.constantFrom(1, 2, 127, 128, 129, 4096, 60000) },
  { weight: 1, arbitrary: fc.constantFrom(0xffffff, 0x1000000, 0x7fffffff) },
);

type Event = { kind: 'message'; message: RtmpMessage } | { kind: 'chunkSize'; size: number };
const eventsArb: fc.Arbitrary<Event[]> = fc
  .tuple(streamArb, fc.array(fc.tuple(fc.nat({ max: 40 }), chunkSizeArb), { maxLength: 4 }))
  .map(([messages, changes]) => {
    const events: Event[] = messages.map((message) => ({ kind: 'message', message }));
    for (const [at, size] of [...changes].sort((a, b) => b[0] - a[0])) {
      events.splice(Math.min(at, events.length), 0, { kind: 'chunkSize', size });
    }
    return events;
  });

/** One chunk: its header and payload bytes. */
type Chunk = Uint8Array[];

/**
 * Encodes the events. Between chunk size changes, chunks of messages on different csids are
 * interleaved by `picks` (each csid's chunks stay in order, as the protocol requires). Returns the
 * wire bytes and the messages in the order the decoder must complete them.
 */
function encodeEvents(
  events: Event[],
  initialChunkSize: number,
  picks: number[],
): { wire: Uint8Array; expected: RtmpMessage[] } {
  const enc = new ChunkEncoder();
  const pieces: Uint8Array[] = [];
  const expected: RtmpMessage[] = [];
  let pickIndex = 0;
  let segment: { csid: number; chunks: Chunk[]; message: RtmpMessage }[] = [];

  const flush = (): void => {
    const queues = new Map<number, { chunk: Chunk; completes: RtmpMessage | null }[]>();
    for (const { csid, chunks, message } of segment) {
      const q = queues.get(csid) ?? [];
      chunks.forEach((chunk, i) => {
        q.push({ chunk, completes: i === chunks.length - 1 ? message : null });
      });
      queues.set(csid, q);
    }
    const ids = [...queues.keys()];
    while (ids.length > 0) {
      const k = (picks[pickIndex++ % Math.max(picks.length, 1)] ?? 0) % ids.length;
      const q = queues.get(ids[k]!)!;
      const item = q.shift()!;
      pieces.push(...item.chunk);
      if (item.completes !== null) expected.push(item.completes);
      if (q.length === 0) ids.splice(k, 1);
    }
    segment = [];
  };

  const control = (size: number): void => {
    flush();
    const message: RtmpMessage = {
      chunkStreamId: 2,
      type: MessageType.SetChunkSize,
      streamId: 0,
      timestamp: 0,
      payload: Uint8Array.from(u32(size)),
    };
    pieces.push(...enc.encode(message));
    expected.push(message);
    enc.setChunkSize(size);
  };

  if (initialChunkSize !== 128) control(initialChunkSize);
  for (const e of events) {
    if (e.kind === 'chunkSize') {
      control(e.size);
      continue;
    }
    const out = enc.encode(e.message);
    const chunks: Chunk[] = [];
    for (let i = 0; i < out.length; i += 2) chunks.push(out.slice(i, i + 2));
    segment.push({ csid: e.message.chunkStreamId, chunks, message: e.message });
  }
  flush();
  return { wire: concatBytes(pieces), expected: plain(expected) };
}

function decodeSplit(wire: Uint8Array, cuts: number[], inPlace = false): RtmpMessage[] {
  const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
  const dec = new ChunkDecoder({ maxChunkStreams: 65598, inPlace });
  const out: RtmpMessage[] = [];
  let prev = 0;
  for (const p of [...points, wire.length]) {
    // In place mode may rewrite what it is given, so it gets a copy, as a socket's fresh Buffer.
    out.push(...dec.push(inPlace ? wire.slice(prev, p) : wire.subarray(prev, p)));
    prev = p;
  }
  expect(dec.bytesReceived).toBe(wire.length);
  expect(dec.pendingMessageBytes).toBe(0);
  return plain(out);
}

describe('chunk encoder → decoder round trip', () => {
  it('reproduces random message lists at random chunk sizes, interleavings and split points', () => {
    fc.assert(
      fc.property(
        eventsArb,
        chunkSizeArb,
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.boolean(),
        (events, chunkSize, picks, cuts, inPlace) => {
          const { wire, expected } = encodeEvents(events, chunkSize, picks);
          expect(decodeSplit(wire, cuts, inPlace)).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is split-invariant byte by byte for small streams', () => {
    fc.assert(
      fc.property(
        fc.array(
          messageArb.map((m) => ({ ...m, payload: m.payload.subarray(0, 300) })),
          { minLength: 1, maxLength: 6 },
        ),
        fc.integer({ min: 1, max: 200 }),
        (messages, chunkSize) => {
          const { wire, expected } = encodeEvents(
            messages.map((message) => ({ kind: 'message', message })),
            chunkSize,
            [],
          );
          const dec = new ChunkDecoder();
          const out: RtmpMessage[] = [];
          for (let i = 0; i < wire.length; i++) out.push(...dec.push(wire.subarray(i, i + 1)));
          expect(plain(out)).toEqual(expected);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('reads both fmt 3 extended-timestamp conventions at random splits', () => {
    // The encoder repeats the extended timestamp on fmt 3 chunks (ffmpeg); strip those 4 bytes to get
    // the OBS < 30.1 convention. Each chunk's payload starts with a 0 byte, and the stored value
    // (≥ 2^24) never does, so the look-ahead cannot mistake payload for a timestamp.
    fc.assert(
      fc.property(
        fc.integer({ min: 0x1000000, max: 0xffffffff }),
        fc.integer({ min: 129, max: 1000 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (timestamp, length, cuts) => {
          const message: RtmpMessage = {
            chunkStreamId: 6,
            type: MessageType.Video,
            streamId: 1,
            timestamp,
            payload: Uint8Array.from({ length }, (_, i) => (i % 128 === 0 ? 0 : i)),
          };
          // A later message follows, as on a live connection: without it, a last chunk shorter than 4
          // bytes would wait for the look-ahead forever.
          const next: RtmpMessage = {
            ...message,
            chunkStreamId: 4,
            type: MessageType.Audio,
            payload: new Uint8Array(1),
          };
          const enc = new ChunkEncoder();
          const pieces = enc.encode(message);
          const tail = enc.encode(next);
          const obs = pieces.map((p, i) => (i >= 2 && i % 2 === 0 ? p.subarray(0, 1) : p));
          expect(pieces[2]).toHaveLength(5);
          for (const wire of [concatBytes([...pieces, ...tail]), concatBytes([...obs, ...tail])]) {
            expect(decodeSplit(wire, cuts)).toEqual(plain([message, next]));
            expect(decodeSplit(wire, cuts, true)).toEqual(plain([message, next]));
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
