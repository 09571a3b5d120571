/**
 * Bounded byte reader shared by the AMF0 and AMF3 decoders: every read checks the remaining length,
 * and the reader counts items and nesting depth against the caller's limits.
 */
import { RtmpProtocolError } from '../errors';

const utf8 = new TextDecoder('utf-8');

export class AmfReader {
  pos = 0;
  private items = 0;
  private depth = 0;
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    private readonly maxDepth: number,
    private readonly maxItems: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  /** Items decoded so far (values plus keys, references counted at their full size). */
  get itemCount(): number {
    return this.items;
  }

  /** Throws ERR_AMF_TRUNCATED unless `n` more bytes are present. */
  need(n: number, what: string): void {
    if (n > this.bytes.length - this.pos) {
      throw new RtmpProtocolError(
        'ERR_AMF_TRUNCATED',
        `${what} needs ${n} bytes at offset ${this.pos}, only ${this.bytes.length - this.pos} left`,
      );
    }
  }

  /** Counts `n` more decoded items; throws ERR_AMF_TOO_LARGE past maxItems. */
  count(n: number): void {
    this.items += n;
    if (this.items > this.maxItems) {
      throw new RtmpProtocolError('ERR_AMF_TOO_LARGE', `more than maxItems ${this.maxItems} values and keys`);
    }
  }

  /** Enters a container; throws ERR_AMF_DEPTH past maxDepth. */
  enter(): void {
    if (++this.depth > this.maxDepth) {
      throw new RtmpProtocolError('ERR_AMF_DEPTH', `containers nested deeper than maxDepth ${this.maxDepth}`);
    }
  }

  leave(): void {
    this.depth--;
  }

  u8(what: string): number {
    this.need(1, what);
    return this.bytes[this.pos++]!;
  }

  u16(what: string): number {
    this.need(2, what);
    const b = this.bytes;
    const v = (b[this.pos]! << 8) | b[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  i16(what: string): number {
    this.need(2, what);
    const v = this.view.getInt16(this.pos);
    this.pos += 2;
    return v;
  }

  f64(what: string): number {
    this.need(8, what);
    const v = this.view.getFloat64(this.pos);
    this.pos += 8;
    return v;
  }

  /** `n` bytes of UTF-8 as a string (malformed sequences become U+FFFD). */
  utf8(n: number, what: string): string {
    this.need(n, what);
    const b = this.bytes;
    const start = this.pos;
    this.pos += n;
    if (n < 32) {
      // Short ASCII (keys, command names) without a TextDecoder call.
      let s = '';
      for (let i = start; i < start + n; i++) {
        const c = b[i]!;
        if (c >= 0x80) return utf8.decode(b.subarray(start, start + n));
        s += String.fromCharCode(c);
      }
      return s;
    }
    return utf8.decode(b.subarray(start, start + n));
  }

  /** A copy of the next `n` bytes. */
  copy(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.bytes.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

/** A fresh object with a null prototype, so peer-chosen keys cannot reach Object.prototype. */
export function emptyObject<T>(): T {
  return Object.create(null) as T;
}
