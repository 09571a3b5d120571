/**
 * Audio (type 8), video (type 9) and aggregate (type 22) messages as the session hands them on.
 * Spec: Adobe RTMP Specification 1.0, §7.1.5 (audio/video), §7.1.6 (aggregate).
 */
import { readUint24BE, readUint32BE } from '../bytes';
import { MessageType } from '../constants';

/** One audio or video message of a published stream. */
export interface MediaMessage {
  /** Message stream id the publisher sends on (the id createStream gave it). */
  streamId: number;
  /** Timestamp in milliseconds, modulo 2^32, exactly as on the wire (not rebased). */
  timestamp: number;
  /** FLV tag body: audio/video tag header then codec data. May be a view of the bytes fed in. */
  payload: Uint8Array;
}

/** A message found inside an aggregate message. */
export interface AggregatePart {
  /** 8 (audio), 9 (video) or 18 (data). */
  type: number;
  /** Absolute timestamp: the aggregate's timestamp plus this part's offset from the first part. */
  timestamp: number;
  payload: Uint8Array;
}

/**
 * Splits an aggregate message body into its parts.
 *
 *   per part: type u8 | size u24 | timestamp u24 | timestamp high byte u8 | stream id u24
 *             | size bytes of body | back pointer u32 (11 + size)
 *
 * The first part's timestamp maps to the aggregate's own; the rest keep their offset from it.
 * @returns the parts that are complete and well formed, in order; parsing stops at the first
 * inconsistency (so a malformed aggregate yields fewer parts, never an exception).
 */
export function splitAggregate(body: Uint8Array, aggregateTimestamp: number): AggregatePart[] {
  const parts: AggregatePart[] = [];
  let p = 0;
  let first: number | undefined;
  while (body.length - p >= 11) {
    const type = body[p]!;
    const size = readUint24BE(body, p + 1);
    const ts = (readUint24BE(body, p + 4) | (body[p + 7]! << 24)) >>> 0;
    const end = p + 11 + size;
    if (end + 4 > body.length) break;
    if (readUint32BE(body, end) !== size + 11) break;
    if (type === MessageType.Audio || type === MessageType.Video || type === MessageType.DataAmf0) {
      first ??= ts;
      parts.push({ type, timestamp: (aggregateTimestamp + ts - first) >>> 0, payload: body.subarray(p + 11, end) });
    }
    p = end + 4;
  }
  return parts;
}
