/**
 * RTMP chunk stream encoder: messages in, chunk bytes out.
 * Spec: Adobe RTMP Specification 1.0 (December 2012), §5.3. The header layout is drawn in
 * chunk-decoder.ts.
 */
import { concatBytes } from '../bytes';
import { EXTENDED_TIMESTAMP_MARKER, MAX_CHUNK_STREAM_ID, MAX_WIRE_CHUNK_SIZE, type RtmpMessage } from '../constants';
import { RtmpError } from '../errors';
import { type ChunkEncoderOptions, invalidOption, resolveChunkEncoderOptions } from '../options';

/** What the encoder last told the peer about one chunk stream id. */
interface EncoderStreamState {
  timestamp: number;
  /** Delta a fmt 3 new-message chunk would add; -1 right after fmt 0 (see `encode`). */
  delta: number;
  length: number;
  type: number;
  streamId: number;
  /** The last fmt 0/1/2 header had an extended timestamp, so fmt 3 chunks repeat `extended`. */
  hasExtended: boolean;
  extended: number;
}

function invalidMessage(message: string): RtmpError {
  return new RtmpError('ERR_RTMP_INVALID_MESSAGE', message);
}

/** Throws `ERR_RTMP_INVALID_MESSAGE` unless every header field of `msg` fits the chunk format. */
function checkEncodable(msg: RtmpMessage): void {
  const { chunkStreamId: csid, type, streamId } = msg;
  if (!Number.isInteger(csid) || csid < 2 || csid > MAX_CHUNK_STREAM_ID) {
    throw invalidMessage(`chunkStreamId must be an integer in 2..${MAX_CHUNK_STREAM_ID}, got ${csid}`);
  }
  if (!Number.isInteger(type) || type < 0 || type > 255) {
    throw invalidMessage(`type must be an integer in 0..255, got ${type}`);
  }
  if (!Number.isInteger(streamId) || streamId < 0 || streamId > 0xffffffff) {
    throw invalidMessage(`streamId must be an integer in 0..4294967295, got ${streamId}`);
  }
  if (!Number.isInteger(msg.timestamp)) {
    throw invalidMessage(`timestamp must be an integer, got ${msg.timestamp}`);
  }
  if (msg.payload.length > 0xffffff) {
    throw invalidMessage(`payload of ${msg.payload.length} bytes exceeds the 24-bit length field (16777215)`);
  }
}

/** Writes the 1-, 2- or 3-byte basic header at 0; returns its length. */
function writeBasicHeader(h: Uint8Array, fmt: number, csid: number): number {
  if (csid < 64) {
    h[0] = (fmt << 6) | csid;
    return 1;
  }
  if (csid < 320) {
    h[0] = fmt << 6;
    h[1] = csid - 64;
    return 2;
  }
  h[0] = (fmt << 6) | 1;
  h[1] = (csid - 64) & 0xff;
  h[2] = (csid - 64) >>> 8;
  return 3;
}

function basicHeaderLength(csid: number): number {
  return csid < 64 ? 1 : csid < 320 ? 2 : 3;
}

/**
 * Splits messages into chunks (one encoder per connection and direction).
 *
 * Header compression per chunk stream id: fmt 0 for the first message on a csid, when the message
 * stream id changes, or when the timestamp goes backwards (delta ≥ 2^31, as the spec asks); fmt 1
 * when length or type changes; fmt 2 when only the delta changes; fmt 3 when nothing does.
 * It never sends a fmt 3 new message straight after fmt 0 (peers disagree on that delta), using fmt 2
 * there instead. Extended timestamps: absolute on fmt 0, delta on fmt 1/2, repeated on every fmt 3
 * chunk that follows such a header (as ffmpeg, librtmp and rtmp2sink do).
 */
export class ChunkEncoder {
  private _chunkSize: number;
  private readonly streams = new Map<number, EncoderStreamState>();

  /** @param options see {@link ChunkEncoderOptions}; an invalid chunk size throws `ERR_RTMP_INVALID_OPTION`. */
  constructor(options?: ChunkEncoderOptions) {
    this._chunkSize = resolveChunkEncoderOptions(options).chunkSize;
  }

