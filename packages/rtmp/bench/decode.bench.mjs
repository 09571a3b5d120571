#!/usr/bin/env node
/**
 * Chunk stream decode throughput: @org/rtmp's ChunkDecoder against Node-Media-Server 4.x's RTMP
 * parser (src/protocol/rtmp.js), in the same process and run.
 *
 * Input: a synthetic publish stream shaped like ffmpeg's (H.264 ~2.5 Mb/s at 30 fps with a keyframe
 * every 2 s, AAC ~128 kb/s at 44.1 kHz, video on csid 6 and audio on csid 4, interleaved by
 * timestamp), encoded once at chunk size 4096 and once at 128, fed in 64 KiB slices as a socket
 * would deliver them: each slice is copied into a new Buffer just before it is pushed (untimed).
 *
 * Parsers measured (all see identical bytes; NMS is started past its handshake):
 *   ours          ChunkDecoder#push with default options; payloads stay valid after push returns.
 *   ours-inplace  ChunkDecoder with { inPlace: true }: multi-chunk messages are reassembled inside
 *                 the pushed Buffer.
 *   nms-chunk     NMS's parser with its packet handler reduced to "apply Set Chunk Size, count":
 *                 chunk parsing only, the most favourable setting for NMS.
 *   nms           NMS's parser as shipped: each media message goes through Flv.parserTag into a stub
 *                 onPacketCallback.
 * NMS reassembles every message into one buffer per chunk stream that it reuses, so its payload is
 * overwritten by the next message; ours hands out payloads that stay valid.
 *
 * Usage: node --expose-gc bench/decode.bench.mjs [--seconds 180] [--runs 15] [--only ours,nms]
 *        [--json out.json]
 * (`pnpm --filter @org/rtmp bench` after `pnpm --filter @org/rtmp build`).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import { PerformanceObserver, performance } from 'node:perf_hooks';

const args = new Map();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const SECONDS = Number(args.get('seconds') ?? 180);
const RUNS = Number(args.get('runs') ?? 15);
const SLICE = 64 * 1024;

const dist = new URL('../dist/index.js', import.meta.url);
if (!existsSync(dist)) {
  console.error('dist/ missing: run `pnpm --filter @org/rtmp build` first (the root `pnpm bench` does).');
  process.exit(1);
}
const { ChunkDecoder, ChunkEncoder } = await import(dist.href);
const require = createRequire(import.meta.url);
const NmsRtmp = require('node-media-server/src/protocol/rtmp.js');
const nmsVersion = require('node-media-server/package.json').version;

// ---------------------------------------------------------------------------------------------
// Stream

/** Small deterministic PRNG (mulberry32) so every run sees the same stream. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Media messages of `seconds` of publishing, in wire order (by timestamp, audio first on ties). */
function mediaMessages(seconds) {
  const rand = prng(42);
  const noise = Buffer.alloc(1 << 20);
  for (let i = 0; i < noise.length; i++) noise[i] = (rand() * 256) | 0;
  const body = (length, head) => {
    const off = (rand() * (noise.length - length)) | 0;
    const b = Buffer.from(noise.subarray(off, off + length));
    b.set(head, 0);
    return b;
  };

  const messages = [];
  // Video: 2.5 Mb/s, 30 fps, GOP 60 with the keyframe weighing 10 inter frames (±25% jitter).
  const gopBytes = (2_500_000 / 8) * 2;
  const unit = gopBytes / (10 + 59);
  const frames = seconds * 30;
  for (let i = 0; i < frames; i++) {
    const key = i % 60 === 0;
    const size = Math.round((key ? 10 : 1) * unit * (0.75 + rand() * 0.5));
    messages.push({
      chunkStreamId: 6,
      type: 9,
      streamId: 1,
      timestamp: Math.round((i * 1000) / 30),
      payload: body(size, [key ? 0x17 : 0x27, 0x01, 0, 0, 0]),
    });
  }
  // Audio: AAC, 1024 samples at 44.1 kHz, 128 kb/s → ~371 bytes per frame.
  const audioFrames = Math.floor((seconds * 44100) / 1024);
  for (let i = 0; i < audioFrames; i++) {
    messages.push({
      chunkStreamId: 4,
      type: 8,
      streamId: 1,
      timestamp: Math.round((i * 1024 * 1000) / 44100),
      payload: body(Math.round(371 * (0.9 + rand() * 0.2)), [0xaf, 0x01]),
    });
  }
  messages.sort((a, b) => a.timestamp - b.timestamp || a.type - b.type);
  return messages;
}

