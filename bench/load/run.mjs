#!/usr/bin/env node
/**
 * Load benchmark: our server vs. nginx-rtmp vs. Node-Media-Server 2.7, publishing N real FFmpeg
 * streams to each in turn and measuring CPU, memory, playlist health, segment delay, time to first
 * playlist, HTTP throughput and idle-connection cost. See bench/load/README.md for each method.
 *
 *   node bench/load/run.mjs [--servers ours,nginx,nms] [--n 1,10,25,50] [--window 30]
 *                           [--out results.json] [--quick] [--deadline 2400] [--keep]
 *
 * `pnpm bench:load` builds first (the relay and idle clients use packages/rtmp/dist, ours runs
 * apps/server/dist).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CLIP_GOP_SECONDS, ensureClip, startClipPublisher } from './clip.mjs';
import { HTTP_CONNECTIONS, runWrk, wrkAvailable } from './http-load.mjs';
import { openIdleConnections } from './idle.mjs';
import { stopProcess } from './proc.mjs';
import { startRelay } from './relay.mjs';
import { evaluateTargets, linearFit, median, percentile, renderMarkdown } from './report.mjs';
import { TreeSampler, treeMemory } from './sampler.mjs';
import { SERVER_KINDS, SERVER_LABELS, startServer } from './servers.mjs';
import { fetchPlaylist, HealthPoller, SegmentDelayProbe, waitFirstPlaylist } from './watch.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Gap between two publishers' starts, so N handshakes do not land in the same millisecond. */
const STAGGER_MS = 100;
/** Let the new streams settle after the last first playlist before the window opens. */
const SETTLE_MS = 3000;
const IDLE_CONNECTIONS = 200;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => process.stderr.write(`[bench:load ${new Date().toISOString().slice(11, 19)}] ${a.join(' ')}\n`);

function parseCli(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      servers: { type: 'string' },
      n: { type: 'string' },
      window: { type: 'string' },
      out: { type: 'string' },
      quick: { type: 'boolean', default: false },
      deadline: { type: 'string' },
      'http-seconds': { type: 'string' },
      'idle-connections': { type: 'string' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'node bench/load/run.mjs [--servers ours,nginx,nms] [--n 1,10,25,50] [--window 30] [--out file.json]\n' +
        '                        [--quick] [--deadline seconds] [--http-seconds 10] [--idle-connections 200] [--keep]\n',
    );
    process.exit(0);
  }
  const quick = values.quick;
  const servers = (values.servers ?? SERVER_KINDS.join(',')).split(',').filter(Boolean);
  for (const s of servers) {
    if (!SERVER_KINDS.includes(s)) throw new Error(`--servers: unknown server "${s}" (${SERVER_KINDS.join(', ')})`);
  }
  const n = (values.n ?? (quick ? '1,3' : '1,10,25,50')).split(',').map(Number);
  if (!n.every((x) => Number.isInteger(x) && x >= 1 && x <= 500)) throw new Error('--n: integers in 1..500');
  n.sort((a, b) => a - b);
  const num = (v, def, min, max, name) => {
    const x = v === undefined ? def : Number(v);
    if (!Number.isFinite(x) || x < min || x > max) throw new Error(`--${name}: a number in ${min}..${max}`);
    return x;
  };
  const window = num(values.window, quick ? 10 : 30, 2, 600, 'window');
  const httpSeconds = num(values['http-seconds'], quick ? 4 : 10, 2, 120, 'http-seconds');
  const idleConnections = num(values['idle-connections'], IDLE_CONNECTIONS, 0, 5000, 'idle-connections');
  // Per server: start + idle test + per N (publish, first playlists, settle, window) + HTTP + stop.
  const estimate = servers.length * (40 + httpSeconds * 2 + 20 + n.reduce((s, x) => s + window + 25 + x * 0.3, 0));
  const deadline = num(values.deadline, Math.ceil(estimate * 2 + 60), 30, 7200, 'deadline');
  return {
    servers,
    n,
    window,
    httpSeconds,
    idleConnections,
    deadline,
    quick,
    keep: values.keep,
    out: values.out ? resolve(values.out) : null,
  };
}

