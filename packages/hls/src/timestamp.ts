/**
 * The one place where time units meet: FLV/RTMP milliseconds become 90 kHz ticks modulo 2^33
 * (ISO/IEC 13818-1 §2.4.3.7), and 33-bit serial arithmetic (RFC 1982 style) compares them.
 *
 * A 32-bit FLV millisecond clock wraps at 2^32 ms, and 2^32 × 90 = 45 × 2^33: the wrap of the input
 * lands exactly on a wrap of the output, so `msToTicks(t mod 2^32) = msToTicks(t)` and a wrapped
 * FLV timeline stays continuous in the transport stream with no state at all.
 */
import { TIMESTAMP_MODULUS } from './constants';
import { HlsUsageError } from './errors';

const HALF = TIMESTAMP_MODULUS / 2;

/** `value` modulo 2^33, in [0, 2^33). */
export function wrapTicks(value: number): number {
  const r = value % TIMESTAMP_MODULUS;
  return r < 0 ? r + TIMESTAMP_MODULUS : r;
}

/** Milliseconds (any finite number, possibly fractional or beyond 2^32) → 90 kHz ticks mod 2^33. */
export function msToTicks(ms: number): number {
  return wrapTicks(Math.round(ms * 90));
}

/**
 * Signed distance `to − from` of two 33-bit timestamps, taking the shorter way round:
 * in [−2^32, 2^32). A jump of half the clock (13.25 h) or more reads as a step backwards.
 */
export function tickDelta(from: number, to: number): number {
  const d = wrapTicks(to - from);
  return d >= HALF ? d - TIMESTAMP_MODULUS : d;
}

/** `value` when it is a finite number (of ms), else ERR_HLS_INVALID_ARGUMENT naming the field. */
export function checkMs(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new HlsUsageError('ERR_HLS_INVALID_ARGUMENT', `${name} must be a finite number of ms, got ${String(value)}`);
  }
  return value;
}
