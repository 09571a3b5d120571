/**
 * Publish-path patterns, written from scratch.
 *
 * Grammar (whitespace is not allowed anywhere):
 *   pattern  = "/" segment *( "/" segment )
 *   segment  = literal / variable                 ; a variable is always a whole segment
 *   literal  = 1*unreserved, not "." / ".." / …   ; A-Z a-z 0-9 . _ ~ -
 *   variable = "{" name [ ":" regex ] "}"         ; regex: see charset.ts; braces inside must balance
 *   name     = ( ALPHA / "_" ) *31( ALPHA / DIGIT / "_" )
 *
 * Every pattern has a `{username}` variable; it is the last segment, or the one before a final
 * `{key}` segment (a stream key given as the last name segment). Example: `/live/{app}/{username}`.
 */
import { compileCharset, DEFAULT_SEGMENT_CHARSET, isDotOnly, isUnreservedCode, type SegmentCharset } from './charset';
import { AuthConfigError, type AuthConfigErrorCode } from './errors';
import { quote } from './escape';
import { type AuthLimits, MAX_PATTERN_LENGTH, MAX_PATTERNS, type ResolvedLimits, resolveLimits } from './limits';

/** Name of the variable that becomes the username. Required in every pattern. */
export const USERNAME_VARIABLE = 'username';
/** Name of the variable that carries a stream key in the path. Optional; last segment only. */
export const KEY_VARIABLE = 'key';

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,31}$/;

/** A literal segment, compared exactly (case-sensitive). */
export interface LiteralSegment {
  readonly kind: 'literal';
  readonly value: string;
}

/** A variable segment: exactly one path segment accepted by `charset`. */
export interface VariableSegment {
  readonly kind: 'variable';
  readonly name: string;
  readonly charset: SegmentCharset;
}

export type PatternSegment = LiteralSegment | VariableSegment;

/** One validated pattern. */
export interface CompiledPattern {
  /** The pattern as configured. */
  readonly source: string;
  readonly segments: readonly PatternSegment[];
  /** The `{username}` rule of this pattern (its own regex or the default). */
  readonly usernameCharset: SegmentCharset;
  /** True when the last segment is `{key}`. */
  readonly hasKeySegment: boolean;
}

/** Validated patterns, tried in order (first match wins), with the limits used to parse requests. */
export interface PatternSet {
  readonly patterns: readonly CompiledPattern[];
  readonly limits: ResolvedLimits;
}

function patternError(code: AuthConfigErrorCode, source: string, message: string): AuthConfigError {
  return new AuthConfigError(code, `pattern ${quote(source, 120)}: ${message}`);
}

/** A segment read from a pattern, and the offset just after it. */
interface SegmentRead {
  segment: PatternSegment;
  end: number;
}

/**
 * Parses and validates one pattern.
 * @throws AuthConfigError with an `ERR_AUTH_PATTERN_*` code naming the problem.
 */
export function compilePattern(source: string, limits: ResolvedLimits = resolveLimits(undefined)): CompiledPattern {
  if (typeof source !== 'string') {
    throw new AuthConfigError('ERR_AUTH_CONFIG_INVALID', 'a pattern must be a string');
  }
  if (source.length === 0 || source.length > MAX_PATTERN_LENGTH) {
    throw patternError('ERR_AUTH_PATTERN_SYNTAX', source, `length must be 1..${MAX_PATTERN_LENGTH}`);
  }
  if (source[0] !== '/') throw patternError('ERR_AUTH_PATTERN_SYNTAX', source, 'must start with "/"');

  const segments: PatternSegment[] = [];
  const seen = new Set<string>();
  let pos = 1;
  // Every iteration consumes at least one character or throws: bounded by source.length.
  for (;;) {
    if (pos >= source.length || source[pos] === '/') {
      throw patternError('ERR_AUTH_PATTERN_EMPTY_SEGMENT', source, `empty segment at offset ${pos}`);
    }
    const read =
      source[pos] === '{' ? readVariableSegment(source, pos, seen, limits) : readLiteralSegment(source, pos, limits);
    segments.push(read.segment);
    pos = read.end;
    if (pos >= source.length) break;
    if (source[pos] === '}') {
      throw patternError('ERR_AUTH_PATTERN_UNBALANCED_BRACES', source, `"}" at offset ${pos} closes nothing`);
    }
    if (source[pos] !== '/') {
      throw patternError(
        'ERR_AUTH_PATTERN_SYNTAX',
        source,
        `unexpected ${quote(source[pos]!)} at offset ${pos}: a variable must be a whole segment`,
      );
    }
    pos++;
  }

  if (segments.length > limits.maxSegments) {
    throw patternError('ERR_AUTH_PATTERN_SYNTAX', source, `more than maxSegments ${limits.maxSegments} segments`);
  }
  const { userIndex, keyIndex } = checkVariablePositions(source, segments);
  const usernameSegment = segments[userIndex] as VariableSegment;
  return Object.freeze({
    source,
    segments: Object.freeze(segments),
    usernameCharset: usernameSegment.charset,
    hasKeySegment: keyIndex >= 0,
  });
}

