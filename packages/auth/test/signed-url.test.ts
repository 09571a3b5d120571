import crypto from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPublishAuthorizer, DEFAULT_SIGNED_URL_MAX_TTL_SECONDS, signPublishUrl } from '../src/index';
import { publishSignatureInput } from '../src/signed-url';
import { configCode } from './helpers/config-code';

const SECRET = 'test-secret-0123456789abcdef';
const OTHER_SECRET = 'other-secret-0123456789abcdef';
const NOW_MS = 1_700_000_000_000;
const NOW_S = NOW_MS / 1000;
const clock = { ms: NOW_MS };

const authorizer = createPublishAuthorizer({
  patterns: ['/live/{app}/{username}'],
  signedUrls: { secret: SECRET, now: () => clock.ms },
});

function sign(path: string, expires: number, secret = SECRET, encoding: 'hex' | 'base64url' = 'hex') {
  return signPublishUrl({ path, expires, secret, encoding });
}

afterEach(() => {
  clock.ms = NOW_MS;
  vi.restoreAllMocks();
});

describe('signPublishUrl', () => {
  it('HMAC-SHA256 over "<path>\\n<expires>" (known answer)', () => {
    const expected = crypto.createHmac('sha256', SECRET).update('/live/test/alice\n1700000100').digest('hex');
    const s = sign('/live/test/alice', 1_700_000_100);
    expect(publishSignatureInput('/live/test/alice', 1_700_000_100)).toBe('/live/test/alice\n1700000100');
    expect(s).toEqual({
      path: '/live/test/alice',
      expires: 1_700_000_100,
      sig: expected,
      query: `expires=1700000100&sig=${expected}`,
    });
    expect(sign('/live/test/alice', 1_700_000_100, SECRET, 'base64url').sig).toBe(
      Buffer.from(expected, 'hex').toString('base64url'),
    );
  });

  it('canonicalises slashes and computes expiry from ttlSeconds with the injected clock', () => {
    const s = signPublishUrl({ path: 'live/test/alice/', secret: SECRET, ttlSeconds: 60, now: () => NOW_MS });
    expect(s.path).toBe('/live/test/alice');
    expect(s.expires).toBe(NOW_S + 60);
  });

  it.each([
    [{ path: '/live/x?y=1', expires: 1, secret: SECRET }, 'ERR_AUTH_CONFIG_SIGN_PATH'],
    [{ path: '/live//x', expires: 1, secret: SECRET }, 'ERR_AUTH_CONFIG_SIGN_PATH'],
    [{ path: '/live/%2e%2e', expires: 1, secret: SECRET }, 'ERR_AUTH_CONFIG_SIGN_PATH'],
    [{ path: '/live/x', expires: 1, secret: 'short' }, 'ERR_AUTH_CONFIG_SECRET'],
    [{ path: '/live/x', secret: SECRET }, 'ERR_AUTH_CONFIG_INVALID'],
    [{ path: '/live/x', expires: 1, ttlSeconds: 1, secret: SECRET }, 'ERR_AUTH_CONFIG_INVALID'],
    [{ path: '/live/x', expires: -1, secret: SECRET }, 'ERR_AUTH_CONFIG_INVALID'],
    [{ path: '/live/x', expires: 1.5, secret: SECRET }, 'ERR_AUTH_CONFIG_INVALID'],
  ])('%j → %s', (options, code) => {
    expect(configCode(() => signPublishUrl(options as never))).toBe(code);
  });
});