function firstLine(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) return null;
  return (
    `${r.stdout}${r.stderr}`
      .split('\n')
      .find((l) => l.trim())
      ?.trim() ?? null
  );
}

function machineInfo() {
  const cpus = os.cpus();
  return {
    nproc: os.availableParallelism?.() ?? cpus.length,
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    memGiB: Math.round(os.totalmem() / 1024 ** 3),
    kernel: os.release(),
    node: process.version,
    ffmpeg: firstLine('ffmpeg', ['-version'])?.split(' Copyright')[0] ?? 'ffmpeg: missing',
    // What our server runs per stream: its own lean build when scripts/build-ffmpeg.sh made one
    // (the server prefers it to PATH), else the ffmpeg above.
    oursFfmpeg: existsSync(join(ROOT, '.ffmpeg/bin/ffmpeg'))
      ? `${firstLine(join(ROOT, '.ffmpeg/bin/ffmpeg'), ['-version'])?.split(' Copyright')[0]} (static, .ffmpeg/bin)`
      : 'the ffmpeg on PATH',
    nginx: firstLine('nginx', ['-v'])?.replace('nginx version: ', '') ?? 'nginx: missing',
    wrk: firstLine('wrk', ['--version'])?.split(' Copyright')[0] ?? null,
    loadStart: os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' '),
  };
}

/** Stops every started thing on the way out, whatever happened. */
class Cleanup {
  constructor() {
    this.items = new Set();
  }
  add(fn) {
    this.items.add(fn);
    return () => this.items.delete(fn);
  }
  async run() {
    const items = [...this.items].reverse();
    this.items.clear();
    for (const fn of items) {
      try {
        await fn();
      } catch (err) {
        log('cleanup:', String(err?.message ?? err));
      }
    }
  }
}

/**
 * Starts a fresh server in its own temporary directory, runs `fn(server, publishers)`, then stops
 * the publishers `fn` added and the server, whatever happened.
 */
async function withServer(kind, ctx, fn) {
  const dir = mkdtempSync(join(ctx.tmpRoot, `${kind}-`));
  const server = await startServer(kind, { root: ROOT, dir, ffmpeg: ctx.ffmpeg });
  server.dir = dir;
  const untrackServer = ctx.cleanup.add(() => server.stop());
  log(`${kind}: pid ${server.pid}, rtmp ${server.rtmpPort}, http ${server.httpPort}, dir ${dir}`);
  const publishers = [];
  const stopPublishers = () =>
    Promise.all(publishers.map((p) => stopProcess(p.proc, { signal: 'SIGTERM', graceMs: 3000 })));
  const untrackPublishers = ctx.cleanup.add(stopPublishers);
  try {
    return await fn(server, publishers);
  } finally {
    await stopPublishers();
    untrackPublishers();
    const status = await server.stop();
    untrackServer();
    log(`${kind}: stopped (${status.signal ?? `exit ${status.code}`})`);
    if (!ctx.opts.keep) rmSync(dir, { recursive: true, force: true });
  }
}

function addPublisher(ctx, server, publishers, url) {
  const i = publishers.length;
  const proc = startClipPublisher(ctx.clip, url, join(server.dir, `publisher-${i}.log`));
  const pub = { i, name: `s${i}`, proc, spawnedAt: performance.now() };
  publishers.push(pub);
  return pub;
}

/**
 * Everything measured for one server, on two fresh instances: first the N stages (CPU, memory,
 * health, segment delay, time to first playlist), then idle connections and HTTP with one stream.
 * The second instance keeps the HTTP load's and idle connections' garbage out of the memory slopes.
 * Fills `res` as it goes so a failure keeps what was measured.
 */
