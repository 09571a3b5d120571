import { describe, expect, it } from 'vitest';
import { ChunkDecoder, PayloadSlabPool } from '../src/chunk';
import type { RtmpMessage } from '../src/constants';
import { isRtmpError, RtmpError } from '../src/errors';
import type { ChunkDecoderOptions } from '../src/options';
import { b, le32, msg, plain, seq, splitAt, u24, u32 } from './helpers/bytes';

/** Set Chunk Size message on csid 2 (fmt 0, msid 0). */
const setChunkSize = (size: number): Uint8Array =>
  b(
    0x02, // fmt 0, csid 2
    u24(0), // timestamp
    u24(4), // length
    0x01, // type: Set Chunk Size
    le32(0), // msid
    u32(size), // new chunk size
  );

interface DecodeCase {
  name: string;
  bytes: Uint8Array;
  messages: RtmpMessage[];
  /** Expected chunk size after decoding everything (default 128). */
  chunkSize?: number;
}

const cases: DecodeCase[] = [
  {
    name: 'fmt 0, 1-byte basic header (csid 3), msid little-endian',
    bytes: b(
      0x03, // fmt 0, csid 3
      u24(1000), // timestamp
      u24(5), // length
      0x14, // type 20 (command AMF0)
      le32(0x04030201), // msid, little-endian
      seq(5), // payload
    ),
    messages: [msg(3, 20, 0x04030201, 1000, seq(5))],
  },
  {
    name: '2-byte basic header: csid 64 and csid 319',
    bytes: b(
      0x00, // fmt 0, csid field 0 → 2-byte form
      0x00, // csid 64 + 0 = 64
      u24(0), // timestamp
      u24(1), // length
      0x08, // type audio
      le32(1), // msid
      0xaa, // payload
      0x00, // fmt 0, 2-byte form
      0xff, // csid 64 + 255 = 319
      u24(7), // timestamp
      u24(1), // length
      0x09, // type video
      le32(1), // msid
      0xbb, // payload
    ),
    messages: [msg(64, 8, 1, 0, b(0xaa)), msg(319, 9, 1, 7, b(0xbb))],
  },
  {
    name: '3-byte basic header: csid 320, 65599 and 64 (64 + b1 + 256·b2)',
    bytes: b(
      0x01, // fmt 0, csid field 1 → 3-byte form
      0x00, // b1
      0x01, // b2: 64 + 0 + 256 = 320
      u24(1), // timestamp
      u24(1), // length
      0x08, // type
      le32(1), // msid
      0x01, // payload
      0x01, // fmt 0, 3-byte form
      0xff, // b1
      0xff, // b2: 64 + 255 + 65280 = 65599
      u24(2), // timestamp
      u24(1), // length
      0x08, // type
      le32(1), // msid
      0x02, // payload
      0x01, // fmt 0, 3-byte form
      0x00, // b1
      0x00, // b2: 64
      u24(3), // timestamp
      u24(1), // length
      0x08, // type
      le32(1), // msid
      0x03, // payload
    ),
    messages: [msg(320, 8, 1, 1, b(1)), msg(65599, 8, 1, 2, b(2)), msg(64, 8, 1, 3, b(3))],
  },
  {
    name: 'fmt 1 then fmt 2 then fmt 3 new messages accumulate deltas',
    bytes: b(
      0x04, // fmt 0, csid 4
      u24(100), // timestamp
      u24(2), // length
      0x08, // type audio
      le32(1), // msid
      [1, 1], // payload
      0x44, // fmt 1, csid 4
      u24(23), // delta
      u24(3), // length
      0x08, // type
      [2, 2, 2], // payload → ts 123
      0x84, // fmt 2, csid 4
      u24(21), // delta
      [3, 3, 3], // payload → ts 144
      0xc4, // fmt 3, csid 4: new message, same delta 21
      [4, 4, 4], // payload → ts 165
    ),
    messages: [
      msg(4, 8, 1, 100, b(1, 1)),
      msg(4, 8, 1, 123, b(2, 2, 2)),
      msg(4, 8, 1, 144, b(3, 3, 3)),
      msg(4, 8, 1, 165, b(4, 4, 4)),
    ],
  },
  {
    name: 'fmt 3 right after fmt 0 adds the fmt 0 timestamp as delta (spec 5.3.1.2.4)',
    bytes: b(
      0x04, // fmt 0, csid 4
      u24(40), // timestamp
      u24(1), // length
      0x08, // type
      le32(1), // msid
      0x01, // payload
      0xc4, // fmt 3, csid 4: new message
      0x02, // payload → ts 80
    ),
    messages: [msg(4, 8, 1, 40, b(1)), msg(4, 8, 1, 80, b(2))],
  },
  {
    name: 'multi-chunk message: fmt 3 continuations at chunk size 128',
    bytes: b(
      0x06, // fmt 0, csid 6
      u24(0), // timestamp
      u24(300), // length
      0x09, // type video
      le32(1), // msid
      seq(300).subarray(0, 128), // chunk 1
      0xc6, // fmt 3 continuation
      seq(300).subarray(128, 256), // chunk 2
      0xc6, // fmt 3 continuation
      seq(300).subarray(256), // chunk 3 (44 bytes)
    ),
    messages: [msg(6, 9, 1, 0, seq(300))],
  },
  {
    name: 'interleaved chunk streams (audio csid 4 between video csid 6 chunks)',
    bytes: b(
      0x06, // fmt 0, csid 6
      u24(10), // timestamp
      u24(200), // length
      0x09, // video
      le32(1), // msid
      seq(200).subarray(0, 128), // video chunk 1
      0x04, // fmt 0, csid 4
      u24(12), // timestamp
      u24(3), // length
      0x08, // audio
      le32(1), // msid
      [9, 9, 9], // audio payload (complete)
      0xc6, // fmt 3, csid 6 continuation
      seq(200).subarray(128), // video chunk 2
    ),
    messages: [msg(4, 8, 1, 12, b(9, 9, 9)), msg(6, 9, 1, 10, seq(200))],
  },
  {
    name: 'zero-length message completes at its header',
    bytes: b(
      0x03, // fmt 0, csid 3
      u24(5), // timestamp
      u24(0), // length 0
      0x12, // type 18 (data)
      le32(1), // msid
      0xc3, // fmt 3, csid 3: another zero-length message, ts 10
    ),
    messages: [msg(3, 18, 1, 5, b()), msg(3, 18, 1, 10, b())],
  },
  {
    name: 'extended timestamp on fmt 0 is absolute; fmt 3 continuation repeats it (ffmpeg)',
    bytes: b(
      0x06, // fmt 0, csid 6
      u24(0xffffff), // timestamp: extended marker
      u24(130), // length
      0x09, // video
      le32(1), // msid
      u32(0x01000000), // extended timestamp (absolute)
      seq(130).subarray(0, 128), // chunk 1
      0xc6, // fmt 3 continuation
      u32(0x01000000), // repeated extended timestamp
      seq(130).subarray(128), // chunk 2
    ),
    messages: [msg(6, 9, 1, 0x01000000, seq(130))],
  },
  {
    name: 'extended timestamp on fmt 0; fmt 3 continuation omits it (OBS < 30.1)',
    bytes: b(
      0x06, // fmt 0, csid 6
      u24(0xffffff), // extended marker
      u24(134), // length
      0x09, // video
      le32(1), // msid
      u32(0x01000000), // extended timestamp
      seq(134).subarray(0, 128), // chunk 1
      0xc6, // fmt 3 continuation, no extended timestamp
      seq(134).subarray(128), // chunk 2: 6 bytes [128..133], not equal to 0x01000000
    ),
    messages: [msg(6, 9, 1, 0x01000000, seq(134))],
  },
  {
    name: 'extended timestamp on fmt 1 and fmt 2 is a delta; fmt 3 new message repeats and re-adds it',
    bytes: b(
      0x04, // fmt 0, csid 4
      u24(1000), // timestamp
      u24(1), // length
      0x08, // audio
      le32(1), // msid
      0x01, // payload
      0x44, // fmt 1, csid 4
      u24(0xffffff), // extended marker
      u24(1), // length
      0x08, // audio
      u32(0x01000000), // extended delta
      0x02, // payload → 1000 + 2^24
      0x84, // fmt 2, csid 4
      u24(0xffffff), // extended marker
      u32(0x02000000), // extended delta
      0x03, // payload → 1000 + 3·2^24
      0xc4, // fmt 3, csid 4: new message
      u32(0x02000000), // repeated extended delta
      0x04, // payload → 1000 + 5·2^24
    ),
    messages: [
      msg(4, 8, 1, 1000, b(1)),
      msg(4, 8, 1, 1000 + 0x01000000, b(2)),
      msg(4, 8, 1, 1000 + 0x03000000, b(3)),
      msg(4, 8, 1, 1000 + 0x05000000, b(4)),
    ],
  },
  {
    name: 'extended delta on fmt 1; its fmt 3 continuation omits the extended field (OBS < 30.1)',
    bytes: b(
      0x06, // fmt 0, csid 6
      u24(0), // timestamp
      u24(1), // length
      0x09, // video
      le32(1), // msid
      0x00, // payload
      0x46, // fmt 1, csid 6
      u24(0xffffff), // extended marker
      u24(130), // length
      0x09, // video
      u32(0x01000000), // extended delta
      seq(130).subarray(0, 128), // chunk 1
      0xc6, // fmt 3 continuation, no extended field
      seq(130).subarray(128), // chunk 2: bytes 128, 129
      0x04, // next message (fmt 0, csid 4) so the 4-byte look-ahead has bytes to see
      u24(0), // timestamp
      u24(1), // length
      0x08, // audio
      le32(1), // msid
      0x07, // payload
    ),
    messages: [msg(6, 9, 1, 0, b(0)), msg(6, 9, 1, 0x01000000, seq(130)), msg(4, 8, 1, 0, b(7))],
  },
  {
    name: 'negative delta 0xFFFFFFA1 (−95 ms, librtmp shared csid)',
    bytes: b(
      0x04, // fmt 0, csid 4
      u24(1000), // timestamp
      u24(1), // length
      0x08, // audio
      le32(1), // msid
      0x01, // payload
      0x44, // fmt 1, csid 4
      u24(0xffffff), // extended marker
      u24(1), // length
      0x09, // video
      u32(0xffffffa1), // extended delta −95
      0x02, // payload → 905
    ),
    messages: [msg(4, 8, 1, 1000, b(1)), msg(4, 9, 1, 905, b(2))],
  },
  {
    name: 'timestamps wrap across 2^32',
    bytes: b(
      0x04, // fmt 0, csid 4
      u24(0xffffff), // extended marker
      u24(1), // length
      0x08, // audio
      le32(1), // msid
      u32(0xfffffff0), // absolute timestamp 2^32 − 16
      0x01, // payload
      0x84, // fmt 2, csid 4
      u24(0x20), // delta 32
      0x02, // payload → 16 after wrap
    ),
    messages: [msg(4, 8, 1, 0xfffffff0, b(1)), msg(4, 8, 1, 0x10, b(2))],
  },
  {
    name: '24-bit boundary: 0xFFFFFE fits, 0xFFFFFF needs the extended field',
    bytes: b(
      0x04, // fmt 0, csid 4
      u24(0xfffffe), // timestamp 16,777,214 (no extension)
      u24(1), // length
      0x08, // audio
      le32(1), // msid
      0x01, // payload
      0x05, // fmt 0, csid 5
      u24(0xffffff), // extended marker
      u24(1), // length
      0x08, // audio
      le32(1), // msid
      u32(0x00ffffff), // extended timestamp 16,777,215
      0x02, // payload
    ),
    messages: [msg(4, 8, 1, 0xfffffe, b(1)), msg(5, 8, 1, 0xffffff, b(2))],
  },
  {
    name: 'Set Chunk Size 4096 applies to the next chunk and is returned',
    bytes: b(
      setChunkSize(4096), // csid 2 control message
      0x06, // fmt 0, csid 6
      u24(0), // timestamp
      u24(300), // length
      0x09, // video
      le32(1), // msid
      seq(300), // one 300-byte chunk
    ),
    messages: [msg(2, 1, 0, 0, b(u32(4096))), msg(6, 9, 1, 0, seq(300))],
    chunkSize: 4096,
  },
  {
    name: 'Set Chunk Size 2^31 − 1 (rtmp2sink maximum)',
    bytes: b(
      setChunkSize(0x7fffffff), // control message
      0x06, // fmt 0, csid 6
      u24(0), // timestamp
      u24(300), // length
      0x09, // video
      le32(1), // msid
      seq(300), // one chunk
    ),
    messages: [msg(2, 1, 0, 0, b(u32(0x7fffffff))), msg(6, 9, 1, 0, seq(300))],
    chunkSize: 0x7fffffff,
  },
  {
    name: 'Set Chunk Size between two chunks of a message on another csid changes the next chunk',
    bytes: b(
      0x06, // fmt 0, csid 6
      u24(0), // timestamp
      u24(300), // length
      0x09, // video
      le32(1), // msid
      seq(300).subarray(0, 128), // chunk 1 at size 128
      setChunkSize(256), // takes effect for the sender's next chunk
      0xc6, // fmt 3 continuation
      seq(300).subarray(128), // chunk 2: the remaining 172 bytes in one chunk
    ),
    messages: [msg(2, 1, 0, 0, b(u32(256))), msg(6, 9, 1, 0, seq(300))],
    chunkSize: 256,
  },
  {
    name: 'Abort drops the partial message; an unknown csid is ignored',
    bytes: b(
      0x06, // fmt 0, csid 6
      u24(0), // timestamp
      u24(200), // length
      0x09, // video
      le32(1), // msid
      seq(128), // chunk 1 of 2
      0x02, // fmt 0, csid 2
      u24(0), // timestamp
      u24(4), // length
      0x02, // type: Abort
      le32(0), // msid
      u32(6), // csid to abort
      0x42, // fmt 1, csid 2
      u24(0), // delta
      u24(4), // length
      0x02, // Abort
      u32(99), // unknown csid: ignored
      0x06, // fmt 0, csid 6: allowed again, a new message
      u24(5), // timestamp
      u24(1), // length
      0x09, // video
      le32(1), // msid
      0x07, // payload
    ),
    messages: [msg(2, 2, 0, 0, b(u32(6))), msg(2, 2, 0, 0, b(u32(99))), msg(6, 9, 1, 5, b(7))],
  },
];

