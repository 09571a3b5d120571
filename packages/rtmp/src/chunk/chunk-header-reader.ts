/**
 * The header half of the chunk stream decoder: the chunk stream table and the parser that reads one
 * chunk header into it. {@link ChunkDecoder} does the other half (payload reassembly, delivery).
 * Spec: Adobe RTMP Specification 1.0 (December 2012), §5.3.1 (chunk format). Checklist §2.
 *
 *   basic header (1–3 bytes)
 *     byte 0:  fmt (bits 7–6) | csid (bits 5–0)
 *              csid 2..63  → that csid, 1-byte basic header
 *              csid 0      → csid = 64 + byte 1                (2-byte basic header, 64..319)
 *              csid 1      → csid = 64 + byte 1 + 256 * byte 2 (3-byte basic header, 64..65599)
 *   message header (11 / 7 / 3 / 0 bytes for fmt 0 / 1 / 2 / 3)
 *     fmt 0: timestamp u24 BE | length u24 BE | type u8 | message stream id u32 LE
 *     fmt 1: delta u24 BE     | length u24 BE | type u8
 *     fmt 2: delta u24 BE
 *   extended timestamp u32 BE (present iff the 24-bit field is 0xFFFFFF; on fmt 3 see `readFmt3`)
 */
import { readUint24BE, readUint32BE, readUint32LE } from '../bytes';
import { EXTENDED_TIMESTAMP_MARKER } from '../constants';
import { RtmpProtocolError } from '../errors';

/** Message header length by fmt. */
const MESSAGE_HEADER_SIZE = [11, 7, 3, 0] as const;

/** What the decoder remembers about one chunk stream id. */
export class ChunkStreamState {
  /** Absolute timestamp of the current (or last) message, mod 2^32. */
  timestamp = 0;
  /** Timestamp delta a fmt 3 chunk that starts a new message adds. After fmt 0 it is that timestamp. */
  delta = 0;
  length = 0;
  type = 0;
  streamId = 0;
  /** The last fmt 0/1/2 header carried an extended timestamp, so fmt 3 chunks may repeat it. */
  hasExtended = false;
  /** Raw value of that extended timestamp field (absolute for fmt 0, delta for fmt 1/2). */
  extended = 0;
  /** Payload of a message that spans chunks or pushes; null between messages. */
  buffer: Uint8Array | null = null;
  /** Bytes of `buffer` filled so far. */
  received = 0;

  constructor(readonly id: number) {}
}

/** The limits the header reader enforces (from the decoder's resolved options). */
export interface ChunkHeaderLimits {
  maxChunkStreams: number;
  maxMessageSize: number;
}

/** Chunk stream table plus header parser, one per decoder. */
export class ChunkHeaderReader {
  /** Chunk streams with 1-byte ids (2..63), indexed by id; larger ids live in `streams`. */
  private readonly small: (ChunkStreamState | undefined)[] = new Array(64).fill(undefined);
  private readonly streams = new Map<number, ChunkStreamState>();
  private streamCount = 0;
  /** Length of the header `read` accepted last. */
  headerLength = 0;

  constructor(private readonly limits: ChunkHeaderLimits) {}

  /** The state of chunk stream `id`, or undefined when no fmt 0 chunk opened it. */
  get(id: number): ChunkStreamState | undefined {
    return id < 64 ? this.small[id] : this.streams.get(id);
  }

  /**
   * Parses one chunk header from `src[o..end)`. Returns null (changing nothing) when more bytes are
   * needed, else commits the header to its chunk stream state, sets `headerLength`, and returns the
   * state. Throws as soon as the bytes present prove a violation.
   */
  read(src: Uint8Array, o: number, end: number): ChunkStreamState | null {
    const b0 = src[o]!;
    const fmt = b0 >>> 6;
    let csid = b0 & 0x3f;
    let p = o + 1;
    if (csid === 0) {
      if (end - o < 2) return null;
      csid = 64 + src[o + 1]!;
      p = o + 2;
    } else if (csid === 1) {
      if (end - o < 3) return null;
      csid = 64 + src[o + 1]! + 256 * src[o + 2]!;
      p = o + 3;
    }
    const cs = this.get(csid);
    this.checkHeaderAllowed(fmt, csid, cs);
    if (fmt === 3) return this.readFmt3(cs!, src, o, p, end);
    return this.readMessageHeader(fmt, csid, cs, src, o, p, end);
  }

