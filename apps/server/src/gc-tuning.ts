/**
 * V8 heap tuning for the ingest process.
 *
 * Every socket read and every reassembled RTMP message is an ArrayBuffer: at 50 publishers of
 * 2.5 Mb/s the process allocates about 30 MB/s of them, almost all dead within milliseconds. V8
 * counts ArrayBuffer bytes allocated since the last full GC against the old generation's headroom,
 * and with a live heap of ~13 MB its dynamic growing factor leaves ~16 MB of headroom: so it ran a
 * full mark-compact every 0.7 s that freed nothing a scavenge would not have freed (measured with
 * `--trace-gc`: 43 mark-compacts in 30 s, 13.7 → 13.5 MB each). A fixed growing factor of 3 gives
 * the headroom those short-lived buffers need: 10 mark-compacts in the same 30 s and 18 % less CPU
 * for the Node process, at the same RSS (docs/benchmarks-history.md, "GC tuning").
 *
 * `--heap-growing-percent` is read at every full GC, so it can be set once the process runs; an
 * explicit `--heap-growing-percent` on node's command line (0 restores V8's dynamic factor) wins.
 */
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWING_PERCENT = 200;

/** The V8 flag to set, or undefined when node's own command line already sets it. */
export function heapGrowingFlag(execArgv: readonly string[]): string | undefined {
  const own = execArgv.some((a) => /^--heap[-_]growing[-_]percent(=|$)/.test(a));
  return own ? undefined : `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
}

/** Applies {@link heapGrowingFlag} to this process; returns the flag set, if any. */
export function tuneHeap(execArgv: readonly string[] = process.execArgv): string | undefined {
  const flag = heapGrowingFlag(execArgv);
  if (flag !== undefined) setFlagsFromString(flag);
  return flag;
}