function decodeAll(
  pieces: readonly Uint8Array[],
  options?: ChunkDecoderOptions,
): { messages: RtmpMessage[]; decoder: ChunkDecoder } {
  const decoder = new ChunkDecoder(options);
  const messages: RtmpMessage[] = [];
  for (const p of pieces) messages.push(...decoder.push(p));
  return { messages: plain(messages), decoder };
}

describe('ChunkDecoder: header forms', () => {
  it.each(cases)('$name', ({ bytes, messages, chunkSize }) => {
    const { messages: got, decoder } = decodeAll([bytes]);
    expect(got).toEqual(messages);
    expect(decoder.chunkSize).toBe(chunkSize ?? 128);
    expect(decoder.bytesReceived).toBe(bytes.length);
    expect(decoder.pendingMessageBytes).toBe(0);
  });

  it.each(cases)('$name: inPlace gives the same messages at every split offset', ({ bytes, messages }) => {
    for (let i = 0; i <= bytes.length; i++) {
      const pieces = splitAt(bytes, [i]).map((p) => Uint8Array.from(p));
      expect(decodeAll(pieces, { inPlace: true }).messages, `split at ${i}`).toEqual(messages);
    }
  });

  it.each(cases)('$name: identical at every split offset and byte by byte', ({ bytes, messages }) => {
    for (let i = 0; i <= bytes.length; i++) {
      expect(decodeAll(splitAt(bytes, [i])).messages, `split at ${i}`).toEqual(messages);
    }
    for (let i = 0; i + 7 <= bytes.length; i += 3) {
      expect(decodeAll(splitAt(bytes, [i, i + 2, i + 7])).messages, `three splits from ${i}`).toEqual(messages);
    }
    const single = Array.from(bytes, (x) => Uint8Array.of(x));
    expect(decodeAll(single).messages).toEqual(messages);
  });
});

