/**
 * Gives memory back to the operating system after peers that held a lot of it are gone.
 *
 * What RTMP peers make the server hold (partial messages, unsent replies) is bounded by
 * `--rtmp-max-buffered-bytes`, but once an attacker's connections close, their buffers are dead
 * ArrayBuffers that only a full garbage collection frees, and with a steady heap V8 may not run
 * one for minutes: measured, 100 connections holding partial 8 MiB messages left the process
 * 270 MB over its baseline long after they closed. So when the bytes held for peers drop by
 * {@link DEFAULT_RECLAIM_MIN_BYTES} from their peak, a full collection is run (at most once per
 * {@link DEFAULT_RECLAIM_INTERVAL_MS}; it costs a few ms at this heap size). For the freed pages to
 * leave the process, glibc must not keep them in its heap: `MALLOC_MMAP_THRESHOLD_=131072`
 * (set by `pnpm start`; see the README) makes every large buffer its own mapping.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** The glibc setting that makes large buffers their own mappings, returned to the system when freed. */
export const MMAP_THRESHOLD_ENV = 'MALLOC_MMAP_THRESHOLD_';

/** True when glibc was started with a fixed mmap threshold (it reads it once, before any JS runs). */
export function mallocReturnsLargeBuffers(env: NodeJS.ProcessEnv): boolean {
  return env[MMAP_THRESHOLD_ENV] !== undefined && env[MMAP_THRESHOLD_ENV] !== '';
}

/**
 * The environment for child processes: without the mmap threshold, which is for the server's own
 * peer-held buffers; in FFmpeg it only made every large allocation a mapping (+10 % of FFmpeg's
 * CPU at 25 streams, docs/benchmarks.md).
 */
export function childEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { [MMAP_THRESHOLD_ENV]: _threshold, ...rest } = env;
  return rest;
}

/** A drop of held bytes at least this large triggers a collection. */
export const DEFAULT_RECLAIM_MIN_BYTES = 32 * 1024 * 1024;
/** Least time between two collections, ms. */
export const DEFAULT_RECLAIM_INTERVAL_MS = 10_000;
/** How often the held bytes are sampled, ms. */
const SAMPLE_MS = 1000;

export interface MemoryReclaimOptions {
  /** Bytes held for peers now (the RTMP server's `bufferedBytes`). */
  held: () => number;
  /** Runs a full collection; default V8's `gc` (exposed at first use). */
  collect?: () => void;
  minBytes?: number;
  intervalMs?: number;
  /** Told after each collection. */
  onReclaim?: (released: number, ms: number) => void;
  now?: () => number;
}

let exposedGc: (() => void) | undefined;

/** V8's full collection, exposed to this process on first use. */
function fullGc(): void {
  if (exposedGc === undefined) {
    setFlagsFromString('--expose-gc');
    exposedGc = runInNewContext('gc') as () => void;
  }
  exposedGc();
}

export class MemoryReclaimer {
  private readonly o: Required<Omit<MemoryReclaimOptions, 'onReclaim'>> & Pick<MemoryReclaimOptions, 'onReclaim'>;
  private peak = 0;
  private lastAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: MemoryReclaimOptions) {
    this.o = {
      collect: fullGc,
      minBytes: DEFAULT_RECLAIM_MIN_BYTES,
      intervalMs: DEFAULT_RECLAIM_INTERVAL_MS,
      now: Date.now,
      ...options,
    };
  }

  start(): this {
    this.timer ??= setInterval(() => this.sample(), SAMPLE_MS).unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One sample: collects when the held bytes fell far enough from their peak. */
  sample(): boolean {
    const held = this.o.held();
    this.peak = Math.max(this.peak, held);
    const released = this.peak - held;
    const t = this.o.now();
    if (released < this.o.minBytes || t - this.lastAt < this.o.intervalMs) return false;
    const started = performance.now();
    this.o.collect();
    this.lastAt = t;
    this.peak = held;
    this.o.onReclaim?.(released, performance.now() - started);
    return true;
  }
}
