import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePatterns, matchPublishPath, type PublishPathResult } from '../src/index';
import { expectedUsername } from '../src/publish-path';

const live = compilePatterns(['/live/{app}/{username}']);

function ok(result: PublishPathResult) {
  if (!result.matched) throw new Error(`expected a match, got ${result.code}: ${result.reason}`);
  return result;
}

describe('client splits of rtmp://host/live/test/johndoe', () => {
  // [client, app, stream name] as each client sends them (protocol-checklist §6).
  const splits: [string, string, string][] = [
    ['ffmpeg / GStreamer rtmp2sink / librtmp', 'live/test', 'johndoe'],
    ['Node-Media-Server style (app = first segment)', 'live', 'test/johndoe'],
    ['OBS: server rtmp://host/live, key test/johndoe', 'live', 'test/johndoe'],
    ['OBS: server rtmp://host/live/test, key johndoe', 'live/test', 'johndoe'],
    ['trailing slash on the server URL', 'live/test/', 'johndoe'],
    ['leading slash on the name', 'live/test', '/johndoe'],
    ['slashes everywhere', '/live/test/', '/johndoe/'],
  ];
  it.each(splits)('%s', (_client, app, name) => {
    const m = ok(matchPublishPath(live, app, name));
    expect(m.username).toBe('johndoe');
    expect(m.vars).toEqual({ app: 'test', username: 'johndoe' });
    expect(m.path).toBe('/live/test/johndoe');
    expect(m.query).toEqual({});
  });

  it('keeps what the client called the stream as name', () => {
    expect(ok(matchPublishPath(live, 'live/test', 'johndoe')).name).toBe('johndoe');
    expect(ok(matchPublishPath(live, 'live', 'test/johndoe')).name).toBe('test/johndoe');
    expect(ok(matchPublishPath(live, 'live/', '/test/johndoe/')).rawName).toBe('test/johndoe');
  });

  // rtmp://host/live/eu/test/alice: ffmpeg app = first two, rtmp2sink = all but last, librtmp = first three.
  it.each([
    ['ffmpeg', 'live/eu', 'test/alice'],
    ['rtmp2sink', 'live/eu/test', 'alice'],
    ['librtmp', 'live/eu/test', 'alice'],
    ['OBS', 'live', 'eu/test/alice'],
  ])('four segments, %s split', (_client, app, name) => {
    const four = compilePatterns(['/live/{region}/{app}/{username}']);
    const m = ok(matchPublishPath(four, app, name));
    expect(m.vars).toEqual({ region: 'eu', app: 'test', username: 'alice' });
  });
});

