/**
 * The Adobe challenge login, driven the way the clients drive it: descriptions are read back the
 * way FFmpeg's handle_connect_error reads them (strstr + split on & and =) and GStreamer's regex
 * matches them; responses are computed here with node:crypto after FFmpeg's do_adobe_auth.
 */
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ADOBE_NEED_AUTH_DESCRIPTION,
  type AdobeAuthConfig,
  type AdobeConnectDecision,
  createAdobeAuthenticator,
  isAuthConfigError,
  makeAdobeUserEntry,
} from '../src/index';

const SALT = 'c2FsdHNhbHQx';
/** Known answers computed outside Node (Python hashlib/base64) for johndoe / SALT / "secret". */
const KAT = {
  digest: 'PYIGrh0BUP+uDQ5AkB8RGg==',
  opaque: 'b3BhcXVlb3BhcXVl', // base64url("opaqueopaque"), the stub token below
  clientChallenge: '0badc0de',
  response: 'R03s9bQKXAxybfj5a8UohA==',
};
const ENTRY = `adobe:${SALT}:${KAT.digest}`;

/** GStreamer rtmp2's auth_regex (rtmpclient.c): the query must end the description. */
const GST_AUTH_REGEX = /\[ *AccessManager.Reject *\] *: *\[ *authmod=(.*?) *\] *: *(\?.*)$/s;

const b64md5 = (s: string) => crypto.createHash('md5').update(s).digest('base64');

