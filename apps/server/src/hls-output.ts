/**
 * The HLS side of one stream: its directory, its FFmpeg (through {@link FfmpegSupervisor}) and the
 * FLV fed to it. Every FFmpeg run starts from a primer (FLV header, metadata, sequence headers)
 * and receives live tags from the next video keyframe on, on its own timeline starting at 0. A run
 * that continues an existing playlist uses `append_list`, so the playlist keeps its media sequence
 * and marks the new part with `#EXT-X-DISCONTINUITY`.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import {
  BufferedFlvWriter,
  FlvDropQueue,
  type FlvStreamState,
  type FlvTag,
  type KeyframeGate,
  TagType,
  TimestampRebaser,
} from '@org/flv';
import { DEFAULT_FEED_BATCH_BYTES, DEFAULT_FEED_BATCH_SPAN_MS, FeedBatch } from './feed-batch';
import {
  buildFfmpegArgs,
  FfmpegSupervisor,
  PLAYLIST_NAME,
  type RestartPolicy,
  type SpawnFn,
  type StopPolicy,
} from './ffmpeg';
import type { Logger } from './logger';

export const ENDLIST_TAG = '#EXT-X-ENDLIST';

/** What the stream manager needs from a stream's output (a fake implements it in tests). */
export interface StreamOutput {
  /** Makes an empty directory for a new stream (removing leftovers of an earlier one). */
  prepare(): Promise<void>;
  /**
   * Starts FFmpeg for the current publisher. `state` supplies the primer of every run (also of
   * restarts after a crash). Continues the playlist when one exists.
   */
  open(state: FlvStreamState): void;
  /** Offers a live tag (RTMP timestamp); written, queued or dropped by the backpressure policy. */
  write(tag: FlvTag): void;
  /** The publisher left: FFmpeg finishes its segment and exits; the playlist stays, without ENDLIST. */
  close(): Promise<void>;
  /** The stream is over: FFmpeg stopped, `#EXT-X-ENDLIST` appended. */
  finish(): Promise<void>;
  /** Removes the directory. */
  remove(): Promise<void>;
  /** SIGKILLs FFmpeg synchronously (process exit path). */
  killNow(): void;
  readonly restarts: number;
  readonly droppedFrames: number;
  /** PID of the running FFmpeg, if any. */
  readonly pid: number | undefined;
}

/** Callbacks of {@link HlsOutput}. */
export interface HlsOutputEvents {
  /** FFmpeg crashed and will be restarted. */
  onRestart?(attempt: number, delayMs: number): void;
  /** FFmpeg crashed too often (or cannot start): the publisher should be disconnected. */
  onFatal?(reason: string): void;
  /** Frames dropped (queue full, or no FFmpeg to take them). */
  onDrop?(count: number): void;
}

export interface HlsOutputOptions extends HlsOutputEvents {
  dir: string;
  ffmpegPath: string;
  hlsTime: number;
  hlsListSize: number;
  /** Bound of the queue in front of FFmpeg's stdin; frames beyond it are dropped until a keyframe. */
  maxQueuedBytes: number;
  /**
   * Tags are held and written to FFmpeg in batches of up to this many bytes (see
   * {@link FeedBatch}); 0 writes every tag at once. Default {@link DEFAULT_FEED_BATCH_BYTES}.
   */
  feedBatchBytes?: number;
  logger: Logger;
  restart?: RestartPolicy;
  stop?: StopPolicy;
  spawn?: SpawnFn;
}

/** Reads `#EXT-X-MEDIA-SEQUENCE` (undefined when absent or unparsable). */
export function mediaSequence(playlist: string): number | undefined {
  const m = /^#EXT-X-MEDIA-SEQUENCE:(\d+)\s*$/m.exec(playlist);
  return m ? Number(m[1]) : undefined;
}

/** The segment URIs a playlist lists, in order. */
export function playlistSegments(playlist: string): string[] {
  return playlist
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
}

/**
 * Appends `#EXT-X-ENDLIST` to a playlist file unless it has one, atomically (write a temporary
 * file, rename over), so a player polling meanwhile reads either version whole.
 * @returns false when there is no playlist
 */
export async function endPlaylist(path: string): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  if (text.split('\n').some((l) => l.trim() === ENDLIST_TAG)) return true;
  const tmp = `${path}.end.tmp`;
  await writeFile(tmp, `${text}${text.endsWith('\n') ? '' : '\n'}${ENDLIST_TAG}\n`);
  await rename(tmp, path);
  return true;
}

interface Run {
  writer: BufferedFlvWriter;
  batch: FeedBatch;
  gate: KeyframeGate;
  rebaser: TimestampRebaser;
}

/** Longest wait on close for queued FLV to reach FFmpeg before stdin is closed. */
const FLUSH_ON_CLOSE_MS = 2000;