describe('ChunkDecoder: behaviour', () => {
  it('returns a single-chunk message present in one push as a view, multi-chunk ones as copies', () => {
    const input = b(0x03, u24(0), u24(3), 0x14, le32(0), [1, 2, 3]);
    const [m] = new ChunkDecoder().push(input);
    expect(m!.payload.buffer).toBe(input.buffer);
    expect(Buffer.isBuffer(m!.payload)).toBe(true);
    const multi = b(0x06, u24(0), u24(130), 0x09, le32(1), seq(128), 0xc6, seq(2, 128));
    const [m2] = new ChunkDecoder().push(multi);
    expect(m2!.payload.buffer).not.toBe(multi.buffer);
    expect(Uint8Array.from(m2!.payload)).toEqual(seq(130));
    // Overwriting the input afterwards leaves the copy intact.
    multi.fill(0);
    expect(Uint8Array.from(m2!.payload)).toEqual(seq(130));
  });

  it('carves small multi-chunk payloads from a shared slab; payloadSlabSize 0 gives each its own buffer', () => {
    const two = b(
      [0x06, u24(0), u24(130), 0x09, le32(1), seq(128), 0xc6, seq(2, 128)], // message 1 (2 chunks)
      [0x46, u24(1), u24(131), 0x09, seq(128, 7), 0xc6, seq(3, 135)], // message 2 (2 chunks)
    );
    const [a, c] = new ChunkDecoder().push(two);
    expect(a!.payload.buffer).toBe(c!.payload.buffer);
    expect(c!.payload.byteOffset).toBe(a!.payload.byteOffset + 136); // 130 rounded up to 8
    expect(Uint8Array.from(a!.payload)).toEqual(seq(130));
    expect(Uint8Array.from(c!.payload)).toEqual(seq(131, 7));
    const [x, y] = new ChunkDecoder({ payloadSlabSize: 0 }).push(two);
    expect(x!.payload.buffer).not.toBe(y!.payload.buffer);
    expect(x!.payload.buffer.byteLength).toBe(130);
    // A payload over a quarter of the slab gets its own buffer too.
    const [big] = new ChunkDecoder({ payloadSlabSize: 512 }).push(two.subarray(0, 143));
    expect(big!.payload.buffer.byteLength).toBe(130);
    expect(Uint8Array.from(big!.payload)).toEqual(seq(130));
  });

  it('decoders given one PayloadSlabPool carve their payloads from the same slab', () => {
    const msg1 = b([0x06, u24(0), u24(130), 0x09, le32(1), seq(128), 0xc6, seq(2, 128)]);
    const msg2 = b([0x06, u24(0), u24(131), 0x09, le32(1), seq(128, 7), 0xc6, seq(3, 135)]);
    const pool = new PayloadSlabPool(4096);
    const [a] = new ChunkDecoder({ payloadPool: pool }).push(msg1);
    const [c] = new ChunkDecoder({ payloadPool: pool, payloadSlabSize: 0 }).push(msg2); // the pool wins
    expect(c!.payload.buffer).toBe(a!.payload.buffer);
    expect(c!.payload.byteOffset).toBe(a!.payload.byteOffset + 136);
    expect(Uint8Array.from(a!.payload)).toEqual(seq(130));
    expect(Uint8Array.from(c!.payload)).toEqual(seq(131, 7));
    // Without a shared pool each decoder has its own.
    const [x] = new ChunkDecoder().push(msg1);
    const [y] = new ChunkDecoder().push(msg2);
    expect(x!.payload.buffer).not.toBe(y!.payload.buffer);
    expect(() => new PayloadSlabPool(3)).toThrow(/slabSize/);
  });

  it('inPlace: reassembles a message whose chunks are all present inside the pushed buffer', () => {
    const input = b(
      [0x03, u24(0), u24(2), 0x14, le32(0), [9, 9]], // a single-chunk message before it
      [0x06, u24(0), u24(300), 0x09, le32(1)], // fmt 0 header, csid 6, 300 bytes
      seq(300).subarray(0, 128),
      0xc6,
      seq(300).subarray(128, 256),
      0xc6,
      seq(300).subarray(256),
      [0x04, u24(0), u24(1), 0x08, le32(1), 0x05], // a message after it
    );
    const copy = Uint8Array.from(input);
    const out = new ChunkDecoder({ inPlace: true }).push(input);
    expect(plain(out)).toEqual([msg(3, 20, 0, 0, b(9, 9)), msg(6, 9, 1, 0, seq(300)), msg(4, 8, 1, 0, b(5))]);
    // The payload is a view of the input, whose bytes were moved over the two continuation headers.
    expect(out[1]!.payload.buffer).toBe(input.buffer);
    expect(out[1]!.payload.byteOffset).toBe(input.byteOffset + 26);
    // Only the message's own span changed: bytes before it and after it are as pushed.
    expect(input.subarray(0, 26)).toEqual(copy.subarray(0, 26));
    expect(input.subarray(26 + 302)).toEqual(copy.subarray(26 + 302));
    // Without the option the input is left alone.
    const untouched = Uint8Array.from(copy);
    new ChunkDecoder().push(untouched);
    expect(untouched).toEqual(copy);
  });

  it('inPlace: falls back to copying when chunks are missing or interleaved', () => {
    const interleaved = b(
      [0x06, u24(0), u24(200), 0x09, le32(1), seq(128)], // video chunk 1
      [0x04, u24(0), u24(1), 0x08, le32(1), 0x05], // audio between the chunks
      [0xc6, seq(72, 128)], // video chunk 2
    );
    const copy = Uint8Array.from(interleaved);
    expect(plain(new ChunkDecoder({ inPlace: true }).push(interleaved))).toEqual([
      msg(4, 8, 1, 0, b(5)),
      msg(6, 9, 1, 0, seq(200)),
    ]);
    expect(interleaved).toEqual(copy);
    const d = new ChunkDecoder({ inPlace: true });
    expect(d.push(copy.subarray(0, 100))).toEqual([]);
    expect(d.pendingMessageBytes).toBe(200);
  });

  // Regression (found by the split-offset test while writing the decoder): a fmt 3 header whose
  // 4-byte look-ahead straddled two pushes lost the look-ahead bytes that were payload.
  it('regression: waits for 4 bytes after a fmt 3 header that may repeat the extended timestamp', () => {
    const d = new ChunkDecoder();
    const head = b(0x06, u24(0xffffff), u24(129), 0x09, le32(1), u32(0x01000000), seq(128));
    expect(d.push(head)).toEqual([]);
    // Continuation with the timestamp omitted: a fmt 3 header and the last byte, nothing more yet.
    expect(d.push(b(0xc6, 0x80))).toEqual([]);
    // The next chunk's header arrives: now 4 bytes are present and they are not the stored value.
    const out = d.push(b(0x04, u24(1), u24(1), 0x08, le32(1), 0x05));
    expect(plain(out)).toEqual([msg(6, 9, 1, 0x01000000, seq(129)), msg(4, 8, 1, 1, b(5))]);
  });

  it('counts bytesReceived over every push as a plain number', () => {
    const d = new ChunkDecoder();
    d.push(b(0x03, u24(0)));
    d.push(b(u24(2), 0x14, le32(0), [1, 2]));
    expect(d.bytesReceived).toBe(14);
  });

  it('tracks buffered partial messages and releases them on completion and abort', () => {
    const d = new ChunkDecoder();
    d.push(b(0x06, u24(0), u24(200), 0x09, le32(1), seq(128)));
    expect(d.pendingMessageBytes).toBe(200);
    d.push(b(0x02, u24(0), u24(4), 0x02, le32(0), u32(6)));
    expect(d.pendingMessageBytes).toBe(0);
  });
});

