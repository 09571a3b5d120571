/**
 * From an RTMP (app, stream name) pair to a matched pattern.
 *
 * Clients split `rtmp://host/live/test/alice?key=k` differently (ffmpeg, GStreamer, librtmp:
 * app `live/test`, name `alice?key=k`; others: app `live`, name `test/alice?key=k`; OBS: app =
 * server-URL path, possibly with its own query, name = stream key). So the path matched is
 * `"/" + app + "/" + name` with each part's query removed, which is the same for every split.
 *
 * Processing order, each step refusing with a reason:
 * 1. type and raw length (`maxInputLength`) of app and name;
 * 2. raw characters: printable ASCII only, no backslash (refuses NUL/CR/LF, RTL marks, fullwidth
 *    look-alikes such as `．` `／`, any other non-ASCII);
 * 3. split each at its first `?` (before decoding, so `%3F` never starts a query);
 * 4. trim leading and trailing `/` of each part; name empty → refused; empty inner segment → refused;
 *    more than `maxSegments` → refused;
 * 5. percent-decode each segment exactly once; refuse invalid escapes and anything that decoded
 *    to a control character, a byte ≥ 0x80 (so overlong UTF-8 `%c0%ae` too), `/` or `\`; refuse
 *    dot-only segments (`.`, `..`, `%2e%2e`) and segments longer than `maxSegmentLength`;
 *    `%252e` decodes to the literal `%2e`, which no variable charset admits;
 * 6. parse both queries (see `parseQueryInto`);
 * 7. try the patterns in order, same segment count only; the first match wins.
 */
import { isDotOnly } from './charset';
import type { AuthDenyCode } from './errors';
import { describeChar, quote } from './escape';
import type { ResolvedLimits } from './limits';
import { type CompiledPattern, compilePatterns, KEY_VARIABLE, type PatternSet, USERNAME_VARIABLE } from './pattern';

/** Query parameter names: short, URL-safe. */
const QUERY_NAME = /^[A-Za-z0-9_.~-]{1,64}$/;

/** A successful match of the path step. */
export interface PublishPathMatch {
  readonly matched: true;
  /** The pattern that matched, as configured. */
  readonly pattern: string;
  /** Its index in the configured list. */
  readonly patternIndex: number;
  /** The `{username}` value: safe as one path segment and in a URL. */
  readonly username: string;
  /** Every variable except `{key}` (which is a credential), decoded. Includes `username`. */
  readonly vars: Record<string, string>;
  /** The `{key}` segment value when the pattern ends in `{key}`; otherwise undefined. */
  readonly pathKey: string | undefined;
  /** Query parameters of app and name together, decoded once (includes credentials such as `key`, `sig`). */
  readonly query: Record<string, string>;
  /** Canonical path: `"/" + decoded segments.join("/")`, no query. This is what signed URLs sign. */
  readonly path: string;
  /**
   * The decoded stream name without its query and without a `{key}` segment; when the client sent the
   * key alone as its name (ffmpeg with `…/alice/KEY`), the username.
   */
  readonly name: string;
  /** The app as sent, query removed and slashes trimmed (not decoded): the webhook's `app` field. */
  readonly rawApp: string;
  /** The stream name as sent, query removed and slashes trimmed (not decoded): the webhook's `name` field. */
  readonly rawName: string;
}

/** Deny codes the path step can produce. */
export type PathDenyCode = Extract<
  AuthDenyCode,
  'ERR_AUTH_BAD_NAME' | 'ERR_AUTH_BAD_QUERY' | 'ERR_AUTH_NO_MATCH' | 'ERR_AUTH_USERNAME_MISMATCH'
>;

/** A refusal of the path step; `reason` is printable ASCII, client input quoted and truncated. */
export interface PublishPathRefusal {
  readonly matched: false;
  readonly code: PathDenyCode;
  readonly reason: string;
}

export type PublishPathResult = PublishPathMatch | PublishPathRefusal;

/** Extra inputs of `matchPublishPath`. */
export interface MatchPublishPathOptions {
  /** Query parameters already parsed by the caller; merged with those in app and name (conflicts refused). */
  query?: Record<string, string>;
}

function refuse(code: PathDenyCode, reason: string): PublishPathRefusal {
  return { matched: false, code, reason };
}

/** Printable ASCII, no backslash. Returns a problem description or undefined. */
function rawProblem(s: string): string | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return `a control character (${describeChar(s[i]!)})`;
    if (c > 0x7e) return `a non-ASCII character (${describeChar(String.fromCodePoint(s.codePointAt(i)!))})`;
    if (c === 0x5c) return 'a backslash';
  }
  return undefined;
}

/**
 * Percent-decodes exactly once into a byte string (one char per byte, 0..255). Returns undefined
 * for a `%` not followed by two hex digits.
 */
export function percentDecodeOnce(s: string): string | undefined {
  if (!s.includes('%')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '%') {
      out += c;
      continue;
    }
    const hex = s.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
    out += String.fromCharCode(Number.parseInt(hex, 16));
    i += 2;
  }
  return out;
}

