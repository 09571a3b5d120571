import { AuthConfigError } from './errors';

/**
 * Longest raw `app` or stream name (query included) looked at. Real names are a few dozen
 * characters; a signed URL with a key adds ~150. Anything longer is refused before any parsing.
 */
export const DEFAULT_MAX_INPUT_LENGTH = 1024;
/**
 * Longest single path segment after decoding. Checked before a variable's regex runs, so the
 * regex never sees more than this many characters (a ReDoS bound).
 */
export const DEFAULT_MAX_SEGMENT_LENGTH = 128;
/** Most path segments (app + name) accepted; patterns are a handful of segments long. */
export const DEFAULT_MAX_SEGMENTS = 16;
/** Most query parameters (app and name queries together). */
export const DEFAULT_MAX_QUERY_PARAMS = 32;
/** Longest query parameter value after decoding. */
export const DEFAULT_MAX_QUERY_VALUE_LENGTH = 512;
/** Longest custom variable regex source: long regexes are where catastrophic backtracking hides. */
export const MAX_REGEX_SOURCE_LENGTH = 256;
/** Longest pattern string. */
export const MAX_PATTERN_LENGTH = 1024;
/** Most patterns in one configuration (they are tried in order on every publish). */
export const MAX_PATTERNS = 64;

/** Size limits applied to every publish request. Each is optional; defaults are the `DEFAULT_*` constants. */
export interface AuthLimits {
  /** Longest raw `app` or stream name, query included. @default 1024 */
  maxInputLength?: number;
  /** Longest decoded path segment; also caps every variable value. @default 128 */
  maxSegmentLength?: number;
  /** Most path segments in `app` + name. @default 16 */
  maxSegments?: number;
  /** Most query parameters. @default 32 */
  maxQueryParams?: number;
  /** Longest decoded query value. @default 512 */
  maxQueryValueLength?: number;
}

export type ResolvedLimits = Readonly<Required<AuthLimits>>;

const LIMIT_BOUNDS: Record<keyof AuthLimits, [number, number, number]> = {
  maxInputLength: [DEFAULT_MAX_INPUT_LENGTH, 16, 65536],
  maxSegmentLength: [DEFAULT_MAX_SEGMENT_LENGTH, 1, 1024],
  maxSegments: [DEFAULT_MAX_SEGMENTS, 1, 64],
  maxQueryParams: [DEFAULT_MAX_QUERY_PARAMS, 0, 256],
  maxQueryValueLength: [DEFAULT_MAX_QUERY_VALUE_LENGTH, 1, 8192],
};

/** Fills in defaults and rejects non-integer or out-of-range values with `ERR_AUTH_CONFIG_LIMIT`. */
export function resolveLimits(limits: AuthLimits | undefined): ResolvedLimits {
  if (limits !== undefined && (typeof limits !== 'object' || limits === null)) {
    throw new AuthConfigError('ERR_AUTH_CONFIG_INVALID', 'limits must be an object');
  }
  const out = {} as Record<keyof AuthLimits, number>;
  for (const name of Object.keys(limits ?? {})) {
    if (!Object.hasOwn(LIMIT_BOUNDS, name)) {
      throw new AuthConfigError('ERR_AUTH_CONFIG_UNKNOWN_OPTION', `unknown limit ${JSON.stringify(name)}`);
    }
  }
  for (const [name, [def, min, max]] of Object.entries(LIMIT_BOUNDS) as [
    keyof AuthLimits,
    [number, number, number],
  ][]) {
    const value = limits?.[name] ?? def;
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new AuthConfigError('ERR_AUTH_CONFIG_LIMIT', `limits.${name} must be an integer in [${min}, ${max}]`);
    }
    out[name] = value;
  }
  return Object.freeze(out);
}
