/**
 * End-to-end helpers for the ingest tests: the built server as a child process (ports read from
 * its `listening` log line), real publishers (ffmpeg, GStreamer rtmp2sink and rtmpsink), process
 * inspection through /proc, and playlist polling over HTTP. Every child started here is tracked
 * and killed by PID in {@link killAll}.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { resolve } from 'node:path';
import { SEGMENT_NAME_PATTERN } from '../../../src/hls/names';
import { type Playlist, parsePlaylist } from '../../helpers/media';

export const MAIN = resolve(import.meta.dirname, '../../../dist/main.js');

export interface Proc {
  proc: ChildProcess;
  pid: number;
  /** stdout + stderr so far (capped at 1 MB). */
  output(): string;
  /** Bytes of stdout + stderr so far, uncapped. */
  outputBytes(): number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children = new Set<Proc>();

export function start(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): Proc {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env } : {}) });
  let out = '';
  let bytes = 0;
  const keep = (d: Buffer) => {
    bytes += d.length;
    if (out.length < 1_000_000) out += d.toString();
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    proc.once('exit', (code, signal) => r({ code, signal })),
  );
  const p: Proc = { proc, pid: proc.pid as number, output: () => out, outputBytes: () => bytes, exited };
  children.add(p);
  void exited.then(() => children.delete(p));
  return p;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export async function stop(p: Proc | undefined, graceMs = 5000): Promise<void> {
  if (!p || p.proc.exitCode !== null || p.proc.signalCode !== null) return;
  p.proc.kill('SIGTERM');
  const timer = setTimeout(() => p.proc.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(timer);
}

/** Kills every child these helpers started (afterAll). */
export async function killAll(): Promise<void> {
  await Promise.all([...children].map((c) => stop(c, 2000)));
}

export interface Server extends Proc {
  /** The RTMP port (not a number when the test turned plain RTMP off). */
  rtmpPort: number;
  /** The RTMPS port, when RTMPS is on. */
  rtmpsPort?: number;
  httpsPort?: number;
  httpPort: number;
  outputDir: string;
  /** Parsed JSON log lines so far. */
  logs(): Record<string, unknown>[];
  url(path: string): string;
}

export interface StartServerOptions {
  /** Open-file limit (soft and hard) to start the server under, through `prlimit` (same PID as node). */
  nofile?: number;
}

/** The server's environment as `pnpm start` sets it (memory freed after an attack leaves the process). */
const SERVER_ENV = { ...process.env, MALLOC_MMAP_THRESHOLD_: '131072' };

/** A port free on 127.0.0.1 a moment ago (the kernel's pick, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Listener flags whose `0` in a test's arguments means "a free port" (the server reads 0 as off). */
const FREE_PORT_FLAGS = new Set(['--rtmps-port', '--https-port']);

/**
 * Starts `node dist/main.js` on free ports and waits for its `listening` line. RTMP and HTTP get
 * free ports unless `extra` names its own (a later flag wins: `--rtmp-port 0` turns RTMP off);
 * `--rtmps-port 0` / `--https-port 0` in `extra` get free ports too, as RTMPS and HTTPS do when
 * `extra` gives a certificate without them. A port taken meanwhile by
 * someone else is retried with new ones.
 */
export async function startServer(
  outputDir: string,
  extra: readonly string[] = [],
  options: StartServerOptions = {},
): Promise<Server> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServerOnce(outputDir, extra, options);
    } catch (err) {
      if (attempt >= 3 || !/EADDRINUSE/.test(String(err))) throw err;
    }
  }
}

async function startServerOnce(outputDir: string, extra: readonly string[], options: StartServerOptions) {
  const node = [process.execPath];
  const [cmd, ...prefix] = options.nofile === undefined ? node : ['prlimit', `--nofile=${options.nofile}`, ...node];
  const args = [...extra];
  for (let i = 0; i < args.length - 1; i++) {
    if (FREE_PORT_FLAGS.has(args[i] as string) && args[i + 1] === '0') args[i + 1] = String(await freePort());
  }
  const ports = ['--rtmp-port', String(await freePort()), '--http-port', String(await freePort())];
  // With a certificate RTMPS and HTTPS come on at 1936 and 8443; a test gets free ones unless it names its own.
  if (args.includes('--tls-cert')) {
    ports.push('--rtmps-port', String(await freePort()), '--https-port', String(await freePort()));
  }
  const p = start(
    cmd as string,
    [
      ...prefix,
      MAIN,
      ...[...ports, '--rtmp-host', '127.0.0.1', '--http-host', '127.0.0.1'],
      ...['--output-dir', outputDir],
      ...args,
    ],
    SERVER_ENV,
  );
  const logs = () =>
    p
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return {};
        }
      });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const line = logs().find((l) => l.msg === 'listening');
    if (line) {
      const s: Server = {
        ...p,
        rtmpPort: line.rtmpPort as number,
        ...(typeof line.rtmpsPort === 'number' ? { rtmpsPort: line.rtmpsPort } : {}),
        ...(typeof line.httpsPort === 'number' ? { httpsPort: line.httpsPort } : {}),
        httpPort: line.httpPort as number,
        outputDir,
        logs,
        url: (path) => `http://127.0.0.1:${line.httpPort}${path}`,
      };
      return s;
    }
    if (p.proc.exitCode !== null || Date.now() > deadline) {
      await stop(p);
      throw new Error(`server did not start:\n${p.output()}`);
    }
    await sleep(50);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `p`, or a rejection naming `what` if it has not settled within `ms`: a step that never finishes
 * fails with its name instead of running into the test's timeout.
 */