/** Files FFmpeg writes in a stream directory (segments and their temporaries). */
const SEGMENT_FILE = /^live_\d+\.ts(\.tmp)?$/;

export class HlsOutput implements StreamOutput {
  private readonly o: HlsOutputOptions;
  private readonly playlistPath: string;
  private supervisor: FfmpegSupervisor | undefined;
  private run: Run | undefined;
  private state: FlvStreamState | undefined;
  /** Counts open() calls, so a superseded start is skipped. */
  private generation = 0;
  /** Serialises open/close/finish: a new FFmpeg never starts before the previous one exited. */
  private chain: Promise<void> = Promise.resolve();
  private restartCount = 0;
  private dropCount = 0;
  /**
   * Tags that arrive while FFmpeg is starting or restarting, fed to it once it runs: the keyframe
   * that triggered the start is not lost (losing it would delay the first segment by a GOP).
   */
  private pending: FlvDropQueue;
  private readonly countDrop = () => {
    this.dropCount++;
    this.o.onDrop?.(1);
  };
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(options: HlsOutputOptions) {
    this.o = options;
    this.playlistPath = join(options.dir, PLAYLIST_NAME);
    this.pending = this.newPending();
  }

  private newPending(): FlvDropQueue {
    return new FlvDropQueue({ maxQueuedBytes: this.o.maxQueuedBytes, onDrop: this.countDrop });
  }

  get restarts(): number {
    return this.restartCount;
  }

  get droppedFrames(): number {
    return this.dropCount;
  }

  get pid(): number | undefined {
    return this.supervisor?.pid;
  }

  prepare(): Promise<void> {
    const dir = this.o.dir;
    const step = this.chain.then(async () => {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
    });
    // Later steps run whatever happened here; the caller sees the failure.
    this.chain = step.catch(() => undefined);
    return step;
  }

  open(state: FlvStreamState): void {
    this.state = state;
    this.pending = this.newPending();
    const generation = ++this.generation;
    this.chain = this.chain
      .then(() => this.supervisor?.stop())
      .then(() => {
        // Reopened meanwhile: that open starts its own. (Closed meanwhile: start anyway, so what
        // the publisher sent reaches FFmpeg; the close step queued behind this one stops it.)
        if (generation !== this.generation) return;
        this.startSupervisor(state);
      })
      .catch((err: unknown) => this.o.logger.error({ err }, 'cannot start ffmpeg'));
  }

  private startSupervisor(state: FlvStreamState): void {
    const log = this.o.logger;
    let append = false;
    const sup = new FfmpegSupervisor({
      command: this.o.ffmpegPath,
      args: () => {
        append = existsSync(this.playlistPath);
        return buildFfmpegArgs({ dir: this.o.dir, hlsTime: this.o.hlsTime, hlsListSize: this.o.hlsListSize, append });
      },
      logger: log,
      ...(this.o.restart ? { restart: this.o.restart } : {}),
      ...(this.o.stop ? { stop: this.o.stop } : {}),
      ...(this.o.spawn ? { spawn: this.o.spawn } : {}),
    });
    this.supervisor = sup;
    sup.on('spawn', (stdin, run, pid) => {
      if (append) this.scheduleSweep();
      this.beginRun(stdin, state);
      log.info({ pid, run, append }, 'ffmpeg started');
    });
    sup.on('exit', (exit) => {
      this.endRun();
      const fields = { pid: exit.pid, code: exit.code, signal: exit.signal, runtimeMs: exit.runtimeMs };
      if (exit.expected) log.info(fields, 'ffmpeg exited');
      else log.error({ ...fields, err: exit.error, lastOutput: exit.tail }, 'ffmpeg exited unexpectedly');
    });
    sup.on('restart', (attempt, delayMs) => {
      this.restartCount++;
      log.warn({ attempt, delayMs }, 'restarting ffmpeg');
      this.o.onRestart?.(attempt, delayMs);
    });
    sup.on('give-up', (n, last) => {
      const reason = last.error
        ? `ffmpeg cannot start: ${last.error.message}`
        : `ffmpeg crashed ${n + 1} times within the restart window`;
      log.error({ restarts: n, lastOutput: last.tail }, `${reason}; giving up on this stream`);
      this.o.onFatal?.(reason);
    });
    sup.start();
  }

