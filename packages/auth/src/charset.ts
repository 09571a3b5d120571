/**
 * Segment charsets: the rule a single path segment (a pattern variable, a username) must satisfy.
 *
 * A charset is a regex written in a small, checked subset of JavaScript regex syntax, always
 * matched anchored (`^(?:…)$`), and always combined with a fixed safety rule that no regex can
 * loosen: the value is 1..maxLength characters of RFC 3986 "unreserved" ASCII
 * (`A-Z a-z 0-9 . _ ~ -`) and is not dot-only (`.`, `..`, `...`). Such a value is one path
 * segment on every OS, needs no escaping in a URL, and cannot step out of a directory.
 *
 * The regex subset (validated when compiled, `ERR_AUTH_PATTERN_REGEX` otherwise):
 * - literals `A-Z a-z 0-9 _ ~ -`, escapes `\.` `\-` `\_` `\~`, classes `\d` `\w` (ASCII without the
 *   `u` flag);
 * - character classes `[...]` of those characters and ranges whose every member is unreserved;
 *   no negated classes (`[^/]` would admit `\`, `%`, non-ASCII…);
 * - groups `(…)` / `(?:…)` with `|` alternation, nested at most 4 deep;
 * - quantifiers `* + ? {n} {n,} {n,m}` (lazy `?` allowed) on single atoms only, never on a
 *   group, and at most 3 variable-length ones per regex.
 * `.` (any character), anchors, lookarounds, backreferences and `\s \S \W \D \b \u \x \p` are refused.
 * So every character the regex can match is unreserved by construction, and backtracking is
 * polynomial of degree ≤ 3 over an input capped at maxLength characters before the regex runs.
 * Patterns that can match the empty string or a dot-only string are refused by probing.
 */
import { AuthConfigError } from './errors';
import { quote } from './escape';
import { DEFAULT_MAX_SEGMENT_LENGTH, MAX_REGEX_SOURCE_LENGTH } from './limits';

/** Default rule of every pattern variable and of usernames: 1 to 64 ASCII letters, digits, `_` or `-`. */
export const DEFAULT_SEGMENT_CHARSET = '[A-Za-z0-9_-]{1,64}';
/** Default username rule (the same as every other variable's). */
export const DEFAULT_USERNAME_CHARSET = DEFAULT_SEGMENT_CHARSET;

/** Most variable-length quantifiers in one charset regex; bounds worst-case backtracking to O(n^3). */
const MAX_VARIABLE_QUANTIFIERS = 3;
/** Deepest group nesting in a charset regex. */
const MAX_GROUP_DEPTH = 4;
/** Largest `{n,m}` bound: beyond any segment length, so larger values only signal a mistake. */
const MAX_REPEAT = 1024;

/** A compiled segment rule. Immutable; build with `compileCharset`. */
export interface SegmentCharset {
  /** The regex source as configured (without anchors). */
  readonly source: string;
  /** The anchored regex, `^(?:source)$`. Prefer `test`, which also applies the safety rule. */
  readonly regex: RegExp;
  /** Longest accepted value; checked before the regex runs. */
  readonly maxLength: number;
  /** True when `value` is a string satisfying both the safety rule and the regex. */
  test(value: unknown): value is string;
}

/** True for the RFC 3986 unreserved characters `A-Z a-z 0-9 . _ ~ -`. */
export function isUnreservedCode(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2e || // .
    c === 0x5f || // _
    c === 0x7e || // ~
    c === 0x2d // -
  );
}

/** True when `s` is non-empty and made only of `.` characters (`.`, `..`, `...`). */
export function isDotOnly(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== 0x2e) return false;
  return true;
}

/**
 * The fixed safety rule under every charset: 1..maxLength unreserved ASCII characters, not dot-only.
 * Loop bounded by `maxLength` (longer strings are refused before the loop).
 */
export function isSafeSegment(value: unknown, maxLength: number = DEFAULT_MAX_SEGMENT_LENGTH): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) return false;
  for (let i = 0; i < value.length; i++) if (!isUnreservedCode(value.charCodeAt(i))) return false;
  return !isDotOnly(value);
}

type ClassAtom = { kind: 'char'; code: number } | { kind: 'set' };

/** Recursive-descent checker of the charset regex subset described atop this file. */
class RegexSubsetChecker {
  private pos = 0;
  private variableQuantifiers = 0;

  constructor(
    private readonly src: string,
    private readonly label: string,
  ) {}

  check(): void {
    this.alternation(0);
    if (this.pos < this.src.length) this.fail('unbalanced ")"');
  }

