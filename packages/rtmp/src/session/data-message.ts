/**
 * Naming a data message (type 18 / 15): publishers send metadata either plain (`onMetaData`, …) or
 * wrapped as `@setDataFrame("onMetaData", …)` (ffmpeg, OBS); checklist §5. Also what non-media
 * messages cost against a connection's control budget.
 */
import { type AmfObject, type AmfValue, decodeData, isAmfObject } from '../amf';
import { isRtmpError } from '../errors';
import type { Amf0DecodeOptions } from '../options';

/**
 * What each non-media message costs on top of its payload bytes against the control budget
 * (`maxControlBytesPerSecond`): its chunk header and handling, so that a flood of 6-byte pings is
 * not nearly free.
 */
export const CONTROL_MESSAGE_COST = 64;

/**
 * The handler name and the values after it, with any `@setDataFrame` wrapper removed; null when the
 * message has no name, or is `@clearDataFrame` (nothing to pass on).
 */
export function unwrapDataMessage(values: AmfValue[]): { name: string; values: AmfValue[] } | null {
  const wrapped = values[0] === '@setDataFrame';
  const name = wrapped ? values[1] : values[0];
  if (typeof name !== 'string' || name === '@clearDataFrame') return null;
  return { name, values: values.slice(wrapped ? 2 : 1) };
}

/**
 * Decodes and unwraps a data message; null when it is malformed or has nothing to pass on. Malformed
 * metadata must not end a stream (media carries the codec configuration), so decode errors become
 * null; anything else thrown is a bug and propagates.
 */
export function readDataMessage(
  type: number,
  payload: Uint8Array,
  amf: Amf0DecodeOptions | undefined,
): { name: string; values: AmfValue[] } | null {
  try {
    return unwrapDataMessage(decodeData(payload, type, amf));
  } catch (err) {
    if (!isRtmpError(err)) throw err;
    return null;
  }
}

/** What a data message makes the session emit: `onMetaData`'s object, another named message, or nothing (null). */
export function dataMessageEvent(
  type: number,
  payload: Uint8Array,
  amf: Amf0DecodeOptions | undefined,
): { metadata: AmfObject } | { message: { name: string; values: AmfValue[] } } | null {
  const message = readDataMessage(type, payload, amf);
  if (message === null) return null;
  if (message.name !== 'onMetaData') return { message };
  const data = message.values.find(isAmfObject);
  return data === undefined ? null : { metadata: data };
}