async function benchServer(kind, ctx, res) {
  await withServer(kind, ctx, async (server, publishers) => {
    res.publish = server.publishUrl('<name>');
    res.playlist = server.playlistUrl('<name>');
    await streamStages(kind, ctx, res, server, publishers);
  });
  if (ctx.expired() || (res.error && !res.stages.some((s) => s.window))) return;
  await withServer(kind, ctx, async (server, publishers) => {
    await sleep(1000);
    res.idle = await idleBench(ctx, server);
    if (ctx.expired()) return;
    addPublisher(ctx, server, publishers, server.publishUrl('s0'));
    const url0 = server.playlistUrl('s0');
    const at = await waitFirstPlaylist(url0, { timeoutMs: 30_000, cancelled: ctx.expired });
    if (at === null) {
      res.http = { error: 'no playlist for the HTTP run' };
      return;
    }
    await sleep(SETTLE_MS);
    res.http = await httpBench(server, url0, ctx.opts.httpSeconds, ctx);
  });
}

async function idleBench(ctx, server) {
  const { opts, rtmp } = ctx;
  if (opts.idleConnections === 0) return null;
  const before = treeMemory(server.pid);
  const idle = await openIdleConnections(rtmp, {
    port: server.rtmpPort,
    app: server.connectApp,
    count: opts.idleConnections,
    timeoutMs: 10_000,
  });
  await sleep(2000);
  const after = treeMemory(server.pid);
  idle.close();
  const per = (f) => (idle.opened ? (after.total[f] - before.total[f]) / idle.opened : null);
  const out = {
    count: opts.idleConnections,
    opened: idle.opened,
    failed: idle.failed,
    errors: idle.errors,
    before: before.total,
    after: after.total,
    perConnection: { rssKiB: per('rssKiB'), pssKiB: per('pssKiB') },
  };
  log(
    `${server.kind}: idle ${idle.opened}/${opts.idleConnections}, ${out.perConnection.pssKiB?.toFixed(1) ?? '–'} KiB PSS each`,
  );
  await sleep(1500);
  return out;
}

async function streamStages(kind, ctx, res, server, publishers) {
  const { opts, rtmp, expired, cleanup } = ctx;
  await sleep(1000);
  res.baseline = treeMemory(server.pid);
  const relay = await startRelay(server.rtmpPort, rtmp.ChunkDecoder);
  const untrackRelay = cleanup.add(() => relay.close());
  const url0 = server.playlistUrl('s0');
  const probe = new SegmentDelayProbe(url0, server.segmentUrl, relay);
  probe.start();
  const untrackProbe = cleanup.add(() => probe.stop());
  try {
    for (const n of opts.n) {
      if (expired()) {
        res.stages.push({ n, skipped: 'global deadline' });
        continue;
      }
      const stage = { n, loadavgBefore: os.loadavg()[0] };
      res.stages.push(stage);
      // Publish the streams this stage adds; s0 goes through the relay.
      const added = [];
      while (publishers.length < n) {
        const i = publishers.length;
        const url = i === 0 ? server.publishPath(relay.port, 's0') : server.publishUrl(`s${i}`);
        added.push(addPublisher(ctx, server, publishers, url));
        await sleep(STAGGER_MS);
      }
      const timeoutMs = (opts.quick ? 20_000 : 30_000) + n * STAGGER_MS;
      const ready = await Promise.all(
        added.map((p) =>
          waitFirstPlaylist(server.playlistUrl(p.name), { timeoutMs, cancelled: expired }).then((at) =>
            at === null ? null : at - p.spawnedAt,
          ),
        ),
      );
      const times = ready.filter((x) => x !== null);
      stage.startup = {
        added: added.length,
        ready: times.length,
        spawnToPlaylist: { medianMs: median(times), maxMs: times.length ? Math.max(...times) : null },
      };
      stage.publishersExited = publishers.filter((p) => p.proc.child.exitCode !== null).length;
      if (n === opts.n[0] && relay.firstKeyframeAt !== null && probe.firstPlaylistAt !== null) {
        res.firstPlaylist = {
          fromKeyframeMs: probe.firstPlaylistAt - relay.firstKeyframeAt,
          fromPublishMs: probe.firstPlaylistAt - publishers[0].spawnedAt,
        };
      }
      log(`${kind}: N=${n}: ${times.length}/${added.length} new streams have a playlist`);
      if (times.length === 0 && n === opts.n[0]) {
        stage.error = 'no playlist appeared';
        res.error = `no playlist appeared within ${timeoutMs / 1000} s of publishing`;
        break;
      }
      await sleep(SETTLE_MS);
      if (expired()) {
        stage.skipped = 'global deadline';
        continue;
      }
      // The steady window.
      const sampler = new TreeSampler(server.proc);
      const health = new HealthPoller(publishers.map((p) => server.playlistUrl(p.name)));
      const harnessCpu = process.cpuUsage();
      const from = performance.now();
      sampler.start();
      health.start();
      await sleep(opts.window * 1000);
      stage.window = sampler.stop();
      stage.health = await health.stop();
      const to = performance.now();
      const used = process.cpuUsage(harnessCpu);
      stage.harnessCores = (used.user + used.system) / 1e3 / (to - from);
      stage.loadavgAfter = os.loadavg()[0];
      const delays = probe.between(from, to);
      const ms = delays.map((d) => d.delayMs).filter((x) => x !== null);
      stage.segmentDelay = {
        count: ms.length,
        unmatched: delays.length - ms.length,
        medianMs: median(ms),
        p90Ms: percentile(ms, 90),
        samplesMs: ms.map((x) => Math.round(x)),
      };
      log(
        `${kind}: N=${n}: ${stage.window.cores.total.toFixed(3)} cores, PSS ${(stage.window.memory.total.pssKiB / 1024).toFixed(1)} MiB, ` +
          `${stage.health.healthy}/${n} healthy, segment delay median ${stage.segmentDelay.medianMs?.toFixed(0)} ms (${ms.length})`,
      );
    }
    res.fits = fits(res.stages);
    res.relay = { connections: relay.connections, keyframes: relay.keyframes.length, decodeError: relay.decodeError };
  } finally {
    await probe.stop();
    untrackProbe();
    await relay.close();
    untrackRelay();
  }
}