  private fail(message: string): never {
    throw new AuthConfigError(
      'ERR_AUTH_PATTERN_REGEX',
      `${this.label}: regex ${quote(this.src, 80)} ${message} (at offset ${this.pos})`,
    );
  }

  private alternation(depth: number): void {
    this.sequence(depth);
    while (this.src[this.pos] === '|') {
      this.pos++;
      this.sequence(depth);
    }
  }

  private sequence(depth: number): void {
    // Each iteration consumes at least one character or throws, so the loop is bounded by the source length.
    while (this.pos < this.src.length && this.src[this.pos] !== '|' && this.src[this.pos] !== ')') {
      const isGroup = this.atom(depth);
      this.quantifier(isGroup);
    }
  }

  /** Consumes one atom; returns true when it was a group. */
  private atom(depth: number): boolean {
    const c = this.src[this.pos]!;
    if (c === '(') {
      if (depth >= MAX_GROUP_DEPTH) this.fail(`nests groups deeper than ${MAX_GROUP_DEPTH}`);
      this.pos++;
      if (this.src.startsWith('?:', this.pos)) this.pos += 2;
      else if (this.src[this.pos] === '?') this.fail('uses a lookaround or named group, which are not supported');
      this.alternation(depth + 1);
      if (this.src[this.pos] !== ')') this.fail('has an unclosed "("');
      this.pos++;
      return true;
    }
    if (c === '[') {
      this.charClass();
      return false;
    }
    if (c === '\\') {
      this.escape(false);
      return false;
    }
    if (c === '.') this.fail('uses "." (any character); write \\. for a literal dot');
    if (c === '^' || c === '$') this.fail('uses an anchor; the regex is always anchored to the whole segment');
    if (isUnreservedCode(c.charCodeAt(0))) {
      this.pos++;
      return false;
    }
    return this.fail(`uses ${quote(c)}, which is not an unreserved URL character`);
  }

  /** Consumes an escape; returns the single character it stands for, or a set for `\d` / `\w`. */
  private escape(inClass: boolean): ClassAtom {
    const next = this.src[this.pos + 1];
    if (next === 'd' || next === 'w') {
      this.pos += 2;
      return { kind: 'set' };
    }
    if (next === '.' || next === '-' || next === '_' || next === '~') {
      this.pos += 2;
      return { kind: 'char', code: next.charCodeAt(0) };
    }
    this.fail(`uses the escape ${quote(`\\${next ?? ''}`)}, which is not supported${inClass ? ' in a class' : ''}`);
  }

  private classAtom(): ClassAtom {
    const c = this.src[this.pos];
    if (c === undefined) this.fail('has an unterminated "["');
    if (c === '\\') return this.escape(true);
    if (isUnreservedCode(c.charCodeAt(0))) {
      this.pos++;
      return { kind: 'char', code: c.charCodeAt(0) };
    }
    return this.fail(`has ${quote(c)} in a class, which is not an unreserved URL character`);
  }

  private charClass(): void {
    this.pos++; // [
    if (this.src[this.pos] === '^') this.fail('uses a negated class, which could admit "/", "\\" or non-ASCII');
    let items = 0;
    // Each iteration consumes at least one character or throws.
    for (;;) {
      if (this.pos >= this.src.length) this.fail('has an unterminated "["');
      if (this.src[this.pos] === ']') {
        if (items === 0) this.fail('has an empty class');
        this.pos++;
        return;
      }
      const lo = this.classAtom();
      const isRange = this.src[this.pos] === '-' && this.pos + 1 < this.src.length && this.src[this.pos + 1] !== ']';
      if (isRange) {
        if (lo.kind !== 'char') this.fail('uses \\d or \\w as a range end');
        this.pos++; // -
        const hi = this.classAtom();
        if (hi.kind !== 'char') this.fail('uses \\d or \\w as a range end');
        if (hi.code < lo.code) this.fail('has a reversed range');
        for (let code = lo.code; code <= hi.code; code++) {
          if (!isUnreservedCode(code)) {
            this.fail(`has a range that includes ${quote(String.fromCharCode(code))}`);
          }
        }
      }
      items++;
    }
  }

