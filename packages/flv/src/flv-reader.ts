/**
 * Incremental FLV demuxer: fed bytes in arbitrary slices, returns complete tags.
 * Spec: Adobe Flash Video File Format Specification 10.1, Annex E.2 (header), E.3 (body),
 * E.4.1 (FLVTAG).
 *
 * ```
 * header   "FLV" | Version UI8 (1) | flags UI8 (bit 2 audio, bit 0 video) | DataOffset UI32 (≥ 9)
 *          [DataOffset − 9 bytes skipped]
 * body     PreviousTagSize0 UI32 = 0, then per tag:
 *          Reserved UB[2] | Filter UB[1] | TagType UB[5] | DataSize UI24 | Timestamp UI24 |
 *          TimestampExtended UI8 | StreamID UI24 | Data[DataSize] | PreviousTagSize UI32 = 11 + DataSize
 * ```
 * A push-fed state machine: slices wait in a list (no concatenation per arrival); a state short of
 * bytes returns and resumes on the next push; payloads are views of the pushed arrays when they
 * lie in one slice and copies only when they straddle two. Output never depends on how the bytes
 * were split. Limits are checked as soon as the field that carries them is complete.
 */
import { FLV_HEADER_SIZE, PREVIOUS_TAG_SIZE_SIZE, TAG_HEADER_SIZE, TagType } from './constants';
import { FlvFormatError, FlvUsageError } from './errors';
import type { FlvTag } from './tag';

/** Options of {@link FlvReader}. */
export interface FlvReaderOptions {
  /**
   * Largest DataSize accepted, checked as soon as the tag header arrives.
   * Default {@link DEFAULT_MAX_TAG_SIZE}.
   */
  maxTagSize?: number;
  /** Require PreviousTagSize = 11 + DataSize (and 0 before the first tag). Default true. */
  checkPreviousTagSize?: boolean;
}

/** 16 MiB: above the 24-bit DataSize maximum, so by default every well-formed tag passes. */
export const DEFAULT_MAX_TAG_SIZE = 16 * 1024 * 1024;
/** Largest DataOffset accepted: version 1 files use 9; a much larger value means this is not FLV. */
const MAX_DATA_OFFSET = 65536;

/** The FLV file header. */
export interface FlvFileHeader {
  version: number;
  hasAudio: boolean;
  hasVideo: boolean;
  /** Offset of the body (PreviousTagSize0): 9 for version 1. */
  dataOffset: number;
}

/** A tag as read, with where its header started in the stream. */
export interface FlvReadTag extends FlvTag {
  /** Byte offset of the tag header from the start of the stream. */
  offset: number;
}

const S_HEADER = 0;
const S_HEADER_EXTRA = 1;
const S_PREVIOUS_TAG_SIZE = 2;
const S_TAG_HEADER = 3;
const S_TAG_BODY = 4;

/** Incremental FLV reader. One instance reads one stream; after an error it stays failed. */
export class FlvReader {
  private readonly maxTagSize: number;
  private readonly checkPrevious: boolean;
  private chunks: Uint8Array[] = [];
  private chunkOffset = 0;
  private buffered = 0;
  private consumed = 0;
  private state = S_HEADER;
  private fileHeader: FlvFileHeader | undefined;
  private expectedPrevious = 0;
  private tagType = 0;
  private tagTimestamp = 0;
  private tagSize = 0;
  private tagOffset = 0;
  private skipped = 0;
  private failure: FlvFormatError | undefined;

