import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileCharset,
  DEFAULT_USERNAME_CHARSET,
  defaultUsernameCharset,
  isAuthConfigError,
  isSafeSegment,
  isSafeUsername,
} from '../src/index';

const UNRESERVED_ONLY = /^[A-Za-z0-9._~-]*$/;

describe('isSafeUsername (default charset)', () => {
  it.each([
    ['alice', true],
    ['a-b_c', true],
    ['A1', true],
    ['a'.repeat(64), true],
    ['a'.repeat(65), false],
    ['', false],
    ['.', false],
    ['..', false],
    ['a.b', false],
    ['a/b', false],
    ['a\\b', false],
    ['a b', false],
    ['%41', false],
    ['é', false],
    ['ａ', false],
    ['alice\u0000', false],
    ['\u202ealice', false],
    ['alice~', false],
  ])('%j → %s', (value, expected) => {
    expect(isSafeUsername(value)).toBe(expected);
    expect(defaultUsernameCharset.test(value)).toBe(expected);
  });

  it('refuses non-strings', () => {
    expect(isSafeUsername(undefined)).toBe(false);
    expect(isSafeUsername(42)).toBe(false);
    expect(isSafeUsername(['alice'])).toBe(false);
  });

  it('exports the charset source and an anchored regex', () => {
    expect(DEFAULT_USERNAME_CHARSET).toBe('[A-Za-z0-9_-]{1,64}');
    expect(defaultUsernameCharset.regex.test('x/alice')).toBe(false);
    expect(defaultUsernameCharset.regex.test('alice')).toBe(true);
  });
});

describe('custom charsets', () => {
  it('applies the regex and the fixed safety rule together', () => {
    const c = compileCharset('[a-z.~]*[a-z]', { maxLength: 10 });
    expect(c.test('a.b')).toBe(true);
    expect(c.test('~a')).toBe(true);
    expect(c.test('a'.repeat(11))).toBe(false); // over maxLength, although the regex matches
    expect(isSafeUsername('a.b', c)).toBe(true);
    expect(isSafeUsername('a.b', '[a-z.]*[a-z]')).toBe(true);
    expect(isSafeUsername('a.b')).toBe(false);
  });

  it('throws for an invalid charset passed as a string', () => {
    let caught: unknown;
    try {
      isSafeUsername('a', '.*');
    } catch (err) {
      caught = err;
    }
    expect(isAuthConfigError(caught) && caught.code).toBe('ERR_AUTH_PATTERN_REGEX');
  });

  it('isSafeSegment is the safety rule alone', () => {
    expect(isSafeSegment('a.b~c')).toBe(true);
    expect(isSafeSegment('...')).toBe(false);
    expect(isSafeSegment('a%2e')).toBe(false);
    expect(isSafeSegment('abc', 2)).toBe(false);
  });
});

/** Regex pieces, valid and invalid, combined at random to probe the subset checker. */
const REGEX_TOKENS = [
  'a',
  'z',
  'A',
  '0',
  '9',
  '_',
  '-',
  '~',
  '.',
  ' ',
  '/',
  '%',
  'é',
  '\\',
  '\\.',
  '\\-',
  '\\d',
  '\\w',
  '\\s',
  '\\W',
  '\\D',
  '\\/',
  '\\x2f',
  '[a-z]',
  '[^a]',
  '[!-~]',
  '[a-]',
  '[.-9]',
  '[+-.]',
  '[-.]',
  '[.]',
  '[\\w.]',
  '[\\s]',
  '[',
  ']',
  '*',
  '+',
  '?',
  '{2}',
  '{1,3}',
  '{0,}',
  '(',
  ')',
  '(?:',
  '(?=',
  '|',
  '^',
  '$',
];
const TEST_CHARS = ['a', 'Z', '5', '_', '-', '~', '.', '/', '\\', '%', ' ', 'é', '\u0000', '．', '／', '?', '#'];

describe('property: the regex subset checker is sound', () => {
  it('an accepted charset regex never matches a character outside A-Z a-z 0-9 . _ ~ -, nor "" or dot-only', () => {
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...REGEX_TOKENS), { minLength: 1, maxLength: 8 }).map((t) => t.join('')),
        fc.array(
          fc.array(fc.constantFrom(...TEST_CHARS), { maxLength: 6 }).map((t) => t.join('')),
          {
            maxLength: 20,
          },
        ),
        (source, inputs) => {
          let charset: ReturnType<typeof compileCharset>;
          try {
            charset = compileCharset(source, { maxLength: 16 });
          } catch (err) {
            if (!isAuthConfigError(err)) throw err;
            return;
          }
          accepted++;
          expect(charset.regex.test('')).toBe(false);
          for (let n = 1; n <= 16; n++) expect(charset.regex.test('.'.repeat(n))).toBe(false);
          for (const input of inputs) {
            // The raw anchored regex, without the safety pre-check: soundness of the checker alone.
            if (charset.regex.test(input)) expect(input).toMatch(UNRESERVED_ONLY);
          }
        },
      ),
      { numRuns: 3000 },
    );
    // The generator must actually exercise accepted regexes, or the property says nothing.
    expect(accepted).toBeGreaterThan(100);
  });
});