/** The wire bytes: Set Chunk Size (when not 128), metadata, then the media. */
function encodeStream(messages, chunkSize) {
  const enc = new ChunkEncoder();
  const pieces = [];
  if (chunkSize !== 128) {
    const p = Buffer.alloc(4);
    p.writeUInt32BE(chunkSize);
    pieces.push(...enc.encode({ chunkStreamId: 2, type: 1, streamId: 0, timestamp: 0, payload: p }));
    enc.setChunkSize(chunkSize);
  }
  for (const m of messages) pieces.push(...enc.encode(m));
  return Buffer.concat(pieces);
}

function slices(wire) {
  const out = [];
  for (let o = 0; o < wire.length; o += SLICE) out.push(wire.subarray(o, o + SLICE));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parsers: each factory returns { push(slice), result() → { count, bytes } }.

function oursParser(options) {
  return () => {
    const dec = new ChunkDecoder(options);
    let count = 0;
    let bytes = 0;
    return {
      push(piece) {
        const out = dec.push(piece);
        for (let i = 0; i < out.length; i++) bytes += out[i].payload.length;
        count += out.length;
      },
      result: () => ({ count, bytes }),
    };
  };
}

const allParsers = {
  ours: oursParser(undefined),
  'ours-inplace': oursParser({ inPlace: true }),
  'nms-chunk'() {
    const rtmp = new NmsRtmp();
    rtmp.handshakeState = 3; // RTMP_HANDSHAKE_2: past the handshake
    let count = 0;
    let bytes = 0;
    rtmp.packetHandler = function packetHandler() {
      if (this.parserPacket.header.type === 1) this.controlHandler();
      bytes += this.parserPacket.header.length;
      count++;
    };
    return { push: (piece) => rtmp.parserData(piece), result: () => ({ count, bytes }) };
  },
  nms() {
    const rtmp = new NmsRtmp();
    rtmp.handshakeState = 3;
    let count = 0;
    let bytes = 0;
    rtmp.onPacketCallback = (packet) => {
      bytes += packet.size;
      count++;
    };
    // Control messages do not reach onPacketCallback; count Set Chunk Size as the others do.
    const scs = () => (rtmp.inChunkSize !== 128 ? 1 : 0);
    return {
      push: (piece) => rtmp.parserData(piece),
      result: () => ({ count: count + scs(), bytes: bytes + 4 * scs() }),
    };
  },
};

/**
 * Feeds the stream to a new parser, slice by slice. Every slice is first copied into a new Buffer,
 * untimed, as a socket read delivers fresh (and cache-hot) bytes; only `push` is timed. Fresh input
 * also matters because `inPlace` rewrites it. Returns the parser's result and the push time in ms.
 */
function drive(factory, sliced) {
  const parser = factory();
  let ms = 0;
  for (const slice of sliced) {
    const fresh = Buffer.from(slice);
    const t0 = performance.now();
    parser.push(fresh);
    ms += performance.now() - t0;
  }
  return { ...parser.result(), ms };
}

const only = args.get('only')?.split(',');
const parsers = Object.fromEntries(Object.entries(allParsers).filter(([n]) => !only || only.includes(n)));

// ---------------------------------------------------------------------------------------------
// Measurement

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** GC events during `fn`: count and pause milliseconds. */
async function withGcStats(fn) {
  const events = [];
  const obs = new PerformanceObserver((list) => events.push(...list.getEntries()));
  obs.observe({ entryTypes: ['gc'] });
  const result = fn();
  await new Promise((r) => setTimeout(r, 20)); // the observer delivers on a later tick
  obs.disconnect();
  // detail.kind: 1 = scavenge (minor), others = mark-compact phases (major).
  const major = events.filter((e) => e.detail?.kind !== 1);
  return { result, gcs: events.length, majors: major.length, gcMs: events.reduce((s, e) => s + e.duration, 0) };
}

/**
 * JS heap bytes allocated during `fn` (V8 sampling heap profiler, collected objects included). It
 * includes the harness's copies of the input slices (the same for every parser); payload bytes in
 * ArrayBuffers are outside the JS heap and reported separately.
 */
async function heapAllocated(fn) {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  fn();
  const { profile } = await session.post('HeapProfiler.stopSampling');
  await session.post('HeapProfiler.disable');
  session.disconnect();
  let total = 0;
  const walk = (n) => {
    total += n.selfSize;
    for (const c of n.children) walk(c);
  };
  walk(profile.head);
  return total;
}

/** Bytes of fresh payload buffers our decoder hands out (copies), vs views of the input slices. */
function oursCopiedBytes(sliced, options) {
  const dec = new ChunkDecoder(options);
  let copied = 0;
  for (const slice of sliced) {
    const piece = Buffer.from(slice);
    for (const m of dec.push(piece)) if (m.payload.buffer !== piece.buffer) copied += m.payload.length;
  }
  return copied;
}

const messages = mediaMessages(SECONDS);
const results = [];
for (const chunkSize of [4096, 128]) {
  const wire = encodeStream(messages, chunkSize);
  const sliced = slices(wire);
  const mb = wire.length / 1e6;
  const expected = messages.length + (chunkSize !== 128 ? 1 : 0);

  // Correctness first: all parsers must see every message and every payload byte.
  const reference = drive(allParsers.ours, sliced);
  for (const [name, factory] of Object.entries(parsers)) {
    const r = drive(factory, sliced);
    if (r.count !== expected || r.bytes !== reference.bytes) {
      throw new Error(
        `${name} at chunk size ${chunkSize}: ${r.count} messages / ${r.bytes} bytes, expected ${expected} / ${reference.bytes}`,
      );
    }
  }
  // Warm-up, then interleaved timed runs so drift on shared cores hits every parser alike.
  for (let w = 0; w < 2; w++) for (const factory of Object.values(parsers)) drive(factory, sliced);
  const times = Object.fromEntries(Object.keys(parsers).map((n) => [n, []]));
  const gc = Object.fromEntries(Object.keys(parsers).map((n) => [n, { gcs: 0, majors: 0, gcMs: 0 }]));
  const names = Object.keys(parsers);
  for (let r = 0; r < RUNS; r++) {
    // Rotate the order every round so no parser always runs after the same one.
    const order = names.map((_, i) => names[(i + r) % names.length]);
    for (const name of order) {
      // Collect the previous run's garbage first, so no parser pays for another's.
      globalThis.gc?.();
      const { result, gcs, majors, gcMs } = await withGcStats(() => drive(parsers[name], sliced).ms);
      times[name].push(result);
      gc[name].gcs += gcs;
      gc[name].majors += majors;
      gc[name].gcMs += gcMs;
    }
  }
  const heap = {};
  for (const [name, factory] of Object.entries(parsers)) {
    globalThis.gc?.();
    heap[name] = await heapAllocated(() => drive(factory, sliced));
  }
  const copied = oursCopiedBytes(sliced, {});
  const copiedInPlace = oursCopiedBytes(sliced, { inPlace: true });
  for (const name of Object.keys(parsers)) {
    const ms = median(times[name]);
    results.push({
      chunkSize,
      parser: name,
      mb,
      messages: expected,
      medianMs: ms,
      mbPerS: mb / (ms / 1000),
      minMs: Math.min(...times[name]),
      maxMs: Math.max(...times[name]),
      gcsPerRun: gc[name].gcs / RUNS,
      majorGcsPerRun: gc[name].majors / RUNS,
      gcMsPerRun: gc[name].gcMs / RUNS,
      heapBytesPerMb: heap[name] / mb,
      copiedPayloadBytesPerMb: name === 'ours' ? copied / mb : name === 'ours-inplace' ? copiedInPlace / mb : null,
    });
  }
}

const fmt = (n, d = 0) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
console.log(
  `Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), node-media-server ${nmsVersion}`,
);
console.log(`${SECONDS} s of publish stream, ${RUNS} timed runs per parser, ${SLICE / 1024} KiB slices\n`);
console.log(
  '| chunk size | parser | MB | median MB/s | vs nms-chunk | vs nms | min–max ms | GCs/run (major) | GC ms/run | heap alloc KB/MB | payload copies KB/MB |',
);
console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  const ratio = (peer) => {
    const p = results.find((x) => x.chunkSize === r.chunkSize && x.parser === peer);
    return p === undefined ? '–' : `${fmt(r.mbPerS / p.mbPerS, 2)}×`;
  };
  console.log(
    `| ${r.chunkSize} | ${r.parser} | ${fmt(r.mb, 1)} | ${fmt(r.mbPerS)} | ${ratio('nms-chunk')} | ${ratio('nms')} | ${fmt(r.minMs, 1)}–${fmt(r.maxMs, 1)} | ${fmt(r.gcsPerRun, 1)} (${fmt(r.majorGcsPerRun, 1)}) | ${fmt(r.gcMsPerRun, 1)} | ${fmt(r.heapBytesPerMb / 1024, 1)} | ${r.copiedPayloadBytesPerMb === null ? '–' : fmt(r.copiedPayloadBytesPerMb / 1024, 1)} |`,
  );
}
if (args.has('json')) writeFileSync(args.get('json'), `${JSON.stringify(results, null, 2)}\n`);
