/**
 * Who is watching a stream: distinct viewer keys (a hash of address and user agent, made by the
 * HTTP layer) seen within the last {@link VIEWER_TTL_MS}. Memory is bounded whatever clients send.
 */

/** Viewers count as current this long after their last request. */
export const VIEWER_TTL_MS = 30_000;
/** Most viewer keys remembered per stream. */
export const MAX_VIEWER_KEYS = 10_000;

export class ViewerTracker {
  private readonly seen = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A request from `key` (a playlist or segment fetch). */
  note(key: string): void {
    const t = this.now();
    if (!this.seen.has(key) && this.seen.size >= MAX_VIEWER_KEYS) this.prune(t);
    if (this.seen.size >= MAX_VIEWER_KEYS && !this.seen.has(key)) return;
    this.seen.set(key, t);
  }

  /** Distinct viewers seen within the TTL. */
  count(): number {
    this.prune(this.now());
    return this.seen.size;
  }

  private prune(t: number): void {
    for (const [k, at] of this.seen) if (t - at > VIEWER_TTL_MS) this.seen.delete(k);
  }
}
