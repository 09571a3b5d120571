/**
 * Inbound media bitrate of a stream over a sliding window, from the payload bytes of its media
 * messages: a ring of time buckets, so adding is O(1) and memory is fixed.
 */

/** Buckets of the window. */
const RATE_BUCKETS = 10;
/** Default window, ms. */
export const DEFAULT_BITRATE_WINDOW_MS = 5000;

export class BitrateMeter {
  private readonly bucketMs: number;
  /** Bucket number held by each slot (slot = bucket modulo RATE_BUCKETS). */
  private readonly index: number[] = [];
  private readonly bytes: number[] = [];
  private total = 0;

  constructor(
    private readonly now: () => number = Date.now,
    windowMs = DEFAULT_BITRATE_WINDOW_MS,
  ) {
    this.bucketMs = windowMs / RATE_BUCKETS;
  }

  /** Bytes received, all time. */
  get bytesIn(): number {
    return this.total;
  }

  add(n: number): void {
    this.total += n;
    const bucket = Math.floor(this.now() / this.bucketMs);
    const slot = bucket % RATE_BUCKETS;
    if (this.index[slot] !== bucket) {
      this.index[slot] = bucket;
      this.bytes[slot] = 0;
    }
    this.bytes[slot] = (this.bytes[slot] ?? 0) + n;
  }

  /** Bits per second over the window, or since `since` (ms) when that is later. */
  bitsPerSecond(since: number): number {
    const t = this.now();
    const current = Math.floor(t / this.bucketMs);
    let bytes = 0;
    for (let slot = 0; slot < RATE_BUCKETS; slot++) {
      const index = this.index[slot];
      if (index !== undefined && index > current - RATE_BUCKETS && index <= current) bytes += this.bytes[slot] ?? 0;
    }
    const windowSpan = (RATE_BUCKETS - 1) * this.bucketMs + (t - current * this.bucketMs);
    const spanMs = Math.max(1, Math.min(windowSpan, t - since));
    return Math.round((bytes * 8 * 1000) / spanMs);
  }
}
