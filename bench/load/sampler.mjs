/**
 * CPU and memory of a server's process tree over a measurement window.
 *
 * CPU: utime+stime of every process in the tree, read each `intervalMs`. A process present at the
 * window start counts (last − first) ticks; one born during the window counts all its ticks (it
 * started from zero); one that died between two samples loses at most one interval. Processes are
 * split into classes by a classifier (the server itself vs. its FFmpeg children).
 *
 * Memory: RSS and PSS from smaps_rollup, summed per class, every `memEveryMs`; the window figure is
 * the mean of those samples (the last sample is kept too).
 */
import { allStats, CLK_TCK, processTree, readMemory } from './proc.mjs';

/** Default split: FFmpeg processes vs. everything else of the tree (the server). */
export function classifyFfmpeg(st) {
  return st.comm === 'ffmpeg' ? 'ffmpeg' : 'server';
}

/** Reads the memory of a tree once: { server: {rssKiB, pssKiB, count}, ffmpeg: …, total: … }. */
export function treeMemory(rootPid, classify = classifyFfmpeg) {
  const out = { total: { rssKiB: 0, pssKiB: 0, count: 0 } };
  for (const st of processTree(rootPid)) {
    const mem = readMemory(st.pid);
    if (!mem) continue;
    const cls = classify(st);
    out[cls] ??= { rssKiB: 0, pssKiB: 0, count: 0 };
    for (const bucket of [out[cls], out.total]) {
      bucket.rssKiB += mem.rssKiB;
      bucket.pssKiB += mem.pssKiB;
      bucket.count += 1;
    }
  }
  return out;
}

/** Memory of the root process alone (the Node process for ours and NMS, nginx's master). */
export function rootMemory(rootPid) {
  return readMemory(rootPid);
}

export class TreeSampler {
  /**
   * @param {object} proc a started process (see proc.mjs), whose `known` map collects descendants
   * @param {{classify?: Function, intervalMs?: number, memEveryMs?: number}} options
   */
  constructor(proc, { classify = classifyFfmpeg, intervalMs = 1000, memEveryMs = 5000 } = {}) {
    this.proc = proc;
    this.classify = classify;
    this.intervalMs = intervalMs;
    this.memEveryMs = memEveryMs;
    this.first = new Map();
    this.last = new Map();
    this.mem = [];
    this.rootMem = [];
    this.timer = null;
    this.memTimer = null;
    this.startedAt = 0;
    this.stoppedAt = 0;
    /** The first CPU sample has been taken: processes seen later were born inside the window. */
    this.primed = false;
  }

  sampleCpu() {
    const tree = processTree(this.proc.pid, allStats());
    for (const st of tree) {
      const key = `${st.pid}:${st.starttime}`;
      this.proc.known.set(st.pid, st);
      if (!this.first.has(key)) {
        // Born after the window started: all its ticks were spent inside the window.
        this.first.set(key, { ...st, ticks: this.primed ? 0 : st.ticks });
      }
      this.last.set(key, st);
    }
    this.primed = true;
  }

  sampleMemory() {
    this.mem.push(treeMemory(this.proc.pid, this.classify));
    const root = rootMemory(this.proc.pid);
    if (root) this.rootMem.push(root);
  }

  start() {
    this.startedAt = performance.now();
    this.sampleCpu();
    this.sampleMemory();
    this.timer = setInterval(() => this.sampleCpu(), this.intervalMs);
    this.memTimer = setInterval(() => this.sampleMemory(), this.memEveryMs);
  }

  /** Ends the window and returns its figures. */
  stop() {
    clearInterval(this.timer);
    clearInterval(this.memTimer);
    this.sampleCpu();
    this.sampleMemory();
    this.stoppedAt = performance.now();
    const seconds = (this.stoppedAt - this.startedAt) / 1000;
    const cpu = { total: 0 };
    const processes = {};
    for (const [key, end] of this.last) {
      const begin = this.first.get(key);
      const cls = this.classify(end);
      const used = Math.max(0, end.ticks - begin.ticks) / CLK_TCK;
      cpu[cls] = (cpu[cls] ?? 0) + used;
      cpu.total += used;
      processes[cls] = (processes[cls] ?? 0) + 1;
    }
    const cores = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, v / seconds]));
    const mean = (list, pick) => (list.length ? list.reduce((s, x) => s + pick(x), 0) / list.length : null);
    const classes = new Set(this.mem.flatMap((m) => Object.keys(m)));
    const memory = {};
    for (const cls of classes) {
      memory[cls] = {
        rssKiB: mean(this.mem, (m) => m[cls]?.rssKiB ?? 0),
        pssKiB: mean(this.mem, (m) => m[cls]?.pssKiB ?? 0),
        lastRssKiB: this.mem.at(-1)?.[cls]?.rssKiB ?? 0,
        lastPssKiB: this.mem.at(-1)?.[cls]?.pssKiB ?? 0,
      };
    }
    memory.root = {
      rssKiB: mean(this.rootMem, (m) => m.rssKiB),
      pssKiB: mean(this.rootMem, (m) => m.pssKiB),
    };
    return { seconds, cpuSeconds: cpu, cores, processes, memory, memorySamples: this.mem.length };
  }
}