describe('query strings', () => {
  it.each([
    ['in the name (ffmpeg, librtmp, rtmp2sink)', 'live/test', 'johndoe?key=abc'],
    ['in the name, OBS split', 'live', 'test/johndoe?key=abc'],
    ['in the app (OBS server URL with a query)', 'live/test?key=abc', 'johndoe'],
    ['in the app, trailing slash before it', 'live/test/?key=abc', 'johndoe'],
    ['in both, same value', 'live/test?key=abc', 'johndoe?key=abc'],
  ])('%s: parsed into query, not into the username', (_case, app, name) => {
    const m = ok(matchPublishPath(live, app, name));
    expect(m.username).toBe('johndoe');
    expect(m.query).toEqual({ key: 'abc' });
    expect(m.path).toBe('/live/test/johndoe');
  });

  it('merges app, name and caller-parsed queries', () => {
    const m = ok(matchPublishPath(live, 'live/test?a=1', 'johndoe?b=2&c', { query: { d: '4' } }));
    expect(m.query).toEqual({ a: '1', b: '2', c: '', d: '4' });
  });

  it.each([
    ['johndoe?key=a+b', 'a+b'],
    ['johndoe?key=a%2Bb', 'a+b'],
    ['johndoe?key=a%20b', 'a b'],
    ['johndoe?key=%2541', '%41'],
    ['johndoe?key=x=y', 'x=y'],
    ['johndoe?&&key=v&', 'v'],
  ])('decodes %s once → key=%j', (name, value) => {
    expect(ok(matchPublishPath(live, 'live/test', name)).query.key).toBe(value);
  });

  it('stores a __proto__ parameter as plain data', () => {
    const m = ok(matchPublishPath(live, 'live/test', 'johndoe?__proto__=x&constructor=y'));
    expect(Object.getPrototypeOf(m.query)).toBe(Object.prototype);
    expect(Object.hasOwn(m.query, '__proto__')).toBe(true);
    expect(m.query.constructor).toBe('y');
  });

  it('a %3F in the path does not start a query', () => {
    expect(matchPublishPath(live, 'live/test', 'johndoe%3Fkey=x')).toMatchObject({
      matched: false,
      code: 'ERR_AUTH_NO_MATCH',
    });
  });

  it.each([
    ['conflicting duplicate', 'live/test', 'johndoe?key=a&key=b'],
    ['app and name disagree', 'live/test?key=a', 'johndoe?key=b'],
    ['invalid escape in value', 'live/test', 'johndoe?key=%zz'],
    ['invalid escape in name', 'live/test', 'johndoe?k%=1'],
    ['NUL in value', 'live/test', 'johndoe?key=%00'],
    ['newline in value', 'live/test', 'johndoe?key=a%0d%0aX-Evil:1'],
    ['non-ASCII in value', 'live/test', 'johndoe?key=%ff'],
    ['bad parameter name', 'live/test', 'johndoe?a%20b=1'],
    ['empty parameter name', 'live/test', 'johndoe?=1'],
    ['question mark as name', 'live/test', 'johndoe?%3F=1'],
    ['too many parameters', 'live/test', `johndoe?${Array.from({ length: 33 }, (_, i) => `p${i}=1`).join('&')}`],
    ['over-long value', 'live/test', `johndoe?key=${'k'.repeat(513)}`],
  ])('refuses %s', (_case, app, name) => {
    expect(matchPublishPath(live, app, name)).toMatchObject({ matched: false, code: 'ERR_AUTH_BAD_QUERY' });
  });

  it('refuses caller query values that are not strings', () => {
    expect(matchPublishPath(live, 'live/test', 'johndoe', { query: { key: 1 as unknown as string } })).toMatchObject({
      matched: false,
      code: 'ERR_AUTH_BAD_QUERY',
    });
  });
});

