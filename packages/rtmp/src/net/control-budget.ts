/**
 * How much of a server's time one peer's non-media messages may take: a token bucket over the
 * session's `controlCost`. Pings, acknowledgements and commands are a few per second from any real
 * client; a peer sending them by the million (a ping flood at loopback speed kept one core busy and
 * delayed every other stream) is read no faster than the budget refills.
 */

/** Control budget refill, cost units (≈ bytes) per second. @see RtmpServerOptions.maxControlBytesPerSecond */
export const DEFAULT_MAX_CONTROL_BYTES_PER_SECOND = 64 * 1024;
/** Seconds of the budget a peer may spend at once (connect, metadata and the publish commands fit). */
export const CONTROL_BURST_SECONDS = 4;

export class ControlBudget {
  private readonly capacity: number;
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    now: number,
  ) {
    this.capacity = perSecond * CONTROL_BURST_SECONDS;
    this.tokens = this.capacity;
    this.last = now;
  }

  /** Charges `cost` at time `now` (ms); returns how long to stop reading, ms (0: go on). */
  charge(cost: number, now: number): number {
    if (now > this.last) {
      this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) * this.perSecond) / 1000);
      this.last = now;
    }
    this.tokens -= cost;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.perSecond);
  }
}
