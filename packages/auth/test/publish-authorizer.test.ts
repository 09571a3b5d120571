import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AuthDenyCode, createPublishAuthorizer, DENY_STATUS, hashStreamKey, signPublishUrl } from '../src/index';
import { configCode } from './helpers/config-code';

const auth = createPublishAuthorizer({ patterns: ['/live/{app}/{username}'] });

describe('authorize: pattern only', () => {
  it('allows a matching publish with the full decision', async () => {
    expect(await auth.authorize({ app: 'live', streamName: 'test/johndoe?quality=hd' })).toEqual({
      allowed: true,
      username: 'johndoe',
      vars: { app: 'test', username: 'johndoe' },
      query: { quality: 'hd' },
      streamName: 'test/johndoe',
    });
  });

  it.each([
    ['no match', 'other/test', 'alice', 'ERR_AUTH_NO_MATCH'],
    ['bad name', 'live/test', '%2e%2e', 'ERR_AUTH_BAD_NAME'],
    ['bad query', 'live/test', 'alice?key=1&key=2', 'ERR_AUTH_BAD_QUERY'],
  ])('%s → %s with NetStream.Publish.BadName', async (_case, app, streamName, code) => {
    expect(await auth.authorize({ app, streamName })).toMatchObject({
      allowed: false,
      code,
      status: 'NetStream.Publish.BadName',
    });
  });

  it('never throws on malformed requests', async () => {
    for (const bad of [null, undefined, 42, {}, { app: 1, streamName: 2 }, { app: 'live/test', streamName: null }]) {
      const d = await auth.authorize(bad as never);
      expect(d.allowed).toBe(false);
    }
    expect(await auth.authorize({ app: 'live/test', streamName: 'alice', clientId: {} as never })).toMatchObject({
      code: 'ERR_AUTH_BAD_NAME',
    });
  });

  it('property: every refusal reason is short printable ASCII', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 80 }),
        fc.string({ unit: 'binary', maxLength: 80 }),
        async (app, name) => {
          const d = await auth.authorize({ app, streamName: name });
          if (!d.allowed) {
            expect(d.reason).toMatch(/^[\x20-\x7e]{1,300}$/);
            expect(d.status).toBe(DENY_STATUS[d.code]);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('isValidUsername (for HTTP route params)', () => {
  it('accepts what at least one pattern’s {username} accepts', () => {
    const mixed = createPublishAuthorizer({
      patterns: ['/live/{username:[a-z]{3,8}}', '/vip/{app}/{username:[A-Z]{2}}'],
    });
    expect(mixed.isValidUsername('alice')).toBe(true);
    expect(mixed.isValidUsername('AB')).toBe(true);
    expect(mixed.isValidUsername('al')).toBe(false);
    expect(mixed.isValidUsername('Alice')).toBe(false);
    expect(mixed.isValidUsername('..')).toBe(false);
    expect(mixed.isValidUsername(undefined)).toBe(false);
    expect(auth.isValidUsername('john_doe-1')).toBe(true);
    expect(auth.isValidUsername('john%20doe')).toBe(false);
  });
});

describe('all controls together', () => {
  const SECRET = 'sign-secret-0123456789';
  const now = 1_800_000_000_000;
  const all = createPublishAuthorizer({
    patterns: ['/live/{app}/{username}'],
    ip: { allow: ['127.0.0.0/8'] },
    streamKeys: { keys: { alice: hashStreamKey('alice-key', { algorithm: 'sha256' }) } },
    signedUrls: { secret: SECRET, now: () => now },
    webhook: {
      url: 'http://hooks.invalid/',
      fetch: (async () => new Response(null, { status: 200 })) as typeof fetch,
    },
  });
  const signed = signPublishUrl({ path: '/live/test/alice', secret: SECRET, ttlSeconds: 60, now: () => now });

  it('allows when every check passes; credentials are not in the decision', async () => {
    const d = await all.authorize({
      app: 'live/test',
      streamName: `alice?key=alice-key&${signed.query}`,
      clientAddress: '127.0.0.1',
    });
    expect(d).toEqual({
      allowed: true,
      username: 'alice',
      vars: { app: 'test', username: 'alice' },
      query: { expires: String(signed.expires) },
      streamName: 'alice',
    });
  });

  it('the first failing check decides: IP, then name, then key, then signature', async () => {
    const base = { app: 'live/test', clientAddress: '127.0.0.1' };
    const cases: [Record<string, string>, AuthDenyCode][] = [
      [{ clientAddress: '10.0.0.1', streamName: '..' }, 'ERR_AUTH_IP_DENIED'],
      [{ streamName: '..?key=wrong' }, 'ERR_AUTH_BAD_NAME'],
      [{ streamName: 'alice?key=wrong' }, 'ERR_AUTH_BAD_KEY'],
      [{ streamName: 'alice?key=alice-key' }, 'ERR_AUTH_SIGNATURE'],
    ];
    for (const [override, code] of cases) {
      expect(await all.authorize({ ...base, streamName: '', ...override })).toMatchObject({ code });
    }
  });
  it('a connection logged in as the path’s user needs no key or signature; as another user it is refused', async () => {
    const base = { app: 'live/test', clientAddress: '127.0.0.1' };
    expect(await all.authorize({ ...base, streamName: 'alice', authenticatedUser: 'alice' })).toMatchObject({
      allowed: true,
      username: 'alice',
    });
    expect(await all.authorize({ ...base, streamName: 'alice', authenticatedUser: 'bob' })).toMatchObject({
      allowed: false,
      code: 'ERR_AUTH_ADOBE_USER_MISMATCH',
      status: 'NetStream.Publish.Unauthorized',
      reason: 'logged in as "bob", which may not publish as "alice"',
    });
    // IP lists still apply to a logged-in connection.
    expect(
      await all.authorize({ ...base, clientAddress: '10.0.0.1', streamName: 'alice', authenticatedUser: 'alice' }),
    ).toMatchObject({ code: 'ERR_AUTH_IP_DENIED' });
  });
});

describe('catalogue and configuration', () => {
  it('maps name problems to BadName and everything else to Unauthorized', () => {
    const badName = Object.entries(DENY_STATUS)
      .filter(([, s]) => s === 'NetStream.Publish.BadName')
      .map(([c]) => c)
      .sort();
    expect(badName).toEqual([
      'ERR_AUTH_BAD_NAME',
      'ERR_AUTH_BAD_QUERY',
      'ERR_AUTH_NO_MATCH',
      'ERR_AUTH_USERNAME_MISMATCH',
    ]);
    expect(Object.keys(DENY_STATUS)).toHaveLength(17);
  });

  it.each([
    [{}, 'ERR_AUTH_CONFIG_INVALID'],
    [{ patterns: [] }, 'ERR_AUTH_CONFIG_INVALID'],
    [{ patterns: ['/live/{username}'], pattern: 'x' }, 'ERR_AUTH_CONFIG_UNKNOWN_OPTION'],
    [{ patterns: ['/live/{username}'], streamkeys: {} }, 'ERR_AUTH_CONFIG_UNKNOWN_OPTION'],
    [{ patterns: ['/live/{username}'], limits: { maxSegments: 1000 } }, 'ERR_AUTH_CONFIG_LIMIT'],
    [{ patterns: ['/live/{username}'], ip: null }, 'ERR_AUTH_CONFIG_INVALID'],
    [{ patterns: ['/live/{username}'], streamKeys: { keys: [] } }, 'ERR_AUTH_CONFIG_INVALID'],
  ])('%j → %s', (config, code) => {
    expect(configCode(() => createPublishAuthorizer(config as never))).toBe(code);
  });

  it('limits apply to requests', async () => {
    const small = createPublishAuthorizer({ patterns: ['/live/{username}'], limits: { maxInputLength: 16 } });
    expect(await small.authorize({ app: 'live', streamName: 'alice' })).toMatchObject({ allowed: true });
    expect(await small.authorize({ app: 'live', streamName: 'alice?padding=xxxxxx' })).toMatchObject({
      code: 'ERR_AUTH_BAD_NAME',
    });
  });
});
