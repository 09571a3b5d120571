/**
 * The design's segment producer: one FFmpeg per stream (through {@link FfmpegSupervisor}), fed FLV
 * on stdin. Every FFmpeg run starts from a primer (FLV header, metadata, sequence headers) and
 * receives live tags from the next video keyframe on, on its own timeline starting at 0. A run
 * writes segments numbered on from the last one reported, and a private playlist on its stdout
 * ({@link ProducerPlaylistReader}) from which each finished segment is learned, dated by its first
 * keyframe's arrival ({@link KeyframeClock}) and reported. The first segment of every run but the
 * stream's first starts a new timeline (`discontinuity`).
 *
 * The output is watched, not just the process: a run that stops cutting segments while fed
 * ({@link StallWatch}) is killed and restarted like a crash, FFmpeg's write errors are logged and
 * counted, and every reported segment is checked before it is listed ({@link SegmentChecker}).
 */
import type { Writable } from 'node:stream';
import {
  BufferedFlvWriter,
  FlvDropQueue,
  type FlvStreamState,
  type FlvTag,
  type KeyframeGate,
  type TagRole,
  TagType,
  TimestampRebaser,
  tagRole,
} from '@org/flv';
import type { SegmentReport } from '../hls/live-playlist';
import { LogLimiter } from '../log-limiter';
import type { Logger } from '../logger';
import { DEFAULT_FEED_BATCH_BYTES, DEFAULT_FEED_BATCH_SPAN_MS, FeedBatch } from './feed-batch';
import { buildFfmpegArgs } from './ffmpeg-args';
import { FfmpegSupervisor, type RestartPolicy, type SpawnFn, type StopPolicy } from './ffmpeg-supervisor';
import { ffmpegWriteError } from './ffmpeg-write-errors';
import { KeyframeClock } from './keyframe-clock';
import { type ProducedSegment, ProducerPlaylistReader } from './producer-playlist';
import { type Rejection, SegmentChecker, type SegmentCheckerOptions } from './segment-checker';
import type { SegmentProducer, SegmentProducerEvents } from './segment-producer';
import { DEFAULT_FFMPEG_STALL_TIMEOUT_MS, type Stall, StallWatch } from './stall-watch';

export interface FfmpegProducerOptions {
  /** The stream's directory. */
  dir: string;
  ffmpegPath: string;
  /** Target segment duration, seconds. */
  hlsTime: number;
  /** Bound of the queue in front of FFmpeg's stdin; frames beyond it are dropped until a keyframe. */
  maxQueuedBytes: number;
  events: SegmentProducerEvents;
  logger: Logger;
  restart?: RestartPolicy;
  stop?: StopPolicy;
  spawn?: SpawnFn;
  /** FFmpeg's environment; default the server's. */
  env?: NodeJS.ProcessEnv;
  /**
   * A run that has an overdue cut but reports no segment for this long while the publisher keeps
   * sending is stalled: killed and restarted like a crash (see {@link StallWatch}). 0 = never.
   * Default {@link DEFAULT_FFMPEG_STALL_TIMEOUT_MS}.
   */
  stallTimeoutMs?: number;
  /** `stat` seam of the segment check (see {@link SegmentChecker}). */
  statSegment?: SegmentCheckerOptions['stat'];
  /** Clock for arrival times and the stall timeout (ms since the epoch). Default `Date.now`. */
  now?: () => number;
}

/** One FFmpeg process: what it is fed and what it has reported. */
interface Run {
  readonly startNumber: number;
  readonly writer: BufferedFlvWriter;
  readonly batch: FeedBatch;
  readonly gate: KeyframeGate;
  readonly rebaser: TimestampRebaser;
  readonly clock: KeyframeClock;
  readonly playlist: ProducerPlaylistReader;
  readonly watch: StallWatch;
  /** FFmpeg cuts on any packet (no video), else on video keyframes only. */
  readonly cutsOnAudio: boolean;
  /** Media time of the segments reported so far, ms. */
  elapsedMs: number;
  reported: number;
}

