/**
 * Mux throughput of @org/flv on the tags of a 2.5 Mb/s H.264 + AAC stream.
 *
 * Synthetic payloads of realistic sizes: 30 fps video at ~2.37 Mb/s with a keyframe every 2 s ten
 * times the size of an inter frame (±20 % jitter), and AAC-LC at 128 kb/s (1024-sample frames at
 * 48 kHz, 46.875 frames/s). Two minutes of stream (≈ 9,200 tags, 37 MB of payload) are generated
 * once and muxed over and over.
 *
 * Cases, each timed over RUNS runs of ~RUN_MS and reported as medians:
 * - FlvMuxer#tag: tag → [header, payload, trailer] (payload not copied)
 * - FlvStreamWriter → null Writable (writev, cork/uncork per tick)
 * - peer "copy": a muxer that builds one contiguous buffer per tag (header + payload + trailer)
 * Per-tag allocations: heap + ArrayBuffer bytes for a batch measured between two forced GCs, in a
 * batch with no GC in between (checked with a PerformanceObserver).
 *
 * Run: pnpm --filter @org/flv bench   (builds dist first; needs node --expose-gc, set by the script)
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { FlvMuxer, FlvStreamWriter } from '../dist/index.js';

const RUNS = 7;
const RUN_MS = 600;
const STREAM_SECONDS = 120;
const VIDEO_BPS = 2_372_000;
const AUDIO_BPS = 128_000;
const FPS = 30;
const GOP = 60;
const KEY_RATIO = 10;

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc (pnpm --filter @org/flv bench does)');
  process.exit(1);
}

/** Deterministic PRNG (mulberry32) so every run muxes the same sizes. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function makeTags() {
  const rand = rng(42);
  const jitter = () => 0.8 + 0.4 * rand();
  const gopBytes = (VIDEO_BPS / 8) * (GOP / FPS);
  const inter = gopBytes / (KEY_RATIO + GOP - 1);
  const aacFrame = AUDIO_BPS / 8 / (48000 / 1024);
  const tags = [];
  let a = 0;
  for (let i = 0; i < STREAM_SECONDS * FPS; i++) {
    const ts = Math.round((i * 1000) / FPS);
    for (; (a * 1024 * 1000) / 48000 <= ts; a++) {
      const p = new Uint8Array(Math.round(aacFrame * jitter()));
      p[0] = 0xaf;
      p[1] = 1;
      tags.push({ type: 8, timestamp: Math.round((a * 1024 * 1000) / 48000), payload: p });
    }
    const key = i % GOP === 0;
    const p = new Uint8Array(Math.round((key ? inter * KEY_RATIO : inter) * jitter()));
    p[0] = key ? 0x17 : 0x27;
    p[1] = 1;
    tags.push({ type: 9, timestamp: ts, payload: p });
  }
  return tags;
}

const tags = makeTags();
const payloadBytes = tags.reduce((s, t) => s + t.payload.length, 0);

/** Copying peer: one new buffer per tag holding header, payload and trailer. */
function copyTag(tag) {
  const n = tag.payload.length;
  const out = new Uint8Array(11 + n + 4);
  const ts = tag.timestamp;
  out[0] = tag.type;
  out[1] = n >>> 16;
  out[2] = n >>> 8;
  out[3] = n;
  out[4] = ts >>> 16;
  out[5] = ts >>> 8;
  out[6] = ts;
  out[7] = ts >>> 24;
  out.set(tag.payload, 11);
  const prev = 11 + n;
  out[11 + n] = prev >>> 24;
  out[12 + n] = prev >>> 16;
  out[13 + n] = prev >>> 8;
  out[14 + n] = prev;
  return out;
}

let sink = 0;
const cases = {
  'FlvMuxer#tag (no copy)': () => {
    const m = new FlvMuxer();
    return (t) => {
      sink += m.tag(t)[2].length;
    };
  },
  'FlvStreamWriter → null Writable (writev)': () => {
    const dest = new Writable({
      highWaterMark: 1 << 30,
      write(_c, _e, cb) {
        cb();
      },
      writev(_l, cb) {
        cb();
      },
    });
    const w = new FlvStreamWriter(dest);
    w.writeHeader({ audio: true, video: true });
    return (t) => {
      w.writeTag(t);
    };
  },
  'peer: copy into one buffer per tag': () => (t) => {
    sink += copyTag(t).length;
  },
};

async function timeRun(makeFn) {
  const fn = makeFn();
  let n = 0;
  let bytes = 0;
  const start = performance.now();
  let now = start;
  // For the writer, uncork runs on the next tick: yield every pass so queues do not grow unbounded.
  while (now - start < RUN_MS) {
    for (const t of tags) {
      fn(t);
      n++;
      bytes += t.payload.length;
    }
    await new Promise((r) => setImmediate(r));
    now = performance.now();
  }
  const s = (now - start) / 1000;
  return { tagsPerSec: n / s, mbPerSec: bytes / s / 1e6 };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Heap + ArrayBuffer bytes allocated per tag, over a batch with no GC inside. */
function allocationsPerTag(makeFn, batch = 4000) {
  let gcs = 0;
  const obs = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  });
  obs.observe({ entryTypes: ['gc'] });
  const results = [];
  for (let attempt = 0; attempt < 20 && results.length < 5; attempt++) {
    const fn = makeFn();
    for (let i = 0; i < 200; i++) fn(tags[i]); // warm up (JIT, first slab)
    globalThis.gc();
    gcs = 0;
    const before = process.memoryUsage();
    for (let i = 0; i < batch; i++) fn(tags[i % tags.length]);
    const after = process.memoryUsage();
    if (gcs > 0) continue; // a scavenge freed memory mid-batch: the delta would be wrong
    results.push((after.heapUsed - before.heapUsed + (after.arrayBuffers - before.arrayBuffers)) / batch);
  }
  obs.disconnect();
  return results.length ? median(results) : Number.NaN;
}

const rows = [];
for (const [name, make] of Object.entries(cases)) {
  for (let w = 0; w < 2; w++) await timeRun(make); // warm-up
  const runs = [];
  for (let r = 0; r < RUNS; r++) runs.push(await timeRun(make));
  rows.push({
    name,
    tagsPerSec: median(runs.map((r) => r.tagsPerSec)),
    mbPerSec: median(runs.map((r) => r.mbPerSec)),
    minMb: Math.min(...runs.map((r) => r.mbPerSec)),
    maxMb: Math.max(...runs.map((r) => r.mbPerSec)),
    bytesPerTag: allocationsPerTag(make),
  });
}

const peer = rows.find((r) => r.name.startsWith('peer'));
console.log(
  `\n@org/flv mux throughput — ${tags.length} tags / ${(payloadBytes / 1e6).toFixed(1)} MB payload per pass ` +
    `(${STREAM_SECONDS} s of 2.5 Mb/s H.264 30 fps, keyframe every 2 s, + AAC 48 kHz), ${RUNS} runs × ${RUN_MS} ms, medians\n`,
);
console.log('| case | tags/s | payload MB/s (min–max) | vs copy peer | allocated bytes/tag |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${r.name} | ${Math.round(r.tagsPerSec).toLocaleString('en-US')} | ${Math.round(r.mbPerSec).toLocaleString('en-US')} (${Math.round(r.minMb).toLocaleString('en-US')}–${Math.round(r.maxMb).toLocaleString('en-US')}) | ${(r.mbPerSec / peer.mbPerSec).toFixed(1)}× | ${Math.round(r.bytesPerTag)} |`,
  );
}
console.log(`\nnode ${process.version}, ${new Date().toISOString()} (checksum ${sink})`);