/** Problem with a decoded byte string meant to be printable ASCII (optionally not `/`), or undefined. */
function decodedProblem(bytes: string, allowSlash: boolean): string | undefined {
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return `an encoded control character (0x${c.toString(16).padStart(2, '0')})`;
    if (c > 0x7e) return `an encoded non-ASCII byte (0x${c.toString(16)})`;
    if (c === 0x2f && !allowSlash) return 'an encoded "/"';
    if (c === 0x5c) return 'an encoded backslash';
  }
  return undefined;
}

function trimSlashes(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) === 0x2f) start++;
  while (end > start && s.charCodeAt(end - 1) === 0x2f) end--;
  return s.slice(start, end);
}

/**
 * Parses `a=1&b=2` into `into`: names and values percent-decoded once; `+` stays a literal `+`
 * (RTMP names are not HTML forms); empty pieces (`a=1&&b=2`) skipped; a bare `flag` is `flag=""`.
 * Refuses names outside `[A-Za-z0-9_.~-]{1,64}`, invalid escapes, decoded values that are not
 * printable ASCII or longer than `maxQueryValueLength`, more than `maxQueryParams` names, and one name
 * with two different values (`?key=a&key=b` or app and name disagreeing): which one a later
 * consumer would read is ambiguous, so the request is refused rather than guessed at.
 */
export function parseQueryInto(
  raw: string,
  into: Map<string, string>,
  limits: ResolvedLimits,
  where: string,
): PublishPathRefusal | undefined {
  if (raw === '') return undefined;
  for (const piece of raw.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const name = percentDecodeOnce(eq < 0 ? piece : piece.slice(0, eq));
    const value = percentDecodeOnce(eq < 0 ? '' : piece.slice(eq + 1));
    if (name === undefined || value === undefined) {
      return refuse('ERR_AUTH_BAD_QUERY', `query of the ${where} has an invalid percent escape`);
    }
    const problem = setQueryParam(into, name, value, limits, where);
    if (problem) return problem;
  }
  return undefined;
}

function setQueryParam(
  into: Map<string, string>,
  name: string,
  value: string,
  limits: ResolvedLimits,
  where: string,
): PublishPathRefusal | undefined {
  if (!QUERY_NAME.test(name)) {
    return refuse('ERR_AUTH_BAD_QUERY', `query parameter name ${quote(name)} in the ${where} is not allowed`);
  }
  const problem = decodedProblem(value, true);
  if (problem) return refuse('ERR_AUTH_BAD_QUERY', `query parameter ${quote(name)} in the ${where} has ${problem}`);
  if (value.length > limits.maxQueryValueLength) {
    return refuse('ERR_AUTH_BAD_QUERY', `query parameter ${quote(name)} in the ${where} is too long`);
  }
  const previous = into.get(name);
  if (previous !== undefined && previous !== value) {
    return refuse('ERR_AUTH_BAD_QUERY', `query parameter ${quote(name)} is given twice with different values`);
  }
  into.set(name, value);
  if (into.size > limits.maxQueryParams) {
    return refuse('ERR_AUTH_BAD_QUERY', `more than ${limits.maxQueryParams} query parameters`);
  }
  return undefined;
}

interface SplitPart {
  rawPath: string;
  rawQuery: string;
  segments: string[];
}

function splitPart(
  value: unknown,
  what: 'app' | 'stream name',
  limits: ResolvedLimits,
): SplitPart | PublishPathRefusal {
  if (typeof value !== 'string') return refuse('ERR_AUTH_BAD_NAME', `${what} is not a string`);
  if (value.length > limits.maxInputLength) {
    return refuse('ERR_AUTH_BAD_NAME', `${what} is longer than ${limits.maxInputLength} characters`);
  }
  const problem = rawProblem(value);
  if (problem) return refuse('ERR_AUTH_BAD_NAME', `${what} ${quote(value)} contains ${problem}`);
  const q = value.indexOf('?');
  const rawPath = trimSlashes(q < 0 ? value : value.slice(0, q));
  const rawQuery = q < 0 ? '' : value.slice(q + 1);
  return { rawPath, rawQuery, segments: rawPath === '' ? [] : rawPath.split('/') };
}

function isRefusal(x: unknown): x is PublishPathRefusal {
  return typeof x === 'object' && x !== null && (x as { matched?: unknown }).matched === false;
}

/**
 * The segment the username must equal, computed from the name alone: the last segment of the
 * name without query; with a `{key}` pattern, the segment before the key, or (when the name is
 * only the key, as ffmpeg sends `…/alice/KEY`) the last app segment. Patterns are validated so the
 * matcher always agrees; this independent check guards the invariant the HTTP layer relies on.
 */
export function expectedUsername(
  appSegments: readonly string[],
  nameSegments: readonly string[],
  hasKeySegment: boolean,
): string | undefined {
  const identity = hasKeySegment ? nameSegments.slice(0, -1) : nameSegments;
  if (identity.length > 0) return identity[identity.length - 1];
  return hasKeySegment ? appSegments[appSegments.length - 1] : undefined;
}

