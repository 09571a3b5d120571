/**
 * The cost bounds of stream-key checks: how many run at once, how many wait, and who is refused
 * unchecked after failing, unit by unit with a fake clock and then through the authorizer.
 */
import { describe, expect, it } from 'vitest';
import { createPublishAuthorizer, DEFAULT_KEY_CHECK_LIMITS, hashStreamKey } from '../src';
import { KEY_CHECK_BUSY, KeyCheckGuard } from '../src/key-check-guard';

const limits = { ...DEFAULT_KEY_CHECK_LIMITS, maxConcurrentChecks: 2, maxQueuedChecks: 3 };

describe('KeyCheckGuard', () => {
  it('runs at most maxConcurrentChecks at once, in arrival order, and refuses past the queue', async () => {
    const guard = new KeyCheckGuard(limits);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const releases: (() => void)[] = [];
    const check = (i: number) => () =>
      new Promise<number>((resolve) => {
        running++;
        peak = Math.max(peak, running);
        order.push(i);
        releases.push(() => {
          running--;
          resolve(i);
        });
      });
    const runs = [0, 1, 2, 3, 4].map((i) => guard.run('1.2.3.4', check(i)));
    await new Promise((r) => setTimeout(r, 0));
    expect(await guard.run('1.2.3.4', check(99))).toBe(KEY_CHECK_BUSY); // 2 running, 3 waiting
    while (releases.length > 0) {
      releases.shift()?.();
      await new Promise((r) => setTimeout(r, 0));
    }
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4]);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
    expect(guard.refusal('1.2.3.4', 'alice')).toBeNull();
  });

  it('a full queue makes room for an address without failures by refusing one that failed', async () => {
    const guard = new KeyCheckGuard({ ...limits, maxConcurrentChecks: 1, maxQueuedChecks: 2 }, () => 0);
    guard.recordFailure('10.9.9.9', 'x');
    let release!: () => void;
    const first = guard.run('10.0.0.1', () => new Promise<string>((r) => (release = () => r('first'))));
    const dirty1 = guard.run('10.9.9.9', async () => 'dirty1');
    const dirty2 = guard.run('10.9.9.9', async () => 'dirty2');
    const owner = guard.run('192.0.2.1', async () => 'owner');
    expect(await dirty2).toBe(KEY_CHECK_BUSY); // the newest failing waiter made room
    expect(await guard.run('10.9.9.9', async () => 'late')).toBe(KEY_CHECK_BUSY);
    const order: string[] = [];
    for (const p of [owner, dirty1]) void p.then((v) => order.push(String(v)));
    release();
    expect(await first).toBe('first');
    await Promise.all([owner, dirty1]);
    expect(order).toEqual(['owner', 'dirty1']); // clean addresses first
  });

  it('refuses an address after maxFailuresPerAddress failures until the window ends', () => {
    const clock = { t: 0 };
    const guard = new KeyCheckGuard(limits, () => clock.t);
    for (let i = 0; i < 5; i++) {
      expect(guard.refusal('10.0.0.1', `u${i}`)).toBeNull();
      guard.recordFailure('10.0.0.1', `u${i}`);
    }
    expect(guard.refusal('10.0.0.1', 'someone')).toEqual({ kind: 'rate-limited', retryAfterSeconds: 60 });
    expect(guard.refusal('10.0.0.2', 'someone')).toBeNull();
    clock.t = 45_500;
    expect(guard.refusal('10.0.0.1', 'x')).toEqual({ kind: 'rate-limited', retryAfterSeconds: 15 });
    clock.t = 60_000;
    expect(guard.refusal('10.0.0.1', 'x')).toBeNull();
  });

  it('a username under attack stays open to addresses that have not failed', () => {
    const guard = new KeyCheckGuard(limits, () => 0);
    for (let i = 0; i < 20; i++) guard.recordFailure(`10.1.0.${i}`, 'alice');
    expect(guard.refusal('10.1.0.3', 'alice')?.kind).toBe('rate-limited');
    expect(guard.refusal('192.0.2.7', 'alice')).toBeNull();
    expect(guard.refusal('10.1.0.3', 'bob')).toBeNull();
  });
});

describe('the authorizer under a flood of wrong keys', () => {
  it('refuses unchecked with ERR_AUTH_RATE_LIMITED, and lets the owner in from elsewhere', async () => {
    const auth = createPublishAuthorizer({
      patterns: ['/live/{app}/{username}'],
      streamKeys: { keys: { alice: await hashStreamKey('right', { algorithm: 'sha256' }) } },
    });
    const from = (clientAddress: string, key: string) =>
      auth.authorize({ app: 'live/test', streamName: `alice?key=${key}`, clientAddress });
    for (let i = 0; i < 5; i++) expect(await from('198.51.100.9', 'wrong')).toMatchObject({ code: 'ERR_AUTH_BAD_KEY' });
    const limited = await from('198.51.100.9', 'right');
    expect(limited).toMatchObject({
      allowed: false,
      code: 'ERR_AUTH_RATE_LIMITED',
      status: 'NetStream.Publish.Unauthorized',
    });
    expect(limited.allowed === false && limited.reason).toMatch(/retry in \d+ s/);
    expect(await from('203.0.113.5', 'right')).toMatchObject({ allowed: true, username: 'alice' });
  });

  it('validates the limits at load', () => {
    const make = (extra: object) => () =>
      createPublishAuthorizer({ patterns: ['/live/{app}/{username}'], streamKeys: { keys: {}, ...extra } });
    expect(make({ maxConcurrentChecks: 0 })).toThrow(/maxConcurrentChecks must be an integer in \[1, 64\]/);
    expect(make({ failureWindowSeconds: 1.5 })).toThrow(/failureWindowSeconds/);
    expect(make({ maxQueuedChecks: 0 })).not.toThrow();
  });
});
