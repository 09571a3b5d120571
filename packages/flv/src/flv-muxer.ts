/**
 * FLV muxer: file header and tags as separate buffers, payloads never copied.
 * Spec: Adobe Flash Video File Format Specification 10.1, Annex E.2 (FLV header), E.3 (FLV file
 * body: PreviousTagSize UI32 before every tag), E.4.1 (FLVTAG).
 *
 * The wire form of one tag is
 * ```
 * byte 0      Reserved UB[2] = 0 | Filter UB[1] = 0 | TagType UB[5] (8, 9, 18)
 * bytes 1-3   DataSize UI24 (payload length)
 * bytes 4-6   Timestamp UI24 (low 24 bits of the ms timestamp)
 * byte 7      TimestampExtended UI8 (bits 31-24)
 * bytes 8-10  StreamID UI24 = 0
 * ...         payload (DataSize bytes)
 * UI32        PreviousTagSize = 11 + DataSize
 * ```
 * `FlvMuxer#tag` returns `[header(11), payload, previousTagSize(4)]`; header and trailer are two
 * views of one 15-byte slot of a shared slab, so a tag costs no copy and no per-tag ArrayBuffer.
 */
import { concatBytes } from '@org/rtmp';
import { FLV_HEADER_SIZE, MAX_TAG_DATA_SIZE, PREVIOUS_TAG_SIZE_SIZE, TAG_HEADER_SIZE, TagType } from './constants';
import { FlvUsageError } from './errors';
import type { FlvTag } from './tag';

/** Which streams the FLV header announces (TypeFlagsAudio / TypeFlagsVideo). */
export interface FlvHeaderFlags {
  audio: boolean;
  video: boolean;
}

/**
 * The 9-byte FLV header followed by PreviousTagSize0 (always 0): 13 bytes.
 * ```
 * "F" "L" "V" | Version UI8 = 1 | TypeFlagsReserved UB[5] = 0 | TypeFlagsAudio UB[1] |
 * TypeFlagsReserved UB[1] = 0 | TypeFlagsVideo UB[1] | DataOffset UI32 = 9 | PreviousTagSize0 UI32 = 0
 * ```
 * FFmpeg uses the flags to stop probing once every announced stream has shown up, so announce
 * exactly what the stream carries.
 */
export function encodeFlvHeader(flags: FlvHeaderFlags): Uint8Array {
  const out = new Uint8Array(FLV_HEADER_SIZE + PREVIOUS_TAG_SIZE_SIZE);
  out[0] = 0x46; // F
  out[1] = 0x4c; // L
  out[2] = 0x56; // V
  out[3] = 1;
  out[4] = (flags.audio ? 0x04 : 0) | (flags.video ? 0x01 : 0);
  out[8] = FLV_HEADER_SIZE;
  return out;
}

function checkTag(type: number, timestamp: number, size: number): void {
  if (type !== TagType.Audio && type !== TagType.Video && type !== TagType.Script) {
    throw new FlvUsageError('ERR_FLV_INVALID_ARGUMENT', `tag type ${type} is not 8, 9 or 18`);
  }
  if (!Number.isInteger(timestamp) || timestamp < 0) {
    throw new FlvUsageError('ERR_FLV_INVALID_ARGUMENT', `timestamp ${timestamp} is not a non-negative integer`);
  }
  if (size > MAX_TAG_DATA_SIZE) {
    throw new FlvUsageError('ERR_FLV_INVALID_ARGUMENT', `payload of ${size} bytes exceeds the 24-bit DataSize`);
  }
}

/**
 * Writes an 11-byte tag header into `out` at `offset`. Timestamps at or above 2^32 ms (49.7 days)
 * do not fit FLV's 24 + 8 bits and are written modulo 2^32: restart the FLV stream (with a fresh
 * {@link TimestampRebaser} base) well before that.
 * @throws FlvUsageError ERR_FLV_INVALID_ARGUMENT for another type, a negative / fractional
 * timestamp, or a size above 2^24 − 1
 */
export function encodeTagHeader(type: number, timestamp: number, dataSize: number, out: Uint8Array, offset = 0): void {
  checkTag(type, timestamp, dataSize);
  const ts = timestamp % 0x100000000;
  out[offset] = type;
  out[offset + 1] = dataSize >>> 16;
  out[offset + 2] = dataSize >>> 8;
  out[offset + 3] = dataSize;
  out[offset + 4] = ts >>> 16;
  out[offset + 5] = ts >>> 8;
  out[offset + 6] = ts;
  out[offset + 7] = ts >>> 24; // TimestampExtended: the upper 8 bits
  out[offset + 8] = 0;
  out[offset + 9] = 0;
  out[offset + 10] = 0;
}

