import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPublishAuthorizer } from '../src/index';
import { parseCidr, parseIpAddress } from '../src/ip-list';
import { configCode } from './helpers/config-code';

describe('parseIpAddress', () => {
  it.each([
    ['0.0.0.0', 0xffff_0000_0000n],
    ['1.2.3.4', 0xffff_0102_0304n],
    ['255.255.255.255', 0xffff_ffff_ffffn],
    ['::ffff:1.2.3.4', 0xffff_0102_0304n],
    ['::FFFF:0102:0304', 0xffff_0102_0304n],
    ['0:0:0:0:0:ffff:1.2.3.4', 0xffff_0102_0304n],
    ['::', 0n],
    ['::1', 1n],
    ['2001:db8::1', 0x2001_0db8_0000_0000_0000_0000_0000_0001n],
    ['2001:db8:0:0:0:0:0:1', 0x2001_0db8_0000_0000_0000_0000_0000_0001n],
    ['1::', 1n << 112n],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', (1n << 128n) - 1n],
  ])('%s', (text, value) => {
    expect(parseIpAddress(text)).toBe(value);
  });

  it('accepts a zone id only for client addresses', () => {
    expect(parseIpAddress('fe80::1%eth0', true)).toBe((0xfe80n << 112n) | 1n);
    expect(parseIpAddress('fe80::1%eth0')).toBeUndefined();
  });

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3.-4',
    ' 1.2.3.4',
    '1::2::3',
    ':::',
    ':1',
    '1:',
    'g::1',
    '12345::1',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8::',
    '1.2.3.4::',
    '::1.2.3.4:1',
    '::ffff:1.2.3',
    'localhost',
  ])('refuses %j', (text) => {
    expect(parseIpAddress(text)).toBeUndefined();
  });

  it('property: an IPv4 address and its IPv4-mapped IPv6 form are the same address', () => {
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        const mapped = parseIpAddress(`::ffff:${v4}`);
        expect(mapped).toBeDefined();
        expect(parseIpAddress(v4)).toBe(mapped);
      }),
    );
  });

  it('property: every fast-check IPv6 address parses', () => {
    fc.assert(
      fc.property(fc.ipV6(), (v6) => {
        expect(parseIpAddress(v6)).toBeTypeOf('bigint');
      }),
    );
  });
});

describe('parseCidr', () => {
  it('IPv4 prefixes live in the mapped range', () => {
    expect(parseCidr('10.0.0.0/8')).toMatchObject({ prefixLength: 104, base: 0xffff_0a00_0000n });
    expect(parseCidr('1.2.3.4')).toMatchObject({ prefixLength: 128 });
    expect(parseCidr('2001:db8::/32')).toMatchObject({ prefixLength: 32 });
    expect(parseCidr('::/0')).toMatchObject({ prefixLength: 0, base: 0n });
  });

  it.each([
    '10.0.0.1/8',
    '10.0.0.0/33',
    '::/129',
    '2001:db8::1/32',
    '10.0.0.0/',
    '10.0.0.0/08',
    '10.0.0.0/-1',
    '10.0.0.0/8/8',
    'foo',
    'fe80::1%eth0',
    '',
  ])('refuses %j with ERR_AUTH_CONFIG_CIDR', (text) => {
    expect(configCode(() => parseCidr(text))).toBe('ERR_AUTH_CONFIG_CIDR');
  });
});

describe('allow and deny lists', () => {
  const auth = createPublishAuthorizer({
    patterns: ['/live/{username}'],
    ip: {
      allow: ['10.0.0.0/8', '2001:db8::/32', '::ffff:192.168.0.0/112'],
      deny: ['10.1.0.0/16', '2001:db8:bad::/48'],
    },
  });
  const publish = (clientAddress: string | undefined) =>
    auth.authorize({ app: 'live', streamName: 'alice', clientAddress });

  it.each([
    ['IPv4 in allow', '10.2.3.4', true],
    ['IPv4-mapped in allow', '::ffff:10.2.3.4', true],
    ['IPv4 in a mapped-notation allow rule', '192.168.7.9', true],
    ['IPv6 in allow', '2001:db8::1', true],
    ['IPv6 in allow, other spelling', '2001:0db8:0000::0001', true],
    ['IPv4 in deny and allow: deny wins', '10.1.2.3', false],
    ['IPv4-mapped in deny: deny wins', '::ffff:10.1.2.3', false],
    ['IPv6 in deny and allow: deny wins', '2001:db8:bad::7', false],
    ['IPv4 outside allow', '11.0.0.1', false],
    ['IPv6 outside allow', '2001:db9::1', false],
    ['loopback not allowed', '::1', false],
    ['unknown address', undefined, false],
    ['garbage address', 'not-an-ip', false],
  ])('%s (%s) → %s', async (_case, address, allowed) => {
    const d = await publish(address);
    expect(d.allowed).toBe(allowed);
    if (!d.allowed) expect(d).toMatchObject({ code: 'ERR_AUTH_IP_DENIED', status: 'NetStream.Publish.Unauthorized' });
  });

  it('deny-only list lets everything else through', async () => {
    const denyOnly = createPublishAuthorizer({ patterns: ['/live/{username}'], ip: { deny: ['192.0.2.0/24', '::1'] } });
    const go = (clientAddress: string) => denyOnly.authorize({ app: 'live', streamName: 'alice', clientAddress });
    expect((await go('198.51.100.1')).allowed).toBe(true);
    expect((await go('fe80::1%lo')).allowed).toBe(true);
    expect((await go('192.0.2.200')).allowed).toBe(false);
    expect((await go('::ffff:192.0.2.200')).allowed).toBe(false);
    expect((await go('::1')).allowed).toBe(false);
  });

  it('is checked before the name: a denied client learns nothing about patterns', async () => {
    expect(await auth.authorize({ app: 'x', streamName: '..', clientAddress: '11.0.0.1' })).toMatchObject({
      code: 'ERR_AUTH_IP_DENIED',
    });
  });

  it('invalid CIDRs are rejected at load', () => {
    expect(
      configCode(() => createPublishAuthorizer({ patterns: ['/{username}'], ip: { allow: ['10.0.0.0/40'] } })),
    ).toBe('ERR_AUTH_CONFIG_CIDR');
    expect(configCode(() => createPublishAuthorizer({ patterns: ['/{username}'], ip: { deny: ['10.0.0.1/8'] } }))).toBe(
      'ERR_AUTH_CONFIG_CIDR',
    );
    expect(
      configCode(() => createPublishAuthorizer({ patterns: ['/{username}'], ip: { deny: '10.0.0.0/8' } as never })),
    ).toBe('ERR_AUTH_CONFIG_INVALID');
    expect(configCode(() => createPublishAuthorizer({ patterns: ['/{username}'], ip: { block: [] } as never }))).toBe(
      'ERR_AUTH_CONFIG_UNKNOWN_OPTION',
    );
  });
});
