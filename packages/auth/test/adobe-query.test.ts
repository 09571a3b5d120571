/** Parsing the Adobe auth query out of a connect's app: the clients' shapes, the limits, random input. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAdobeAuthQuery, redactCredentials, withoutAdobeQuery } from '../src/index';

describe('parseAdobeAuthQuery', () => {
  const cases: [string, string, object][] = [
    ['no query (first connect)', 'live/test', { kind: 'none' }],
    ['another query only', 'live?x=1', { kind: 'none' }],
    [
      'FFmpeg / GStreamer, step 2',
      'live/test?authmod=adobe&user=johndoe',
      { kind: 'query', query: { app: 'live/test', user: 'johndoe' } },
    ],
    [
      'step 3, raw base64 with + / =',
      'live/test?authmod=adobe&user=johndoe&challenge=0badc0de&response=ab+/cdefghijklmnopqrstu==&opaque=Tok-en_1',
      {
        kind: 'query',
        query: {
          app: 'live/test',
          user: 'johndoe',
          clientChallenge: '0badc0de',
          response: 'ab+/cdefghijklmnopqrstu==',
          opaque: 'Tok-en_1',
        },
      },
    ],
    [
      'OBS librtmp after a server-URL query',
      'live?x=1?authmod=adobe&user=johndoe',
      { kind: 'query', query: { app: 'live?x=1', user: 'johndoe' } },
    ],
    ['after another parameter', 'live?x=1&authmod=adobe&user=jo', { kind: 'query', query: { app: 'live?x=1' } }],
    ['authmod=llnw', 'live?authmod=llnw&user=jo', { kind: 'invalid', code: 'ERR_AUTH_ADOBE_BAD_QUERY' }],
    ['no user', 'live?authmod=adobe', { kind: 'invalid' }],
    ['an unsafe user', 'live?authmod=adobe&user=../x', { kind: 'invalid' }],
    ['a duplicate', 'live?authmod=adobe&user=a&user=b', { kind: 'invalid' }],
    ['a response alone', 'live?authmod=adobe&user=a&response=x', { kind: 'invalid' }],
    ['an opaque without a response', 'live?authmod=adobe&user=a&opaque=x', { kind: 'invalid' }],
    ['a space in a value', 'live?authmod=adobe&user=a&challenge=a b&response=x&opaque=y', { kind: 'invalid' }],
  ];
  it.each(cases)('%s', (_name, app, expected) => {
    expect(parseAdobeAuthQuery(app)).toMatchObject(expected);
  });

  it('applies the input limits', () => {
    const long = `live?authmod=adobe&user=a&x=${'y'.repeat(2000)}`;
    expect(parseAdobeAuthQuery(long)).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('1024') });
    const many = `live?authmod=adobe&user=a${'&z=1'.repeat(40)}`;
    expect(parseAdobeAuthQuery(many)).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('32') });
    const value = `live?authmod=adobe&user=a&response=${'r'.repeat(20)}&challenge=c&opaque=o`;
    expect(parseAdobeAuthQuery(value, { maxQueryValueLength: 16 })).toMatchObject({ kind: 'invalid' });
  });

  const token = fc.stringMatching(/^[A-Za-z0-9+/=_~.-]{1,40}$/);
  const user = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
  const app = fc.stringMatching(/^[a-z0-9/]{0,30}$/);

  it('reads back any step-3 query the clients could build', () => {
    fc.assert(
      fc.property(app, user, token, token, token, (a, u, cc, r, o) => {
        const parsed = parseAdobeAuthQuery(`${a}?authmod=adobe&user=${u}&challenge=${cc}&response=${r}&opaque=${o}`);
        expect(parsed).toEqual({
          kind: 'query',
          query: { app: a, user: u, clientChallenge: cc, response: r, opaque: o },
        });
      }),
    );
  });

  it('never throws and never echoes input in a reason, whatever the app', () => {
    const piece = fc.constantFrom(
      '?',
      '&',
      '=',
      'authmod',
      'adobe',
      'user',
      'response',
      'opaque',
      'challenge',
      '%',
      ' ',
      'é',
      'a',
    );
    const hostile = fc.array(piece, { maxLength: 20 }).map((p) => p.join(''));
    fc.assert(
      fc.property(fc.oneof(hostile, fc.string({ unit: 'binary', maxLength: 200 })), (text) => {
        const parsed = parseAdobeAuthQuery(text);
        expect(['none', 'query', 'invalid']).toContain(parsed.kind);
        if (parsed.kind === 'none') expect(text).not.toMatch(/[?&]authmod=/);
        if (parsed.kind === 'invalid') expect(parsed.reason).toMatch(/^[ -~]*$/);
        if (parsed.kind === 'query') expect(text.startsWith(parsed.query.app)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('around the query', () => {
  it('withoutAdobeQuery drops the auth query from an app or tcUrl', () => {
    expect(withoutAdobeQuery('rtmp://h:1935/live/test?authmod=adobe&user=j&response=r')).toBe(
      'rtmp://h:1935/live/test',
    );
    expect(withoutAdobeQuery('live/test')).toBe('live/test');
  });

  it('redacts response, challenge, opaque and salt in anything logged', () => {
    const text = redactCredentials(
      'rtmp://h/live?authmod=adobe&user=johndoe&challenge=cc&response=R+/=&opaque=OP&salt=SA',
    );
    expect(text).toBe(
      'rtmp://h/live?authmod=adobe&user=johndoe&challenge=[redacted]&response=[redacted]&opaque=[redacted]&salt=[redacted]',
    );
  });
});
