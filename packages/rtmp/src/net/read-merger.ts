/**
 * Merged reads: while a stream is published, its socket is read in rounds instead of on every
 * arrival. An encoder writes a message (often a chunk header and its payload separately) about a
 * hundred times a second; each arrival wakes the event loop, costs a `read` and makes the kernel
 * acknowledge it. Reading every connection once per round lets several messages arrive in one read,
 * at the price of up to one round of added latency.
 *
 * Only streams slow enough are merged. While we do not read, the kernel holds what arrives, up to
 * the receive window (about 64 KiB on a fresh connection); a round of a faster stream would fill it
 * and stall the encoder (measured: a 30 Mb/s stream fell to 0.2x real time with 100 ms rounds).
 * So each connection's rate is measured over {@link RATE_WINDOW_MS}, and its reads are merged in the
 * next window only if a round of it stays within {@link MERGE_BUDGET_BYTES}: a quarter of that window,
 * the rest left for bursts such as keyframes.
 */

/** Bytes per round up to which a stream's reads are merged. */
export const MERGE_BUDGET_BYTES = 16 * 1024;
/** Span over which a connection's rate is measured before it may be merged. */
export const RATE_WINDOW_MS = 1000;

/**
 * Per connection: may it wait for the end of a round after a read? Only when its stream is slow
 * enough (measured over {@link RATE_WINDOW_MS}, unmerged until a first window is measured), the
 * read was small (a big one is a backlog to take at once), no message is half-received (the rest is
 * on its way) and no video keyframe came within the last round (a segmenter cuts on it and its
 * muxer waits for the packets that follow).
 */
export class MergeGate {
  private bytes = 0;
  /** Start of the current rate window; -1 before the first read. */
  private since = -1;
  private slow = false;
  private unmergedUntil = 0;

  constructor(private readonly intervalMs: number) {}

  /** A video keyframe arrived at `now`: what follows is read at once for a round. */
  keyframe(now: number): void {
    this.unmergedUntil = now + this.intervalMs;
  }

  /**
   * Counts a read of `n` bytes at `now`, after which `pendingMessageBytes` bytes of messages are
   * half-received; true when the connection may now wait for the end of the round.
   */
  afterRead(n: number, now: number, pendingMessageBytes: number): boolean {
    if (this.since < 0) this.since = now;
    this.bytes += n;
    const elapsed = now - this.since;
    if (elapsed >= RATE_WINDOW_MS) {
      this.slow = (this.bytes * this.intervalMs) / elapsed <= MERGE_BUDGET_BYTES;
      this.bytes = 0;
      this.since = now;
    }
    return this.slow && n < MERGE_BUDGET_BYTES && now >= this.unmergedUntil && pendingMessageBytes === 0;
  }
}

/** What the merger needs of a connection: to be let read again. */
export interface MergedReader {
  /** @internal Called at the end of the round the connection waited for. */
  endMergeWait(): void;
}

/** One timer for all connections of a server; armed only while some connection waits. */
export class ReadMerger {
  private waiting = new Set<MergedReader>();
  private timer: NodeJS.Timeout | null = null;

  constructor(readonly intervalMs: number) {}

  /** `reader` stopped reading; it is let read again at the end of the current round. */
  wait(reader: MergedReader): void {
    this.waiting.add(reader);
    this.timer ??= setTimeout(this.endRound, this.intervalMs);
  }

  /** `reader` is gone (closed); it is not called back. */
  forget(reader: MergedReader): void {
    this.waiting.delete(reader);
    if (this.waiting.size === 0 && this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private readonly endRound = (): void => {
    this.timer = null;
    const readers = this.waiting;
    this.waiting = new Set();
    for (const r of readers) r.endMergeWait();
  };
}