  /** Chunk size used to split messages from now on. */
  get chunkSize(): number {
    return this._chunkSize;
  }

  /**
   * Changes the outgoing chunk size (1..2^31 − 1) for messages encoded after this call. Send the peer a
   * Set Chunk Size message with the same value first (encode it before calling this).
   */
  setChunkSize(size: number): void {
    if (!Number.isInteger(size) || size < 1 || size > MAX_WIRE_CHUNK_SIZE) {
      throw invalidOption('chunkSize', `an integer in 1..${MAX_WIRE_CHUNK_SIZE}`, size);
    }
    this._chunkSize = size;
  }

  /**
   * Encodes one message. Returns header buffers interleaved with views of `msg.payload` (no payload
   * copy), ready for `socket.writev`/`cork`+`write`. The payload must not change until written.
   * Continuation chunk headers are one shared array, repeated.
   * `msg.timestamp` is reduced modulo 2^32.
   * @throws RtmpError `ERR_RTMP_INVALID_MESSAGE` for an out-of-range csid, type, stream id, timestamp
   * or a payload over 2^24 − 1 bytes.
   */
  encode(msg: RtmpMessage): Uint8Array[] {
    checkEncodable(msg);
    const { chunkStreamId: csid, type, streamId, payload } = msg;
    const length = payload.length;
    const timestamp = msg.timestamp >>> 0;

    let st = this.streams.get(csid);
    let fmt: number;
    let field: number;
    const delta = st === undefined ? 0 : (timestamp - st.timestamp) >>> 0;
    if (st === undefined || st.streamId !== streamId || delta >= 0x80000000) {
      fmt = 0;
      field = timestamp;
    } else if (st.length !== length || st.type !== type) {
      fmt = 1;
      field = delta;
    } else if (st.delta !== delta) {
      fmt = 2;
      field = delta;
    } else {
      fmt = 3;
      field = delta;
    }

    if (st === undefined) {
      st = { timestamp, delta: -1, length, type, streamId, hasExtended: false, extended: 0 };
      this.streams.set(csid, st);
    }
    st.timestamp = timestamp;
    st.length = length;
    st.type = type;
    st.streamId = streamId;
    if (fmt !== 3) {
      st.delta = fmt === 0 ? -1 : delta;
      st.hasExtended = field >= EXTENDED_TIMESTAMP_MARKER;
      st.extended = st.hasExtended ? field : 0;
    }
    const ext = st.hasExtended;
    const basicLen = basicHeaderLength(csid);

    // First chunk header.
    const first = new Uint8Array(basicLen + (fmt === 0 ? 11 : fmt === 1 ? 7 : fmt === 2 ? 3 : 0) + (ext ? 4 : 0));
    let p = writeBasicHeader(first, fmt, csid);
    if (fmt !== 3) {
      const ts24 = ext ? EXTENDED_TIMESTAMP_MARKER : field;
      first[p++] = ts24 >>> 16;
      first[p++] = ts24 >>> 8;
      first[p++] = ts24;
      if (fmt !== 2) {
        first[p++] = length >>> 16;
        first[p++] = length >>> 8;
        first[p++] = length;
        first[p++] = type;
        if (fmt === 0) {
          first[p++] = streamId;
          first[p++] = streamId >>> 8;
          first[p++] = streamId >>> 16;
          first[p++] = streamId >>> 24;
        }
      }
    }
    if (ext) writeU32(first, p, st.extended);

    const size = this._chunkSize;
    if (length <= size) return length === 0 ? [first] : [first, payload];

    // Continuation chunks: fmt 3, same bytes each time.
    const cont = new Uint8Array(basicLen + (ext ? 4 : 0));
    const q = writeBasicHeader(cont, 3, csid);
    if (ext) writeU32(cont, q, st.extended);
    const pieces: Uint8Array[] = [first, payload.subarray(0, size)];
    for (let o = size; o < length; o += size) {
      pieces.push(cont, payload.subarray(o, o + size));
    }
    return pieces;
  }

  /** Encodes one message into a single new array (convenience for tests and small control messages). */
  encodeToBuffer(msg: RtmpMessage): Uint8Array {
    return concatBytes(this.encode(msg));
  }
}

function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}
