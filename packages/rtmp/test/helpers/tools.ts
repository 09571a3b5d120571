/**
 * External tools for interop tests: presence checks (loud skips), child processes killed by PID and
 * awaited, a private nginx-rtmp, and test clips with ffprobe packet counts.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NGINX_RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

/** True when `cmd` runs; otherwise warns loudly (the test using it is skipped, CI must have it). */
export function hasTool(cmd: string, args: string[] = ['-version'], why = ''): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  const ok = r.error === undefined && r.status === 0;
  if (!ok) console.warn(`\n*** SKIPPING interop test: ${cmd} is not installed or not working ${why}***\n`);
  return ok;
}

/** True when gst-inspect-1.0 knows every element. */
export function hasGstElements(...elements: string[]): boolean {
  for (const e of elements) {
    const r = spawnSync('gst-inspect-1.0', [e], { stdio: 'ignore' });
    if (r.error !== undefined || r.status !== 0) {
      console.warn(`\n*** SKIPPING interop test: GStreamer element ${e} is missing ***\n`);
      return false;
    }
  }
  return true;
}

export function hasNginxRtmp(): boolean {
  if (!existsSync(NGINX_RTMP_MODULE)) {
    console.warn(`\n*** SKIPPING interop test: ${NGINX_RTMP_MODULE} missing (apt install libnginx-mod-rtmp) ***\n`);
    return false;
  }
  return hasTool('nginx', ['-v']);
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** A child process (argv, no shell) that is always killed by PID and awaited by `stop()`. */
export class Child {
  readonly proc: ChildProcess;
  stderr = '';
  readonly exited: Promise<ChildResult>;

  constructor(argv: string[]) {
    this.proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr!.on('data', (d: Buffer) => {
      if (this.stderr.length < 20_000) this.stderr += d.toString();
    });
    this.exited = new Promise((resolve) => {
      this.proc.once('close', (code, signal) => resolve({ code, signal, stderr: this.stderr }));
      this.proc.once('error', (err) => resolve({ code: -1, signal: null, stderr: String(err) }));
    });
  }

  /** Waits for exit up to `ms`, then kills (TERM, then KILL) and waits. */
  async wait(ms: number): Promise<ChildResult & { timedOut: boolean }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), ms);
    });
    const first = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (first !== 'timeout') return { ...first, timedOut: false };
    return { ...(await this.stop()), timedOut: true };
  }

  /** Kills by PID (SIGTERM, SIGKILL after 2 s) and waits for the exit. */
  async stop(): Promise<ChildResult> {
    if (this.proc.exitCode === null && this.proc.signalCode === null && this.proc.pid !== undefined) {
      process.kill(this.proc.pid, 'SIGTERM');
      const t = setTimeout(() => {
        if (this.proc.exitCode === null && this.proc.signalCode === null && this.proc.pid !== undefined) {
          process.kill(this.proc.pid, 'SIGKILL');
        }
      }, 2_000);
      const r = await this.exited;
      clearTimeout(t);
      return r;
    }
    return this.exited;
  }
}

/** A free loopback port, found by binding port 0 and releasing it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => {
        s.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on ${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A private nginx-rtmp in a temp dir on a free port, recording every stream of `live` and `live/test`. */
export class PrivateNginx {
  readonly dir: string;
  readonly recordDir: string;
  port = 0;
  private child: Child | null = null;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'rtmp-nginx-'));
    this.recordDir = join(this.dir, 'rec');
  }

  async start(): Promise<void> {
    mkdirSync(this.recordDir);
    mkdirSync(join(this.dir, 'logs'));
    this.port = await freePort();
    const app = (name: string) => `application ${name} { live on; record all; record_path ${this.recordDir}; }`;
    writeFileSync(
      join(this.dir, 'nginx.conf'),
      [
        `load_module ${NGINX_RTMP_MODULE};`,
        'daemon off;',
        'master_process off;',
        `pid ${join(this.dir, 'nginx.pid')};`,
        `error_log ${join(this.dir, 'logs', 'error.log')} info;`,
        'events { worker_connections 64; }',
        `rtmp { server { listen 127.0.0.1:${this.port}; chunk_size 4096; ${app('live')} ${app('live/test')} } }`,
      ].join('\n'),
    );
    this.child = new Child([
      'nginx',
      '-p',
      this.dir,
      '-c',
      join(this.dir, 'nginx.conf'),
      '-e',
      join(this.dir, 'logs', 'error.log'),
    ]);
    await waitForPort(this.port, 5_000);
  }

  async stop(): Promise<void> {
    await this.child?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface StreamCount {
  type: string;
  codec: string;
  packets: number;
}

/** Packet counts per stream by ffprobe. */
export function probe(file: string): StreamCount[] {
  const out = execFileSync(
    'ffprobe',
    [
      '-v',
      'error',
      '-count_packets',
      '-show_entries',
      'stream=codec_type,codec_name,nb_read_packets',
      '-of',
      'json',
      file,
    ],
    { encoding: 'utf8' },
  );
  const streams = (JSON.parse(out) as { streams?: Record<string, string>[] }).streams ?? [];
  return streams.map((s) => ({ type: s.codec_type!, codec: s.codec_name!, packets: Number(s.nb_read_packets) }));
}

/** Generates a 2 s 320x240 H.264 (with B-frames) + AAC FLV clip. */
export async function makeClip(file: string): Promise<StreamCount[]> {
  const c = new Child([
    'ffmpeg',
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'],
    ...[
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=320x240:rate=15',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:sample_rate=22050',
    ],
    ...[
      '-t',
      '2',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-x264-params',
      'bframes=2:keyint=15',
      '-pix_fmt',
      'yuv420p',
    ],
    ...['-c:a', 'aac', '-b:a', '32k', '-ac', '1', file],
  ]);
  const r = await c.wait(30_000);
  if (r.code !== 0) throw new Error(`clip generation failed: ${r.stderr}`);
  return probe(file);
}

/** One FLV tag. */
export interface FlvTag {
  type: number;
  timestamp: number;
  data: Uint8Array;
}

/** Reads the tags of an FLV file (test helper: trusts the file). */
export function readFlvTags(bytes: Uint8Array): FlvTag[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = dv.getUint32(5) + 4;
  const tags: FlvTag[] = [];
  while (p + 11 <= bytes.length) {
    const type = bytes[p]! & 0x1f;
    const size = (bytes[p + 1]! << 16) | (bytes[p + 2]! << 8) | bytes[p + 3]!;
    const ts = ((bytes[p + 4]! << 16) | (bytes[p + 5]! << 8) | bytes[p + 6]! | (bytes[p + 7]! << 24)) >>> 0;
    if (p + 11 + size > bytes.length) break;
    tags.push({ type, timestamp: ts, data: bytes.subarray(p + 11, p + 11 + size) });
    p += 11 + size + 4;
  }
  return tags;
}
