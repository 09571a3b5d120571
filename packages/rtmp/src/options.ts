/**
 * Options of the lower layers (chunk decoder, chunk encoder, AMF decoder), their defaults and their
 * validation. Every limit is checked while bytes arrive, so a peer cannot make us buffer more than
 * these numbers say.
 */

import type { PayloadSlabPool } from './chunk/payload-pool';
import { DEFAULT_CHUNK_SIZE, MAX_WIRE_CHUNK_SIZE } from './constants';
import { RtmpError } from './errors';

/**
 * Largest message accepted by default: 8 MiB. A 4K H.264/HEVC keyframe at high bitrate runs to a few
 * MiB; nginx-rtmp's 1 MiB cap breaks those. Refused at header time, before any byte is buffered.
 */
export const DEFAULT_MAX_MESSAGE_SIZE = 8 * 1024 * 1024;
/**
 * Largest Set Chunk Size accepted from the peer by default: every value the wire can express
 * (2^31 − 1). Memory is bounded by message length, never by chunk size, so large chunk sizes are
 * harmless; rtmp2sink can announce 2^31 − 1.
 */
export const DEFAULT_MAX_CHUNK_SIZE = MAX_WIRE_CHUNK_SIZE;
/**
 * Distinct chunk stream ids a peer may open by default: 64. Publishers use 2–8; the cap bounds the
 * per-csid state a hostile peer can create (the id space has 65,598 entries).
 */
export const DEFAULT_MAX_CHUNK_STREAMS = 64;
/**
 * Bytes of partial messages buffered across all chunk streams by default: 16 MiB, i.e. two
 * maximum-size messages in flight at once (a keyframe interleaved with another large message).
 */
export const DEFAULT_MAX_PENDING_BYTES = 16 * 1024 * 1024;
/**
 * Size of the slabs multi-chunk payloads are carved from by default: 256 KiB. Payloads up to a
 * quarter of it (64 KiB: audio, inter frames) share a slab, which makes the decoder's allocation cost
 * per slab rather than per message; larger ones (keyframes) get their own buffer.
 */
export const DEFAULT_PAYLOAD_SLAB_SIZE = 256 * 1024;
/** Nesting depth of AMF containers accepted by default: 32. Real commands and metadata nest 2–3 deep. */
export const DEFAULT_AMF_MAX_DEPTH = 32;
/**
 * Values plus object keys an AMF payload may expand to by default: 65,536. Counting includes what
 * references point to, so a chain of references cannot expand exponentially.
 */
export const DEFAULT_AMF_MAX_ITEMS = 65536;
/** Largest AMF input decoded by default: the default maximum message size (8 MiB). */
export const DEFAULT_AMF_MAX_INPUT_BYTES = DEFAULT_MAX_MESSAGE_SIZE;

/** Options of {@link ChunkDecoder}. All are optional; defaults are safe for a public server. */
export interface ChunkDecoderOptions {
  /**
   * Largest message length accepted, in bytes (1..2^24 − 1; the length field is 24 bits). A header
   * declaring more throws `ERR_RTMP_MESSAGE_TOO_LARGE` before any payload is buffered.
   * @default 8388608 (8 MiB, {@link DEFAULT_MAX_MESSAGE_SIZE})
   */
  maxMessageSize?: number;
  /**
   * Largest chunk size the peer may set with Set Chunk Size (1..2^31 − 1). More throws
   * `ERR_RTMP_CHUNK_SIZE_TOO_LARGE`.
   * @default 2147483647 ({@link DEFAULT_MAX_CHUNK_SIZE}: everything the wire can express)
   */
  maxChunkSize?: number;
  /**
   * Distinct chunk stream ids the peer may use (1..65598). One more throws
   * `ERR_RTMP_TOO_MANY_CHUNK_STREAMS`.
   * @default 64 ({@link DEFAULT_MAX_CHUNK_STREAMS})
   */
  maxChunkStreams?: number;
  /**
   * Total bytes of partial (multi-chunk) messages buffered across all chunk streams. Starting a
   * message that would exceed it throws `ERR_RTMP_PENDING_BYTES`.
   * @default 16777216 (16 MiB, {@link DEFAULT_MAX_PENDING_BYTES})
   */
  maxPendingBytes?: number;
  /**
   * Bytes per payload slab (0 or 4..2^30). Multi-chunk payloads up to a quarter of this size are
   * views into a shared slab, so a payload kept alive keeps its slab alive: copy payloads you keep for
   * long (`Buffer.from(payload)`), or set 0 to give every message its own buffer.
   * @default 262144 (256 KiB, {@link DEFAULT_PAYLOAD_SLAB_SIZE})
   */
  payloadSlabSize?: number;
  /**
   * A payload pool to allocate from instead of one of the decoder's own, e.g. one pool for every
   * connection of a server: each connection then no longer keeps a partly used slab of its own
   * for as long as it lives. Takes precedence over `payloadSlabSize`. Same thread only.
   * @default undefined (the decoder makes its own pool of `payloadSlabSize`)
   */
  payloadPool?: PayloadSlabPool;
  /**
   * Let `push` reassemble a multi-chunk message inside the pushed buffer when all its chunks are
   * there, overwriting their headers, and return a view instead of a copy. Faster (no fresh memory
   * to fill); only for input nobody reads after pushing it, such as `net.Socket` `'data'` Buffers.
   * @default false
   */
  inPlace?: boolean;
}