  private quantifier(isGroup: boolean): void {
    const c = this.src[this.pos];
    let variable: boolean;
    if (c === '*' || c === '+' || c === '?') {
      if (isGroup) this.failGroupQuantifier();
      this.pos++;
      variable = true;
    } else if (c === '{') {
      if (isGroup) this.failGroupQuantifier();
      const m = /\{(\d{1,4})(?:(,)(\d{0,4}))?\}/y;
      m.lastIndex = this.pos;
      const found = m.exec(this.src);
      if (!found) this.fail('has an invalid {n,m} repetition');
      const min = Number(found[1]);
      const max = found[2] === undefined ? min : found[3] === '' ? Number.POSITIVE_INFINITY : Number(found[3]);
      if (min > MAX_REPEAT || (Number.isFinite(max) && max > MAX_REPEAT)) {
        this.fail(`repeats more than ${MAX_REPEAT} times`);
      }
      if (max < min) this.fail('has a repetition {n,m} with m < n');
      this.pos += found[0].length;
      variable = min !== max;
    } else {
      return;
    }
    if (this.src[this.pos] === '?') this.pos++; // lazy
    if (variable && ++this.variableQuantifiers > MAX_VARIABLE_QUANTIFIERS) {
      this.fail(`has more than ${MAX_VARIABLE_QUANTIFIERS} variable-length repetitions (backtracking guard)`);
    }
  }

  private failGroupQuantifier(): never {
    return this.fail('repeats a group; quantify single characters or classes only (backtracking guard)');
  }
}

/**
 * Validates and compiles a charset regex (see the subset atop this file).
 * @param source regex source without anchors, e.g. `[a-z0-9]{3,32}`.
 * @param options.maxLength longest value ever tested; default `DEFAULT_MAX_SEGMENT_LENGTH` (128).
 * @param options.label names the charset in error messages, e.g. `pattern "/live/{username:…}" variable {username}`.
 * @throws AuthConfigError `ERR_AUTH_PATTERN_REGEX` for a source outside the subset, too long, or able to
 *   match an empty or dot-only segment.
 */
export function compileCharset(source: string, options: { maxLength?: number; label?: string } = {}): SegmentCharset {
  const label = options.label ?? 'charset';
  const maxLength = options.maxLength ?? DEFAULT_MAX_SEGMENT_LENGTH;
  if (!Number.isInteger(maxLength) || maxLength < 1 || maxLength > 1024) {
    throw new AuthConfigError('ERR_AUTH_CONFIG_LIMIT', `${label}: maxLength must be an integer in [1, 1024]`);
  }
  if (typeof source !== 'string' || source.length === 0) {
    throw new AuthConfigError('ERR_AUTH_PATTERN_REGEX', `${label}: regex must be a non-empty string`);
  }
  if (source.length > MAX_REGEX_SOURCE_LENGTH) {
    throw new AuthConfigError(
      'ERR_AUTH_PATTERN_REGEX',
      `${label}: regex is ${source.length} characters long, more than ${MAX_REGEX_SOURCE_LENGTH}`,
    );
  }
  new RegexSubsetChecker(source, label).check();
  let regex: RegExp;
  try {
    // The source compiles on its own first, so it cannot close our wrapper group and escape the anchors.
    new RegExp(source);
    regex = new RegExp(`^(?:${source})$`);
  } catch (err) {
    throw new AuthConfigError('ERR_AUTH_PATTERN_REGEX', `${label}: regex ${quote(source, 80)} does not compile`, {
      cause: err,
    });
  }
  if (regex.test('')) {
    throw new AuthConfigError(
      'ERR_AUTH_PATTERN_REGEX',
      `${label}: regex ${quote(source, 80)} can match an empty segment`,
    );
  }
  // Exactly one dot-only string exists per length, so probing every length up to maxLength is exhaustive.
  for (let n = 1; n <= maxLength; n++) {
    if (regex.test('.'.repeat(n))) {
      throw new AuthConfigError(
        'ERR_AUTH_PATTERN_REGEX',
        `${label}: regex ${quote(source, 80)} can match the dot-only segment ${quote('.'.repeat(n))}`,
      );
    }
  }
  const charset: SegmentCharset = {
    source,
    regex,
    maxLength,
    test(value: unknown): value is string {
      return isSafeSegment(value, maxLength) && regex.test(value);
    },
  };
  return Object.freeze(charset);
}

/** The compiled default username charset, `[A-Za-z0-9_-]{1,64}`. */
export const defaultUsernameCharset: SegmentCharset = compileCharset(DEFAULT_USERNAME_CHARSET, {
  label: 'default username charset',
});

/**
 * The username rule, for callers outside a publish (e.g. an HTTP `:username` route param, already
 * percent-decoded by the router). No decoding happens here: `%41` is refused because `%` is not allowed.
 * @param charset a compiled charset, or a regex source compiled on the spot (throws `AuthConfigError`
 *   if invalid). Default: `defaultUsernameCharset`. `PublishAuthorizer#isValidUsername` applies the
 *   configured patterns' own username charsets.
 */
export function isSafeUsername(
  value: unknown,
  charset: SegmentCharset | string = defaultUsernameCharset,
): value is string {
  const compiled = typeof charset === 'string' ? compileCharset(charset) : charset;
  return compiled.test(value);
}