/** Longest wait on close for queued FLV to reach FFmpeg before stdin is closed. */
const FLUSH_ON_CLOSE_MS = 2000;
/** Warnings about failed writes: one line per kind and 10 s, carrying how many were not logged. */
const WRITE_LOG_BURST = 1;

export class FfmpegProducer implements SegmentProducer {
  private readonly o: FfmpegProducerOptions;
  private readonly now: () => number;
  private supervisor: FfmpegSupervisor | undefined;
  private run: Run | undefined;
  private state: FlvStreamState | undefined;
  /** Counts open() calls, so a superseded start is skipped. */
  private generation = 0;
  /** Serialises open/close: a new FFmpeg never starts before the previous one exited. */
  private chain: Promise<void> = Promise.resolve();
  private runCount = 0;
  private nextNumber = 0;
  private reportedAny = false;
  private restartCount = 0;
  private dropCount = 0;
  /** Tags that arrive while FFmpeg starts or restarts, fed to it once it runs. */
  private pending: FlvDropQueue;
  /** Arrival of the keyframes waiting in `pending`. */
  private pendingArrivals = new WeakMap<FlvTag, number>();
  private readonly countDrop = () => {
    this.dropCount++;
    this.o.events.drop?.(1);
  };
  private readonly checker: SegmentChecker;
  private readonly writeLog = new LogLimiter(WRITE_LOG_BURST);
  private writeErrorCount = 0;
  private rejectedSinceListed = 0;