/** Options of {@link ChunkEncoder}. */
export interface ChunkEncoderOptions {
  /**
   * Chunk size to start with (1..2^31 − 1). Only change it after telling the peer with a Set Chunk
   * Size message.
   * @default 128 (the protocol's initial chunk size)
   */
  chunkSize?: number;
}

/** Options of {@link decodeAmf0}. */
export interface Amf0DecodeOptions {
  /**
   * Deepest nesting of objects/arrays accepted. Deeper throws `ERR_AMF_DEPTH`.
   * @default 32 ({@link DEFAULT_AMF_MAX_DEPTH})
   */
  maxDepth?: number;
  /**
   * Total values and object keys accepted, counting the contents of referenced objects each time they
   * are referenced. More throws `ERR_AMF_TOO_LARGE`.
   * @default 65536 ({@link DEFAULT_AMF_MAX_ITEMS})
   */
  maxItems?: number;
  /**
   * Largest input accepted, in bytes. More throws `ERR_AMF_TOO_LARGE` without decoding.
   * @default 8388608 ({@link DEFAULT_AMF_MAX_INPUT_BYTES})
   */
  maxInputBytes?: number;
}

/** Thrown (code `ERR_RTMP_INVALID_OPTION`) when an option is out of range or of the wrong type. */
export function invalidOption(name: string, expected: string, value: unknown): RtmpError {
  return new RtmpError('ERR_RTMP_INVALID_OPTION', `options.${name} must be ${expected}, got ${String(value)}`);
}

/** Returns `value` if it is an integer in [min, max], `fallback` if undefined; throws otherwise. */
export function integerOption(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidOption(name, `an integer in ${min}..${max}`, value);
  }
  return value;
}

/** Returns `value` if it is a boolean, `fallback` if undefined; throws otherwise. */
export function booleanOption(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidOption(name, 'a boolean', value);
  return value;
}

/** Chunk decoder options with defaults filled in and ranges checked. */
export interface ResolvedChunkDecoderOptions {
  maxMessageSize: number;
  maxChunkSize: number;
  maxChunkStreams: number;
  maxPendingBytes: number;
  payloadSlabSize: number;
  payloadPool: PayloadSlabPool | undefined;
  inPlace: boolean;
}

/** Fills in defaults of {@link ChunkDecoderOptions} and validates each option once. */
export function resolveChunkDecoderOptions(options: ChunkDecoderOptions = {}): ResolvedChunkDecoderOptions {
  return {
    maxMessageSize: integerOption('maxMessageSize', options.maxMessageSize, DEFAULT_MAX_MESSAGE_SIZE, 1, 0xffffff),
    maxChunkSize: integerOption('maxChunkSize', options.maxChunkSize, DEFAULT_MAX_CHUNK_SIZE, 1, MAX_WIRE_CHUNK_SIZE),
    maxChunkStreams: integerOption('maxChunkStreams', options.maxChunkStreams, DEFAULT_MAX_CHUNK_STREAMS, 1, 65598),
    maxPendingBytes: integerOption(
      'maxPendingBytes',
      options.maxPendingBytes,
      DEFAULT_MAX_PENDING_BYTES,
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    payloadSlabSize: slabOption(options.payloadSlabSize),
    payloadPool: poolOption(options.payloadPool),
    inPlace: booleanOption('inPlace', options.inPlace, false),
  };
}

function poolOption(value: unknown): PayloadSlabPool | undefined {
  if (value === undefined) return undefined;
  const pool = value as Partial<PayloadSlabPool> | null;
  if (typeof pool !== 'object' || pool === null || typeof pool.allocate !== 'function') {
    throw invalidOption('payloadPool', 'a PayloadSlabPool', value);
  }
  return value as PayloadSlabPool;
}

function slabOption(value: unknown): number {
  const size = integerOption('payloadSlabSize', value, DEFAULT_PAYLOAD_SLAB_SIZE, 0, 2 ** 30);
  if (size !== 0 && size < 4) throw invalidOption('payloadSlabSize', '0 or an integer in 4..1073741824', value);
  return size;
}

/** Fills in the default of {@link ChunkEncoderOptions} and validates it. */
export function resolveChunkEncoderOptions(options: ChunkEncoderOptions = {}): Required<ChunkEncoderOptions> {
  return { chunkSize: integerOption('chunkSize', options.chunkSize, DEFAULT_CHUNK_SIZE, 1, MAX_WIRE_CHUNK_SIZE) };
}

/** Fills in defaults of {@link Amf0DecodeOptions} and validates each option. */
export function resolveAmf0DecodeOptions(options: Amf0DecodeOptions = {}): Required<Amf0DecodeOptions> {
  return {
    maxDepth: integerOption('maxDepth', options.maxDepth, DEFAULT_AMF_MAX_DEPTH, 1, 1024),
    maxItems: integerOption('maxItems', options.maxItems, DEFAULT_AMF_MAX_ITEMS, 1, Number.MAX_SAFE_INTEGER),
    maxInputBytes: integerOption(
      'maxInputBytes',
      options.maxInputBytes,
      DEFAULT_AMF_MAX_INPUT_BYTES,
      0,
      Number.MAX_SAFE_INTEGER,
    ),
  };
}
