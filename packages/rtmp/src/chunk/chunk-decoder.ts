/**
 * RTMP chunk stream decoder: bytes in, complete messages out. Headers are read by
 * {@link ChunkHeaderReader} (chunk-header-reader.ts, with the chunk layout); this module reassembles
 * payloads — min(chunk size, bytes left in the message) per chunk — and delivers messages.
 * Spec: Adobe RTMP Specification 1.0 (December 2012), §5.3 (chunking), §5.4.1–5.4.2 (Set Chunk Size,
 * Abort). Peer quirks handled here follow the project's wire-behaviour checklist, §2.
 */
import { readUint32BE } from '../bytes';
import { DEFAULT_CHUNK_SIZE, MessageType, type RtmpMessage } from '../constants';
import { RtmpProtocolError } from '../errors';
import { type ChunkDecoderOptions, type ResolvedChunkDecoderOptions, resolveChunkDecoderOptions } from '../options';
import { ChunkHeaderReader, type ChunkStreamState } from './chunk-header-reader';
import { PayloadSlabPool } from './payload-pool';

/** Longest possible chunk header: 3-byte basic header + 11-byte fmt 0 header + 4-byte extended timestamp. */
const MAX_HEADER_SIZE = 18;

/** Payload of every zero-length message (it cannot be written to). */
const EMPTY: Uint8Array = Buffer.alloc(0);

const STATE_HEADER = 0;
const STATE_PAYLOAD = 1;

/**
 * Push-fed RTMP chunk stream decoder (one per connection and direction).
 *
 * `push(bytes)` returns every message those bytes complete, in order. Output never depends on how the
 * stream is split across pushes. The decoder applies Set Chunk Size and Abort itself and still
 * returns those messages.
 *
 * With `inPlace: true`, a multi-chunk message whose chunks all arrive in one push is reassembled
 * inside the pushed buffer (its chunk headers are overwritten) and returned as a view: no copy into
 * fresh memory, which is what limits throughput at large chunk sizes. Use it only when nothing else
 * reads a buffer after pushing it, as with `net.Socket` `'data'` chunks.
 *
 * Payload ownership: every payload is a Node `Buffer` (typed as `Uint8Array`) that stays valid after
 * `push` returns. A message carried by a single chunk that arrives whole inside one push is a view of
 * the pushed bytes (no copy); every other payload is assembled in a buffer reserved once, at the
 * message's declared length, and filled chunk by chunk; payloads up to 64 KiB share 256 KiB slabs
 * (option `payloadSlabSize`), so copy one you keep for long. Node's `net.Socket` hands out a new Buffer
 * per `'data'` event, so views stay valid; a caller that reuses its input buffer must copy the
 * input before pushing.
 *
 * Extended timestamps on fmt 3: after a header that carried one, the decoder looks at the next 4 bytes
 * of every fmt 3 chunk on that csid and skips them only if they repeat the stored value (both peer
 * conventions exist). It waits until those 4 bytes are present, so such a chunk is decoded when the
 * peer's next bytes arrive; on a live connection they always do.
 *
 * Errors: any protocol violation or exceeded limit throws an {@link RtmpProtocolError}. The decoder
 * then stays failed: every later `push` throws the same error. Messages completed earlier in the
 * failing push are not returned (the connection is to be closed anyway).
 */
export class ChunkDecoder {
  private readonly opts: ResolvedChunkDecoderOptions;
  /** The chunk stream table and its header parser. */
  private readonly headers: ChunkHeaderReader;
  private _chunkSize = DEFAULT_CHUNK_SIZE;
  private _bytesReceived = 0;
  /** Sum of `length` over chunk streams holding a partial message. */
  private pendingBytes = 0;
  private state = STATE_HEADER;
  /** Chunk stream whose chunk payload is being read (STATE_PAYLOAD). */
  private current: ChunkStreamState | null = null;
  /** Payload bytes left in the current chunk. */
  private chunkRemaining = 0;
  /** A chunk header cut by a push boundary is gathered here (never more than MAX_HEADER_SIZE bytes). */
  private readonly stash = new Uint8Array(MAX_HEADER_SIZE);
  private stashLength = 0;
  private failure: Error | null = null;
  /** Where multi-chunk payloads are assembled (see `allocate`); undefined: a buffer each. */
  private readonly pool: PayloadSlabPool | undefined;

