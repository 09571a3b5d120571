import crypto from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPublishAuthorizer, hashStreamKey } from '../src/index';
import { configCode } from './helpers/config-code';

const ALICE_KEY = 'k1-alice-0123456789';
const ALICE_OLD_KEY = 'k0-alice-old-key';
const BOB_KEY = 'bob chose this';
const aliceHash = hashStreamKey(ALICE_KEY, { algorithm: 'sha256' });
const aliceOldHash = hashStreamKey(ALICE_OLD_KEY, { algorithm: 'sha256' });
const bobHash = hashStreamKey(BOB_KEY); // scrypt

const authorizer = createPublishAuthorizer({
  patterns: ['/live/{app}/{username}'],
  streamKeys: { keys: { alice: [aliceOldHash, aliceHash], bob: bobHash } },
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('hashStreamKey', () => {
  it('sha256 is the hex SHA-256 of the key', () => {
    expect(aliceHash).toBe(`sha256:${crypto.createHash('sha256').update(ALICE_KEY).digest('hex')}`);
  });

  it('scrypt is salted: same key, different hashes, both verify', async () => {
    const again = hashStreamKey(BOB_KEY);
    expect(bobHash).toMatch(/^scrypt:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]{43}$/);
    expect(again).not.toBe(bobHash);
    const both = createPublishAuthorizer({ patterns: ['/live/{username}'], streamKeys: { keys: { bob: again } } });
    expect(await both.authorize({ app: 'live', streamName: `bob?key=${encodeURIComponent(BOB_KEY)}` })).toMatchObject({
      allowed: true,
    });
  });

  it('refuses empty keys and unknown algorithms', () => {
    expect(configCode(() => hashStreamKey(''))).toBe('ERR_AUTH_CONFIG_INVALID');
    expect(configCode(() => hashStreamKey('x', { algorithm: 'md5' as never }))).toBe('ERR_AUTH_CONFIG_INVALID');
  });
});

describe('stream keys in the query', () => {
  it('right key → allowed, key removed from the decision query', async () => {
    const d = await authorizer.authorize({ app: 'live/test', streamName: `alice?key=${ALICE_KEY}&lang=en` });
    expect(d).toEqual({
      allowed: true,
      username: 'alice',
      vars: { app: 'test', username: 'alice' },
      query: { lang: 'en' },
      streamName: 'alice',
    });
  });

  it('old key still accepted (rotation), scrypt key with a space (percent-encoded)', async () => {
    expect(await authorizer.authorize({ app: 'live/test', streamName: `alice?key=${ALICE_OLD_KEY}` })).toMatchObject({
      allowed: true,
    });
    expect(await authorizer.authorize({ app: 'live', streamName: 'test/bob?key=bob%20chose%20this' })).toMatchObject({
      allowed: true,
      username: 'bob',
    });
  });

  it('key in the app query (OBS server URL)', async () => {
    expect(await authorizer.authorize({ app: `live/test?key=${ALICE_KEY}`, streamName: 'alice' })).toMatchObject({
      allowed: true,
    });
  });

  it.each([
    ['wrong key', `alice?key=${ALICE_KEY}x`, 'ERR_AUTH_BAD_KEY'],
    ['another user’s key', `alice?key=${encodeURIComponent(BOB_KEY)}`, 'ERR_AUTH_BAD_KEY'],
    ['unknown user', `carol?key=${ALICE_KEY}`, 'ERR_AUTH_BAD_KEY'],
    ['prototype key as user', `constructor?key=${ALICE_KEY}`, 'ERR_AUTH_BAD_KEY'],
    ['missing key', 'alice', 'ERR_AUTH_MISSING_KEY'],
    ['empty key', 'alice?key=', 'ERR_AUTH_MISSING_KEY'],
    ['key in the username', `alice${ALICE_KEY}`, 'ERR_AUTH_MISSING_KEY'],
  ])('%s → %s, Unauthorized', async (_case, streamName, code) => {
    const d = await authorizer.authorize({ app: 'live/test', streamName });
    expect(d).toMatchObject({ allowed: false, code, status: 'NetStream.Publish.Unauthorized' });
    if (!d.allowed) expect(d.reason).not.toContain(ALICE_KEY);
  });
});

describe('stream key as the last path segment ({key})', () => {
  const segmentAuth = createPublishAuthorizer({
    patterns: ['/live/{username}/{key}'],
    streamKeys: { keys: { alice: aliceHash } },
  });

  it.each([
    ['OBS: server …/live, stream key alice/KEY', 'live', `alice/${ALICE_KEY}`],
    ['ffmpeg: rtmp://host/live/alice/KEY', 'live/alice', ALICE_KEY],
  ])('%s', async (_client, app, streamName) => {
    const d = await segmentAuth.authorize({ app, streamName });
    expect(d).toEqual({
      allowed: true,
      username: 'alice',
      vars: { username: 'alice' },
      query: {},
      streamName: 'alice',
    });
  });

  it('wrong segment key, and a key both in path and query', async () => {
    expect(await segmentAuth.authorize({ app: 'live', streamName: 'alice/nope' })).toMatchObject({
      code: 'ERR_AUTH_BAD_KEY',
    });
    expect(
      await segmentAuth.authorize({ app: 'live', streamName: `alice/${ALICE_KEY}?key=${ALICE_KEY}` }),
    ).toMatchObject({ code: 'ERR_AUTH_BAD_KEY' });
  });

  it('a {key} pattern without streamKeys is a configuration error', () => {
    expect(configCode(() => createPublishAuthorizer({ patterns: ['/live/{username}/{key}'] }))).toBe(
      'ERR_AUTH_PATTERN_KEY_UNVERIFIED',
    );
  });
});

describe('constant-time comparison', () => {
  it('compares 32-byte digests with crypto.timingSafeEqual, every stored hash, no early exit', async () => {
    const spy = vi.spyOn(crypto, 'timingSafeEqual');
    // alice has two hashes; the second one matches. A short wrong key is still compared as a digest.
    expect(await authorizer.authorize({ app: 'live/test', streamName: `alice?key=${ALICE_KEY}` })).toMatchObject({
      allowed: true,
    });
    expect(spy).toHaveBeenCalledTimes(2);
    for (const [a, b] of spy.mock.calls) {
      expect((a as Uint8Array).length).toBe(32);
      expect((b as Uint8Array).length).toBe(32);
    }
    spy.mockClear();
    await authorizer.authorize({ app: 'live/test', streamName: 'alice?key=x' });
    expect(spy).toHaveBeenCalledTimes(2);
    spy.mockClear();
    await authorizer.authorize({ app: 'live/test', streamName: 'nobody?key=x' });
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it('the result depends on timingSafeEqual: forcing it false refuses the right key', async () => {
    vi.spyOn(crypto, 'timingSafeEqual').mockReturnValue(false);
    expect(await authorizer.authorize({ app: 'live/test', streamName: `alice?key=${ALICE_KEY}` })).toMatchObject({
      code: 'ERR_AUTH_BAD_KEY',
    });
  });
});

describe('key lookup function', () => {
  it('async lookup, custom query parameter', async () => {
    const seen: string[] = [];
    const auth = createPublishAuthorizer({
      patterns: ['/live/{username}'],
      streamKeys: {
        queryParam: 'token',
        keys: async (username) => {
          seen.push(username);
          return username === 'alice' ? aliceHash : undefined;
        },
      },
    });
    expect(await auth.authorize({ app: 'live', streamName: `alice?token=${ALICE_KEY}` })).toMatchObject({
      allowed: true,
      query: {},
    });
    expect(await auth.authorize({ app: 'live', streamName: `alice?key=${ALICE_KEY}` })).toMatchObject({
      code: 'ERR_AUTH_MISSING_KEY',
    });
    expect(await auth.authorize({ app: 'live', streamName: `eve?token=${ALICE_KEY}` })).toMatchObject({
      code: 'ERR_AUTH_BAD_KEY',
    });
    expect(seen).toEqual(['alice', 'eve']);
  });

  it('a throwing lookup or a malformed stored hash refuses (fails closed)', async () => {
    const failing = createPublishAuthorizer({
      patterns: ['/live/{username}'],
      streamKeys: {
        keys: () => {
          throw new Error('db down');
        },
      },
    });
    const d = await failing.authorize({ app: 'live', streamName: 'alice?key=x' });
    expect(d).toMatchObject({ allowed: false, code: 'ERR_AUTH_KEY_LOOKUP_FAILED' });
    if (!d.allowed) expect(d.reason).not.toContain('db down');
    const plaintext = createPublishAuthorizer({ patterns: ['/live/{username}'], streamKeys: { keys: () => 'x' } });
    expect(await plaintext.authorize({ app: 'live', streamName: 'alice?key=x' })).toMatchObject({
      code: 'ERR_AUTH_KEY_LOOKUP_FAILED',
    });
  });
});

describe('configuration', () => {
  it.each([
    [{ alice: 'plaintext-key' }, 'ERR_AUTH_CONFIG_KEY_HASH'],
    [{ alice: 'sha256:abcd' }, 'ERR_AUTH_CONFIG_KEY_HASH'],
    [{ alice: 'scrypt:c2FsdA:aGFzaA' }, 'ERR_AUTH_CONFIG_KEY_HASH'],
    [{ alice: [] }, 'ERR_AUTH_CONFIG_KEY_HASH'],
    [{ 'a/b': aliceHash }, 'ERR_AUTH_CONFIG_INVALID'],
  ])('keys %j → %s', (keys, code) => {
    expect(
      configCode(() => createPublishAuthorizer({ patterns: ['/live/{username}'], streamKeys: { keys } as never })),
    ).toBe(code);
  });

  it('never echoes a misplaced plaintext key in the error', () => {
    try {
      createPublishAuthorizer({ patterns: ['/live/{username}'], streamKeys: { keys: { alice: 'hunter2hunter2' } } });
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
    }
    expect.assertions(1);
  });

  it('refuses bad option names', () => {
    expect(
      configCode(() =>
        createPublishAuthorizer({ patterns: ['/live/{username}'], streamKeys: { keys: {}, queryParam: 'a b' } }),
      ),
    ).toBe('ERR_AUTH_CONFIG_INVALID');
    expect(
      configCode(() =>
        createPublishAuthorizer({ patterns: ['/live/{username}'], streamKeys: { keys: {}, param: 'k' } as never }),
      ),
    ).toBe('ERR_AUTH_CONFIG_UNKNOWN_OPTION');
  });
});
