/**
 * Checks every segment FFmpeg reports before it is listed, so a segment FFmpeg failed to write
 * (a full disk: FFmpeg reports it anyway, empty or cut off) never reaches a player.
 *
 * One `stat` per segment, started as soon as the segment is reported (the happy path's only file
 * system work; the producer otherwise touches no file per segment, see producer-playlist.ts). A
 * segment is good when it exists, is not empty, its size is a whole number of 188-byte MPEG-TS
 * packets, and no write error was seen for it on FFmpeg's stderr. Stderr is a pipe of its own, read
 * in no fixed order with stdout: an error naming a segment counts whenever it arrives before that
 * segment's check completes, and an error naming none is charged to the next segment whose check
 * completes after it (so it may cost a good segment, never list a bad one).
 *
 * Results are released in report order, across FFmpeg runs (one checker per stream). A rejected
 * segment's file is deleted (its space is what a full disk lacks) and the next good segment is
 * listed as a discontinuity: the media time between them is gone.
 *
 * Residual: a segment cut off exactly at a multiple of 188 bytes, about one in 47 cuts on a file
 * system with 4 KiB blocks, passes the size check; FFmpeg prints nothing for a full disk.
 */
import type { Stats } from 'node:fs';
import { stat as fsStat, unlink as fsUnlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { SegmentReport } from '../hls/live-playlist';

/** MPEG-TS packet size: a complete segment is a whole number of packets. */
export const TS_PACKET_SIZE = 188;

/** Why a segment was not listed (a bounded set: log field and metric label). */
export type RejectReason = 'missing' | 'empty' | 'truncated' | 'write_error' | 'unreadable';

/** Why one segment was rejected. */
export interface Rejection {
  reason: RejectReason;
  /** The file's size, when it exists. */
  size: number | undefined;
  /** A stderr line of FFmpeg reported a write error charged to this segment. */
  ffmpegReported: boolean;
}

export interface SegmentCheckerOptions {
  dir: string;
  /** The segment is good: list it. */
  listed(report: SegmentReport): void;
  /** The segment is not: its file has been deleted (or is being). */
  rejected(report: SegmentReport, why: Rejection): void;
  /** `stat` seam. Default `fs.promises.stat`. */
  stat?: (path: string) => Promise<Pick<Stats, 'size'>>;
  /** `unlink` seam. Default `fs.promises.unlink`. */
  unlink?: (path: string) => Promise<void>;
}

interface Pending {
  readonly report: SegmentReport;
  readonly number: number;
  /** The stat's verdict, once it came: a reason, or null for a good file. */
  done: { reason: RejectReason | null; size: number | undefined } | undefined;
}

export class SegmentChecker {
  private readonly o: SegmentCheckerOptions;
  private readonly stat: (path: string) => Promise<Pick<Stats, 'size'>>;
  private readonly unlink: (path: string) => Promise<void>;
  private readonly queue: Pending[] = [];
  /** Segments a stderr line named as failed, until their check completes. */
  private readonly named = new Set<number>();
  private unnamedErrors = 0;
  /** A segment was rejected since the last listed one. */
  private lost = false;
  private idleWaiters: (() => void)[] = [];
  private rejectedCount = 0;

  constructor(options: SegmentCheckerOptions) {
    this.o = options;
    this.stat = options.stat ?? fsStat;
    this.unlink = options.unlink ?? fsUnlink;
  }

  /** Segments waiting for their check (or for an earlier one). */
  get pending(): number {
    return this.queue.length;
  }

  /** Segments rejected so far. */
  get rejected(): number {
    return this.rejectedCount;
  }

  /** FFmpeg reported a write error, for segment `number` if the line named one. */
  writeError(number: number | undefined): void {
    if (number === undefined) this.unnamedErrors++;
    else this.named.add(number);
  }

  /** FFmpeg reported segment `number`: checked now, listed or rejected in report order. */
  add(report: SegmentReport, number: number): void {
    const item: Pending = { report, number, done: undefined };
    this.queue.push(item);
    this.stat(join(this.o.dir, report.name)).then(
      (st) => this.settle(item, verdictOf(st.size), st.size),
      (err: NodeJS.ErrnoException) => this.settle(item, err.code === 'ENOENT' ? 'missing' : 'unreadable', undefined),
    );
  }

  /** Resolves once every segment added so far has been listed or rejected. */
  idle(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private settle(item: Pending, reason: RejectReason | null, size: number | undefined): void {
    item.done = { reason, size };
    for (let head = this.queue[0]; head?.done !== undefined; head = this.queue[0]) {
      this.queue.shift();
      this.release(head, head.done.reason, head.done.size);
    }
    if (this.queue.length > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private release(item: Pending, statReason: RejectReason | null, size: number | undefined): void {
    const reported = this.named.delete(item.number) || this.unnamedErrors > 0;
    const reason = statReason ?? (reported ? 'write_error' : null);
    this.unnamedErrors = 0;
    // Names of segments that were never reported (FFmpeg exited): forgotten, so the set stays small.
    for (const n of this.named) if (n < item.number) this.named.delete(n);
    const { report } = item;
    if (reason === null) {
      this.o.listed(this.lost && !report.discontinuity ? { ...report, discontinuity: true } : report);
      this.lost = false;
      return;
    }
    this.lost = true;
    this.rejectedCount++;
    if (reason !== 'missing') this.unlink(join(this.o.dir, report.name)).catch(() => {});
    this.o.rejected(report, { reason, size, ffmpegReported: reported });
  }
}

function verdictOf(size: number): RejectReason | null {
  if (size === 0) return 'empty';
  return size % TS_PACKET_SIZE === 0 ? null : 'truncated';
}