  /**
   * @param options limits, see {@link ChunkDecoderOptions}; each is validated here and a bad value
   * throws `ERR_RTMP_INVALID_OPTION`.
   */
  constructor(options?: ChunkDecoderOptions) {
    this.opts = resolveChunkDecoderOptions(options);
    this.headers = new ChunkHeaderReader(this.opts);
    const size = this.opts.payloadSlabSize;
    this.pool = this.opts.payloadPool ?? (size > 0 ? new PayloadSlabPool(size) : undefined);
  }

  /** The peer's current chunk size (128 until it sends Set Chunk Size). */
  get chunkSize(): number {
    return this._chunkSize;
  }

  /** Total bytes pushed so far (a plain number; acknowledgements use it mod 2^32). */
  get bytesReceived(): number {
    return this._bytesReceived;
  }

  /** Bytes currently buffered for partial messages across all chunk streams. */
  get pendingMessageBytes(): number {
    return this.pendingBytes;
  }

  /**
   * Feeds bytes from the peer.
   * @returns every message completed by these bytes, in wire order (possibly none).
   * @throws RtmpProtocolError on a protocol violation or exceeded limit (and on every call after that).
   */
  push(bytes: Uint8Array): RtmpMessage[] {
    if (this.failure !== null) throw this.failure;
    this._bytesReceived += bytes.length;
    const out: RtmpMessage[] = [];
    try {
      this.run(bytes, out);
    } catch (err) {
      this.failure = err as Error;
      throw err;
    }
    return out;
  }

  private run(b: Uint8Array, out: RtmpMessage[]): void {
    const end = b.length;
    let off = 0;
    while (off < end) {
      if (this.state === STATE_PAYLOAD) {
        off = this.readPayload(b, off, out);
        continue;
      }

      if (this.stashLength === 0) {
        // Fast path: a fmt 3 continuation (1-byte basic header, no extended timestamp) of the message
        // whose chunk was just read, the common case at small chunk sizes.
        const b0 = b[off]!;
        const cur = this.current;
        if (b0 >= 0xc0 && cur !== null && cur.buffer !== null && (b0 & 0x3f) === cur.id && !cur.hasExtended) {
          off++;
          const left = cur.length - cur.received;
          this.chunkRemaining = Math.min(left, this._chunkSize);
          this.state = STATE_PAYLOAD;
          continue;
        }
      }

      // STATE_HEADER: parse in place when the whole header is here, else gather it in the stash.
      if (this.stashLength === 0) {
        const cs = this.headers.read(b, off, end);
        if (cs === null) {
          this.stash.set(b.subarray(off, end), 0);
          this.stashLength = end - off;
          return;
        }
        off = this.startChunk(cs, b, off + this.headers.headerLength, end, out);
        continue;
      }
      const had = this.stashLength;
      const take = Math.min(MAX_HEADER_SIZE - had, end - off);
      this.stash.set(b.subarray(off, off + take), had);
      this.stashLength = had + take;
      const cs = this.headers.read(this.stash, 0, this.stashLength);
      if (cs === null) {
        off += take;
        continue;
      }
      this.stashLength = 0;
      const used = this.headers.headerLength;
      if (used >= had) {
        off = this.startChunk(cs, b, off + used - had, end, out);
        continue;
      }
      // A fmt 3 header whose 4-byte look-ahead was not an extended timestamp ended inside bytes stashed
      // from an earlier push: those bytes precede b[off..]. Join them (a rare seam, < 18 bytes extra).
      const joined = new Uint8Array(had - used + end - off);
      joined.set(this.stash.subarray(used, had), 0);
      joined.set(b.subarray(off, end), had - used);
      const next = this.startChunk(cs, joined, 0, joined.length, out);
      this.run(joined.subarray(next), out);
      return;
    }
  }