describe('verification', () => {
  it.each([
    ['ffmpeg split, hex', 'live/test', 'alice?', 'hex'],
    ['OBS split, base64url', 'live', 'test/alice?', 'base64url'],
  ] as const)('valid: %s', async (_case, app, name, encoding) => {
    const { query } = sign('/live/test/alice', NOW_S + 60, SECRET, encoding);
    const d = await authorizer.authorize({ app, streamName: `${name}${query}` });
    expect(d).toMatchObject({ allowed: true, username: 'alice', query: { expires: String(NOW_S + 60) } });
    if (d.allowed) expect(d.query).not.toHaveProperty('sig');
  });

  it('valid: signature in the app query (OBS server URL)', async () => {
    const { query } = sign('/live/test/alice', NOW_S + 60);
    expect(await authorizer.authorize({ app: `live/test?${query}`, streamName: 'alice' })).toMatchObject({
      allowed: true,
    });
  });

  it('expired beyond the skew → ERR_AUTH_EXPIRED', async () => {
    const { query } = sign('/live/test/alice', NOW_S - 31);
    expect(await authorizer.authorize({ app: 'live/test', streamName: `alice?${query}` })).toMatchObject({
      allowed: false,
      code: 'ERR_AUTH_EXPIRED',
      status: 'NetStream.Publish.Unauthorized',
    });
  });

  it('expired within the 30 s default skew → allowed; boundary exact', async () => {
    for (const expires of [NOW_S - 1, NOW_S - 30]) {
      const { query } = sign('/live/test/alice', expires);
      expect(await authorizer.authorize({ app: 'live/test', streamName: `alice?${query}` })).toMatchObject({
        allowed: true,
      });
    }
  });

  it('configurable skew, and the clock is read per call', async () => {
    const strict = createPublishAuthorizer({
      patterns: ['/live/{app}/{username}'],
      signedUrls: { secret: SECRET, now: () => clock.ms, clockSkewSeconds: 0 },
    });
    const { query } = sign('/live/test/alice', NOW_S + 10);
    expect(await strict.authorize({ app: 'live/test', streamName: `alice?${query}` })).toMatchObject({ allowed: true });
    clock.ms = NOW_MS + 11_000;
    expect(await strict.authorize({ app: 'live/test', streamName: `alice?${query}` })).toMatchObject({
      code: 'ERR_AUTH_EXPIRED',
    });
  });

  it('tampered path (other user, other app) → ERR_AUTH_SIGNATURE', async () => {
    const { query } = sign('/live/test/alice', NOW_S + 60);
    for (const [app, name] of [
      ['live/test', 'bob'],
      ['live/other', 'alice'],
    ]) {
      expect(await authorizer.authorize({ app: app!, streamName: `${name}?${query}` })).toMatchObject({
        code: 'ERR_AUTH_SIGNATURE',
      });
    }
  });

  it('tampered expiry → ERR_AUTH_SIGNATURE, even when the new expiry is later', async () => {
    const { sig } = sign('/live/test/alice', NOW_S - 100);
    for (const expires of [NOW_S + 3600, NOW_S - 99]) {
      expect(
        await authorizer.authorize({ app: 'live/test', streamName: `alice?expires=${expires}&sig=${sig}` }),
      ).toMatchObject({ code: 'ERR_AUTH_SIGNATURE' });
    }
  });

  it('wrong secret → ERR_AUTH_SIGNATURE; rotation accepts every configured secret', async () => {
    const { query } = sign('/live/test/alice', NOW_S + 60, OTHER_SECRET);
    expect(await authorizer.authorize({ app: 'live/test', streamName: `alice?${query}` })).toMatchObject({
      code: 'ERR_AUTH_SIGNATURE',
    });
    const rotating = createPublishAuthorizer({
      patterns: ['/live/{app}/{username}'],
      signedUrls: { secret: [SECRET, Buffer.from(OTHER_SECRET)], now: () => clock.ms },
    });
    expect(await rotating.authorize({ app: 'live/test', streamName: `alice?${query}` })).toMatchObject({
      allowed: true,
    });
  });

  const good = sign('/live/test/alice', NOW_S + 60);
  it.each([
    ['no signature at all', 'alice'],
    ['sig missing', `alice?expires=${NOW_S + 60}`],
    ['expires missing', `alice?sig=${good.sig}`],
    ['sig too short', `alice?expires=${NOW_S + 60}&sig=${good.sig.slice(1)}`],
    ['sig not hex', `alice?expires=${NOW_S + 60}&sig=${'z'.repeat(64)}`],
    ['sig empty', `alice?expires=${NOW_S + 60}&sig=`],
    ['sig base64 with padding', `alice?expires=${NOW_S + 60}&sig=${Buffer.from(good.sig, 'hex').toString('base64')}`],
    ['expires negative', `alice?expires=-1&sig=${good.sig}`],
    ['expires with leading zero', `alice?expires=0${NOW_S + 60}&sig=${good.sig}`],
    ['expires not a number', `alice?expires=soon&sig=${good.sig}`],
    ['expires too long', `alice?expires=${'9'.repeat(13)}&sig=${good.sig}`],
  ])('malformed: %s → ERR_AUTH_SIGNATURE', async (_case, streamName) => {
    expect(await authorizer.authorize({ app: 'live/test', streamName })).toMatchObject({
      allowed: false,
      code: 'ERR_AUTH_SIGNATURE',
    });
  });

  it('maxTtlSeconds refuses URLs that expire too far ahead', async () => {
    const capped = createPublishAuthorizer({
      patterns: ['/live/{app}/{username}'],
      signedUrls: { secret: SECRET, now: () => clock.ms, maxTtlSeconds: 3600, clockSkewSeconds: 0 },
    });
    const far = sign('/live/test/alice', NOW_S + 3601);
    const near = sign('/live/test/alice', NOW_S + 3600);
    expect(await capped.authorize({ app: 'live/test', streamName: `alice?${far.query}` })).toMatchObject({
      code: 'ERR_AUTH_SIGNATURE',
    });
    expect(await capped.authorize({ app: 'live/test', streamName: `alice?${near.query}` })).toMatchObject({
      allowed: true,
    });
  });

  it('refuses by default a URL valid for more than a week (expires=999999999999)', async () => {
    const byDefault = createPublishAuthorizer({
      patterns: ['/live/{app}/{username}'],
      signedUrls: { secret: SECRET, now: () => clock.ms },
    });
    const forever = sign('/live/test/alice', 999_999_999_999);
    const week = sign('/live/test/alice', NOW_S + DEFAULT_SIGNED_URL_MAX_TTL_SECONDS);
    expect(await byDefault.authorize({ app: 'live/test', streamName: `alice?${forever.query}` })).toMatchObject({
      code: 'ERR_AUTH_SIGNATURE',
    });
    expect(await byDefault.authorize({ app: 'live/test', streamName: `alice?${week.query}` })).toMatchObject({
      allowed: true,
    });
  });

  it('compares with crypto.timingSafeEqual, once per configured secret', async () => {
    const spy = vi.spyOn(crypto, 'timingSafeEqual');
    const rotating = createPublishAuthorizer({
      patterns: ['/live/{app}/{username}'],
      signedUrls: { secret: [SECRET, OTHER_SECRET], now: () => clock.ms },
    });
    await rotating.authorize({ app: 'live/test', streamName: `alice?${good.query}` });
    expect(spy).toHaveBeenCalledTimes(2);
    spy.mockReturnValue(false);
    expect(await rotating.authorize({ app: 'live/test', streamName: `alice?${good.query}` })).toMatchObject({
      code: 'ERR_AUTH_SIGNATURE',
    });
  });

  it('a throwing clock fails closed with ERR_AUTH_INTERNAL', async () => {
    const broken = createPublishAuthorizer({
      patterns: ['/live/{app}/{username}'],
      signedUrls: {
        secret: SECRET,
        now: () => {
          throw new Error('no clock');
        },
      },
    });
    expect(await broken.authorize({ app: 'live/test', streamName: `alice?${good.query}` })).toMatchObject({
      allowed: false,
      code: 'ERR_AUTH_INTERNAL',
      reason: 'internal authorization error',
    });
  });

  it.each([
    [{ secret: 'short' }, 'ERR_AUTH_CONFIG_SECRET'],
    [{ secret: [] }, 'ERR_AUTH_CONFIG_SECRET'],
    [{ secret: 42 }, 'ERR_AUTH_CONFIG_SECRET'],
    [{ secret: SECRET, clockSkewSeconds: -1 }, 'ERR_AUTH_CONFIG_INVALID'],
    [{ secret: SECRET, maxTtlSeconds: 0 }, 'ERR_AUTH_CONFIG_INVALID'],
    [{ secret: SECRET, sigParam: 'expires' }, 'ERR_AUTH_CONFIG_INVALID'],
    [{ secret: SECRET, skew: 5 }, 'ERR_AUTH_CONFIG_UNKNOWN_OPTION'],
  ])('config %j → %s', (signedUrls, code) => {
    expect(
      configCode(() => createPublishAuthorizer({ patterns: ['/live/{username}'], signedUrls: signedUrls as never })),
    ).toBe(code);
  });
});