describe('traversal and encoding tricks', () => {
  // [case, app, name, code]; app defaults to "live/test" so only the name is hostile.
  const table: [string, string, string, 'ERR_AUTH_BAD_NAME' | 'ERR_AUTH_NO_MATCH'][] = [
    ['dot-dot', 'live/test', '..', 'ERR_AUTH_BAD_NAME'],
    ['dot', 'live/test', '.', 'ERR_AUTH_BAD_NAME'],
    ['three dots', 'live/test', '...', 'ERR_AUTH_BAD_NAME'],
    ['%2e%2e', 'live/test', '%2e%2e', 'ERR_AUTH_BAD_NAME'],
    ['%2E%2E upper case', 'live/test', '%2E%2E', 'ERR_AUTH_BAD_NAME'],
    ['.%2e mixed', 'live/test', '.%2e', 'ERR_AUTH_BAD_NAME'],
    ['double-encoded %252e%252e stays literal %2e%2e', 'live/test', '%252e%252e', 'ERR_AUTH_NO_MATCH'],
    ['double-encoded %252f', 'live/test', 'a%252fb', 'ERR_AUTH_NO_MATCH'],
    ['encoded slash %2f', 'live/test', 'a%2fb', 'ERR_AUTH_BAD_NAME'],
    ['encoded slash %2F alone', 'live/test', '%2F', 'ERR_AUTH_BAD_NAME'],
    ['encoded traversal ..%2f..%2fetc', 'live', 'test/..%2f..%2fetc', 'ERR_AUTH_BAD_NAME'],
    ['encoded backslash %5c', 'live/test', 'a%5cb', 'ERR_AUTH_BAD_NAME'],
    ['raw backslash', 'live/test', 'a\\b', 'ERR_AUTH_BAD_NAME'],
    ['backslash traversal', 'live/test', '..\\..\\etc', 'ERR_AUTH_BAD_NAME'],
    ['encoded NUL %00', 'live/test', 'alice%00', 'ERR_AUTH_BAD_NAME'],
    ['raw NUL', 'live/test', 'alice\u0000', 'ERR_AUTH_BAD_NAME'],
    ['raw CR LF', 'live/test', 'alice\r\n', 'ERR_AUTH_BAD_NAME'],
    ['encoded DEL', 'live/test', 'alice%7f', 'ERR_AUTH_BAD_NAME'],
    ['overlong UTF-8 dot %c0%ae', 'live/test', '%c0%ae%c0%ae', 'ERR_AUTH_BAD_NAME'],
    ['overlong UTF-8 slash %c0%af', 'live/test', 'a%c0%afb', 'ERR_AUTH_BAD_NAME'],
    ['3-byte overlong dot %e0%80%ae', 'live/test', '%e0%80%ae', 'ERR_AUTH_BAD_NAME'],
    ['fullwidth full stop', 'live/test', '．．', 'ERR_AUTH_BAD_NAME'],
    ['fullwidth full stop, encoded', 'live/test', '%EF%BC%8E%EF%BC%8E', 'ERR_AUTH_BAD_NAME'],
    ['fullwidth solidus', 'live', 'test／alice', 'ERR_AUTH_BAD_NAME'],
    ['division slash U+2215', 'live', 'test∕alice', 'ERR_AUTH_BAD_NAME'],
    ['RTL override U+202E', 'live/test', '\u202ealice', 'ERR_AUTH_BAD_NAME'],
    ['RTL mark U+200F, encoded', 'live/test', 'alice%E2%80%8F', 'ERR_AUTH_BAD_NAME'],
    ['Cyrillic look-alike', 'live/test', 'аlice', 'ERR_AUTH_BAD_NAME'],
    ['lone percent', 'live/test', 'alice%', 'ERR_AUTH_BAD_NAME'],
    ['truncated escape', 'live/test', 'alice%2', 'ERR_AUTH_BAD_NAME'],
    ['non-hex escape', 'live/test', 'alice%g1', 'ERR_AUTH_BAD_NAME'],
    ['empty name', 'live/test', '', 'ERR_AUTH_BAD_NAME'],
    ['slash-only name', 'live/test', '/', 'ERR_AUTH_BAD_NAME'],
    ['query-only name', 'live/test/alice', '?key=x', 'ERR_AUTH_BAD_NAME'],
    ['empty inner segment', 'live', 'test//alice', 'ERR_AUTH_BAD_NAME'],
    ['empty segment in app', 'live//test', 'alice', 'ERR_AUTH_BAD_NAME'],
    ['dot-dot in app', '../live/test', 'alice', 'ERR_AUTH_BAD_NAME'],
    ['encoded dot-dot in app', 'live/%2e%2e', 'alice', 'ERR_AUTH_BAD_NAME'],
    ['non-ASCII in app', 'live/tést', 'alice', 'ERR_AUTH_BAD_NAME'],
    ['segment over maxSegmentLength', 'live/test', 'a'.repeat(129), 'ERR_AUTH_BAD_NAME'],
    ['name over maxInputLength', 'live/test', `alice?x=${'y'.repeat(1100)}`, 'ERR_AUTH_BAD_NAME'],
    ['too many segments for the limit', 'live', Array.from({ length: 20 }, () => 'a').join('/'), 'ERR_AUTH_BAD_NAME'],
    ['space in name', 'live/test', 'ali ce', 'ERR_AUTH_NO_MATCH'],
    ['encoded space', 'live/test', 'alice%20', 'ERR_AUTH_NO_MATCH'],
    ['dot in name (.flv kept)', 'live/test', 'alice.flv', 'ERR_AUTH_NO_MATCH'],
    ['65 characters', 'live/test', 'a'.repeat(65), 'ERR_AUTH_NO_MATCH'],
    ['hash sign', 'live/test', 'alice#x', 'ERR_AUTH_NO_MATCH'],
    ['too many segments', 'live/test', 'extra/alice', 'ERR_AUTH_NO_MATCH'],
    ['too few segments', 'live', 'alice', 'ERR_AUTH_NO_MATCH'],
    ['wrong literal', 'other/test', 'alice', 'ERR_AUTH_NO_MATCH'],
    ['literal is case-sensitive', 'LIVE/test', 'alice', 'ERR_AUTH_NO_MATCH'],
  ];
  it.each(table)('%s', (_case, app, name, code) => {
    const result = matchPublishPath(live, app, name);
    expect(result).toMatchObject({ matched: false, code });
    if (!result.matched) expect(result.reason).toMatch(/^[\x20-\x7e]+$/);
  });

  it('decodes exactly once: %41lice is Alice', () => {
    expect(ok(matchPublishPath(live, 'live/test', '%41lice')).username).toBe('Alice');
  });

  it('quotes and escapes client bytes in reasons', () => {
    const r = matchPublishPath(live, 'live/test', 'x\u202e"\u0000');
    expect(r.matched).toBe(false);
    if (!r.matched) {
      expect(r.reason).toContain('\\u202e');
      expect(r.reason).toContain('\\"');
      expect(r.reason).not.toContain('\u202e');
    }
    const long = matchPublishPath(live, 'nope/x', 'y'.repeat(120));
    if (!long.matched) expect(long.reason.length).toBeLessThan(120);
  });

  it('refuses non-string app or name without throwing', () => {
    expect(matchPublishPath(live, undefined as unknown as string, 'a')).toMatchObject({ code: 'ERR_AUTH_BAD_NAME' });
    expect(matchPublishPath(live, 'live', {} as unknown as string)).toMatchObject({ code: 'ERR_AUTH_BAD_NAME' });
  });
});

