import { describe, expect, it } from 'vitest';
import { ChunkDecoder, ChunkEncoder } from '../src/chunk';
import type { RtmpMessage } from '../src/constants';
import { RtmpError } from '../src/errors';
import { b, le32, msg, plain, seq, u24, u32 } from './helpers/bytes';

interface PinnedCase {
  name: string;
  chunkSize?: number;
  messages: RtmpMessage[];
  /** Exact pieces `encode` returns, message after message. */
  chunks: Uint8Array[][];
}

const pinned: PinnedCase[] = [
  {
    name: 'fmt 0 → fmt 1 (length changes) → fmt 2 (delta changes) → fmt 3 (same delta)',
    messages: [
      msg(4, 8, 1, 100, b(1, 1)),
      msg(4, 8, 1, 123, b(2, 2, 2)),
      msg(4, 8, 1, 144, b(3, 3, 3)),
      msg(4, 8, 1, 165, b(4, 4, 4)),
    ],
    chunks: [
      [
        b(
          0x04, // fmt 0, csid 4
          u24(100), // timestamp
          u24(2), // length
          0x08, // type
          le32(1), // msid
        ),
        b(1, 1),
      ],
      [
        b(
          0x44, // fmt 1, csid 4
          u24(23), // delta
          u24(3), // length
          0x08, // type
        ),
        b(2, 2, 2),
      ],
      [
        b(
          0x84, // fmt 2, csid 4
          u24(21), // delta
        ),
        b(3, 3, 3),
      ],
      [
        b(
          0xc4, // fmt 3, csid 4: same length, type, delta
        ),
        b(4, 4, 4),
      ],
    ],
  },
  {
    name: 'never fmt 3 straight after fmt 0: fmt 2 carries the delta',
    messages: [msg(4, 8, 1, 40, b(1)), msg(4, 8, 1, 80, b(2))],
    chunks: [
      [b(0x04, u24(40), u24(1), 0x08, le32(1)), b(1)],
      [
        b(
          0x84, // fmt 2, csid 4
          u24(40), // delta
        ),
        b(2),
      ],
    ],
  },
  {
    name: 'message stream id change and backwards timestamp force fmt 0',
    messages: [msg(5, 9, 1, 1000, b(1)), msg(5, 9, 2, 1010, b(2)), msg(5, 9, 2, 905, b(3))],
    chunks: [
      [b(0x05, u24(1000), u24(1), 0x09, le32(1)), b(1)],
      [b(0x05, u24(1010), u24(1), 0x09, le32(2)), b(2)],
      [
        b(
          0x05, // fmt 0, csid 5
          u24(905), // absolute timestamp (went backwards)
          u24(1), // length
          0x09, // type
          le32(2), // msid
        ),
        b(3),
      ],
    ],
  },
  {
    name: 'split at chunk size 128 with fmt 3 continuation headers',
    messages: [msg(6, 9, 1, 0, seq(300))],
    chunks: [
      [
        b(0x06, u24(0), u24(300), 0x09, le32(1)),
        seq(300).subarray(0, 128),
        b(0xc6), // fmt 3, csid 6
        seq(300).subarray(128, 256),
        b(0xc6),
        seq(300).subarray(256),
      ],
    ],
  },
  {
    name: 'extended timestamp: absolute on fmt 0, repeated on fmt 3 continuations',
    messages: [msg(6, 9, 1, 0x01000000, seq(130))],
    chunks: [
      [
        b(
          0x06, // fmt 0, csid 6
          u24(0xffffff), // extended marker
          u24(130), // length
          0x09, // type
          le32(1), // msid
          u32(0x01000000), // extended timestamp
        ),
        seq(130).subarray(0, 128),
        b(
          0xc6, // fmt 3, csid 6
          u32(0x01000000), // repeated extended timestamp
        ),
        seq(130).subarray(128),
      ],
    ],
  },
  {
    name: 'extended delta on fmt 1, then fmt 3 new message repeating it',
    messages: [msg(4, 8, 1, 0, b(1)), msg(4, 8, 1, 0x01000000, b(2, 2)), msg(4, 8, 1, 0x02000000, b(3, 3))],
    chunks: [
      [b(0x04, u24(0), u24(1), 0x08, le32(1)), b(1)],
      [
        b(
          0x44, // fmt 1, csid 4
          u24(0xffffff), // extended marker
          u24(2), // length
          0x08, // type
          u32(0x01000000), // extended delta
        ),
        b(2, 2),
      ],
      [
        b(
          0xc4, // fmt 3, csid 4
          u32(0x01000000), // repeated extended delta
        ),
        b(3, 3),
      ],
    ],
  },
  {
    name: '2- and 3-byte basic headers (csid 64, 319, 320, 65599)',
    messages: [msg(64, 8, 1, 0, b(1)), msg(319, 8, 1, 0, b(2)), msg(320, 8, 1, 0, b(3)), msg(65599, 8, 1, 0, b(4))],
    chunks: [
      [b(0x00, 0x00, u24(0), u24(1), 0x08, le32(1)), b(1)],
      [b(0x00, 0xff, u24(0), u24(1), 0x08, le32(1)), b(2)],
      [b(0x01, 0x00, 0x01, u24(0), u24(1), 0x08, le32(1)), b(3)],
      [b(0x01, 0xff, 0xff, u24(0), u24(1), 0x08, le32(1)), b(4)],
    ],
  },
  {
    name: 'zero-length message is a header alone',
    messages: [msg(3, 18, 1, 5, b())],
    chunks: [[b(0x03, u24(5), u24(0), 0x12, le32(1))]],
  },
  {
    name: 'chunk size 4096 sends a 300-byte message in one chunk',
    chunkSize: 4096,
    messages: [msg(6, 9, 1, 0, seq(300))],
    chunks: [[b(0x06, u24(0), u24(300), 0x09, le32(1)), seq(300)]],
  },
];