/** A `{name}` or `{name:regex}` segment starting at `source[start]` (the "{"). */
function readVariableSegment(source: string, start: number, seen: Set<string>, limits: ResolvedLimits): SegmentRead {
  let pos = start + 1;
  const nameStart = pos;
  while (pos < source.length && source[pos] !== ':' && source[pos] !== '}' && source[pos] !== '{') pos++;
  if (pos >= source.length) {
    throw patternError('ERR_AUTH_PATTERN_UNBALANCED_BRACES', source, `"{" at offset ${start} is never closed`);
  }
  if (source[pos] === '{') {
    throw patternError('ERR_AUTH_PATTERN_UNBALANCED_BRACES', source, `unexpected "{" at offset ${pos}`);
  }
  const name = source.slice(nameStart, pos);
  if (!VARIABLE_NAME.test(name)) {
    throw patternError(
      'ERR_AUTH_PATTERN_VARIABLE_NAME',
      source,
      `invalid variable name ${quote(name)} (letters, digits and "_", not starting with a digit, at most 32)`,
    );
  }
  if (seen.has(name)) {
    throw patternError('ERR_AUTH_PATTERN_DUPLICATE_VARIABLE', source, `variable {${name}} appears twice`);
  }
  seen.add(name);
  let regexSource = DEFAULT_SEGMENT_CHARSET;
  if (source[pos] === ':') {
    const regexStart = pos + 1;
    pos = findRegexEnd(source, regexStart, start);
    regexSource = source.slice(regexStart, pos);
  }
  const charset = compileCharset(regexSource, {
    maxLength: limits.maxSegmentLength,
    label: `pattern ${quote(source, 120)} variable {${name}}`,
  });
  return { segment: { kind: 'variable', name, charset }, end: pos + 1 }; // + 1: the closing }
}

/**
 * Offset of the "}" that closes a variable's regex starting at `from`: braces inside the regex
 * (quantifiers) nest, and neither escapes nor character classes count.
 */
function findRegexEnd(source: string, from: number, variableStart: number): number {
  let pos = from;
  let depth = 0;
  let inClass = false;
  while (pos < source.length) {
    const c = source[pos];
    if (c === '\\') {
      pos += 2;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') inClass = true;
    else if (c === '{') depth++;
    else if (c === '}') {
      if (depth === 0) break;
      depth--;
    }
    pos++;
  }
  if (pos >= source.length) {
    throw patternError('ERR_AUTH_PATTERN_UNBALANCED_BRACES', source, `"{" at offset ${variableStart} is never closed`);
  }
  return pos;
}

/** A literal segment starting at `source[start]`: unreserved characters only, not "." or "..". */
function readLiteralSegment(source: string, start: number, limits: ResolvedLimits): SegmentRead {
  let pos = start;
  while (pos < source.length && source[pos] !== '/') {
    const c = source[pos]!;
    if (c === '}') {
      throw patternError('ERR_AUTH_PATTERN_UNBALANCED_BRACES', source, `"}" at offset ${pos} closes nothing`);
    }
    if (c === '{') {
      throw patternError('ERR_AUTH_PATTERN_SYNTAX', source, `"{" at offset ${pos}: a variable must be a whole segment`);
    }
    if (!isUnreservedCode(c.charCodeAt(0))) {
      throw patternError(
        'ERR_AUTH_PATTERN_SYNTAX',
        source,
        `unsupported character ${quote(c)} at offset ${pos} (literals use A-Z a-z 0-9 . _ ~ -)`,
      );
    }
    pos++;
  }
  const value = source.slice(start, pos);
  if (isDotOnly(value)) {
    throw patternError('ERR_AUTH_PATTERN_LITERAL', source, `literal segment ${quote(value)} is a relative path`);
  }
  if (value.length > limits.maxSegmentLength) {
    throw patternError(
      'ERR_AUTH_PATTERN_LITERAL',
      source,
      `literal segment longer than maxSegmentLength ${limits.maxSegmentLength}`,
    );
  }
  return { segment: { kind: 'literal', value }, end: pos };
}

/** Checks that {username} ends the pattern, or precedes a final {key}; returns both indexes (-1: no key). */
function checkVariablePositions(
  source: string,
  segments: readonly PatternSegment[],
): { userIndex: number; keyIndex: number } {
  const indexOf = (name: string) => segments.findIndex((s) => s.kind === 'variable' && s.name === name);
  const userIndex = indexOf(USERNAME_VARIABLE);
  const keyIndex = indexOf(KEY_VARIABLE);
  if (userIndex < 0) throw patternError('ERR_AUTH_PATTERN_NO_USERNAME', source, 'has no {username} variable');
  const last = segments.length - 1;
  if (keyIndex >= 0 && keyIndex !== last) {
    throw patternError('ERR_AUTH_PATTERN_KEY_POSITION', source, '{key} must be the last segment');
  }
  const expectedUserIndex = keyIndex >= 0 ? last - 1 : last;
  if (userIndex !== expectedUserIndex) {
    throw patternError(
      'ERR_AUTH_PATTERN_USERNAME_POSITION',
      source,
      '{username} must be the last segment, or directly before a final {key}',
    );
  }
  return { userIndex, keyIndex };
}

/**
 * Validates a list of patterns (order matters: the first match wins) and the request limits.
 * @throws AuthConfigError for an empty list, more than 64 patterns, or any invalid pattern.
 */
export function compilePatterns(sources: readonly string[], limits?: AuthLimits): PatternSet {
  if (!Array.isArray(sources) || sources.length === 0) {
    throw new AuthConfigError('ERR_AUTH_CONFIG_INVALID', 'patterns must be a non-empty array of strings');
  }
  if (sources.length > MAX_PATTERNS) {
    throw new AuthConfigError('ERR_AUTH_CONFIG_INVALID', `at most ${MAX_PATTERNS} patterns are allowed`);
  }
  const resolved = resolveLimits(limits);
  const patterns = sources.map((s) => compilePattern(s, resolved));
  return Object.freeze({ patterns: Object.freeze(patterns), limits: resolved });
}