async function httpBench(server, playlistUrl, seconds, ctx) {
  if (!ctx.wrk) return { error: 'wrk not installed (bash scripts/setup.sh --bench)' };
  const out = { connections: HTTP_CONNECTIONS, seconds };
  try {
    out.playlist = await runWrk(playlistUrl, seconds);
    // Segments leave the window (and the disk) a few seconds after they appear: two half runs, each
    // on the newest segment at its start.
    const runs = [];
    for (let i = 0; i < 2; i++) {
      const pl = await fetchPlaylist(playlistUrl);
      const seg = pl?.segments.at(-1);
      if (!seg) break;
      runs.push(await runWrk(server.segmentUrl(playlistUrl, seg.uri), Math.max(1, Math.round(seconds / 2))));
    }
    if (runs.length) {
      const requests = runs.reduce((s, r) => s + r.requests, 0);
      const secs = runs.reduce((s, r) => s + r.seconds, 0);
      out.segment = {
        runs,
        requestsPerSec: requests / secs,
        bytesPerSec: runs.reduce((s, r) => s + r.bytesPerSec * r.seconds, 0) / secs,
        p99Ms: Math.max(...runs.map((r) => r.p99Ms)),
        non2xx: runs.reduce((s, r) => s + r.non2xx, 0),
      };
    }
  } catch (err) {
    out.error = String(err?.message ?? err);
  }
  log(
    `${server.kind}: http playlist ${out.playlist?.requestsPerSec?.toFixed(0)} req/s, segment ${out.segment?.requestsPerSec?.toFixed(0)} req/s`,
  );
  return out;
}

function fits(stages) {
  const done = stages.filter((s) => s.window);
  const slopeOf = (get) => linearFit(done.map((s) => [s.n, get(s)]));
  return {
    treePssKiB: slopeOf((s) => s.window.memory.total.pssKiB),
    treeRssKiB: slopeOf((s) => s.window.memory.total.rssKiB),
    rootPssKiB: slopeOf((s) => s.window.memory.root.pssKiB),
    rootRssKiB: slopeOf((s) => s.window.memory.root.rssKiB),
    cores: slopeOf((s) => s.window.cores.total),
  };
}