  /**
   * Copies payload of the current message from `b[off..]`: the rest of the current chunk plus every
   * fmt 3 continuation chunk of the same message that directly follows (1-byte basic header, no
   * extended timestamp), without returning to the header parser. Returns the offset after what it
   * consumed.
   */
  private readPayload(b: Uint8Array, off: number, out: RtmpMessage[]): number {
    const end = b.length;
    const cs = this.current!;
    const buffer = cs.buffer!;
    const length = cs.length;
    const size = this._chunkSize;
    const continuation = cs.id < 64 && !cs.hasExtended ? 0xc0 | cs.id : -1;
    let received = cs.received;
    let remaining = this.chunkRemaining;
    for (;;) {
      const n = Math.min(remaining, end - off);
      // A view made with the ArrayBuffer constructor is the cheapest way to give `set` a range.
      buffer.set(new Uint8Array(b.buffer, b.byteOffset + off, n), received);
      off += n;
      received += n;
      remaining -= n;
      if (remaining !== 0 || received === length || off >= end || b[off] !== continuation) break;
      off++;
      remaining = Math.min(length - received, size);
    }
    this.endPayload(cs, received, remaining, out);
    return off;
  }

  /** Records payload progress; at the end of a chunk returns to headers, and delivers a complete message. */
  private endPayload(cs: ChunkStreamState, received: number, remaining: number, out: RtmpMessage[]): void {
    cs.received = received;
    this.chunkRemaining = remaining;
    if (remaining !== 0) return;
    this.state = STATE_HEADER;
    const length = cs.length;
    if (received !== length) return;
    const buffer = cs.buffer!;
    cs.buffer = null;
    this.pendingBytes -= length;
    this.deliver(cs, buffer, out);
  }

  /**
   * Handles the payload side of a chunk whose header was just parsed, with the payload starting at
   * `src[off]`. Returns the offset after whatever it consumed.
   */
  private startChunk(cs: ChunkStreamState, src: Uint8Array, off: number, end: number, out: RtmpMessage[]): number {
    if (cs.buffer !== null) {
      // Continuation chunk of a message in progress.
      this.chunkRemaining = Math.min(cs.length - cs.received, this._chunkSize);
      this.current = cs;
      this.state = STATE_PAYLOAD;
      return off;
    }
    // First chunk of a new message.
    const length = cs.length;
    if (length === 0) {
      this.deliver(cs, EMPTY, out);
      return off;
    }
    if (length <= this._chunkSize && end - off >= length) {
      // Whole message in one chunk, all present: hand out a view, no copy.
      this.deliver(cs, Buffer.from(src.buffer, src.byteOffset + off, length), out);
      return off + length;
    }
    if (this.opts.inPlace) {
      const next = this.reassembleInPlace(cs, src, off, end, out);
      if (next >= 0) return next;
    }
    if (this.pendingBytes + length > this.opts.maxPendingBytes) {
      throw new RtmpProtocolError(
        'ERR_RTMP_PENDING_BYTES',
        `csid ${cs.id}: a ${length}-byte message would raise buffered partial messages to ${this.pendingBytes + length} bytes > maxPendingBytes ${this.opts.maxPendingBytes}`,
      );
    }
    this.pendingBytes += length;
    cs.buffer = this.allocate(length);
    cs.received = 0;
    this.chunkRemaining = Math.min(length, this._chunkSize);
    this.current = cs;
    this.state = STATE_PAYLOAD;
    return off;
  }

