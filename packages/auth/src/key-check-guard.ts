/**
 * What a flood of stream-key attempts may cost. A `scrypt:` check is ~50 ms of a libuv thread-pool
 * thread, the pool the host's file reads share: 400 wrong keys at once froze an unrelated stream's
 * served playlist for 18–28 s. So checks run a few at a time (`maxConcurrentChecks`, default 1 of
 * the pool's 4 threads) behind a bounded queue (`maxQueuedChecks`; beyond it a publish is refused
 * at once as busy). Addresses without failures in the window queue ahead of those with failures,
 * and a full queue makes room for one by refusing the newest waiter that has failed, so an
 * attacker's retries cannot keep a real publisher out. Failures are counted in a fixed window: an
 * address past
 * `maxFailuresPerAddress` is refused without a check until the window ends; a username past
 * `maxFailuresPerUsername` is refused to addresses that have failed in the window too, so its
 * owner, publishing from an address with no failures, still gets through.
 */

/** Defaults of the stream-key check limits (`streamKeys` options). */
export const DEFAULT_KEY_CHECK_LIMITS = Object.freeze({
  maxConcurrentChecks: 1,
  maxQueuedChecks: 32,
  maxFailuresPerAddress: 5,
  maxFailuresPerUsername: 20,
  failureWindowSeconds: 60,
});

export type KeyCheckLimits = { -readonly [K in keyof typeof DEFAULT_KEY_CHECK_LIMITS]: number };

/** Addresses and usernames whose failures are remembered at once (oldest forgotten first). */
const MAX_TRACKED = 10_000;

interface Window {
  startedAt: number;
  failures: number;
}

export type KeyCheckRefusal = { kind: 'rate-limited'; retryAfterSeconds: number };

/** What {@link KeyCheckGuard.run} resolves to when the check was refused for want of a slot. */
export const KEY_CHECK_BUSY: unique symbol = Symbol('key check busy');

interface Waiter {
  admit(): void;
  refuse(): void;
}

export class KeyCheckGuard {
  private running = 0;
  /** Waiting checks from addresses with no failure in the window, then from the others. */
  private readonly clean: Waiter[] = [];
  private readonly dirty: Waiter[] = [];
  private readonly failures = new Map<string, Window>();
  private readonly windowMs: number;

  constructor(
    private readonly limits: KeyCheckLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.windowMs = limits.failureWindowSeconds * 1000;
  }

  /** Why a check for `username` from `address` must not run now, or null. */
  refusal(address: string | undefined, username: string): KeyCheckRefusal | null {
    const byAddress = address === undefined ? undefined : this.current(`a:${address}`);
    const byUser = this.current(`u:${username}`);
    const over = (w: Window | undefined, max: number) => w !== undefined && w.failures >= max;
    if (over(byAddress, this.limits.maxFailuresPerAddress)) return this.limited(byAddress!);
    if (over(byUser, this.limits.maxFailuresPerUsername) && (byAddress?.failures ?? 0) > 0) {
      return this.limited(byUser!);
    }
    return null;
  }

  /**
   * Runs `check` for a client at `address` when a slot is free; {@link KEY_CHECK_BUSY} when the
   * queue is full (or it was pushed out of it by a client that has not failed).
   */
  async run<T>(address: string | undefined, check: () => Promise<T>): Promise<T | typeof KEY_CHECK_BUSY> {
    if (this.running < this.limits.maxConcurrentChecks) this.running++;
    else if (!(await this.wait(address))) return KEY_CHECK_BUSY;
    try {
      return await check();
    } finally {
      // A finishing check hands its slot straight to the next in line, so none can overtake.
      const next = this.clean.shift() ?? this.dirty.shift();
      if (next) next.admit();
      else this.running--;
    }
  }

  private wait(address: string | undefined): Promise<boolean> {
    const clean = address === undefined || this.current(`a:${address}`) === undefined;
    if (this.clean.length + this.dirty.length >= this.limits.maxQueuedChecks) {
      const pushedOut = clean ? this.dirty.pop() : undefined;
      if (pushedOut === undefined) return Promise.resolve(false);
      pushedOut.refuse();
    }
    return new Promise<boolean>((resolve) =>
      (clean ? this.clean : this.dirty).push({ admit: () => resolve(true), refuse: () => resolve(false) }),
    );
  }

  /** Counts a wrong or missing key against the address and the username. */
  recordFailure(address: string | undefined, username: string): void {
    if (address !== undefined) this.bump(`a:${address}`);
    this.bump(`u:${username}`);
  }

  private limited(w: Window): KeyCheckRefusal {
    const left = w.startedAt + this.windowMs - this.now();
    return { kind: 'rate-limited', retryAfterSeconds: Math.max(1, Math.ceil(left / 1000)) };
  }

  private current(key: string): Window | undefined {
    const w = this.failures.get(key);
    if (w === undefined) return undefined;
    if (this.now() - w.startedAt < this.windowMs) return w;
    this.failures.delete(key);
    return undefined;
  }

  private bump(key: string): void {
    const w = this.current(key);
    if (w !== undefined) {
      w.failures++;
      return;
    }
    this.failures.set(key, { startedAt: this.now(), failures: 1 });
    if (this.failures.size > MAX_TRACKED) this.failures.delete(this.failures.keys().next().value as string);
  }
}