  /** @throws FlvUsageError ERR_FLV_INVALID_OPTION */
  constructor(options: FlvReaderOptions = {}) {
    const max = options.maxTagSize ?? DEFAULT_MAX_TAG_SIZE;
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new FlvUsageError('ERR_FLV_INVALID_OPTION', `maxTagSize must be a safe integer ≥ 0, got ${max}`);
    }
    this.maxTagSize = max;
    this.checkPrevious = options.checkPreviousTagSize ?? true;
  }

  /** The file header, once its 9 bytes arrived. */
  get header(): FlvFileHeader | undefined {
    return this.fileHeader;
  }

  /** Bytes consumed (parsed) so far; bytes still buffered are not counted. */
  get bytesRead(): number {
    return this.consumed;
  }

  /** Tags of types other than 8, 9 and 18 that were skipped. */
  get skippedTags(): number {
    return this.skipped;
  }

  /**
   * Takes the next slice of the stream and returns the tags it completed. The returned payloads
   * may be views of `bytes`: do not modify it afterwards.
   * @throws FlvFormatError ERR_FLV_BAD_SIGNATURE, ERR_FLV_BAD_VERSION, ERR_FLV_BAD_HEADER_SIZE,
   * ERR_FLV_BAD_PREVIOUS_TAG_SIZE, ERR_FLV_TAG_TOO_LARGE, ERR_FLV_ENCRYPTED_TAG; and
   * ERR_FLV_READER_FAILED on any call after one of those
   */
  push(bytes: Uint8Array): FlvReadTag[] {
    if (this.failure) {
      throw new FlvFormatError('ERR_FLV_READER_FAILED', `reader failed earlier: ${this.failure.message}`, {
        cause: this.failure,
      });
    }
    if (bytes.length > 0) {
      this.chunks.push(bytes);
      this.buffered += bytes.length;
    }
    const out: FlvReadTag[] = [];
    try {
      this.run(out);
    } catch (err) {
      if (err instanceof FlvFormatError) this.failure = err;
      throw err;
    }
    return out;
  }

  /**
   * Declares the end of the stream.
   * @throws FlvFormatError ERR_FLV_TRUNCATED when the stream stops inside the header or a tag
   * (a missing final PreviousTagSize counts as truncated)
   */
  end(): void {
    if (this.failure) {
      throw new FlvFormatError('ERR_FLV_READER_FAILED', `reader failed earlier: ${this.failure.message}`, {
        cause: this.failure,
      });
    }
    if (this.state !== S_TAG_HEADER || this.buffered !== 0) {
      const e = new FlvFormatError(
        'ERR_FLV_TRUNCATED',
        `stream ended inside ${STATE_NAMES[this.state]} with ${this.buffered} bytes pending at offset ${this.consumed}`,
      );
      this.failure = e;
      throw e;
    }
  }

  /** Removes `n` buffered bytes (n ≤ buffered); a view when they lie in one chunk, else a copy. */
  private take(n: number): Uint8Array {
    const first = this.chunks[0]!;
    const available = first.length - this.chunkOffset;
    let out: Uint8Array;
    if (n <= available) {
      out = first.subarray(this.chunkOffset, this.chunkOffset + n);
      this.chunkOffset += n;
      if (this.chunkOffset === first.length) {
        this.chunks.shift();
        this.chunkOffset = 0;
      }
    } else {
      out = new Uint8Array(n);
      let filled = 0;
      while (filled < n) {
        const c = this.chunks[0]!;
        const len = Math.min(c.length - this.chunkOffset, n - filled);
        out.set(c.subarray(this.chunkOffset, this.chunkOffset + len), filled);
        filled += len;
        this.chunkOffset += len;
        if (this.chunkOffset === c.length) {
          this.chunks.shift();
          this.chunkOffset = 0;
        }
      }
    }
    this.buffered -= n;
    this.consumed += n;
    return out;
  }

  /** Every iteration consumes bytes or returns, so the loop ends with the buffered input. */
  private run(out: FlvReadTag[]): void {
    for (;;) {
      switch (this.state) {
        case S_HEADER:
          if (!this.readFileHeader()) return;
          break;
        case S_HEADER_EXTRA: {
          const extra = this.fileHeader!.dataOffset - FLV_HEADER_SIZE;
          if (this.buffered < extra) return;
          this.take(extra);
          this.state = S_PREVIOUS_TAG_SIZE;
          break;
        }
        case S_PREVIOUS_TAG_SIZE: {
          if (this.buffered < PREVIOUS_TAG_SIZE_SIZE) return;
          const at = this.consumed;
          const value = readU32(this.take(PREVIOUS_TAG_SIZE_SIZE), 0);
          if (this.checkPrevious && value !== this.expectedPrevious) {
            throw new FlvFormatError(
              'ERR_FLV_BAD_PREVIOUS_TAG_SIZE',
              `PreviousTagSize ${value} at offset ${at}, expected ${this.expectedPrevious}`,
            );
          }
          this.state = S_TAG_HEADER;
          break;
        }
        case S_TAG_HEADER:
          if (!this.readTagHeader()) return;
          break;
        case S_TAG_BODY: {
          if (this.buffered < this.tagSize) return;
          const payload = this.tagSize === 0 ? new Uint8Array(0) : this.take(this.tagSize);
          const t = this.tagType;
          if (t === TagType.Audio || t === TagType.Video || t === TagType.Script) {
            out.push({ type: t, timestamp: this.tagTimestamp, payload, offset: this.tagOffset });
          } else {
            this.skipped++;
          }
          this.expectedPrevious = TAG_HEADER_SIZE + this.tagSize;
          this.state = S_PREVIOUS_TAG_SIZE;
          break;
        }
        default:
          return;
      }
    }
  }

  /** The 9-byte file header; false when more bytes are needed. */
  private readFileHeader(): boolean {
    // Check the signature byte by byte as it arrives, so garbage fails fast.
    const seen = Math.min(this.buffered, 3);
    const head = this.peek(seen);
    for (let i = 0; i < seen; i++) {
      if (head[i] !== SIGNATURE[i]) {
        throw new FlvFormatError('ERR_FLV_BAD_SIGNATURE', `not FLV: byte ${i} is 0x${head[i]!.toString(16)}`);
      }
    }
    if (this.buffered < FLV_HEADER_SIZE) return false;
    const h = this.take(FLV_HEADER_SIZE);
    if (h[3] !== 1) throw new FlvFormatError('ERR_FLV_BAD_VERSION', `FLV version ${h[3]}, expected 1`);
    const dataOffset = readU32(h, 5);
    if (dataOffset < FLV_HEADER_SIZE || dataOffset > MAX_DATA_OFFSET) {
      throw new FlvFormatError('ERR_FLV_BAD_HEADER_SIZE', `DataOffset ${dataOffset} outside 9..${MAX_DATA_OFFSET}`);
    }
    this.fileHeader = {
      version: 1,
      hasAudio: (h[4]! & 0x04) !== 0,
      hasVideo: (h[4]! & 0x01) !== 0,
      dataOffset,
    };
    this.expectedPrevious = 0;
    this.state = dataOffset > FLV_HEADER_SIZE ? S_HEADER_EXTRA : S_PREVIOUS_TAG_SIZE;
    return true;
  }

  /** One 11-byte tag header; false when more bytes are needed. */
  private readTagHeader(): boolean {
    if (this.buffered < TAG_HEADER_SIZE) return false;
    this.tagOffset = this.consumed;
    const h = this.take(TAG_HEADER_SIZE);
    const b0 = h[0]!;
    if (b0 & 0x20) {
      throw new FlvFormatError('ERR_FLV_ENCRYPTED_TAG', `tag at offset ${this.tagOffset} has the Filter bit set`);
    }
    this.tagType = b0 & 0x1f;
    this.tagSize = readU24(h, 1);
    this.tagTimestamp = (readU24(h, 4) | (h[7]! << 24)) >>> 0;
    if (this.tagSize > this.maxTagSize) {
      throw new FlvFormatError(
        'ERR_FLV_TAG_TOO_LARGE',
        `tag at offset ${this.tagOffset}: DataSize ${this.tagSize} > maxTagSize ${this.maxTagSize}`,
      );
    }
    this.state = S_TAG_BODY;
    return true;
  }

  /** The first `n` buffered bytes without consuming them (n ≤ 3 here, copied). */
  private peek(n: number): number[] {
    const out: number[] = [];
    let ci = 0;
    let off = this.chunkOffset;
    while (out.length < n) {
      const c = this.chunks[ci]!;
      if (off >= c.length) {
        ci++;
        off = 0;
        continue;
      }
      out.push(c[off++]!);
    }
    return out;
  }
}

const SIGNATURE = [0x46, 0x4c, 0x56];
const STATE_NAMES = ['the file header', 'the file header', 'a PreviousTagSize', 'a tag header', 'a tag body'];

function readU24(b: Uint8Array, o: number): number {
  return (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!;
}

function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
