/**
 * One FFmpeg per stream: the argv that turns FLV on stdin into a rolling HLS playlist, and a
 * supervisor that runs it without a shell, drains its output, restarts it after a crash with
 * exponential backoff up to a limit, and stops it in a fixed order (close stdin → SIGTERM →
 * SIGKILL), always waiting for the child's exit so that none is left behind.
 */
import { type ChildProcess, spawn as nodeSpawn, type SpawnOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { Logger } from './logger';

/** File names inside a stream's directory. */
export const PLAYLIST_NAME = 'live.m3u8';
export const SEGMENT_PATTERN = 'live_%03d.ts';

/**
 * Probe window given to FFmpeg's FLV demuxer (µs). FFmpeg's default (5 s, and 0 means default)
 * made the first playlist appear ~1.6 s after the first frame instead of ~1.05 s: the demuxer
 * keeps reading to estimate frame rates although the primer already gave it every sequence header.
 * Measured on this machine (320x240 H.264 + AAC, 1 s GOP, paced in real time): first playlist
 * 1637 ms with the default, 1049–1056 ms with 1 µs … 500 ms, all with correct codecs and sizes per
 * ffprobe. 500 ms keeps a margin for a late audio sequence header.
 */
export const ANALYZE_DURATION_US = 500_000;

/** How the HLS muxer should be driven; see {@link buildFfmpegArgs}. */
export interface FfmpegArgsOptions {
  /** The stream's directory (contains the username, which therefore shows in `ps`). */
  dir: string;
  /** Target segment duration, seconds (`-hls_time`). */
  hlsTime: number;
  /** Segments in the playlist window (`-hls_list_size`). */
  hlsListSize: number;
  /**
   * Continue an existing playlist (`append_list`): FFmpeg reads it, keeps its media sequence and
   * segment numbers going and marks the new part with `#EXT-X-DISCONTINUITY`.
   */
  append: boolean;
  /**
   * Read the input at its native rate (`-re`). Off by default, deliberately: the input is a live
   * RTMP publish that is already paced by the publisher, and `-re` only adds delay. Measured
   * through the whole server on this machine (320x240 H.264 + AAC, 1 s GOP, an RtmpClient pacing
   * the clip in real time, playlist polled every 10 ms, 19 segments): without `-re` the first
   * playlist came 1054–1056 ms after the publish and a keyframe's segment was listed 1017–1020 ms
   * (median, max 1035) after the keyframe was sent, i.e. one segment duration plus ~20 ms; with
   * `-re` 1596 ms and 1572 ms (FFmpeg alone: up to 2.6 s). Worse, after a stall `-re` refuses to
   * catch up, so a backlog in our queue would turn into dropped frames. (`-fflags nobuffer` was
   * measured too: 3.0 s, it delays the first segment.)
   */
  realtime?: boolean;
  /** FFmpeg log level for stderr. Default `warning`. */
  logLevel?: string;
}

/**
 * The FFmpeg argv (no shell: every element is one argument, paths are never parsed). The output
 * is `{dir}/live.m3u8` + `{dir}/live_%03d.ts`; `omit_endlist` because the server decides when a
 * stream is over (a publisher may come back within the reconnect grace, and FFmpeg is restarted
 * with `append_list` then); the server writes `#EXT-X-ENDLIST` itself when it ends the stream.
 */
export function buildFfmpegArgs(o: FfmpegArgsOptions): string[] {
  const flags = ['delete_segments', 'temp_file', 'independent_segments', 'omit_endlist'];
  if (o.append) flags.push('append_list');
  return [
    '-hide_banner',
    '-nostats',
    '-loglevel',
    `level+${o.logLevel ?? 'warning'}`,
    ...(o.realtime ? ['-re'] : []),
    '-analyzeduration',
    String(ANALYZE_DURATION_US),
    '-f',
    'flv',
    '-i',
    'pipe:0',
    '-c',
    'copy',
    '-f',
    'hls',
    '-hls_time',
    String(o.hlsTime),
    '-hls_list_size',
    String(o.hlsListSize),
    '-hls_flags',
    flags.join('+'),
    '-hls_segment_type',
    'mpegts',
    '-hls_allow_cache',
    '0',
    '-hls_segment_filename',
    join(o.dir, SEGMENT_PATTERN),
    join(o.dir, PLAYLIST_NAME),
  ];
}

/** Restart policy of {@link FfmpegSupervisor}. */
export interface RestartPolicy {
  /** Restarts allowed within `windowMs`; one more crash gives up. Default 5. */
  maxRestarts?: number;
  /** Sliding window for `maxRestarts`, ms. Default 60 000. */
  windowMs?: number;
  /** Delay before the first restart, ms; doubles per restart in the window. Default 250. */
  initialDelayMs?: number;
  /** Upper bound of the delay, ms. Default 4000. */
  maxDelayMs?: number;
}

/** Stop sequence of {@link FfmpegSupervisor}. */
export interface StopPolicy {
  /** After closing stdin, wait this long for FFmpeg to finish its segment and exit. Default 3000. */
  stdinGraceMs?: number;
  /** After SIGTERM, wait this long before SIGKILL. Default 2000. */
  termGraceMs?: number;
  /** After SIGKILL, give up waiting after this long (logged; cannot normally happen). Default 2000. */
  killGraceMs?: number;
}

export const DEFAULT_RESTART_POLICY: Required<RestartPolicy> = {
  maxRestarts: 5,
  windowMs: 60_000,
  initialDelayMs: 250,
  maxDelayMs: 4000,
};

export const DEFAULT_STOP_POLICY: Required<StopPolicy> = {
  stdinGraceMs: 3000,
  termGraceMs: 2000,
  killGraceMs: 2000,
};

/** Lines of FFmpeg output kept for the exit log. */
export const DEFAULT_TAIL_LINES = 20;
/** Longest output line kept (bytes of a runaway line beyond this are cut). */
const MAX_LINE_LENGTH = 1000;

/** Spawner seam: `child_process.spawn` by default. */
export type SpawnFn = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export interface FfmpegSupervisorOptions {
  /** The binary to run. */
  command: string;
  /** Builds the argv of each run; `run` is 0 for the first spawn, 1.. for restarts. */
  args: (run: number) => readonly string[];
  logger: Logger;
  restart?: RestartPolicy;
  stop?: StopPolicy;
  tailLines?: number;
  spawn?: SpawnFn;
}

/** What one run of the child looked like when it ended. */
export interface FfmpegExit {
  pid: number | undefined;
  run: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the supervisor asked it to stop. */
  expected: boolean;
  /** Spawn error (e.g. ENOENT) when the binary could not run at all. */
  error?: Error;
  runtimeMs: number;
  /** The last lines of stdout/stderr. */
  tail: string[];
}

export interface FfmpegSupervisorEvents {
  /** A child is running; write the FLV stream (header first) to `stdin`. */
  spawn: [stdin: Writable, run: number, pid: number | undefined];
  /** A child ended (expected or not). */
  exit: [exit: FfmpegExit];
  /** A crashed child will be restarted after `delayMs`. */
  restart: [attempt: number, delayMs: number];
  /** Too many crashes: no more restarts. */
  'give-up': [restartsInWindow: number, last: FfmpegExit];
}

/** Keeps the last `max` complete lines of a byte stream (bounded memory, also for runaway lines). */
export class LineTail {
  private readonly lines: string[] = [];
  private partial = '';

  constructor(private readonly max: number) {}

  push(chunk: Buffer | string, onLine?: (line: string) => void): void {
    const text = this.partial + chunk.toString();
    const parts = text.split(/\r?\n|\r/);
    this.partial = (parts.pop() ?? '').slice(0, MAX_LINE_LENGTH);
    for (const raw of parts) {
      const line = raw.slice(0, MAX_LINE_LENGTH);
      if (line.length === 0) continue;
      this.lines.push(line);
      if (this.lines.length > this.max) this.lines.shift();
      onLine?.(line);
    }
  }

  /** The kept lines, with an unterminated last line if any. */
  snapshot(): string[] {
    const out = [...this.lines];
    if (this.partial) out.push(this.partial);
    return out.slice(-this.max);
  }
}

type Phase = 'idle' | 'running' | 'backoff' | 'stopping' | 'stopped' | 'gave-up';

/**
 * Runs one FFmpeg and keeps it running while wanted. Not restarted after {@link stop}, after a
 * give-up, or after a spawn error on the very first run (a missing binary will not heal).
 */
export class FfmpegSupervisor extends EventEmitter<FfmpegSupervisorEvents> {
  private readonly o: FfmpegSupervisorOptions;
  private readonly restartPolicy: Required<RestartPolicy>;
  private readonly stopPolicy: Required<StopPolicy>;
  private readonly spawnFn: SpawnFn;
  private phase: Phase = 'idle';
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private runIndex = -1;
  private restartTimes: number[] = [];
  private restartTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private totalRestarts = 0;

  constructor(options: FfmpegSupervisorOptions) {
    super();
    this.o = options;
    this.restartPolicy = { ...DEFAULT_RESTART_POLICY, ...options.restart };
    this.stopPolicy = { ...DEFAULT_STOP_POLICY, ...options.stop };
    this.spawnFn = options.spawn ?? (nodeSpawn as SpawnFn);
    const r = this.restartPolicy;
    if (!Number.isInteger(r.maxRestarts) || r.maxRestarts < 0) throw new RangeError('restart.maxRestarts must be ≥ 0');
    if (!(r.initialDelayMs >= 0 && r.maxDelayMs >= r.initialDelayMs)) {
      throw new RangeError('restart delays must satisfy 0 ≤ initialDelayMs ≤ maxDelayMs');
    }
  }

  /** PID of the running child, if any. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** True while a child process exists. */
  get running(): boolean {
    return this.child !== undefined;
  }

  /** Restarts after crashes so far (all time). */
  get restarts(): number {
    return this.totalRestarts;
  }

  /** Spawns the first run. */
  start(): void {
    if (this.phase !== 'idle') throw new Error(`FfmpegSupervisor.start() in phase ${this.phase}`);
    this.launch();
  }

  private launch(): void {
    this.runIndex++;
    const run = this.runIndex;
    const args = this.o.args(run);
    const startedAt = Date.now();
    const tail = new LineTail(this.o.tailLines ?? DEFAULT_TAIL_LINES);
    const log = this.o.logger;
    let child: ChildProcess;
    try {
      child = this.spawnFn(this.o.command, args, {
        stdio: ['pipe', 'pipe', 'pipe'],
        // Own process group: a Ctrl-C in the terminal reaches the server only, which then stops
        // FFmpeg in order (instead of every FFmpeg dying mid-segment on its own).
        detached: true,
        shell: false,
        windowsHide: true,
      });
    } catch (err) {
      // spawn() throws synchronously only for invalid arguments; report it like a failed run.
      this.phase = 'running';
      this.handleExit({
        pid: undefined,
        run,
        code: null,
        signal: null,
        expected: false,
        error: err as Error,
        runtimeMs: 0,
        tail: [],
      });
      return;
    }
    this.child = child;
    this.phase = 'running';
    const onLine = (line: string) => log.debug({ ffmpeg: line, pid: child.pid }, 'ffmpeg output');
    child.stdout?.on('data', (d: Buffer) => tail.push(d, onLine));
    child.stderr?.on('data', (d: Buffer) => tail.push(d, onLine));
    // EPIPE/ECONNRESET when FFmpeg dies with data in flight: the exit handler deals with it.
    child.stdin?.on('error', (err) => log.debug({ err, pid: child.pid }, 'ffmpeg stdin error'));
    let spawnError: Error | undefined;
    let settled = false;
    let resolveExited!: () => void;
    this.exited = new Promise<void>((resolve) => {
      resolveExited = resolve;
    });
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      if (this.child === child) this.child = undefined;
      resolveExited();
      const exit: FfmpegExit = {
        pid: child.pid,
        run,
        code,
        signal,
        expected: this.phase === 'stopping' || this.phase === 'stopped',
        runtimeMs: Date.now() - startedAt,
        tail: tail.snapshot(),
      };
      if (spawnError) exit.error = spawnError;
      this.handleExit(exit);
    };
    child.on('error', (err) => {
      // 'error' without a pid: the binary did not start; there will be no 'exit'.
      spawnError = err;
      if (child.pid === undefined) finish(null, null);
    });
    // 'close' comes after 'exit' once stdout/stderr are drained, so the tail is complete.
    child.on('close', (code, signal) => finish(code, signal));
    if (child.pid !== undefined && child.stdin) this.emit('spawn', child.stdin, run, child.pid);
  }

  private handleExit(exit: FfmpegExit): void {
    this.emit('exit', exit);
    if (exit.expected || this.phase === 'stopped' || this.phase === 'stopping') return;
    if (exit.error && exit.run === 0) {
      this.phase = 'gave-up';
      this.emit('give-up', 0, exit);
      return;
    }
    const now = Date.now();
    const p = this.restartPolicy;
    this.restartTimes = this.restartTimes.filter((t) => now - t < p.windowMs);
    if (this.restartTimes.length >= p.maxRestarts) {
      this.phase = 'gave-up';
      this.emit('give-up', this.restartTimes.length, exit);
      return;
    }
    const delay = Math.min(p.maxDelayMs, p.initialDelayMs * 2 ** this.restartTimes.length);
    this.restartTimes.push(now);
    this.totalRestarts++;
    this.phase = 'backoff';
    this.emit('restart', this.restartTimes.length, delay);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.phase === 'backoff') this.launch();
    }, delay);
  }

  /**
   * Stops for good: cancels a pending restart, closes stdin so FFmpeg finishes its segment, then
   * SIGTERM, then SIGKILL, each after its grace. Resolves once the child has exited (it is reaped
   * by then). Idempotent.
   */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    if (!child) {
      this.phase = 'stopped';
      this.stopping = Promise.resolve();
      return this.stopping;
    }
    this.phase = 'stopping';
    const { stdinGraceMs, termGraceMs, killGraceMs } = this.stopPolicy;
    const exited = this.exited;
    const waitExit = (ms: number) =>
      new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), ms);
        void exited.then(() => {
          clearTimeout(t);
          resolve(true);
        });
      });
    const log = this.o.logger;
    this.stopping = (async () => {
      child.stdin?.end();
      if (await waitExit(stdinGraceMs)) return;
      log.warn({ pid: child.pid }, `ffmpeg still running ${stdinGraceMs} ms after stdin closed; sending SIGTERM`);
      child.kill('SIGTERM');
      if (await waitExit(termGraceMs)) return;
      log.warn({ pid: child.pid }, `ffmpeg ignored SIGTERM for ${termGraceMs} ms; sending SIGKILL`);
      child.kill('SIGKILL');
      if (!(await waitExit(killGraceMs))) log.error({ pid: child.pid }, 'ffmpeg did not exit after SIGKILL');
    })().finally(() => {
      this.phase = 'stopped';
    });
    return this.stopping;
  }

  /** Last resort for process exit: SIGKILL the child synchronously (no waiting is possible then). */
  killNow(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.phase = 'stopped';
    this.child?.kill('SIGKILL');
  }
}
