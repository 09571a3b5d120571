/**
 * Naming a data message (type 18 / 15): publishers send metadata either plain (`onMetaData`, …) or
 * wrapped as `@setDataFrame("onMetaData", …)` (ffmpeg, OBS); checklist §5.
 */
import type { AmfValue } from '../amf';

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