interface ErrorCase {
  name: string;
  bytes: Uint8Array;
  options?: ChunkDecoderOptions;
  code: string;
  /** Text the message must contain. */
  says: string;
}

const errorCases: ErrorCase[] = [
  {
    name: 'fmt 1 on a csid never opened',
    bytes: b(
      0x43, // fmt 1, csid 3
      u24(0), // delta
      u24(1), // length
      0x14, // type
      0x00, // payload
    ),
    code: 'ERR_RTMP_CHUNK_STREAM_NOT_OPEN',
    says: 'csid 3',
  },
  {
    name: 'fmt 2 on a csid never opened',
    bytes: b(
      0x85, // fmt 2, csid 5
      u24(0), // delta
    ),
    code: 'ERR_RTMP_CHUNK_STREAM_NOT_OPEN',
    says: 'fmt 2',
  },
  {
    name: 'fmt 3 on a csid never opened (3-byte csid)',
    bytes: b(
      0xc1, // fmt 3, 3-byte form
      0x10, // b1
      0x02, // b2 → csid 64 + 16 + 512 = 592
    ),
    code: 'ERR_RTMP_CHUNK_STREAM_NOT_OPEN',
    says: 'csid 592',
  },
  {
    name: 'fmt 0 on a csid in the middle of a message',
    bytes: b(
      0x06, // fmt 0, csid 6
      u24(0), // timestamp
      u24(200), // length
      0x09, // video
      le32(1), // msid
      seq(128), // chunk 1 of 2
      0x06, // fmt 0 again on csid 6: illegal
    ),
    code: 'ERR_RTMP_HEADER_MID_MESSAGE',
    says: '72 of 200',
  },
  {
    name: 'fmt 1 on a csid in the middle of a message',
    bytes: b(0x06, u24(0), u24(200), 0x09, le32(1), seq(128), 0x46 /* fmt 1, csid 6 */),
    code: 'ERR_RTMP_HEADER_MID_MESSAGE',
    says: 'fmt 1',
  },
  {
    name: 'fmt 2 on a csid in the middle of a message',
    bytes: b(0x06, u24(0), u24(200), 0x09, le32(1), seq(128), 0x86 /* fmt 2, csid 6 */),
    code: 'ERR_RTMP_HEADER_MID_MESSAGE',
    says: 'fmt 2',
  },
  {
    name: 'a declared 16 MB message is refused at header time (default 8 MiB)',
    bytes: b(
      0x06, // fmt 0, csid 6
      u24(0), // timestamp
      u24(16_000_000), // length: 16 MB
      0x09, // video
      le32(1), // msid (no payload follows)
    ),
    code: 'ERR_RTMP_MESSAGE_TOO_LARGE',
    says: '16000000-byte message > maxMessageSize 8388608',
  },
  {
    name: 'maxMessageSize applies to fmt 1 headers too',
    bytes: b(0x04, u24(0), u24(1), 0x08, le32(1), 0x00, 0x44 /* fmt 1 */, u24(0), u24(101), 0x08),
    options: { maxMessageSize: 100 },
    code: 'ERR_RTMP_MESSAGE_TOO_LARGE',
    says: '101-byte',
  },
  {
    name: 'Set Chunk Size 0',
    bytes: setChunkSize(0),
    code: 'ERR_RTMP_BAD_CHUNK_SIZE',
    says: 'Set Chunk Size 0',
  },
  {
    name: 'Set Chunk Size with the top bit set',
    bytes: setChunkSize(0x80000000),
    code: 'ERR_RTMP_BAD_CHUNK_SIZE',
    says: '2147483648',
  },
  {
    name: 'Set Chunk Size above maxChunkSize',
    bytes: setChunkSize(65537),
    options: { maxChunkSize: 65536 },
    code: 'ERR_RTMP_CHUNK_SIZE_TOO_LARGE',
    says: '65537 > maxChunkSize 65536',
  },
  {
    name: 'Set Chunk Size with a 3-byte body',
    bytes: b(0x02, u24(0), u24(3), 0x01, le32(0), [0, 1, 0]),
    code: 'ERR_RTMP_BAD_CONTROL_MESSAGE',
    says: '3-byte body',
  },
  {
    name: 'Abort with a 2-byte body',
    bytes: b(0x02, u24(0), u24(2), 0x02, le32(0), [0, 6]),
    code: 'ERR_RTMP_BAD_CONTROL_MESSAGE',
    says: 'Abort',
  },
  {
    name: 'more chunk streams than maxChunkStreams',
    bytes: b(
      [0x03, u24(0), u24(0), 0x14, le32(0)], // csid 3
      [0x04, u24(0), u24(0), 0x14, le32(0)], // csid 4
      [0x05, u24(0), u24(0), 0x14, le32(0)], // csid 5: the third
    ),
    options: { maxChunkStreams: 2 },
    code: 'ERR_RTMP_TOO_MANY_CHUNK_STREAMS',
    says: 'csid 5',
  },
  {
    name: 'partial messages beyond maxPendingBytes',
    bytes: b(
      [0x06, u24(0), u24(600), 0x09, le32(1), seq(128)], // 600 buffered
      [0x07, u24(0), u24(500), 0x09, le32(1), seq(128)], // +500 > 1000
    ),
    options: { maxPendingBytes: 1000 },
    code: 'ERR_RTMP_PENDING_BYTES',
    says: 'maxPendingBytes 1000',
  },
];