describe('pattern selection', () => {
  it('first match wins', () => {
    const set = compilePatterns(['/live/{app}/{username:[a-z]+}', '/live/{app}/{username}']);
    expect(ok(matchPublishPath(set, 'live/test', 'alice')).patternIndex).toBe(0);
    expect(ok(matchPublishPath(set, 'live/test', 'Alice1')).patternIndex).toBe(1);
    const literalFirst = compilePatterns(['/live/admin/{username}', '/live/{app}/{username}']);
    expect(ok(matchPublishPath(literalFirst, 'live/admin', 'bob')).vars).toEqual({ username: 'bob' });
  });

  it('custom charsets', () => {
    const set = compilePatterns(['/live/{username:[a-z0-9]{3,32}}']);
    expect(matchPublishPath(set, 'live', 'ab')).toMatchObject({ code: 'ERR_AUTH_NO_MATCH' });
    expect(matchPublishPath(set, 'live', 'ABC')).toMatchObject({ code: 'ERR_AUTH_NO_MATCH' });
    expect(matchPublishPath(set, 'live', 'a-c')).toMatchObject({ code: 'ERR_AUTH_NO_MATCH' });
    expect(ok(matchPublishPath(set, 'live', 'abc9')).username).toBe('abc9');
  });

  it('segment counts decide: patterns of different lengths', () => {
    const set = compilePatterns(['/{username}', '/live/{app}/{username}']);
    expect(ok(matchPublishPath(set, '', 'alice')).patternIndex).toBe(0);
    expect(ok(matchPublishPath(set, 'live/x', 'alice')).patternIndex).toBe(1);
    expect(matchPublishPath(set, 'live', 'alice')).toMatchObject({ code: 'ERR_AUTH_NO_MATCH' });
  });

  it('accepts pattern strings (compiled per call) and rejects invalid ones', () => {
    expect(ok(matchPublishPath(['/live/{username}'], 'live', 'alice')).username).toBe('alice');
    expect(() => matchPublishPath(['/live/{app}'], 'live', 'alice')).toThrow(/no \{username\}/);
  });

  it('a {key} segment is taken out of vars and name', () => {
    const set = compilePatterns(['/live/{username}/{key}']);
    const obs = ok(matchPublishPath(set, 'live', 'alice/s3cret'));
    expect(obs).toMatchObject({ username: 'alice', pathKey: 's3cret', vars: { username: 'alice' }, name: 'alice' });
    // ffmpeg splits rtmp://host/live/alice/s3cret into app "live/alice" and name "s3cret".
    const ffmpeg = ok(matchPublishPath(set, 'live/alice', 's3cret'));
    expect(ffmpeg).toMatchObject({ username: 'alice', pathKey: 's3cret', name: 'alice' });
    expect(JSON.stringify(ffmpeg.vars)).not.toContain('s3cret');
  });
});