/** FFmpeg's do_adobe_auth: the query it appends to app and tcUrl on the third connect. */
function ffmpegAnswer(description: string, password: string, clientChallenge = '1234abcd'): string {
  const at = description.indexOf('?reason=needauth');
  expect(at).toBeGreaterThanOrEqual(0);
  const vars: Record<string, string> = Object.fromEntries(
    description
      .slice(at + 1)
      .split('&')
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  const digest = b64md5(`${vars.user}${vars.salt}${password}`);
  const response = b64md5(`${digest}${vars.opaque ?? vars.challenge}${clientChallenge}`);
  return `?authmod=adobe&user=${vars.user}&challenge=${clientChallenge}&response=${response}&opaque=${vars.opaque}`;
}

/** Tokens are always "opaqueopaque" (one challenge per test that uses it); the decoy secret zeros. */
function stubRandom(size: number): Buffer {
  return size === 12 ? Buffer.from('opaqueopaque') : Buffer.alloc(size);
}

function authenticator(extra: Partial<AdobeAuthConfig> = {}, clock = { t: 1_000_000 }) {
  return createAdobeAuthenticator({ users: { johndoe: ENTRY }, now: () => clock.t, ...extra });
}

function description(d: AdobeConnectDecision): string {
  if (d.kind !== 'challenge' && d.kind !== 'denied') throw new Error(`expected a refusal, got ${d.kind}`);
  return d.description;
}

describe('entries and responses (known answers)', () => {
  it('makes the entry FFmpeg and GStreamer hash against: adobe:<salt>:base64(md5(user+salt+password))', () => {
    expect(makeAdobeUserEntry('johndoe', 'secret', { salt: SALT })).toBe(ENTRY);
    expect(b64md5(`johndoe${SALT}secret`)).toBe(KAT.digest);
  });

  it('makes a random 16-character salt by default, never the password', () => {
    const a = makeAdobeUserEntry('johndoe', 'secret');
    const b = makeAdobeUserEntry('johndoe', 'secret');
    expect(a).toMatch(/^adobe:[A-Za-z0-9_-]{16}:[A-Za-z0-9+/]{22}==$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('secret');
  });

  it('accepts the known-answer response to the known opaque and client challenge', () => {
    const auth = authenticator({ randomBytes: stubRandom });
    const challenge = auth.connect('live/test?authmod=adobe&user=johndoe', '10.0.0.1');
    expect(description(challenge)).toBe(
      `[ AccessManager.Reject ] : [ authmod=adobe ] : ?reason=needauth&user=johndoe&salt=${SALT}` +
        `&challenge=${KAT.opaque}&opaque=${KAT.opaque}`,
    );
    const app = `live/test?authmod=adobe&user=johndoe&challenge=${KAT.clientChallenge}&response=${KAT.response}&opaque=${KAT.opaque}`;
    expect(auth.connect(app, '10.0.0.1')).toEqual({ kind: 'authenticated', username: 'johndoe', app: 'live/test' });
  });
});

describe('the three connects', () => {
  it('answers a connect without an auth query as anonymous (the caller sends the need-auth refusal)', () => {
    expect(authenticator().connect('live/test', '10.0.0.1')).toEqual({ kind: 'anonymous' });
    // FFmpeg and GStreamer (authmod auto) both look for exactly these two strings.
    expect(ADOBE_NEED_AUTH_DESCRIPTION).toContain('code=403 need auth');
    expect(ADOBE_NEED_AUTH_DESCRIPTION).toContain('authmod=adobe');
  });

  it('logs in a client that follows FFmpeg’s code path, once per challenge', () => {
    const auth = authenticator();
    const challenge = description(auth.connect('live/test?authmod=adobe&user=johndoe', '10.0.0.1'));
    expect(challenge).toMatch(GST_AUTH_REGEX);
    expect(GST_AUTH_REGEX.exec(challenge)![1]).toBe('adobe');
    const app = `live/test${ffmpegAnswer(challenge, 'secret')}`;
    expect(auth.connect(app, '10.0.0.1')).toMatchObject({ kind: 'authenticated', username: 'johndoe' });
    // Single use: the same answer again is refused.
    expect(auth.connect(app, '10.0.0.1')).toMatchObject({ kind: 'denied', code: 'ERR_AUTH_ADOBE_STALE_CHALLENGE' });
  });

  it('logs in OBS’s librtmp: the query appended after step 2’s, a base64 client challenge', () => {
    const auth = authenticator();
    const step2 = 'live/test?authmod=adobe&user=johndoe';
    const challenge = description(auth.connect(step2, '10.0.0.1'));
    // librtmp appends "&challenge=…&response=…&opaque=…" to the app it already extended in step 2.
    const tail = ffmpegAnswer(challenge, 'secret', 'q83vEg==').replace('?authmod=adobe&user=johndoe', '');
    expect(auth.connect(`${step2}${tail}`, '10.0.0.1')).toMatchObject({ kind: 'authenticated', app: 'live/test' });
  });

  it('refuses a wrong password with reason=authfailed, which FFmpeg prints as "Incorrect username/password"', () => {
    const auth = authenticator();
    const challenge = description(auth.connect('live/test?authmod=adobe&user=johndoe', '10.0.0.1'));
    const d = auth.connect(`live/test${ffmpegAnswer(challenge, 'wrong')}`, '10.0.0.1');
    expect(d).toMatchObject({ kind: 'denied', code: 'ERR_AUTH_ADOBE_BAD_RESPONSE', username: 'johndoe' });
    const text = description(d);
    expect(text).toContain('?reason=authfailed');
    expect(text).toContain('authmod=adobe');
    expect(text).not.toContain('code=403 need auth'); // else FFmpeg would start over
    expect(text).toMatch(GST_AUTH_REGEX);
  });

  it('treats an unknown user like a wrong password: a stable decoy salt, then authfailed', () => {
    const auth = authenticator();
    const first = description(auth.connect('live?authmod=adobe&user=mallory', '10.0.0.1'));
    const again = description(auth.connect('live?authmod=adobe&user=mallory', '10.0.0.2'));
    const salt = (s: string) => /&salt=([^&]*)/.exec(s)![1];
    expect(salt(first)).toBe(salt(again));
    expect(salt(first)).toMatch(/^[A-Za-z0-9_-]{16}$/);
    const d = auth.connect(`live${ffmpegAnswer(first, 'guess')}`, '10.0.0.1');
    expect(d).toMatchObject({ kind: 'denied', code: 'ERR_AUTH_ADOBE_NO_SUCH_USER' });
    expect(description(d)).toContain('?reason=authfailed');
    expect(description(d)).not.toContain('nosuchuser');
  });

  it('refuses an answer from another address, for another user, or after the challenge expired', () => {
    const clock = { t: 1_000_000 };
    const auth = authenticator({ challengeTtlSeconds: 10 }, clock);
    const ask = () => description(auth.connect('live?authmod=adobe&user=johndoe', '10.0.0.1'));
    expect(auth.connect(`live${ffmpegAnswer(ask(), 'secret')}`, '10.0.0.9')).toMatchObject({
      code: 'ERR_AUTH_ADOBE_STALE_CHALLENGE',
    });
    const other = ffmpegAnswer(ask(), 'secret').replace('user=johndoe', 'user=janedoe');
    expect(auth.connect(`live${other}`, '10.0.0.1')).toMatchObject({ code: 'ERR_AUTH_ADOBE_STALE_CHALLENGE' });
    const late = ffmpegAnswer(ask(), 'secret');
    clock.t += 10_000;
    expect(auth.connect(`live${late}`, '10.0.0.1')).toMatchObject({ code: 'ERR_AUTH_ADOBE_STALE_CHALLENGE' });
    expect(description(auth.connect(`live${late}`, '10.0.0.1'))).toContain('?reason=expired');
  });

  it('keeps every description FFmpeg reads within its 256-byte buffer, even for a 64-character user', () => {
    const user = 'u'.repeat(64);
    const auth = createAdobeAuthenticator({ users: { [user]: makeAdobeUserEntry(user, 'pw') } });
    const challenge = description(auth.connect(`live?authmod=adobe&user=${user}`, '10.0.0.1'));
    expect(Buffer.byteLength(challenge)).toBeLessThan(256);
    expect(auth.connect(`live${ffmpegAnswer(challenge, 'pw')}`, '10.0.0.1')).toMatchObject({ kind: 'authenticated' });
  });
});

describe('limits', () => {
  it('rate-limits an address after maxFailuresPerAddress bad answers, until the window ends', () => {
    const clock = { t: 1_000_000 };
    const auth = authenticator({ maxFailuresPerAddress: 3, failureWindowSeconds: 60 }, clock);
    const tryOnce = (password: string, address = '10.0.0.1') => {
      const c = auth.connect('live?authmod=adobe&user=johndoe', address);
      if (c.kind !== 'challenge') return c;
      return auth.connect(`live${ffmpegAnswer(c.description, password)}`, address);
    };
    for (let i = 0; i < 3; i++) expect(tryOnce('wrong')).toMatchObject({ code: 'ERR_AUTH_ADOBE_BAD_RESPONSE' });
    const limited = tryOnce('secret');
    expect(limited).toMatchObject({ kind: 'denied', code: 'ERR_AUTH_ADOBE_RATE_LIMITED' });
    expect(description(limited)).toMatch(/\?reason=ratelimited&retry_after=60$/);
    // The owner elsewhere still gets in; the failing address does once the window is over.
    expect(tryOnce('secret', '10.0.0.2')).toMatchObject({ kind: 'authenticated' });
    clock.t += 60_000;
    expect(tryOnce('secret')).toMatchObject({ kind: 'authenticated' });
  });

  it('bounds the outstanding challenges overall and per address, the oldest making room', () => {
    const auth = authenticator({ maxOutstandingChallenges: 4, maxChallengesPerAddress: 2 });
    const ask = (address: string) => auth.connect('live?authmod=adobe&user=johndoe', address);
    const first = description(ask('10.0.0.1'));
    ask('10.0.0.1');
    expect(ask('10.0.0.1')).toMatchObject({ kind: 'challenge', evicted: 1 });
    expect(auth.outstandingChallenges).toBe(2);
    expect(auth.connect(`live${ffmpegAnswer(first, 'secret')}`, '10.0.0.1')).toMatchObject({
      code: 'ERR_AUTH_ADOBE_STALE_CHALLENGE',
    });
    for (let i = 2; i < 100; i++) ask(`10.0.1.${i}`);
    expect(auth.outstandingChallenges).toBe(4);
  });

  it('forgets expired challenges as new ones are issued', () => {
    const clock = { t: 0 };
    const auth = authenticator({ challengeTtlSeconds: 1 }, clock);
    for (let i = 0; i < 50; i++) {
      auth.connect('live?authmod=adobe&user=johndoe', `10.0.0.${i}`);
      clock.t += 500;
    }
    expect(auth.outstandingChallenges).toBeLessThanOrEqual(3);
  });
});

describe('configuration', () => {
  const cases: [string, unknown, string][] = [
    ['a malformed entry', { users: { johndoe: 'sha256:abc' } }, 'ERR_AUTH_CONFIG_ADOBE'],
    ['a digest of the wrong size', { users: { johndoe: `adobe:${SALT}:AAAA` } }, 'ERR_AUTH_CONFIG_ADOBE'],
    ['a salt with a reserved character', { users: { johndoe: `adobe:a&b=c:${KAT.digest}` } }, 'ERR_AUTH_CONFIG_ADOBE'],
    ['an unsafe username', { users: { 'john/doe': ENTRY } }, 'ERR_AUTH_CONFIG_ADOBE'],
    ['no users', { users: {} }, 'ERR_AUTH_CONFIG_ADOBE'],
    ['a typo', { users: { johndoe: ENTRY }, challengeTTL: 5 }, 'ERR_AUTH_CONFIG_UNKNOWN_OPTION'],
    ['a limit out of range', { users: { johndoe: ENTRY }, maxOutstandingChallenges: 0 }, 'ERR_AUTH_CONFIG_LIMIT'],
  ];
  it.each(cases)('refuses %s, naming no secret', (_name, config, code) => {
    let caught: unknown;
    try {
      createAdobeAuthenticator(config as AdobeAuthConfig);
    } catch (err) {
      caught = err;
    }
    expect(isAuthConfigError(caught)).toBe(true);
    expect((caught as { code: string }).code).toBe(code);
    expect((caught as Error).message).not.toContain(KAT.digest);
  });
});
