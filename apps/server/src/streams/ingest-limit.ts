/**
 * A publisher's ingest bitrate limit: a token bucket over the payload bytes of its media messages,
 * refilled at the limit and holding {@link DEFAULT_INGEST_BURST_MS} of it, so a keyframe or a
 * scene change well above the average passes while a publisher that stays above the limit for
 * seconds does not. What happens past it (drop or disconnect) is the session's choice.
 */

/** What a publisher over its limit gets: frames dropped, or the connection closed with onStatus. */
export type IngestLimitAction = 'drop' | 'disconnect';
export const INGEST_LIMIT_ACTIONS: readonly IngestLimitAction[] = ['drop', 'disconnect'];

/** Seconds of the limit the bucket holds: encoders' rate control averages over about this long. */
export const DEFAULT_INGEST_BURST_MS = 5000;

export interface IngestLimitOptions {
  /** Sustained limit, bits per second (> 0). */
  maxBitsPerSecond: number;
  action: IngestLimitAction;
  /** Bucket size as time at the limit, ms. Default {@link DEFAULT_INGEST_BURST_MS}. */
  burstMs?: number;
}

export class IngestRateLimit {
  readonly maxBitsPerSecond: number;
  readonly action: IngestLimitAction;
  private readonly bytesPerMs: number;
  private readonly capacity: number;
  private tokens: number;
  private last: number;

  constructor(
    options: IngestLimitOptions,
    private readonly now: () => number = Date.now,
  ) {
    if (!(options.maxBitsPerSecond > 0)) throw new RangeError('maxBitsPerSecond must be > 0');
    this.maxBitsPerSecond = options.maxBitsPerSecond;
    this.action = options.action;
    this.bytesPerMs = options.maxBitsPerSecond / 8 / 1000;
    this.capacity = this.bytesPerMs * (options.burstMs ?? DEFAULT_INGEST_BURST_MS);
    this.tokens = this.capacity;
    this.last = now();
  }

  /** Takes `bytes` if the bucket holds them (true), else leaves it as it is (false). */
  admit(bytes: number): boolean {
    const t = this.now();
    if (t > this.last) {
      this.tokens = Math.min(this.capacity, this.tokens + (t - this.last) * this.bytesPerMs);
      this.last = t;
    }
    if (bytes > this.tokens) return false;
    this.tokens -= bytes;
    return true;
  }
}
