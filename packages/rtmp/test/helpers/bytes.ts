/** Byte-building helpers for the chunk/handshake/AMF tests: one field per call, readable tables. */
import type { RtmpMessage } from '../../src/constants';

export type ByteSpec = number | readonly number[] | Uint8Array | ByteSpec[];

/** Flattens numbers (one byte each), arrays and Uint8Arrays into one Uint8Array. */
export function b(...parts: ByteSpec[]): Uint8Array {
  const out: number[] = [];
  const walk = (p: ByteSpec): void => {
    if (typeof p === 'number') out.push(p & 0xff);
    else for (const x of p as Iterable<ByteSpec>) walk(x);
  };
  for (const p of parts) walk(p);
  return Uint8Array.from(out);
}

export const u16 = (n: number): number[] => [(n >>> 8) & 0xff, n & 0xff];
export const u24 = (n: number): number[] => [(n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
export const u32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
export const le32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
/** `n` bytes counting up from `start` (distinguishable payloads). */
export const seq = (n: number, start = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);
/** ASCII string as bytes. */
export const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));

/** A message literal with a copied payload (so comparisons ignore views vs copies). */
export function msg(
  chunkStreamId: number,
  type: number,
  streamId: number,
  timestamp: number,
  payload: Uint8Array,
): RtmpMessage {
  return { chunkStreamId, type, streamId, timestamp, payload: Uint8Array.from(payload) };
}

/** Normalises decoded messages for deep comparison (payload copied into a plain Uint8Array). */
export function plain(messages: readonly RtmpMessage[]): RtmpMessage[] {
  return messages.map((m) => msg(m.chunkStreamId, m.type, m.streamId, m.timestamp, m.payload));
}

/** Splits `bytes` at the given sorted offsets. */
export function splitAt(bytes: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let prev = 0;
  for (const o of offsets) {
    pieces.push(bytes.subarray(prev, o));
    prev = o;
  }
  pieces.push(bytes.subarray(prev));
  return pieces;
}

export function concat(pieces: readonly Uint8Array[]): Uint8Array {
  return b(...pieces);
}

/** Big-endian IEEE 754 double (AMF numbers). */
export const f64 = (n: number): number[] => {
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, n);
  return Array.from(new Uint8Array(v.buffer));
};