/** Writes the PreviousTagSize of a tag with `dataSize` payload bytes (11 + dataSize, big-endian). */
function encodePreviousTagSize(dataSize: number, out: Uint8Array, offset: number): void {
  const prev = TAG_HEADER_SIZE + dataSize;
  out[offset] = prev >>> 24;
  out[offset + 1] = prev >>> 16;
  out[offset + 2] = prev >>> 8;
  out[offset + 3] = prev;
}

/**
 * Encodes a whole tag (header, payload copy, PreviousTagSize) into `out` at `offset`.
 * @returns the bytes written ({@link tagWireSize})
 * @throws FlvUsageError ERR_FLV_INVALID_ARGUMENT (nothing is written), RangeError when `out` is too small
 */
export function encodeTagInto(tag: FlvTag, out: Uint8Array, offset = 0): number {
  const n = tag.payload.length;
  const end = offset + TAG_HEADER_SIZE + n + PREVIOUS_TAG_SIZE_SIZE;
  if (end > out.length) throw new RangeError(`a ${n}-byte tag does not fit at offset ${offset} of ${out.length}`);
  encodeTagHeader(tag.type, tag.timestamp, n, out, offset);
  out.set(tag.payload, offset + TAG_HEADER_SIZE);
  encodePreviousTagSize(n, out, offset + TAG_HEADER_SIZE + n);
  return end - offset;
}

/** Bytes a tag occupies on the wire: 11-byte header + payload + 4-byte PreviousTagSize. */
export function tagWireSize(tag: FlvTag): number {
  return TAG_HEADER_SIZE + tag.payload.length + PREVIOUS_TAG_SIZE_SIZE;
}

/** Options of {@link FlvMuxer}. */
export interface FlvMuxerOptions {
  /**
   * Bytes per slab that header/trailer slots are cut from. Default {@link DEFAULT_SLAB_SIZE}.
   * A slab lives until every tag cut from it has been written and collected.
   */
  slabSize?: number;
}

/**
 * 16 KiB: 1092 tags per allocation, i.e. one ArrayBuffer about every 14 s of a 30 fps + 48 kHz AAC
 * stream, while a slab kept alive by one slow tag wastes at most 16 KiB.
 */
export const DEFAULT_SLAB_SIZE = 16 * 1024;

const SLOT = TAG_HEADER_SIZE + PREVIOUS_TAG_SIZE_SIZE;

/**
 * Turns tags into wire buffers without copying payloads. Pure: no I/O, no state but the slab.
 * Use `FlvStreamWriter` to write into a Node stream, {@link muxFlv} for one contiguous buffer.
 */
export class FlvMuxer {
  private readonly slabSize: number;
  private slab: Uint8Array;
  private used = 0;

  /** @throws FlvUsageError ERR_FLV_INVALID_OPTION when `slabSize` is not an integer ≥ 15 */
  constructor(options: FlvMuxerOptions = {}) {
    const slabSize = options.slabSize ?? DEFAULT_SLAB_SIZE;
    if (!Number.isInteger(slabSize) || slabSize < SLOT) {
      throw new FlvUsageError('ERR_FLV_INVALID_OPTION', `slabSize must be an integer ≥ ${SLOT}, got ${slabSize}`);
    }
    this.slabSize = slabSize;
    this.slab = new Uint8Array(slabSize);
  }

  /** The 13-byte file header (header + PreviousTagSize0), see {@link encodeFlvHeader}. */
  header(flags: FlvHeaderFlags): Uint8Array {
    return encodeFlvHeader(flags);
  }

  /**
   * One tag as `[tagHeader (11 bytes), payload (the caller's array), previousTagSize (4 bytes)]`.
   * The caller must not modify `payload` until the buffers have been written.
   * @throws FlvUsageError ERR_FLV_INVALID_ARGUMENT (see {@link encodeTagHeader})
   */
  tag(tag: FlvTag): [Uint8Array, Uint8Array, Uint8Array] {
    const size = tag.payload.length;
    if (this.used + SLOT > this.slabSize) {
      this.slab = new Uint8Array(this.slabSize);
      this.used = 0;
    }
    const slab = this.slab;
    const o = this.used;
    encodeTagHeader(tag.type, tag.timestamp, size, slab, o);
    encodePreviousTagSize(size, slab, o + TAG_HEADER_SIZE);
    this.used = o + SLOT;
    return [slab.subarray(o, o + TAG_HEADER_SIZE), tag.payload, slab.subarray(o + TAG_HEADER_SIZE, o + SLOT)];
  }

  /** Buffers of several tags, in order (3 per tag). */
  tags(tags: Iterable<FlvTag>): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const t of tags) out.push(...this.tag(t));
    return out;
  }
}

/**
 * A whole FLV file in one buffer: header, then the tags. Same encoder as the streaming path; this
 * only collects the pieces.
 */
export function muxFlv(flags: FlvHeaderFlags, tags: Iterable<FlvTag>): Uint8Array {
  const muxer = new FlvMuxer();
  return concatBytes([muxer.header(flags), ...muxer.tags(tags)]);
}