  /** Throws when a chunk of this fmt may not appear on this chunk stream now. */
  private checkHeaderAllowed(fmt: number, csid: number, cs: ChunkStreamState | undefined): void {
    if (cs === undefined) {
      if (fmt !== 0) {
        throw new RtmpProtocolError(
          'ERR_RTMP_CHUNK_STREAM_NOT_OPEN',
          `fmt ${fmt} chunk on csid ${csid}, which no fmt 0 chunk has opened`,
        );
      }
      if (this.streamCount >= this.limits.maxChunkStreams) {
        throw new RtmpProtocolError(
          'ERR_RTMP_TOO_MANY_CHUNK_STREAMS',
          `csid ${csid} would be chunk stream number ${this.streamCount + 1} > maxChunkStreams ${this.limits.maxChunkStreams}`,
        );
      }
    } else if (fmt !== 3 && cs.buffer !== null) {
      throw new RtmpProtocolError(
        'ERR_RTMP_HEADER_MID_MESSAGE',
        `fmt ${fmt} chunk on csid ${csid} while its message has ${cs.length - cs.received} of ${cs.length} bytes to come`,
      );
    }
  }

  /** A fmt 3 header (no message header): continues the message or starts one like the last. */
  private readFmt3(
    state: ChunkStreamState,
    src: Uint8Array,
    o: number,
    p: number,
    end: number,
  ): ChunkStreamState | null {
    if (state.hasExtended) {
      // Peers disagree whether fmt 3 repeats the extended timestamp (ffmpeg, librtmp, rtmp2sink do;
      // OBS < 30.1 does not): consume the 4 bytes only if they equal the stored value. Always wait
      // for all 4 so the decision never depends on where the stream was split.
      if (end - p < 4) return null;
      if (readUint32BE(src, p) === state.extended) p += 4;
    }
    if (state.buffer === null) state.timestamp = (state.timestamp + state.delta) >>> 0;
    this.headerLength = p - o;
    return state;
  }

  /** The 11/7/3-byte message header of fmt 0/1/2 (and its extended timestamp), from `src[p]`. */
  private readMessageHeader(
    fmt: number,
    csid: number,
    existing: ChunkStreamState | undefined,
    src: Uint8Array,
    o: number,
    p: number,
    end: number,
  ): ChunkStreamState | null {
    const hlen = MESSAGE_HEADER_SIZE[fmt]!;
    if (end - p < hlen) return null;
    let ts = readUint24BE(src, p);
    const hasExtended = ts === EXTENDED_TIMESTAMP_MARKER;
    if (hasExtended) {
      if (end - p < hlen + 4) return null;
      ts = readUint32BE(src, p + hlen);
    }
    let length = 0;
    if (fmt !== 2) {
      length = readUint24BE(src, p + 3);
      if (length > this.limits.maxMessageSize) {
        throw new RtmpProtocolError(
          'ERR_RTMP_MESSAGE_TOO_LARGE',
          `csid ${csid}: ${length}-byte message > maxMessageSize ${this.limits.maxMessageSize}`,
        );
      }
    }
    const cs = existing ?? this.open(csid);
    if (fmt === 0) {
      cs.timestamp = ts;
      cs.delta = ts;
      cs.length = length;
      cs.type = src[p + 6]!;
      cs.streamId = readUint32LE(src, p + 7);
    } else {
      cs.delta = ts;
      cs.timestamp = (cs.timestamp + ts) >>> 0;
      if (fmt === 1) {
        cs.length = length;
        cs.type = src[p + 6]!;
      }
    }
    cs.hasExtended = hasExtended;
    cs.extended = hasExtended ? ts : 0;
    this.headerLength = p + hlen + (hasExtended ? 4 : 0) - o;
    return cs;
  }

  /** Adds chunk stream `csid` to the table (its first fmt 0 header passed every check). */
  private open(csid: number): ChunkStreamState {
    const cs = new ChunkStreamState(csid);
    if (csid < 64) this.small[csid] = cs;
    else this.streams.set(csid, cs);
    this.streamCount++;
    return cs;
  }
}