  /**
   * `inPlace` mode: when every chunk of a new message is present and its continuation chunks follow
   * directly (fmt 3, 1-byte basic header, no extended timestamp), squeezes the continuation headers
   * out of `src` with `copyWithin` and delivers a view of the result: no allocation, and the bytes
   * moved are the ones just received (still in cache). Only `src[off..end of message)` is rewritten;
   * bytes before it (views already delivered) and after it are untouched. Returns the offset after the
   * message, or -1 (nothing changed) when the message does not qualify.
   */
  private reassembleInPlace(
    cs: ChunkStreamState,
    src: Uint8Array,
    off: number,
    end: number,
    out: RtmpMessage[],
  ): number {
    const length = cs.length;
    const size = this._chunkSize;
    // A message that fits one chunk gets here only when part of it is missing.
    if (cs.id >= 64 || cs.hasExtended || length <= size || off + size > end) return -1;
    const continuation = 0xc0 | cs.id;
    let p = off + size;
    let got = size;
    while (got < length) {
      const n = Math.min(length - got, size);
      if (p + 1 + n > end || src[p] !== continuation) return -1;
      p += 1 + n;
      got += n;
    }
    let from = off + size;
    let to = from;
    const stop = off + length;
    while (to < stop) {
      from++;
      const n = Math.min(stop - to, size);
      src.copyWithin(to, from, from + n);
      from += n;
      to += n;
    }
    this.deliver(cs, Buffer.from(src.buffer, src.byteOffset + off, length), out);
    return p;
  }

  /**
   * A buffer for a message of `length` bytes. Uninitialised memory is safe: a message is delivered
   * only once every byte has been written, and an aborted one is dropped unseen; it saves a zero-fill
   * pass. Messages up to a quarter of the slab size share slabs (one ArrayBuffer for many messages,
   * as Node's Buffer pool does at 8 KiB), which removes most per-message allocation cost.
   */
  private allocate(length: number): Uint8Array {
    return this.pool === undefined ? Buffer.allocUnsafeSlow(length) : this.pool.allocate(length);
  }

  /** Emits a completed message, applying Set Chunk Size and Abort first. */
  private deliver(cs: ChunkStreamState, payload: Uint8Array, out: RtmpMessage[]): void {
    const type = cs.type;
    if (type === MessageType.SetChunkSize) this.applySetChunkSize(payload);
    else if (type === MessageType.Abort) this.applyAbort(payload);
    out.push({
      chunkStreamId: cs.id,
      type,
      streamId: cs.streamId,
      timestamp: cs.timestamp,
      payload,
    });
  }

  private applySetChunkSize(payload: Uint8Array): void {
    if (payload.length < 4) {
      throw new RtmpProtocolError(
        'ERR_RTMP_BAD_CONTROL_MESSAGE',
        `Set Chunk Size with a ${payload.length}-byte body (needs 4)`,
      );
    }
    const size = readUint32BE(payload, 0);
    if (size === 0 || size > 0x7fffffff) {
      throw new RtmpProtocolError(
        'ERR_RTMP_BAD_CHUNK_SIZE',
        `Set Chunk Size ${size}: must be 1..2147483647 (top bit clear)`,
      );
    }
    if (size > this.opts.maxChunkSize) {
      throw new RtmpProtocolError(
        'ERR_RTMP_CHUNK_SIZE_TOO_LARGE',
        `Set Chunk Size ${size} > maxChunkSize ${this.opts.maxChunkSize}`,
      );
    }
    this._chunkSize = size;
  }

  private applyAbort(payload: Uint8Array): void {
    if (payload.length < 4) {
      throw new RtmpProtocolError('ERR_RTMP_BAD_CONTROL_MESSAGE', `Abort with a ${payload.length}-byte body (needs 4)`);
    }
    const id = readUint32BE(payload, 0);
    const target = this.headers.get(id);
    if (target !== undefined && target.buffer !== null) {
      this.pendingBytes -= target.length;
      target.buffer = null;
      target.received = 0;
    }
  }
}