describe('ChunkEncoder: pinned output', () => {
  it.each(pinned)('$name', ({ chunkSize, messages, chunks }) => {
    const enc = new ChunkEncoder(chunkSize === undefined ? undefined : { chunkSize });
    const got = messages.map((m) => enc.encode(m).map((p) => Uint8Array.from(p)));
    expect(got).toEqual(chunks);
  });

  it.each(pinned)('$name: decodes back to the same messages', ({ chunkSize, messages }) => {
    const enc = new ChunkEncoder(chunkSize === undefined ? undefined : { chunkSize });
    const dec = new ChunkDecoder();
    const out: RtmpMessage[] = [];
    if (chunkSize !== undefined) {
      out.push(...dec.push(new ChunkEncoder().encodeToBuffer(msg(2, 1, 0, 0, b(u32(chunkSize))))));
    }
    for (const m of messages) out.push(...dec.push(enc.encodeToBuffer(m)));
    expect(plain(out).filter((m) => m.type !== 1)).toEqual(messages);
  });
});

describe('ChunkEncoder: behaviour', () => {
  it('returns views of the payload, not copies', () => {
    const payload = seq(300);
    const pieces = new ChunkEncoder().encode(msg(6, 9, 1, 0, payload));
    // msg() copies; encode a message that holds `payload` itself.
    const direct = new ChunkEncoder().encode({ chunkStreamId: 6, type: 9, streamId: 1, timestamp: 0, payload });
    expect(direct[1]!.buffer).toBe(payload.buffer);
    expect(direct[3]!.buffer).toBe(payload.buffer);
    expect(pieces).toHaveLength(6);
  });

  it('setChunkSize applies to the next message and validates', () => {
    const enc = new ChunkEncoder();
    expect(enc.chunkSize).toBe(128);
    enc.setChunkSize(0x7fffffff);
    expect(enc.chunkSize).toBe(0x7fffffff);
    expect(enc.encode(msg(6, 9, 1, 0, seq(1000)))).toHaveLength(2);
    expect(() => enc.setChunkSize(0)).toThrow(/chunkSize must be an integer in 1\.\.2147483647/);
    expect(() => enc.setChunkSize(0x80000000)).toThrow(RtmpError);
    expect(() => new ChunkEncoder({ chunkSize: 1.5 })).toThrow(/options\.chunkSize/);
  });

  it('reduces timestamps modulo 2^32', () => {
    const enc = new ChunkEncoder();
    const bytes = enc.encodeToBuffer({ chunkStreamId: 4, type: 8, streamId: 1, timestamp: 2 ** 32 + 5, payload: b(1) });
    expect(plain(new ChunkDecoder().push(bytes))).toEqual([msg(4, 8, 1, 5, b(1))]);
  });

  it.each([
    [{ chunkStreamId: 1 }, 'chunkStreamId must be an integer in 2..65599'],
    [{ chunkStreamId: 65600 }, 'chunkStreamId'],
    [{ type: 256 }, 'type must be an integer in 0..255'],
    [{ streamId: -1 }, 'streamId'],
    [{ timestamp: 1.5 }, 'timestamp must be an integer'],
    [{ payload: new Uint8Array(0x1000000) }, 'exceeds the 24-bit length field'],
  ] as const)('refuses %o', (patch, says) => {
    const m = { ...msg(4, 8, 1, 0, b(1)), ...patch };
    expect(() => new ChunkEncoder().encode(m)).toThrow(says);
  });
});
