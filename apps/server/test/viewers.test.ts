import { describe, expect, it } from 'vitest';
import { addressGroup } from '../src/net-address';
import { MAX_VIEWER_KEYS, MAX_VIEWERS_PER_ADDRESS, VIEWER_TTL_MS, ViewerTracker } from '../src/streams/viewers';

describe('addressGroup', () => {
  it('keeps an IPv4 address whole and unwraps IPv4-mapped IPv6', () => {
    expect(addressGroup('203.0.113.7')).toBe('203.0.113.7');
    expect(addressGroup('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressGroup('::FFFF:127.0.0.1')).toBe('127.0.0.1');
  });

  it('groups IPv6 by its /64, however the address is written', () => {
    const a = addressGroup('2001:db8:1:2:aaaa:bbbb:cccc:dddd');
    expect(a).toBe('2001:db8:1:2::/64');
    expect(addressGroup('2001:0db8:0001:0002::1')).toBe(a);
    expect(addressGroup('2001:db8:1:2::ffff:1')).toBe(a);
    expect(addressGroup('2001:db8:1:3::1')).not.toBe(a);
    expect(addressGroup('::1')).toBe('0:0:0:0::/64');
    expect(addressGroup('fe80::')).toBe('fe80:0:0:0::/64');
  });

  it('passes anything that is not an address through as its own group', () => {
    expect(addressGroup('')).toBe('');
    expect(addressGroup('not-an-ip')).toBe('not-an-ip');
  });
});

describe('ViewerTracker', () => {
  it('counts distinct keys within the TTL and forgets them after', () => {
    let t = 0;
    const v = new ViewerTracker(() => t);
    v.note('10.0.0.1', 'a');
    v.note('10.0.0.2', 'b');
    v.note('10.0.0.1', 'a');
    expect(v.count()).toBe(2);
    t = VIEWER_TTL_MS / 2;
    v.note('10.0.0.1', 'a');
    t = VIEWER_TTL_MS + 1;
    expect(v.count()).toBe(1);
    t = 2 * VIEWER_TTL_MS;
    expect(v.count()).toBe(0);
  });

  it('counts one address as at most MAX_VIEWERS_PER_ADDRESS viewers, however many agents it sends', () => {
    let t = 0;
    const v = new ViewerTracker(() => t);
    for (let i = 0; i < 1000; i++) v.note('198.51.100.9', `agent-${i}`);
    expect(v.count()).toBe(MAX_VIEWERS_PER_ADDRESS);
    // Other addresses are still counted in full.
    v.note('198.51.100.10', 'x');
    expect(v.count()).toBe(MAX_VIEWERS_PER_ADDRESS + 1);
    // Once the address's viewers expire it may count again (the slot is freed, not lost).
    t = VIEWER_TTL_MS + 1;
    v.note('198.51.100.9', 'agent-late');
    expect(v.count()).toBe(1);
  });

  it('takes its per-address count as an option and reports the viewers it did not count', () => {
    let refused = 0;
    const v = new ViewerTracker(
      () => 0,
      2,
      () => refused++,
    );
    for (let i = 0; i < 10; i++) v.note('198.51.100.9', `agent-${i}`);
    v.note('198.51.100.9', 'agent-0'); // a counted viewer coming back is not refused
    expect(v.count()).toBe(2);
    expect(refused).toBe(8);
  });

  it('stays bounded in keys, and frees the slots of expired viewers for new ones', () => {
    let t = 0;
    const v = new ViewerTracker(() => t);
    for (let i = 0; i < MAX_VIEWER_KEYS + 50; i++) v.note(`g${i}`, `k${i}`);
    expect(v.count()).toBe(MAX_VIEWER_KEYS);
    t = VIEWER_TTL_MS + 1;
    v.note('late', 'late');
    expect(v.count()).toBe(1);
  });
});