  private beginRun(stdin: Writable, state: FlvStreamState): void {
    const batchBytes = this.o.feedBatchBytes ?? DEFAULT_FEED_BATCH_BYTES;
    // Held tags are copied into one reused buffer (FFmpeg's stdin is a pipe: done with a chunk once
    // it calls back), so the socket buffers they came in are freed at once rather than kept alive
    // through garbage collections for as long as the batch is held.
    const writer = new BufferedFlvWriter(stdin, {
      maxQueuedBytes: this.o.maxQueuedBytes,
      onDrop: this.countDrop,
      holdBufferBytes: batchBytes,
    });
    writer.writeHeader(state.headerFlags());
    for (const tag of state.primerTags(0)) writer.write(tag);
    const batch = new FeedBatch({
      hasVideo: state.hasVideo,
      hasAudio: state.hasAudio,
      maxBytes: batchBytes,
      maxSpanMs: DEFAULT_FEED_BATCH_SPAN_MS,
    });
    const run: Run = { writer, batch, gate: state.createGate(), rebaser: new TimestampRebaser() };
    this.run = run;
    const backlog = this.pending;
    this.pending = this.newPending();
    for (let tag = backlog.shift(); tag !== undefined; tag = backlog.shift()) this.feed(run, tag);
    writer.flush();
  }

  /** Lets FFmpeg take what is still queued for it (bounded), so the publisher's last frames count. */
  private async flushRun(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.run?.writer.flush(); // what the batch still holds
    for (let run = this.run; run && run.writer.queuedTags > 0 && Date.now() < deadline; run = this.run) {
      await new Promise<void>((resolve) => {
        const stdin = run?.writer.streamWriter.destination;
        const done = () => {
          clearTimeout(timer);
          stdin?.off('drain', done);
          stdin?.off('close', done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(1, deadline - Date.now()));
        stdin?.once('drain', done);
        stdin?.once('close', done);
      });
      // BufferedFlvWriter refills stdin from its queue on the same 'drain'.
    }
  }

  private endRun(): void {
    const run = this.run;
    if (!run) return;
    run.writer.close();
    this.run = undefined;
  }

  write(tag: FlvTag): void {
    if (tag.type === TagType.Script) return; // metadata reaches FFmpeg through the primer only
    if (this.state === undefined) return; // closed: no publisher
    const run = this.run;
    if (run) this.feed(run, tag);
    else this.pending.push(tag);
  }

  private feed(run: Run, tag: FlvTag): void {
    if (!run.gate.admit(tag)) return;
    const track = tag.type === TagType.Video ? 'video' : 'audio';
    const timestamp = run.rebaser.rebase(track, tag.timestamp);
    const out: FlvTag = { type: tag.type, timestamp, payload: tag.payload };
    if (run.writer.hold(out) === 'dropped') return;
    if (run.batch.add(out)) run.writer.flush();
  }

  close(): Promise<void> {
    this.state = undefined;
    // The supervisor is read when this step runs: it may be created by a start queued before it.
    const step = this.chain.then(async () => {
      await this.flushRun(FLUSH_ON_CLOSE_MS);
      await this.supervisor?.stop();
    });
    this.chain = step.catch((err: unknown) => this.o.logger.error({ err }, 'error stopping ffmpeg'));
    return step;
  }

  async finish(): Promise<void> {
    await this.close();
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    await this.sweep();
    await endPlaylist(this.playlistPath);
  }

  async remove(): Promise<void> {
    await this.close();
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    await rm(this.o.dir, { recursive: true, force: true });
  }

  killNow(): void {
    this.supervisor?.killNow();
  }

  /**
   * A run that continues a playlist does not know the segments its predecessor kept on disk
   * past the window (FFmpeg keeps one for players still fetching it) or a half-written `.tmp` of
   * a crashed run: remove segment files the playlist no longer lists, a little later.
   */
  private scheduleSweep(): void {
    if (this.sweepTimer) return;
    this.sweepTimer = setTimeout(
      () => {
        this.sweepTimer = undefined;
        void this.sweep().catch((err: unknown) => this.o.logger.warn({ err }, 'segment sweep failed'));
      },
      Math.ceil(this.o.hlsTime * 2000),
    );
    this.sweepTimer.unref();
  }

  private async sweep(): Promise<void> {
    let listed: Set<string>;
    try {
      listed = new Set(playlistSegments(await readFile(this.playlistPath, 'utf8')));
    } catch {
      return;
    }
    const running = this.supervisor?.running ?? false;
    let names: string[];
    try {
      names = await readdir(this.o.dir);
    } catch {
      return;
    }
    const numbers = [...listed].map(segmentNumber).filter((n): n is number => n !== undefined);
    const newest = numbers.length > 0 ? Math.max(...numbers) : -1;
    for (const name of names) {
      if (!SEGMENT_FILE.test(name) || listed.has(name)) continue;
      const n = segmentNumber(name);
      // While FFmpeg runs, files numbered above the playlist's newest are being written.
      if (running && n !== undefined && n > newest) continue;
      await unlink(join(this.o.dir, name)).catch(() => undefined);
    }
  }
}

function segmentNumber(name: string): number | undefined {
  const m = /^live_(\d+)\.ts/.exec(name);
  return m ? Number(m[1]) : undefined;
}
