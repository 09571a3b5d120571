/**
 * Profiling driver for the ingest path of our server alone (no peers): starts
 * `node [--node-arg …] -r bench/load/mem-probe.cjs apps/server/dist/main.js`, publishes N real
 * FFmpeg streams of the harness's clip, and per N reports over a window: CPU of the Node process
 * and of its FFmpeg children (cores), PSS of the Node process, and its process.memoryUsage()
 * (external, arrayBuffers, heapUsed: means over the window, and after a forced full GC when run
 * with `--gc`, which adds --expose-gc).
 *
 *   node bench/load/ingest-profile.mjs --n 1,10,20 --window 15 [--gc] [--node-arg=--cpu-prof …]
 *     [--ffmpeg PUBLISHERS_FFMPEG] [--server-ffmpeg SERVER_FFMPEG]
 *
 * With `--node-arg=--cpu-prof --node-arg=--cpu-prof-dir=DIR` the profile is written when the
 * server exits (SIGTERM → clean shutdown). With `--node-arg=--trace-gc` each N also reports how
 * many scavenges and mark-compacts V8 ran during the window (from the server's log). Compare
 * figures only with a run made alongside (other load on the machine moves them); the full
 * comparison with peers is run.mjs.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureClip } from './clip.mjs';
import { allStats, CLK_TCK, processTree, readMemory, startProcess, stopProcess } from './proc.mjs';
import { linearFit } from './report.mjs';
import { freePort } from './servers.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : def;
};
const ns = opt('--n', '1,10,20').split(',').map(Number);
const windowS = Number(opt('--window', '15'));
const settleS = Number(opt('--settle', '6'));
const gc = argv.includes('--gc');
const nodeArgs = argv.filter((a) => a.startsWith('--node-arg=')).map((a) => a.slice('--node-arg='.length));
if (gc) nodeArgs.push('--expose-gc');
const traceGc = nodeArgs.includes('--trace-gc');
/** The publishers' (and the clip's) ffmpeg. */
const ffmpeg = opt('--ffmpeg', '/usr/bin/ffmpeg');
/** The server's: by default what it resolves itself (its own build in .ffmpeg/bin, else PATH). */
const serverFfmpeg = opt('--server-ffmpeg', undefined);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const clip = await ensureClip(join(root, '.bench-tmp/load'), ffmpeg);
const dir = mkdtempSync(join(tmpdir(), 'ingest-profile-'));
const hls = join(dir, 'hls');
mkdirSync(hls);
const probeFile = join(dir, 'probe.jsonl');
const rtmpPort = await freePort();
const httpPort = await freePort();
const server = startProcess(
  process.execPath,
  [
    ...nodeArgs,
    '-r',
    join(root, 'bench/load/mem-probe.cjs'),
    join(root, 'apps/server/dist/main.js'),
    ...['--rtmp-host', '127.0.0.1', '--rtmp-port', String(rtmpPort), '--http-host', '127.0.0.1'],
    ...['--http-port', String(httpPort), '--output-dir', hls, '--log-level', 'warn'],
    ...(serverFfmpeg ? ['--ffmpeg', serverFfmpeg] : []),
  ],
  {
    cwd: dir,
    logFile: join(dir, 'server.log'),
    env: { ...process.env, MEM_PROBE_FILE: probeFile, ...(gc ? { MEM_PROBE_GC: '1' } : {}) },
  },
);
const publishers = [];
const results = [];
try {
  await sleep(1500);
  for (const n of ns) {
    while (publishers.length < n) {
      const name = `s${publishers.length}`;
      publishers.push(
        startProcess(ffmpeg, [
          ...['-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', clip.path ?? clip],
          ...['-c', 'copy', '-f', 'flv', `rtmp://127.0.0.1:${rtmpPort}/live/bench/${name}`],
        ]),
      );
      await sleep(100);
    }
    await sleep(settleS * 1000);
    const ticks = () => {
      const byPid = new Map();
      for (const st of processTree(server.pid, allStats())) byPid.set(st.pid, st);
      return byPid;
    };
    const gcLogFrom = traceGc ? readFileSync(join(dir, 'server.log'), 'utf8').length : 0;
    const t0 = Date.now();
    const first = ticks();
    const pss = [];
    const probeStart = Date.now();
    for (let i = 0; i < windowS; i++) {
      await sleep(1000);
      if (i % 3 === 0) pss.push(readMemory(server.pid)?.pssKiB ?? 0);
    }
    const last = ticks();
    const gcLog = traceGc ? readFileSync(join(dir, 'server.log'), 'utf8').slice(gcLogFrom) : '';
    const wall = (Date.now() - t0) / 1000;
    let node = 0;
    let ff = 0;
    for (const [pid, st] of last) {
      const a = first.get(pid);
      const d = st.ticks - (a && a.starttime === st.starttime ? a.ticks : 0);
      if (pid === server.pid) node += d;
      else if (st.comm === 'ffmpeg') ff += d;
    }
    const probes = readFileSync(probeFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((p) => p.t >= probeStart);
    const mean = (k, which = 'before') =>
      probes.length ? probes.reduce((s, p) => s + (p[which]?.[k] ?? 0), 0) / probes.length / 1048576 : NaN;
    const r = {
      n,
      nodeCores: node / CLK_TCK / wall,
      ffmpegCores: ff / CLK_TCK / wall,
      nodePssMiB: pss.reduce((a, b) => a + b, 0) / pss.length / 1024,
      externalMiB: mean('external'),
      arrayBuffersMiB: mean('arrayBuffers'),
      heapUsedMiB: mean('heapUsed'),
      rssMiB: mean('rss'),
      ...(traceGc
        ? { scavenges: gcLog.split(': Scavenge ').length - 1, markCompacts: gcLog.split(': Mark-Compact ').length - 1 }
        : {}),
      ...(gc ? { externalAfterGcMiB: mean('external', 'after'), heapAfterGcMiB: mean('heapUsed', 'after') } : {}),
    };
    results.push(r);
    if (argv.includes('--snapshot') && n === ns[ns.length - 1]) {
      // Needs --node-arg=--heapsnapshot-signal=SIGUSR2; written into the kept directory.
      process.kill(server.pid, 'SIGUSR2');
      await sleep(8000);
    }
    console.log(JSON.stringify(r, (_k, v) => (typeof v === 'number' ? Math.round(v * 1000) / 1000 : v)));
  }
} finally {
  await Promise.all(publishers.map((p) => stopProcess(p, { signal: 'SIGTERM', graceMs: 3000 })));
  await stopProcess(server, { signal: 'SIGTERM', graceMs: 10000 });
  if (!argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  else console.log(`kept ${dir}`);
}
if (results.length > 1) {
  const slope = (k) => linearFit(results.map((r) => [r.n, r[k]]));
  console.log(
    JSON.stringify({
      slopeNodePssKiB: slope('nodePssMiB').slope * 1024,
      slopeExternalKiB: slope('externalMiB').slope * 1024,
      slopeNodeCores: slope('nodeCores').slope,
      slopeFfmpegCores: slope('ffmpegCores').slope,
    }),
  );
}
