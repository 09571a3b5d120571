/**
 * Test helpers: run ffmpeg / ffprobe (argv, no shell, killed by PID on timeout, always awaited) and
 * manage a fresh temporary directory per test file.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs `file` with `args`; resolves when it exits. Kills it by PID after `timeoutMs`. */
export function run(file: string, args: string[], timeoutMs = 30_000, input?: Uint8Array): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], shell: false });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') };
      if (timedOut) reject(new Error(`${file} timed out after ${timeoutMs} ms: ${result.stderr.slice(-500)}`));
      else resolve(result);
    });
    child.stdin.on('error', () => {}); // EPIPE when the child exits before reading everything
    if (input) child.stdin.end(input);
    else child.stdin.end();
  });
}

/** Runs ffmpeg (banner off, errors only); throws with its stderr unless it exits 0. */
export async function ffmpeg(args: string[], timeoutMs = 30_000): Promise<RunResult> {
  const r = await run('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-y', ...args], timeoutMs);
  if (r.code !== 0) throw new Error(`ffmpeg ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

/** ffprobe JSON output for `file`. */
export async function ffprobe(file: string, args: string[], timeoutMs = 30_000): Promise<ProbeResult> {
  const r = await run('ffprobe', ['-v', 'error', '-of', 'json', ...args, file], timeoutMs);
  if (r.code !== 0) throw new Error(`ffprobe ${args.join(' ')} ${file} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout.toString('utf8')) as ProbeResult;
}

export interface ProbeStream {
  index: number;
  codec_name: string;
  codec_type: 'video' | 'audio' | 'data';
  profile?: string;
  level?: number;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
  nb_read_frames?: string;
  nb_read_packets?: string;
}

export interface ProbePacket {
  codec_type: 'video' | 'audio' | 'data';
  stream_index: number;
  pts?: number;
  dts?: number;
  size: string;
  flags: string;
}

export interface ProbeResult {
  streams?: ProbeStream[];
  packets?: ProbePacket[];
  format?: { format_name: string; nb_streams: number };
}

/** A fresh temp directory and its remover. */
export async function tempDir(prefix = 'hls-test-'): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** lavfi inputs used by several tests. */
export function testsrc(size: string, rate = 25): string[] {
  return ['-f', 'lavfi', '-i', `testsrc=size=${size}:rate=${rate}`];
}

export function sine(sampleRate = 44100, frequency = 440): string[] {
  return ['-f', 'lavfi', '-i', `sine=frequency=${frequency}:sample_rate=${sampleRate}`];
}

/** H.264 encoder options the sources share: fastest x264 preset, 4:2:0 (what every player decodes). */
export const H264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];