  constructor(options: FfmpegProducerOptions) {
    this.o = options;
    this.now = options.now ?? Date.now;
    this.pending = this.newPending();
    const timeout = options.stallTimeoutMs ?? DEFAULT_FFMPEG_STALL_TIMEOUT_MS;
    if (!Number.isSafeInteger(timeout) || timeout < 0) throw new RangeError('stallTimeoutMs must be an integer ≥ 0');
    this.checker = new SegmentChecker({
      dir: options.dir,
      listed: (report) => this.listed(report),
      rejected: (report, why) => this.rejected(report.name, why),
      ...(options.statSegment ? { stat: options.statSegment } : {}),
    });
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

  open(state: FlvStreamState, ready: Promise<void>): void {
    this.state = state;
    this.pending = this.newPending();
    const generation = ++this.generation;
    this.chain = this.chain
      .then(() => ready)
      .then(() => this.supervisor?.stop())
      .then(() => {
        // Reopened meanwhile: that open starts its own. (Closed meanwhile: start anyway, so what
        // the publisher sent reaches FFmpeg; the close step queued behind this one stops it.)
        if (generation === this.generation) this.startSupervisor(state);
      })
      .catch((err: unknown) => this.o.logger.error({ err }, 'cannot start ffmpeg'));
  }

  private startSupervisor(state: FlvStreamState): void {
    const log = this.o.logger;
    let next: { index: number; startNumber: number } | undefined;
    const sup = new FfmpegSupervisor({
      command: this.o.ffmpegPath,
      args: () => {
        next = { index: this.runCount++, startNumber: this.nextNumber };
        return buildFfmpegArgs({
          dir: this.o.dir,
          hlsTime: this.o.hlsTime,
          startNumber: next.startNumber,
        });
      },
      logger: log,
      ...(this.o.restart ? { restart: this.o.restart } : {}),
      ...(this.o.stop ? { stop: this.o.stop } : {}),
      ...(this.o.spawn ? { spawn: this.o.spawn } : {}),
      ...(this.o.env ? { env: this.o.env } : {}),
      // The current run's playlist: a child's stdout is all delivered before its exit ends the run.
      onStdout: (chunk) => this.run?.playlist.push(chunk),
      onStderrLine: (line) => this.stderrLine(line),
    });
    this.supervisor = sup;
    sup.on('spawn', (stdin, _run, pid) => {
      if (next === undefined) return;
      this.beginRun(stdin, state, next.startNumber);
      log.info({ pid, run: next.index, startNumber: next.startNumber }, 'ffmpeg started');
    });
    sup.on('exit', (exit) => {
      this.endRun(exit.expected);
      const fields = { pid: exit.pid, code: exit.code, signal: exit.signal, runtimeMs: exit.runtimeMs };
      if (exit.expected) log.info(fields, 'ffmpeg exited');
      else log.error({ ...fields, err: exit.error, lastOutput: exit.tail }, 'ffmpeg exited unexpectedly');
    });
    sup.on('restart', (attempt, delayMs) => {
      this.restartCount++;
      log.warn({ attempt, delayMs }, 'restarting ffmpeg');
      this.o.events.restart?.(attempt, delayMs);
    });
    sup.on('give-up', (n, last) => {
      const reason = last.error
        ? `ffmpeg cannot start: ${last.error.message}`
        : `ffmpeg crashed ${n + 1} times within the restart window`;
      log.error({ restarts: n, lastOutput: last.tail }, `${reason}; giving up on this stream`);
      this.o.events.fatal?.(reason);
    });
    sup.start();
  }

  private beginRun(stdin: Writable, state: FlvStreamState, startNumber: number): void {
    // Held tags are copied into one reused buffer (FFmpeg's stdin is a pipe: done with a chunk once
    // it calls back), so the socket buffers they came in are freed at once rather than kept alive
    // through garbage collections for as long as the batch is held.
    const writer = new BufferedFlvWriter(stdin, {
      maxQueuedBytes: this.o.maxQueuedBytes,
      onDrop: this.countDrop,
      holdBufferBytes: DEFAULT_FEED_BATCH_BYTES,
    });
    writer.writeHeader(state.headerFlags());
    for (const tag of state.primerTags(0)) writer.write(tag);
    const playlist = new ProducerPlaylistReader((segment) => this.learn(run, segment));
    const run: Run = {
      startNumber,
      writer,
      batch: new FeedBatch({
        hasVideo: state.hasVideo,
        hasAudio: state.hasAudio,
        maxBytes: DEFAULT_FEED_BATCH_BYTES,
        maxSpanMs: DEFAULT_FEED_BATCH_SPAN_MS,
      }),
      gate: state.createGate(),
      rebaser: new TimestampRebaser(),
      clock: new KeyframeClock(),
      playlist,
      watch: new StallWatch({
        hlsTimeMs: this.o.hlsTime * 1000,
        timeoutMs: this.o.stallTimeoutMs ?? DEFAULT_FFMPEG_STALL_TIMEOUT_MS,
      }),
      cutsOnAudio: !state.hasVideo,
      elapsedMs: 0,
      reported: 0,
    };
    this.run = run;
    const backlog = this.pending;
    this.pending = this.newPending();
    for (let tag = backlog.shift(); tag !== undefined; tag = backlog.shift()) {
      this.feed(run, tag, tagRole(tag), this.pendingArrivals.get(tag) ?? this.now());
    }
    this.pendingArrivals = new WeakMap();
    writer.flush();
  }

  /** FFmpeg's playlist listed `s`: reported unless it was already (the playlist repeats entries). */
  private learn(run: Run, s: ProducedSegment): void {
    if (s.number < run.startNumber + run.reported) return;
    const discontinuity = run.reported === 0 && this.reportedAny;
    const startMs = run.elapsedMs;
    const programDateTime = run.clock.arrivalAt(startMs) ?? this.now();
    run.reported = s.number - run.startNumber + 1;
    run.elapsedMs += s.duration * 1000;
    run.watch.reported(s.duration, this.now());
    this.nextNumber = s.number + 1;
    this.reportedAny = true;
    this.checker.add({ name: s.name, duration: s.duration, discontinuity, programDateTime }, s.number);
  }

  /** A reported segment passed its check. */
  private listed(report: SegmentReport): void {
    if (this.rejectedSinceListed > 0) {
      this.o.logger.info({ segment: report.name, rejected: this.rejectedSinceListed }, 'segments complete again');
      this.rejectedSinceListed = 0;
    }
    this.o.events.segment(report);
  }

  /** A reported segment failed its check: not listed, deleted; counted unless stderr already was. */
  private rejected(name: string, why: Rejection): void {
    this.rejectedSinceListed++;
    if (!why.ffmpegReported) this.countWriteErrors(1);
    const fields = { segment: name, reason: why.reason, size: why.size, rejected: this.checker.rejected };
    this.writeLog.log(this.o.logger, 'warn', 'rejected', fields, 'segment not fully written: not listed, deleted');
  }

  private countWriteErrors(n: number): void {
    this.writeErrorCount += n;
    this.o.events.writeErrors?.(n);
  }

  private stderrLine(line: string): void {
    const e = ffmpegWriteError(line);
    if (e === undefined) return;
    this.checker.writeError(e.segment);
    this.countWriteErrors(1);
    const fields = { pid: this.pid, ffmpeg: line, writeErrors: this.writeErrorCount };
    this.writeLog.log(this.o.logger, 'warn', 'ffmpeg', fields, 'ffmpeg cannot write its output');
  }

  /** Write errors seen so far: FFmpeg's error lines and segments rejected for reasons it did not print. */
  get writeErrors(): number {
    return this.writeErrorCount;
  }

  private stalled(run: Run, stall: Stall): void {
    if (run !== this.run || !this.supervisor?.killCurrent()) return;
    const pid = this.pid;
    this.o.logger.warn(
      { pid, stalledMs: stall.waitedMs, reportedMs: Math.round(stall.reportedMs), cutAtMs: stall.candidateMs },
      `ffmpeg stalled: no segment ${stall.waitedMs} ms after one was due; restarting`,
    );
    this.o.events.stall?.();
  }

  private endRun(expected: boolean): void {
    const run = this.run;
    if (!run) return;
    run.writer.close();
    this.run = undefined;
    // Its stdout is read to the end by now: what it listed as it exited is already reported.
    if (run.playlist.skipped > 0) {
      this.o.logger.warn({ skippedLines: run.playlist.skipped, expected }, 'ffmpeg playlist had unreadable lines');
    }
  }

  write(tag: FlvTag, role: TagRole): void {
    if (tag.type === TagType.Script) return; // metadata reaches FFmpeg through the primer only
    if (this.state === undefined) return; // closed: no publisher
    const arrival = this.now();
    const run = this.run;
    if (run) {
      this.feed(run, tag, role, arrival);
      return;
    }
    if (role === 'video-keyframe') this.pendingArrivals.set(tag, arrival);
    this.pending.push(tag);
  }

  private feed(run: Run, tag: FlvTag, role: TagRole, arrivalMs: number): void {
    if (!run.gate.admit(tag)) return;
    const track = tag.type === TagType.Video ? 'video' : 'audio';
    const timestamp = run.rebaser.rebase(track, tag.timestamp);
    if (role === 'video-keyframe') run.clock.note(timestamp, arrivalMs);
    const candidate = role === 'video-keyframe' || (run.cutsOnAudio && tag.type === TagType.Audio);
    const stall = run.watch.handed(candidate, timestamp, arrivalMs);
    if (stall) this.stalled(run, stall);
    const out: FlvTag = { type: tag.type, timestamp, payload: tag.payload };
    if (run.writer.hold(out) === 'dropped') return;
    if (run.batch.add(out, role)) run.writer.flush();
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

  close(): Promise<void> {
    this.state = undefined;
    // The supervisor is read when this step runs: it may be created by a start queued before it.
    const step = this.chain.then(async () => {
      await this.flushRun(FLUSH_ON_CLOSE_MS);
      await this.supervisor?.stop();
      await this.checker.idle(); // the last segments are listed before close resolves
    });
    this.chain = step.catch((err: unknown) => this.o.logger.error({ err }, 'error stopping ffmpeg'));
    return step;
  }

  killNow(): void {
    this.supervisor?.killNow();
  }
}