async function main() {
  const opts = parseCli(process.argv.slice(2));
  const startedAt = Date.now();
  const deadlineAt = startedAt + opts.deadline * 1000;
  const expired = () => Date.now() > deadlineAt;
  const cleanup = new Cleanup();
  let exiting = false;
  const abort = async (why, code) => {
    if (exiting) return;
    exiting = true;
    log(`stopping: ${why}`);
    await cleanup.run();
    process.exit(code);
  };
  process.on('SIGINT', () => abort('SIGINT', 130));
  process.on('SIGTERM', () => abort('SIGTERM', 143));
  // Whatever breaks, the servers and publishers this run started are stopped before exiting.
  process.on('uncaughtException', (err) => abort(`uncaught exception: ${err?.stack ?? err}`, 1));
  process.on('unhandledRejection', (err) => abort(`unhandled rejection: ${err?.stack ?? err}`, 1));
  // Hard stop: the phases check the deadline between steps; this catches anything that hangs.
  const hard = setTimeout(() => abort('hard deadline passed', 1), (opts.deadline + 120) * 1000);
  hard.unref();

  const rtmpDist = join(ROOT, 'packages/rtmp/dist/index.js');
  if (!existsSync(rtmpDist)) throw new Error(`${rtmpDist} is missing: run pnpm build (or pnpm bench:load)`);
  const rtmp = await import(pathToFileURL(rtmpDist).href);
  const ffmpeg = spawnSync('sh', ['-c', 'command -v ffmpeg'], { encoding: 'utf8' }).stdout.trim();
  if (!ffmpeg) throw new Error('ffmpeg not found on PATH (bash scripts/setup.sh --bench)');

  const machine = machineInfo();
  const cacheDir = join(ROOT, '.bench-tmp/load');
  mkdirSync(cacheDir, { recursive: true });
  log('clip…');
  const clip = await ensureClip(cacheDir, ffmpeg);
  const tmpRoot = mkdtempSync(join(os.tmpdir(), 'bench-load-'));
  cleanup.add(() => (opts.keep ? undefined : rmSync(tmpRoot, { recursive: true, force: true })));

  const data = {
    command: `node bench/load/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    date: new Date().toISOString(),
    machine,
    options: { ...opts, staggerMs: STAGGER_MS, settleMs: SETTLE_MS },
    clip: {
      path: clip,
      gopSeconds: CLIP_GOP_SECONDS,
      description:
        '1280x720 30 fps H.264 (libx264 veryfast, 2500 kb/s, keyframe every 2 s) + AAC 128 kb/s 48 kHz, 20 s, FLV, looped',
    },
    servers: {},
  };
  const ctx = { opts, clip, rtmp, ffmpeg, expired, cleanup, tmpRoot, wrk: wrkAvailable() };
  for (const kind of opts.servers) {
    const res = { label: SERVER_LABELS[kind], stages: [] };
    data.servers[kind] = res;
    if (expired()) {
      res.error = 'global deadline passed before this server';
      continue;
    }
    log(`== ${SERVER_LABELS[kind]}`);
    try {
      await benchServer(kind, ctx, res);
    } catch (err) {
      res.error = String(err?.stack ?? err);
      log(`${kind}: failed: ${String(err?.message ?? err)}`);
    }
  }
  await cleanup.run();
  data.elapsedSeconds = (Date.now() - startedAt) / 1000;
  data.targets = evaluateTargets(data);
  const md = renderMarkdown(data);
  process.stdout.write(`${md}\n`);
  if (opts.out) {
    mkdirSync(dirname(opts.out), { recursive: true });
    writeFileSync(opts.out, `${JSON.stringify(data, null, 2)}\n`);
    writeFileSync(`${opts.out.replace(/\.json$/, '')}.md`, `${md}\n`);
    log(`wrote ${opts.out} and its .md`);
  }
  clearTimeout(hard);
}

main().catch((err) => {
  log(String(err?.stack ?? err));
  process.exit(1);
});
