import { describe, expect, it } from 'vitest';
import { type AuthConfigErrorCode, compilePatterns, isAuthConfigError, isAuthError } from '../src/index';
import { compilePattern } from '../src/pattern';
import { configCode } from './helpers/config-code';

describe('compilePattern: valid patterns', () => {
  it('splits literals and variables, default charset everywhere', () => {
    const p = compilePattern('/live/{app}/{username}');
    expect(p.segments.map((s) => (s.kind === 'literal' ? s.value : `{${s.name}}`))).toEqual([
      'live',
      '{app}',
      '{username}',
    ]);
    expect(p.hasKeySegment).toBe(false);
    expect(p.usernameCharset.source).toBe('[A-Za-z0-9_-]{1,64}');
  });

  it('keeps a per-variable regex with braces inside it', () => {
    const p = compilePattern('/live/{username:[a-z0-9]{3,32}}');
    expect(p.usernameCharset.source).toBe('[a-z0-9]{3,32}');
    expect(p.usernameCharset.test('abc')).toBe(true);
    expect(p.usernameCharset.test('ab')).toBe(false);
    expect(p.usernameCharset.test('ABC')).toBe(false);
  });

  it.each([
    '/{username}',
    '/live/{username}/{key}',
    '/live/{app:(?:main|backup)}/{username}',
    '/live/{username:[a-z][a-z0-9_]{2,31}}',
    '/a.b~c/{username:[a-z.]*[a-z]}',
    '/live/{username:user-\\d{1,6}}',
    '/live/{username:[a-z]+?}',
  ])('accepts %s', (source) => {
    expect(compilePattern(source).source).toBe(source);
  });
});

const configErrors: [string, AuthConfigErrorCode][] = [
  ['', 'ERR_AUTH_PATTERN_SYNTAX'],
  ['live/{username}', 'ERR_AUTH_PATTERN_SYNTAX'],
  ['/live/user{username}', 'ERR_AUTH_PATTERN_SYNTAX'],
  ['/live/{username}x', 'ERR_AUTH_PATTERN_SYNTAX'],
  ['/live/*/{username}', 'ERR_AUTH_PATTERN_SYNTAX'],
  ['/live/%2e/{username}', 'ERR_AUTH_PATTERN_SYNTAX'],
  ['/live /{username}', 'ERR_AUTH_PATTERN_SYNTAX'],
  ['/live/{username', 'ERR_AUTH_PATTERN_UNBALANCED_BRACES'],
  ['/live/username}', 'ERR_AUTH_PATTERN_UNBALANCED_BRACES'],
  ['/live/{{username}}', 'ERR_AUTH_PATTERN_UNBALANCED_BRACES'],
  ['/live/{username:[a-z]{3,}', 'ERR_AUTH_PATTERN_UNBALANCED_BRACES'],
  ['/live/{username}}', 'ERR_AUTH_PATTERN_UNBALANCED_BRACES'],
  ['/', 'ERR_AUTH_PATTERN_EMPTY_SEGMENT'],
  ['/live//{username}', 'ERR_AUTH_PATTERN_EMPTY_SEGMENT'],
  ['/live/{username}/', 'ERR_AUTH_PATTERN_EMPTY_SEGMENT'],
  ['//live/{username}', 'ERR_AUTH_PATTERN_EMPTY_SEGMENT'],
  ['/live/../{username}', 'ERR_AUTH_PATTERN_LITERAL'],
  ['/./{username}', 'ERR_AUTH_PATTERN_LITERAL'],
  ['/live/{1user}', 'ERR_AUTH_PATTERN_VARIABLE_NAME'],
  ['/live/{user-name}', 'ERR_AUTH_PATTERN_VARIABLE_NAME'],
  ['/live/{}', 'ERR_AUTH_PATTERN_VARIABLE_NAME'],
  ['/live/{ username}', 'ERR_AUTH_PATTERN_VARIABLE_NAME'],
  [`/live/{${'a'.repeat(33)}}/{username}`, 'ERR_AUTH_PATTERN_VARIABLE_NAME'],
  ['/{app}/{app}/{username}', 'ERR_AUTH_PATTERN_DUPLICATE_VARIABLE'],
  ['/live/{app}', 'ERR_AUTH_PATTERN_NO_USERNAME'],
  ['/live/app/user', 'ERR_AUTH_PATTERN_NO_USERNAME'],
  ['/live/{username}/{app}', 'ERR_AUTH_PATTERN_USERNAME_POSITION'],
  ['/{username}/x/{key}', 'ERR_AUTH_PATTERN_USERNAME_POSITION'],
  ['/live/{key}/{username}', 'ERR_AUTH_PATTERN_KEY_POSITION'],
  // Per-variable regexes.
  ['/live/{username:}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:.+}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:[^/]+}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:[!-~]+}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:[a-z/]+}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:[a-z]*}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:a|}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:\\.+}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:[a-z.]+}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:\\.{100}}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:é+}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:[ａ-ｚ]+}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:\\s+}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:\\W+}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:\\u002f}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:\\x2f}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:a)|(.*}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:(?=a)a}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:(?<n>a)}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:(a)\\1}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:^a$}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:(a+)+}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:(?:a|a)*b}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:a+b+c+d+}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:[a-z]{3,2}}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:a{99999}}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:a{}', 'ERR_AUTH_PATTERN_UNBALANCED_BRACES'],
  ['/live/{username:a{x}}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:[]}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:[a-z}', 'ERR_AUTH_PATTERN_UNBALANCED_BRACES'],
  ['/live/{username:[z-a]}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:[\\d-z]}', 'ERR_AUTH_PATTERN_REGEX'],
  ['/live/{username:(((((a)))))}', 'ERR_AUTH_PATTERN_REGEX'],
  [`/live/{username:${'a'.repeat(300)}}`, 'ERR_AUTH_PATTERN_REGEX'],
];