export function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** A live ffmpeg publisher: test pattern + sine, H.264 (1 s GOP) + AAC, real time, `seconds` long. */
export function ffmpegPublisher(url: string, o: { seconds: number; frequency?: number; size?: string }): Proc {
  return start('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-re'],
    ...['-f', 'lavfi', '-i', `testsrc=size=${o.size ?? '320x240'}:rate=25`],
    ...['-f', 'lavfi', '-i', `sine=frequency=${o.frequency ?? 440}:sample_rate=44100`],
    ...['-t', String(o.seconds)],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-pix_fmt', 'yuv420p'],
    ...['-c:a', 'aac', '-b:a', '64k', '-f', 'flv', url],
  ]);
}

/** A GStreamer publisher (live sources, x264 + AAC in flvmux) ending in `sink`. */
export function gstPublisher(sink: string[], o: { seconds: number; frequency: number }): Proc {
  const frames = o.seconds * 25;
  const audioBuffers = Math.ceil((o.seconds * 44100) / 1024);
  return start('gst-launch-1.0', [
    '-q',
    '-e',
    ...['videotestsrc', 'is-live=true', `num-buffers=${frames}`, '!'],
    ...['video/x-raw,width=320,height=240,framerate=25/1', '!'],
    ...['x264enc', 'tune=zerolatency', 'speed-preset=ultrafast', 'key-int-max=25', '!', 'h264parse', '!', 'queue', '!'],
    ...['flvmux', 'streamable=true', 'name=m'],
    ...['audiotestsrc', 'is-live=true', `num-buffers=${audioBuffers}`, 'samplesperbuffer=1024', `freq=${o.frequency}`],
    ...['!', 'audioconvert', '!', 'audio/x-raw,rate=44100,channels=2', '!', 'avenc_aac', '!', 'aacparse', '!'],
    ...['queue', '!', 'm.'],
    ...['m.', '!', ...sink],
  ]);
}

export interface ProcInfo {
  pid: number;
  ppid: number;
  state: string;
  cmdline: string[];
}

/** Every process in /proc (fields from /proc/PID/stat, whose comm may contain spaces and parentheses). */
export function processes(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean);
      out.push({ pid: Number(name), state: rest[0] as string, ppid: Number(rest[1]), cmdline });
    } catch {
      // Exited while we looked.
    }
  }
  return out;
}

export function childrenOf(pid: number): ProcInfo[] {
  return processes().filter((p) => p.ppid === pid);
}

/** True for the argv of one of the server's FFmpegs (it names the stream's segment files). */
export function isServerFfmpeg(p: ProcInfo, username?: string): boolean {
  const at = p.cmdline.indexOf('-hls_segment_filename');
  const pattern = at < 0 ? '' : (p.cmdline[at + 1] ?? '');
  if (!pattern.endsWith(`/${SEGMENT_NAME_PATTERN}`)) return false;
  return username === undefined || pattern.endsWith(`/${username}/${SEGMENT_NAME_PATTERN}`);
}

/** The server's FFmpeg for `username` (found by the output path in its argv). */
export function ffmpegOf(serverPid: number, username: string): ProcInfo | undefined {
  return childrenOf(serverPid).find((p) => isServerFfmpeg(p, username));
}

/** State letter of a PID ("Z" = zombie), or undefined once it is gone. */
export function procState(pid: number): string | undefined {
  return processes().find((p) => p.pid === pid)?.state;
}

/** GET a playlist: its parsed form, or the HTTP status when not 200. */
export async function getPlaylist(server: Server, username: string): Promise<Playlist | number> {
  // Bounded: a request the server never answers fails the test with a reason instead of hanging it.
  const r = await fetch(server.url(`/stream/${username}/live.m3u8`), { signal: AbortSignal.timeout(10_000) });
  if (r.status !== 200) {
    await r.body?.cancel();
    return r.status;
  }
  return parsePlaylist(await r.text());
}

/** Polls until the playlist is served with at least `minSegments` segments. */
export async function waitForPlaylist(server: Server, username: string, minSegments = 1, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = await getPlaylist(server, username);
    if (typeof p !== 'number' && p.segments.length >= minSegments) return p;
    if (Date.now() > deadline) throw new Error(`no playlist for ${username} with ${minSegments} segments: ${p}`);
    await sleep(200);
  }
}
