/**
 * Who is watching a stream: distinct viewer keys (a hash of address and user agent, made by the
 * HTTP layer) seen within the last {@link VIEWER_TTL_MS}. Memory is bounded whatever clients send,
 * and one client cannot inflate the count: a user agent is free text, so one address (an IPv6 /64,
 * what one subscriber is given) counts as at most {@link MAX_VIEWERS_PER_ADDRESS} viewers — enough
 * for a household behind one NAT, useless for a script that varies its agent (the groups:
 * `addressGroup` in net-address.ts).
 */
/** Viewers count as current this long after their last request. */
export const VIEWER_TTL_MS = 30_000;
/** Most viewer keys remembered per stream. */
export const MAX_VIEWER_KEYS = 10_000;
/** Most distinct viewers one address group counts as, by default (`--max-viewers-per-address`). */
export const MAX_VIEWERS_PER_ADDRESS = 4;

interface Seen {
  at: number;
  group: string;
}

export class ViewerTracker {
  private readonly seen = new Map<string, Seen>();
  private readonly perGroup = new Map<string, number>();

  /**
   * @param maxPerAddress distinct viewers one address group counts as
   * @param onRefused a request from a new viewer of a full address group (not counted)
   */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxPerAddress = MAX_VIEWERS_PER_ADDRESS,
    private readonly onRefused?: () => void,
  ) {}

  /** A request from viewer `key` whose address is in `group` (a playlist or segment fetch). */
  note(group: string, key: string): void {
    const t = this.now();
    const known = this.seen.get(key);
    if (known !== undefined) {
      known.at = t;
      return;
    }
    const full = () => this.seen.size >= MAX_VIEWER_KEYS || (this.perGroup.get(group) ?? 0) >= this.maxPerAddress;
    if (full()) this.prune(t);
    if (full()) {
      if ((this.perGroup.get(group) ?? 0) >= this.maxPerAddress) this.onRefused?.();
      return;
    }
    this.seen.set(key, { at: t, group });
    this.perGroup.set(group, (this.perGroup.get(group) ?? 0) + 1);
  }

  /** Distinct viewers seen within the TTL. */
  count(): number {
    this.prune(this.now());
    return this.seen.size;
  }

  private prune(t: number): void {
    for (const [k, s] of this.seen) {
      if (t - s.at <= VIEWER_TTL_MS) continue;
      this.seen.delete(k);
      const left = (this.perGroup.get(s.group) ?? 1) - 1;
      if (left > 0) this.perGroup.set(s.group, left);
      else this.perGroup.delete(s.group);
    }
  }
}