describe('compilePattern: configuration errors', () => {
  it.each(configErrors)('%s → %s', (source, code) => {
    expect(configCode(() => compilePattern(source))).toBe(code);
  });

  it('errors are branded AuthConfigErrors naming the pattern', () => {
    let caught: unknown;
    try {
      compilePattern('/live/{app}');
    } catch (err) {
      caught = err;
    }
    expect(isAuthError(caught)).toBe(true);
    expect(isAuthConfigError(caught)).toBe(true);
    expect((caught as Error).message).toContain('"/live/{app}"');
    expect((caught as Error).name).toBe('AuthConfigError');
  });

  it('refuses non-string patterns, empty and over-long lists', () => {
    expect(configCode(() => compilePattern(42 as unknown as string))).toBe('ERR_AUTH_CONFIG_INVALID');
    expect(configCode(() => compilePatterns([]))).toBe('ERR_AUTH_CONFIG_INVALID');
    expect(configCode(() => compilePatterns('/live/{username}' as unknown as string[]))).toBe(
      'ERR_AUTH_CONFIG_INVALID',
    );
    expect(configCode(() => compilePatterns(Array.from({ length: 65 }, (_, i) => `/p${i}/{username}`)))).toBe(
      'ERR_AUTH_CONFIG_INVALID',
    );
  });

  it('checks patterns against the configured limits', () => {
    expect(configCode(() => compilePatterns(['/a/b/c/{username}'], { maxSegments: 3 }))).toBe(
      'ERR_AUTH_PATTERN_SYNTAX',
    );
    expect(configCode(() => compilePatterns([`/${'a'.repeat(20)}/{username}`], { maxSegmentLength: 10 }))).toBe(
      'ERR_AUTH_PATTERN_LITERAL',
    );
    expect(configCode(() => compilePatterns(['/{username}'], { maxSegments: 0 }))).toBe('ERR_AUTH_CONFIG_LIMIT');
    expect(configCode(() => compilePatterns(['/{username}'], { maxSegmentLength: 1.5 }))).toBe('ERR_AUTH_CONFIG_LIMIT');
    expect(configCode(() => compilePatterns(['/{username}'], { maxSegmnets: 3 } as never))).toBe(
      'ERR_AUTH_CONFIG_UNKNOWN_OPTION',
    );
  });
});
