/**
 * Naming a data message (type 18 / 15): publishers send metadata either plain (`onMetaData`, …) or
 * wrapped as `@setDataFrame("onMetaData", …)` (ffmpeg, OBS); checklist §5.
 */
import { type AmfValue, decodeData } from '../amf';
import { isRtmpError } from '../errors';
import type { Amf0DecodeOptions } from '../options';

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