function tryPattern(pattern: CompiledPattern, segments: readonly string[]): Map<string, string> | undefined {
  if (pattern.segments.length !== segments.length) return undefined;
  const vars = new Map<string, string>();
  for (let i = 0; i < segments.length; i++) {
    const seg = pattern.segments[i]!;
    const value = segments[i]!;
    if (seg.kind === 'literal') {
      if (seg.value !== value) return undefined;
    } else {
      if (!seg.charset.test(value)) return undefined;
      vars.set(seg.name, value);
    }
  }
  return vars;
}

/** Each raw path segment percent-decoded once and checked (not empty, no dot segment, within limits). */
function decodeSegments(rawSegments: readonly string[], limits: ResolvedLimits): string[] | PublishPathRefusal {
  const segments: string[] = [];
  for (const raw of rawSegments) {
    if (raw === '') return refuse('ERR_AUTH_BAD_NAME', 'empty path segment ("//")');
    const decoded = percentDecodeOnce(raw);
    if (decoded === undefined)
      return refuse('ERR_AUTH_BAD_NAME', `segment ${quote(raw)} has an invalid percent escape`);
    const problem = decodedProblem(decoded, false);
    if (problem) return refuse('ERR_AUTH_BAD_NAME', `segment ${quote(raw)} contains ${problem}`);
    if (isDotOnly(decoded)) return refuse('ERR_AUTH_BAD_NAME', `segment ${quote(raw)} is a relative path segment`);
    if (decoded.length > limits.maxSegmentLength) {
      return refuse('ERR_AUTH_BAD_NAME', `a segment is longer than ${limits.maxSegmentLength} characters`);
    }
    segments.push(decoded);
  }
  return segments;
}

/**
 * The pattern step alone: pure and synchronous. Normalises `app` and `streamName` (see the steps
 * atop this file) and returns the first matching pattern's variables, or a refusal.
 * @param patterns a `PatternSet` from `compilePatterns` (preferred), or pattern strings compiled on
 *   each call (throws `AuthConfigError` if invalid).
 */
export function matchPublishPath(
  patterns: PatternSet | readonly string[],
  app: string,
  streamName: string,
  options: MatchPublishPathOptions = {},
): PublishPathResult {
  const set: PatternSet = Array.isArray(patterns) ? compilePatterns(patterns) : (patterns as PatternSet);
  const { limits } = set;

  const appPart = splitPart(app, 'app', limits);
  if (isRefusal(appPart)) return appPart;
  const namePart = splitPart(streamName, 'stream name', limits);
  if (isRefusal(namePart)) return namePart;
  if (namePart.segments.length === 0) return refuse('ERR_AUTH_BAD_NAME', 'empty stream name');

  const rawSegments = [...appPart.segments, ...namePart.segments];
  if (rawSegments.length > limits.maxSegments) {
    return refuse('ERR_AUTH_BAD_NAME', `more than ${limits.maxSegments} path segments`);
  }
  const segments = decodeSegments(rawSegments, limits);
  if (isRefusal(segments)) return segments;

  const query = new Map<string, string>();
  const appQuery = parseQueryInto(appPart.rawQuery, query, limits, 'app');
  if (appQuery) return appQuery;
  const nameQuery = parseQueryInto(namePart.rawQuery, query, limits, 'stream name');
  if (nameQuery) return nameQuery;
  if (options.query !== undefined) {
    if (typeof options.query !== 'object' || options.query === null) {
      return refuse('ERR_AUTH_BAD_QUERY', 'request query is not an object');
    }
    for (const [name, value] of Object.entries(options.query)) {
      if (typeof value !== 'string')
        return refuse('ERR_AUTH_BAD_QUERY', `query parameter ${quote(name)} is not a string`);
      const problem = setQueryParam(query, name, value, limits, 'request');
      if (problem) return problem;
    }
  }

  const path = `/${segments.join('/')}`;
  for (let index = 0; index < set.patterns.length; index++) {
    const pattern = set.patterns[index]!;
    const vars = tryPattern(pattern, segments);
    if (!vars) continue;
    const username = vars.get(USERNAME_VARIABLE)!;
    const appSegments = segments.slice(0, appPart.segments.length);
    const nameSegments = segments.slice(appPart.segments.length);
    if (expectedUsername(appSegments, nameSegments, pattern.hasKeySegment) !== username) {
      return refuse('ERR_AUTH_USERNAME_MISMATCH', 'the username is not the last segment of the stream name');
    }
    const pathKey = vars.get(KEY_VARIABLE);
    vars.delete(KEY_VARIABLE);
    const identity = pattern.hasKeySegment ? nameSegments.slice(0, -1) : nameSegments;
    return {
      matched: true,
      pattern: pattern.source,
      patternIndex: index,
      username,
      vars: Object.fromEntries(vars),
      pathKey,
      query: Object.fromEntries(query),
      path,
      name: identity.length > 0 ? identity.join('/') : username,
      rawApp: appPart.rawPath,
      rawName: namePart.rawPath,
    };
  }
  return refuse('ERR_AUTH_NO_MATCH', `no publish pattern matches ${quote(path)}`);
}