describe('ChunkDecoder: errors', () => {
  it.each(errorCases)('$name → $code', ({ bytes, options, code, says }) => {
    const d = new ChunkDecoder(options);
    let caught: unknown;
    try {
      d.push(bytes);
    } catch (err) {
      caught = err;
    }
    expect(isRtmpError(caught)).toBe(true);
    expect((caught as RtmpError).code).toBe(code);
    expect((caught as RtmpError).message).toContain(says);
    // The decoder stays failed with the same error.
    expect(() => d.push(b(0x03))).toThrow(caught as Error);
  });

  it.each(errorCases)('$name → $code, byte by byte', ({ bytes, options, code }) => {
    const d = new ChunkDecoder(options);
    let caught: unknown;
    try {
      for (const x of bytes) d.push(Uint8Array.of(x));
    } catch (err) {
      caught = err;
    }
    expect((caught as RtmpError).code).toBe(code);
  });
});

describe('ChunkDecoder: options', () => {
  it.each([
    [{ maxMessageSize: 0 }, 'options.maxMessageSize must be an integer in 1..16777215, got 0'],
    [{ maxMessageSize: 0x1000000 }, 'options.maxMessageSize'],
    [{ maxChunkSize: 0x80000000 }, 'options.maxChunkSize must be an integer in 1..2147483647'],
    [{ maxChunkStreams: 1.5 }, 'options.maxChunkStreams'],
    [{ maxPendingBytes: -1 }, 'options.maxPendingBytes'],
    [{ maxPendingBytes: '1' as unknown as number }, 'options.maxPendingBytes'],
    [{ payloadSlabSize: 3 }, 'options.payloadSlabSize must be 0 or an integer in 4..1073741824'],
    [{ inPlace: 1 as unknown as boolean }, 'options.inPlace must be a boolean'],
    [{ payloadPool: {} as unknown as PayloadSlabPool }, 'options.payloadPool must be a PayloadSlabPool'],
  ] as const)('%o is refused', (options, says) => {
    let caught: unknown;
    try {
      new ChunkDecoder(options);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(RtmpError);
    expect((caught as RtmpError).code).toBe('ERR_RTMP_INVALID_OPTION');
    expect((caught as RtmpError).message).toContain(says);
  });

  it('accepts the documented defaults explicitly', () => {
    expect(
      () =>
        new ChunkDecoder({
          maxMessageSize: 8388608,
          maxChunkSize: 2147483647,
          maxChunkStreams: 64,
          maxPendingBytes: 16777216,
        }),
    ).not.toThrow();
  });
});
