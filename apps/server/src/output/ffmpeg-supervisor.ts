/**
 * Runs one FFmpeg without a shell, drains its output, restarts it after a crash with exponential
 * backoff up to a limit, and stops it in a fixed order (close stdin → SIGTERM → SIGKILL), always
 * waiting for the child's exit so that none is left behind.
 */
import { type ChildProcess, spawn as nodeSpawn, type SpawnOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Writable } from 'node:stream';
import type { Logger } from '../logger';

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
  /** The child's environment; default this process's. */
  env?: NodeJS.ProcessEnv;
  /**
   * Takes the child's stdout as data (each chunk, in order, all delivered before `exit`) instead of
   * as output lines for the log and the tail.
   */
  onStdout?: (chunk: Buffer) => void;
  /** Each complete stderr line (after it is kept for the tail), e.g. to spot write errors. */
  onStderrLine?: (line: string) => void;
}

/**
 * Spawn errors that may heal (file descriptors, process slots, memory): retried with the normal
 * backoff even on the first run. Any other spawn error (ENOENT, EACCES: the binary is missing or
 * not runnable) on the first run gives up at once.
 */
export const TRANSIENT_SPAWN_ERRORS: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE', 'EAGAIN', 'ENOMEM']);

/** What one run of the child looked like when it ended. */
export interface FfmpegExit {
  pid: number | undefined;
  run: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the supervisor asked it to stop (not after {@link FfmpegSupervisor.killCurrent}). */
  expected: boolean;
  /** Spawn error (e.g. ENOENT) when the binary could not run at all. */
  error?: Error;
  runtimeMs: number;
  /** The last lines of stderr (and of stdout unless it is taken as data). */
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
 * give-up, or after a spawn error on the very first run that will not heal (a missing binary; see
 * {@link TRANSIENT_SPAWN_ERRORS}).
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
        ...(this.o.env ? { env: this.o.env } : {}),
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
    const onStdout = this.o.onStdout;
    child.stdout?.on('data', onStdout ?? ((d: Buffer) => tail.push(d, onLine)));
    const onStderrLine = this.o.onStderrLine;
    const onErrLine = onStderrLine
      ? (line: string) => {
          onLine(line);
          onStderrLine(line);
        }
      : onLine;
    child.stderr?.on('data', (d: Buffer) => tail.push(d, onErrLine));
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
    const code = (exit.error as NodeJS.ErrnoException | undefined)?.code;
    if (exit.error && exit.run === 0 && !TRANSIENT_SPAWN_ERRORS.has(code ?? '')) {
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

  /**
   * Kills the running child with SIGKILL (which also ends a SIGSTOPped or wedged one) so that its
   * exit counts as a crash: the restart path applies, with its backoff and `maxRestarts` window.
   * For a child that is alive but no longer does its work. Returns false when no child runs.
   */
  killCurrent(): boolean {
    const child = this.child;
    if (!child || this.phase !== 'running') return false;
    child.kill('SIGKILL');
    return true;
  }

  /** Last resort for process exit: SIGKILL the child synchronously (no waiting is possible then). */
  killNow(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.phase = 'stopped';
    this.child?.kill('SIGKILL');
  }
}
