/**
 * The outstanding challenges of the Adobe login: what the server remembers between its `needauth`
 * refusal and the client's reconnect with a response (FFmpeg and GStreamer reconnect at once, so
 * a short lifetime is enough). Bounded three ways: each lives `ttlMs`, one address holds at most
 * `maxPerAddress` (its oldest makes room), all addresses together `maxOutstanding` (the oldest
 * overall makes room). Each is taken once, whatever the outcome.
 */

export interface IssuedChallenge {
  readonly username: string;
  /** The address it was issued to; it is only redeemed from there. */
  readonly address: string;
  /** False for a decoy issued to a user that does not exist. */
  readonly known: boolean;
  readonly expiresAt: number;
}

export interface ChallengeStoreLimits {
  ttlMs: number;
  maxOutstanding: number;
  maxPerAddress: number;
}

export class ChallengeStore {
  /** By opaque, in issue order (which is expiry order: one lifetime for all). */
  private readonly byOpaque = new Map<string, IssuedChallenge>();
  /** Opaques per address, oldest first. */
  private readonly byAddress = new Map<string, string[]>();

  constructor(
    private readonly limits: ChallengeStoreLimits,
    private readonly now: () => number,
  ) {}

  /** Challenges remembered now (expired ones still count until the next issue or take sweeps them). */
  get size(): number {
    return this.byOpaque.size;
  }

  /**
   * Remembers a challenge under `opaque`. Returns how many older challenges had to be forgotten
   * to stay within the limits (expired ones not counted).
   */
  issue(opaque: string, username: string, address: string, known: boolean): number {
    this.sweep();
    let evicted = 0;
    const mine = this.byAddress.get(address) ?? [];
    while (mine.length >= this.limits.maxPerAddress) {
      this.byOpaque.delete(mine.shift()!);
      evicted++;
    }
    while (this.byOpaque.size >= this.limits.maxOutstanding) {
      this.forget(this.byOpaque.keys().next().value as string);
      evicted++;
    }
    this.byOpaque.set(opaque, { username, address, known, expiresAt: this.now() + this.limits.ttlMs });
    mine.push(opaque);
    this.byAddress.set(address, mine);
    return evicted;
  }

  /** The challenge issued under `opaque`, removed; undefined when unknown, taken or expired. */
  take(opaque: string): IssuedChallenge | undefined {
    this.sweep();
    const found = this.byOpaque.get(opaque);
    if (found === undefined) return undefined;
    this.forget(opaque);
    return found.expiresAt > this.now() ? found : undefined;
  }

  /** Forgets the expired challenges at the head (issue order is expiry order). */
  private sweep(): void {
    const now = this.now();
    for (const [opaque, c] of this.byOpaque) {
      if (c.expiresAt > now) return;
      this.forget(opaque);
    }
  }

  private forget(opaque: string): void {
    const c = this.byOpaque.get(opaque);
    if (c === undefined) return;
    this.byOpaque.delete(opaque);
    const mine = this.byAddress.get(c.address);
    if (mine === undefined) return;
    const i = mine.indexOf(opaque);
    if (i >= 0) mine.splice(i, 1);
    if (mine.length === 0) this.byAddress.delete(c.address);
  }
}