describe('username = last segment of the publishing name (independent check)', () => {
  it.each([
    [['live', 'test'], ['alice'], false, 'alice'],
    [['live'], ['test', 'alice'], false, 'alice'],
    [['live', 'alice'], [], false, undefined],
    [['live'], ['alice', 'KEY'], true, 'alice'],
    [['live', 'alice'], ['KEY'], true, 'alice'],
    [[], ['KEY'], true, undefined],
  ])('app %j name %j key %s → %j', (app, name, hasKey, expected) => {
    expect(expectedUsername(app, name, hasKey)).toBe(expected);
  });
});

/** Pieces an attacker would combine; joined at random into names and apps. */
const HOSTILE = [
  'a',
  'Z',
  '9',
  '_',
  '-',
  '.',
  '..',
  '/',
  '\\',
  '%',
  '%2e',
  '%2E',
  '%2f',
  '%5c',
  '%00',
  '%25',
  '%252e',
  '%c0%ae',
  '%41',
  '?',
  '&',
  '=',
  'key',
  ' ',
  '~',
  '\u0000',
  '\r',
  '．',
  '／',
  '\u202e',
  'é',
  '%ef%bc%8e',
  '#',
  '+',
];
const hostileString = fc.array(fc.constantFrom(...HOSTILE), { maxLength: 12 }).map((p) => p.join(''));
const anyString = fc.oneof(hostileString, fc.string({ unit: 'binary', maxLength: 40 }));

describe('properties', () => {
  const root = path.resolve('/srv/streams');

  it('every username the default pattern accepts is one safe path segment', () => {
    fc.assert(
      fc.property(anyString, anyString, (app, name) => {
        const r = matchPublishPath(live, `live/${app}`, name);
        if (!r.matched) {
          expect(r.reason).toMatch(/^[\x20-\x7e]{1,300}$/);
          return;
        }
        const u = r.username;
        expect(u).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
        expect(path.dirname(path.join(root, u))).toBe(root);
        expect(path.basename(path.join(root, u))).toBe(u);
        expect(path.win32.basename(path.win32.join('C:\\streams', u))).toBe(u);
        expect(encodeURIComponent(u)).toBe(u);
        expect(r.name.split('/').at(-1)).toBe(u);
      }),
      { numRuns: 5000 },
    );
  });

  it('accepted values never leave their charset (custom charsets)', () => {
    const set = compilePatterns(['/live/{app:[a-z]{2,8}}/{username:[a-z0-9]{3,32}}', '/x/{username:[A-Z.~]*[A-Z]}']);
    fc.assert(
      fc.property(fc.constantFrom('live', 'x', 'live/ab', ''), anyString, (app, name) => {
        const r = matchPublishPath(set, app, name);
        if (!r.matched) return;
        if (r.patternIndex === 0) {
          expect(r.username).toMatch(/^[a-z0-9]{3,32}$/);
          expect(r.vars.app).toMatch(/^[a-z]{2,8}$/);
        } else {
          expect(r.username).toMatch(/^[A-Z.~]*[A-Z]$/);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('accepts every valid username under every client split', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), (a, u) => {
        for (const [app, name] of [
          [`live/${a}`, u],
          ['live', `${a}/${u}`],
          [`/live/${a}/`, `/${u}?key=x`],
        ] as const) {
          expect(ok(matchPublishPath(live, app, name)).username).toBe(u);
        }
      }),
      { numRuns: 500 },
    );
  });
});
