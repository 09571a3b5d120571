#!/usr/bin/env node
/**
 * CPU per stream of two builds of our server, measured in one run: N `ffmpeg -re -c copy`
 * publishers of the benchmark clip against build A, then against build B, alternating for a few
 * rounds, each build on the same machine minutes apart, so that a cost added on the normal path
 * (accounting, limits) shows as a ratio against the build without it rather than as a lone
 * absolute figure. Per round: the server process's and its FFmpeg children's CPU from /proc over
 * the measurement window, after a warm-up; medians over the rounds.
 *
 *   node bench/load/ab-cpu.mjs --before <checkout> --after <checkout> [--streams 25] [--rounds 3]
 *       [--warmup-s 12] [--measure-s 30] [--out file.json]
 *
 *   node bench/load/ab-cpu.mjs --rtmps <checkout> [...]
 *
 * With `--rtmps`, one checkout against itself: "before" publishes plain RTMP, "after" RTMPS (the
 * test certificate of packages/rtmp/test/fixtures/tls), so the ratio is what TLS costs the server;
 * `--both-tls` publishes RTMPS to both. `--after-args="<server flags>"` adds flags to the "after"
 * server only (e.g. `--merged-read-ms 40`).
 *
 * Each checkout must be built (`pnpm build`). The servers run as `pnpm start` runs them
 * (`MALLOC_MMAP_THRESHOLD_=131072`); pass `--plain-env` to run both without it.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureClip, startClipPublisher } from './clip.mjs';
import { CLK_TCK, processTree, readStat, startProcess, stopProcess } from './proc.mjs';
import { freePort } from './servers.mjs';

const { values: opt } = parseArgs({
  options: {
    before: { type: 'string' },
    after: { type: 'string' },
    streams: { type: 'string', default: '25' },
    rounds: { type: 'string', default: '3' },
    'warmup-s': { type: 'string', default: '12' },
    'measure-s': { type: 'string', default: '30' },
    out: { type: 'string' },
    'plain-env': { type: 'boolean', default: false },
    rtmps: { type: 'string' },
    'both-tls': { type: 'boolean', default: false },
    'after-args': { type: 'string', default: '' },
  },
});
if (opt.rtmps) {
  opt.before = opt.rtmps;
  opt.after = opt.rtmps;
}
if (!opt.before || !opt.after) {
  process.stderr.write('usage: ab-cpu.mjs --before <checkout> --after <checkout> | --rtmps <checkout> [--streams N]\n');
  process.exit(2);
}
const TLS_DIR = resolve(import.meta.dirname, '../../packages/rtmp/test/fixtures/tls');
const N = Number(opt.streams);
const ROUNDS = Number(opt.rounds);
const WARMUP_MS = Number(opt['warmup-s']) * 1000;
const MEASURE_MS = Number(opt['measure-s']) * 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** CPU ticks of the server itself and of all its descendants (its FFmpegs). */
function ticks(serverPid) {
  const tree = processTree(serverPid);
  const own = readStat(serverPid)?.ticks ?? 0;
  return { own, children: tree.slice(1).reduce((sum, st) => sum + st.ticks, 0) };
}

async function measure(label, checkout, clip, work) {
  const rtmpPort = await freePort();
  const httpPort = await freePort();
  const tls = opt['both-tls'] || (opt.rtmps !== undefined && label === 'after');
  const extra = label === 'after' ? opt['after-args'].split(' ').filter(Boolean) : [];
  const rtmpsPort = tls ? await freePort() : undefined;
  const tlsArgs = tls
    ? [
        '--tls-cert',
        join(TLS_DIR, 'cert.pem'),
        '--tls-key',
        join(TLS_DIR, 'key.pem'),
        '--rtmps-port',
        String(rtmpsPort),
      ]
    : [];
  const env = opt['plain-env'] ? process.env : { ...process.env, MALLOC_MMAP_THRESHOLD_: '131072' };
  const server = startProcess(
    process.execPath,
    [
      join(checkout, 'apps/server/dist/main.js'),
      ...['--rtmp-host', '127.0.0.1', '--rtmp-port', String(rtmpPort)],
      ...['--http-host', '127.0.0.1', '--http-port', String(httpPort)],
      ...['--output-dir', join(work, `out-${label}`), '--log-level', 'warn'],
      ...tlsArgs,
      ...extra,
    ],
    { env },
  );
  await sleep(1500);
  const publishers = [];
  for (let i = 0; i < N; i++) {
    const url = tls
      ? `rtmps://127.0.0.1:${rtmpsPort}/live/bench/s${i}`
      : `rtmp://127.0.0.1:${rtmpPort}/live/bench/s${i}`;
    publishers.push(startClipPublisher(clip, url));
    await sleep(100);
  }
  await sleep(WARMUP_MS);
  const t0 = ticks(server.pid);
  const started = Date.now();
  await sleep(MEASURE_MS);
  const t1 = ticks(server.pid);
  const seconds = (Date.now() - started) / 1000;
  const live = await fetch(`http://127.0.0.1:${httpPort}/api/streams`)
    .then((r) => r.json())
    .then((list) => (Array.isArray(list) ? list.length : (list.streams?.length ?? 0)))
    .catch(() => 0);
  await Promise.all(publishers.map((p) => stopProcess(p, { graceMs: 2000 })));
  await stopProcess(server, { signal: 'SIGINT', graceMs: 10_000 });
  const cores = (d) => d / CLK_TCK / seconds;
  return { server: cores(t1.own - t0.own), ffmpeg: cores(t1.children - t0.children), live };
}

const work = resolve('.bench-tmp/ab-cpu');
const clip = await ensureClip(resolve('.bench-tmp/load'), 'ffmpeg');
const runs = { before: [], after: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const label of ['before', 'after']) {
    const r = await measure(label, resolve(opt[label]), clip, work);
    runs[label].push(r);
    const f = (x) => x.toFixed(3);
    process.stdout.write(
      `${label} round ${round + 1}: server ${f(r.server)} + ffmpeg ${f(r.ffmpeg)} cores, ${r.live}/${N} live\n`,
    );
  }
}
const summary = {};
for (const label of ['before', 'after']) {
  const total = runs[label].map((r) => r.server + r.ffmpeg);
  summary[label] = {
    server: median(runs[label].map((r) => r.server)),
    ffmpeg: median(runs[label].map((r) => r.ffmpeg)),
    total: median(total),
    perStreamMillicores: (median(total) / N) * 1000,
  };
}
const ratio = summary.after.total / summary.before.total;
process.stdout.write(
  `medians at N = ${N}: before ${summary.before.total.toFixed(3)} cores (${summary.before.perStreamMillicores.toFixed(2)} m/stream), ` +
    `after ${summary.after.total.toFixed(3)} (${summary.after.perStreamMillicores.toFixed(2)} m/stream), after/before ${ratio.toFixed(3)}\n`,
);
if (opt.out) {
  const doc = {
    date: new Date().toISOString(),
    streams: N,
    rounds: ROUNDS,
    before: opt.before,
    after: opt.after,
    runs,
    summary,
    ratio,
  };
  writeFileSync(opt.out, `${JSON.stringify(doc, null, 2)}\n`);
}
