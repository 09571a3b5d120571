/**
 * FfmpegProducer with the real FFmpeg: FLV in, segments out, each reported once in order with its
 * duration and the arrival of its first keyframe; a second publisher's run continues the numbering
 * and starts with a discontinuity; a killed FFmpeg is reaped and restarted; a stalled FFmpeg makes
 * frames drop within the queue bound. Watching the output: a run that stops cutting while fed
 * (SIGSTOP, or a fake FFmpeg that never reports) is killed and restarted, a long keyframe interval
 * or a pausing publisher is not a stall, and reported segments are listed only once checked, in
 * order, a failed one deleted and the next one a discontinuity.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { PassThrough, type Writable } from 'node:stream';
import { promisify } from 'node:util';
import { FlvStreamState, type FlvTag, isVideoKeyframe, TagType, tagRole, tagWireSize } from '@org/flv';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SegmentReport } from '../src/hls/live-playlist';
import { FfmpegProducer, type FfmpegProducerOptions } from '../src/output/ffmpeg-producer';
import { ffmpegWriteError } from '../src/output/ffmpeg-write-errors';
import { makeClip, poll, probeFormat, probeStreams, readFlvTags } from './helpers/media';
import { publishTags } from './helpers/publish-tags';

const root = mkdtempSync(join(tmpdir(), 'ffmpeg-producer-test-'));
const logger = pino({ level: process.env.TEST_LOG ?? 'silent' });
const BASE = 1_800_000_000_000;
let clip: FlvTag[];
const producers: FfmpegProducer[] = [];

beforeAll(async () => {
  clip = await readFlvTags(await makeClip(join(root, 'clip.flv'), { seconds: 4 }));
}, 60_000);

afterAll(async () => {
  await Promise.all(producers.map((p) => p.close()));
  await rm(root, { recursive: true, force: true });
});

interface Made {
  producer: FfmpegProducer;
  dir: string;
  reports: SegmentReport[];
  clock: { t: number };
}

function producer(
  name: string,
  extra: Partial<FfmpegProducerOptions> = {},
  events: Partial<FfmpegProducerOptions['events']> = {},
): Made {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const reports: SegmentReport[] = [];
  const clock = { t: BASE };
  const p = new FfmpegProducer({
    dir,
    ffmpegPath: 'ffmpeg',
    hlsTime: 1,
    maxQueuedBytes: 8 << 20,
    logger,
    now: () => clock.t,
    events: { segment: (r) => reports.push(r), ...events },
    ...extra,
  });
  producers.push(p);
  return { producer: p, dir, reports, clock };
}

const publish = (m: Made, tags: FlvTag[], offset = BASE) => publishTags(m, tags, offset);

const keyframeTimes = (tags: FlvTag[]) => tags.filter(isVideoKeyframe).map((t) => t.timestamp);

describe('FfmpegProducer with FFmpeg', () => {
  it('reports valid segments in order, dated by their first keyframe; the next run continues with a discontinuity', async () => {
    const m = producer('u1');
    publish(m, clip);
    await m.producer.close();
    const first = [...m.reports];
    expect(first.map((r) => r.name)).toEqual(['live_000.ts', 'live_001.ts', 'live_002.ts', 'live_003.ts']);
    expect(first.every((r) => !r.discontinuity)).toBe(true);
    const total = first.reduce((a, r) => a + r.duration, 0);
    expect(total).toBeGreaterThan(3.8);
    expect(total).toBeLessThan(4.2);
    // Each segment starts with a keyframe: its date is that keyframe's arrival.
    const keys = keyframeTimes(clip);
    for (const r of first) expect(keys.map((k) => BASE + k)).toContain(r.programDateTime);
    const seg = join(m.dir, 'live_003.ts');
    expect(await probeFormat(seg)).toBe('mpegts');
    const streams = await probeStreams(seg);
    expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({
      codec_name: 'h264',
      width: 320,
      height: 240,
    });
    expect(streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac', sample_rate: '44100' });

    // A second publisher, its timestamps starting at 0 again, 10 s later.
    const later = BASE + 10_000;
    publish(
      m,
      clip.filter((t) => t.timestamp < 2500),
      later,
    );
    await m.producer.close();
    const second = m.reports.slice(first.length);
    expect(second[0]).toMatchObject({
      name: 'live_004.ts',
      discontinuity: true,
      programDateTime: later + (keys[0] as number),
    });
    expect(second.slice(1).every((r) => !r.discontinuity)).toBe(true);
    // Nothing deleted (the server does that after availability); no private playlist left behind.
    const files = (await readdir(m.dir)).sort();
    expect(files).toEqual(m.reports.map((r) => r.name).sort());
  }, 60_000);

  it('restarts a killed FFmpeg (reaped), numbering on, with a discontinuity', async () => {
    const restarts: number[] = [];
    const m = producer('u2', { restart: { initialDelayMs: 50 } }, { restart: (n) => restarts.push(n) });
    const half = Math.floor(clip.length / 2);
    const state = publish(m, clip.slice(0, half));
    const pid = await poll(() => m.producer.pid, 5000, 20);
    await poll(() => (m.reports.length > 0 ? true : undefined), 10_000);
    process.kill(pid, 'SIGKILL');
    const newPid = await poll(
      () => (m.producer.pid !== undefined && m.producer.pid !== pid ? m.producer.pid : undefined),
      5000,
      20,
    );
    expect(existsSync(`/proc/${pid}`)).toBe(false); // reaped, no zombie
    expect(newPid).not.toBe(pid);
    expect(restarts).toEqual([1]);
    expect(m.producer.restarts).toBe(1);
    const before = m.reports.length;
    // The restarted FFmpeg gets the primer from the cached state, then media from a keyframe.
    for (const tag of clip.slice(half)) m.producer.write(tag, state.observe(tag));
    await m.producer.close();
    const after = m.reports.slice(before);
    expect(after.length).toBeGreaterThan(0);
    expect(after[0]?.discontinuity).toBe(true);
    const numbers = m.reports.map((r) => Number(/\d+/.exec(r.name)?.[0]));
    for (let i = 1; i < numbers.length; i++) expect(numbers[i]).toBeGreaterThan(numbers[i - 1] as number);
    const seg = join(m.dir, m.reports.at(-1)?.name as string);
    expect((await probeStreams(seg)).map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
  }, 60_000);

  it('reports a fatal failure once FFmpeg crashed more often than the restart limit', async () => {
    const crashing = join(root, 'crashing-ffmpeg.sh');
    writeFileSync(crashing, '#!/bin/sh\necho "Invalid data found when processing input" >&2\nexit 1\n');
    chmodSync(crashing, 0o755);
    const restarts: number[] = [];
    const fatal = new Promise<string>((resolve) => {
      const m = producer(
        'u4',
        { ffmpegPath: crashing, restart: { maxRestarts: 2, initialDelayMs: 20, maxDelayMs: 40 } },
        { restart: (n) => restarts.push(n), fatal: resolve },
      );
      publish(m, clip.slice(0, 20));
    });
    expect(await fatal).toMatch(/crashed 3 times/);
    expect(restarts).toEqual([1, 2]);
  }, 30_000);

  it('hands FFmpeg held tags in few writes, and everything up to a keyframe at once', async () => {
    // The child is `cat` (spawn seam) and its stdin is spied on: every write that reaches the pipe.
    let written = 0;
    let writes = 0;
    const { producer: o } = producer('u5', {
      stop: { stdinGraceMs: 500, termGraceMs: 500 },
      spawn: (_cmd, _args, opts) => {
        const child = spawn('cat', [], opts);
        type WriteFn = (chunk: Uint8Array, enc: BufferEncoding, cb: () => void) => void;
        type WritevFn = (chunks: { chunk: Uint8Array }[], cb: () => void) => void;
        const stdin = child.stdin as Writable & { _write: WriteFn; _writev: WritevFn };
        const w = stdin._write.bind(stdin);
        const wv = stdin._writev.bind(stdin);
        stdin._write = (chunk: Uint8Array, enc: BufferEncoding, cb: () => void) => {
          writes++;
          written += chunk.length;
          return w(chunk, enc, cb);
        };
        stdin._writev = (chunks: { chunk: Uint8Array }[], cb: () => void) => {
          writes++;
          for (const c of chunks) written += c.chunk.length;
          return wv(chunks, cb);
        };
        return child;
      },
    });
    const state = new FlvStreamState();
    const media: FlvTag[] = [];
    for (const tag of clip) {
      const role = state.observe(tag);
      if (role !== 'metadata' && role !== 'video-config' && role !== 'audio-config') media.push(tag);
    }
    o.open(state, Promise.resolve());
    await poll(() => (written > 0 ? true : undefined), 5000, 10); // header and primer
    const keyframes = media.flatMap((t, i) => (isVideoKeyframe(t) ? [i] : []));
    expect(keyframes.length).toBeGreaterThanOrEqual(2);
    const [first, second] = keyframes as [number, number];
    const tick = () => new Promise((r) => setImmediate(r));
    const primer = written;
    const wire = (tags: FlvTag[]) => tags.reduce((n, t) => n + tagWireSize(t), 0);

    for (const tag of media.slice(0, second + 1)) o.write(tag, tagRole(tag));
    await tick();
    // Everything up to and including the keyframe went out in that same tick (before the first
    // keyframe, FFmpeg gets nothing: it could not decode it).
    expect(written - primer).toBe(wire(media.slice(first, second + 1)));
    expect(writes).toBeLessThan((second + 1) / 4);
    // The next inter frame is held (the audio frame releasing the keyframe would go at once).
    const next = media.slice(second + 1).find((t) => t.type === 9) as FlvTag;
    const before = written;
    o.write(next, tagRole(next));
    await tick();
    expect(written).toBe(before);
    await o.close(); // flushes what is held
    expect(written - primer).toBe(wire(media.slice(first, second + 1)) + tagWireSize(next));
  }, 30_000);

  it('drops frames until a keyframe when FFmpeg does not read, within the queue bound', async () => {
    const stalled = join(root, 'stalled-ffmpeg.sh');
    writeFileSync(stalled, '#!/bin/sh\nexec sleep 30\n');
    chmodSync(stalled, 0o755);
    let drops = 0;
    const m = producer(
      'u3',
      // Stall detection off: this is about the queue bound, not about restarting the stalled child.
      {
        ffmpegPath: stalled,
        maxQueuedBytes: 64 * 1024,
        stop: { stdinGraceMs: 100, termGraceMs: 500 },
        stallTimeoutMs: 0,
      },
      {
        drop: (n) => {
          drops += n;
        },
      },
    );
    const o = m.producer;
    const start = Date.now();
    // Four times the clip (~600 kB) into a pipe (64 kB) + stdin buffer + a 64 kB queue.
    for (let i = 0; i < 4; i++) publish(m, clip);
    expect(Date.now() - start).toBeLessThan(2000); // never blocks the caller
    expect(drops).toBeGreaterThan(0);
    expect(o.droppedFrames).toBe(drops);
    const pid = o.pid as number;
    await o.close();
    expect(existsSync(`/proc/${pid}`)).toBe(false);
  }, 30_000);
});

// ---- watching the output ------------------------------------------------------------------------

/** Loop period of the 4 s clip: its keyframes are at 0, 1, 2, 3 s. */
const LOOP_MS = 4000;

/** The clip looped `loops` times into one timeline (metadata and sequence headers only at the start). */
function looped(tags: FlvTag[], loops: number): FlvTag[] {
  const out: FlvTag[] = [];
  const first = new FlvStreamState();
  for (const t of tags) if (first.observe(t) !== 'metadata') out.push(t);
  const media = out.filter((t) => !['video-config', 'audio-config'].includes(tagRole(t)));
  for (let k = 1; k < loops; k++) for (const t of media) out.push({ ...t, timestamp: t.timestamp + k * LOOP_MS });
  return out;
}

/** A publisher fed in steps: `until(ms)` sends the tags before `ms`, arriving at `offset + ts`. */
class Feeder {
  readonly state = new FlvStreamState();
  private i = 0;
  private opened = false;
  offset = BASE;

  constructor(
    private readonly m: Made,
    private readonly tags: FlvTag[],
  ) {}

  /** Sends the first tags and waits for FFmpeg to run (tags sent meanwhile reach it as a backlog). */
  async started(): Promise<void> {
    this.until(40);
    await poll(() => this.m.producer.pid, 5000, 5);
  }

  until(ms: number): void {
    for (; this.i < this.tags.length && (this.tags[this.i] as FlvTag).timestamp < ms; this.i++) {
      const tag = this.tags[this.i] as FlvTag;
      const role = this.state.observe(tag);
      if (!this.opened && role !== 'video-config' && role !== 'audio-config') {
        this.m.producer.open(this.state, Promise.resolve());
        this.opened = true;
      }
      this.m.clock.t = this.offset + tag.timestamp;
      if (this.opened) this.m.producer.write(tag, role);
    }
  }
}

/**
 * An in-process FFmpeg for the spawn seam: reads and discards stdin, exits on its end or on a
 * signal, and prints exactly what the test makes it print, when it says.
 */
class FakeFfmpeg extends EventEmitter {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly signals: string[] = [];
  private gone = false;

  constructor(readonly pid: number) {
    super();
    this.stdin.resume();
    this.stdin.on('end', () => this.exit(0, null));
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    this.signals.push(signal);
    setImmediate(() => this.exit(null, signal));
    return true;
  }

  /** FFmpeg's private playlist after cutting segment `n`. */
  segment(n: number, duration = 1): void {
    this.stdout.write(`#EXTM3U\n#EXTINF:${duration.toFixed(6)},\nlive_${String(n).padStart(3, '0')}.ts\n`);
  }

  say(line: string): void {
    this.stderr.write(`${line}\n`);
  }

  private exit(code: number | null, signal: string | null): void {
    if (this.gone) return;
    this.gone = true;
    this.stdout.end();
    this.stderr.end();
    setImmediate(() => this.emit('close', code, signal));
  }
}

interface Watched extends Made {
  fakes: FakeFfmpeg[];
  stalls: number;
  writeErrors: number;
  restarts: number[];
  logs: Record<string, unknown>[];
}

let nextFakePid = 4_000_000;

/** A producer whose FFmpegs are {@link FakeFfmpeg}s (or real, with `real`), its events and log lines collected. */
function watched(name: string, extra: Partial<FfmpegProducerOptions> = {}, real = false): Watched {
  const logs: Record<string, unknown>[] = [];
  const fakes: FakeFfmpeg[] = [];
  const w = { fakes, stalls: 0, writeErrors: 0, restarts: [] as number[], logs } as Watched;
  const made = producer(
    name,
    {
      logger: pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) }),
      restart: { initialDelayMs: 20, maxDelayMs: 20 },
      stop: { stdinGraceMs: 2000, termGraceMs: 500 },
      ...(real
        ? {}
        : {
            spawn: () => {
              const f = new FakeFfmpeg(nextFakePid++);
              fakes.push(f);
              return f as unknown as ChildProcess;
            },
          }),
      ...extra,
    },
    {
      stall: () => {
        w.stalls++;
      },
      writeErrors: (n) => {
        w.writeErrors += n;
      },
      restart: (n) => w.restarts.push(n),
    },
  );
  return Object.assign(w, made);
}

const tick = () => new Promise((r) => setImmediate(r));
const warnings = (w: Watched, msg: RegExp) => w.logs.filter((l) => l.level === 40 && msg.test(String(l.msg)));

describe('FfmpegProducer stall detection', () => {
  it('kills and restarts a run that reports nothing once a cut is overdue (5 s of publishing)', async () => {
    const w = watched('s1');
    const f = new Feeder(w, looped(clip, 3));
    await f.started();
    let stalledAt: number | undefined;
    const check = () => {
      if (w.stalls > 0 && stalledAt === undefined) stalledAt = w.clock.t - BASE;
    };
    for (let ms = 100; ms <= 9000; ms += 20) {
      f.until(ms);
      check();
    }
    // Due from 1.1 s (nothing reported + hls_time); the keyframe at 2 s is the first overdue one;
    // 5 s of publishing later it is a stall.
    expect(stalledAt).toBeGreaterThanOrEqual(7000);
    expect(stalledAt).toBeLessThan(7100);
    expect(w.stalls).toBe(1); // once, although tags kept coming until the exit
    const first = w.fakes[0] as FakeFfmpeg;
    expect(first.signals).toEqual(['SIGKILL']);
    await poll(() => (w.fakes.length === 2 ? true : undefined), 5000, 10);
    expect(w.restarts).toEqual([1]);
    expect(w.producer.restarts).toBe(1);
    const [line] = warnings(w, /^ffmpeg stalled/);
    expect(line).toMatchObject({ pid: first.pid, stalledMs: 5000 });
    expect(String(line?.msg)).toMatch(/restarting$/);
  });

  it('a publisher that pauses does not count its silence (a gap counts at most 1 s)', async () => {
    const w = watched('s2');
    const f = new Feeder(w, looped(clip, 3));
    await f.started();
    f.until(3000); // armed by the keyframe at 2 s: 1 s counted
    f.offset += 60_000; // a minute of network trouble
    f.until(5500); // + 1 s for the gap, + 2.5 s
    expect(w.stalls).toBe(0);
    let stalledAt: number | undefined;
    for (let ms = 5500; ms <= 7000 && stalledAt === undefined; ms += 20) {
      f.until(ms);
      if (w.stalls > 0) stalledAt = w.clock.t - f.offset;
    }
    expect(stalledAt).toBeGreaterThanOrEqual(6000);
    expect(stalledAt).toBeLessThan(6100);
  });

  it('a run that reports its segments is never a stall; 0 turns detection off', async () => {
    const healthy = watched('s3');
    const f = new Feeder(healthy, looped(clip, 5));
    await f.started();
    const fake = healthy.fakes[0] as FakeFfmpeg;
    for (let k = 1; k < 20; k++) {
      f.until(k * 1000 + 1); // up to and including the keyframe at k s, which cuts segment k - 1
      fake.segment(k - 1);
      await tick();
      await tick();
    }
    expect(healthy.reports).toHaveLength(0); // the fake writes no files: every one was rejected
    expect(healthy.stalls).toBe(0);
    const off = watched('s4', { stallTimeoutMs: 0 });
    const g = new Feeder(off, looped(clip, 5));
    await g.started();
    g.until(20_000);
    expect(off.stalls).toBe(0);
    expect(off.fakes).toHaveLength(1);
  });

  it('audio only: any audio frame past the due time arms it', async () => {
    const w = watched('s5');
    const audio = looped(clip, 3).filter((t) => t.type === TagType.Audio);
    const f = new Feeder(w, audio);
    await f.started();
    let stalledAt: number | undefined;
    for (let ms = 100; ms <= 8000 && stalledAt === undefined; ms += 20) {
      f.until(ms);
      if (w.stalls > 0) stalledAt = w.clock.t - BASE;
    }
    expect(f.state.hasVideo).toBe(false);
    expect(stalledAt).toBeGreaterThanOrEqual(6100);
    expect(stalledAt).toBeLessThan(6200);
  });

  it('with FFmpeg: a SIGSTOPped run is killed (reaped), restarted, and the next run starts a discontinuity', async () => {
    const w = watched('s6', {}, true);
    const f = new Feeder(w, looped(clip, 4));
    await f.started();
    f.until(2100);
    await poll(() => (w.reports.length >= 2 ? true : undefined), 10_000); // live_000, live_001
    const pid = w.producer.pid as number;
    process.kill(pid, 'SIGSTOP');
    for (let ms = 2100; ms <= 9500 && w.stalls === 0; ms += 20) f.until(ms);
    expect(w.stalls).toBe(1);
    expect(warnings(w, /^ffmpeg stalled/)[0]).toMatchObject({ pid });
    const newPid = await poll(
      () => (w.producer.pid !== undefined && w.producer.pid !== pid ? w.producer.pid : undefined),
      5000,
      20,
    );
    expect(newPid).not.toBe(pid);
    expect(existsSync(`/proc/${pid}`)).toBe(false); // SIGKILL ends a stopped process; reaped
    expect(w.restarts).toEqual([1]);
    const before = w.reports.length;
    f.until(LOOP_MS * 4);
    await w.producer.close();
    const after = w.reports.slice(before);
    expect(after.length).toBeGreaterThan(0);
    expect(after[0]?.discontinuity).toBe(true);
    expect(w.stalls).toBe(1);
  }, 60_000);

  it('with FFmpeg: a 10 s keyframe interval with 1 s hls_time gives 10 s segments, no stall', async () => {
    const path = join(root, 'gop10.flv');
    await promisify(execFile)('ffmpeg', [
      ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25'],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', '12.5'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '250', '-keyint_min', '250', '-sc_threshold', '0'],
      ...['-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '32k', '-f', 'flv', path],
    ]);
    const tags = await readFlvTags(path);
    const keys = keyframeTimes(tags);
    expect(keys).toHaveLength(2);
    expect((keys[1] as number) - (keys[0] as number)).toBe(10_000);
    const w = watched('s7', {}, true);
    const f = new Feeder(w, tags);
    await f.started();
    f.until((keys[1] as number) + 100); // 10 s of publishing before the first cut: no overdue keyframe before it
    await poll(() => (w.reports.length >= 1 ? true : undefined), 10_000);
    f.until(13_000);
    await w.producer.close();
    expect(w.stalls).toBe(0);
    expect(w.restarts).toEqual([]);
    expect(w.reports[0]?.duration).toBeCloseTo(10, 0);
  }, 60_000);
});

describe('FfmpegProducer segment checks', () => {
  /** Stats of the named segments wait until released; the others go through at once. */
  function gatedStat(held: Set<string>) {
    const waiting = new Map<string, () => void>();
    /** Names whose stat has completed (resolved or failed). */
    const done = new Set<string>();
    const statSegment = async (path: string) => {
      const name = basename(path);
      if (held.has(name)) await new Promise<void>((resolve) => waiting.set(name, resolve));
      try {
        return await stat(path);
      } finally {
        done.add(name);
      }
    };
    const release = async (name: string) => {
      await poll(() => waiting.get(name), 5000, 5);
      waiting.get(name)?.();
    };
    const statted = (...ns: string[]) => poll(() => (ns.every((n) => done.has(n)) ? true : undefined), 5000, 5);
    return { statSegment, release, statted, started: (name: string) => waiting.has(name) };
  }
  const TS = 188;
  const file = (dir: string, n: number, size: number) =>
    writeFileSync(join(dir, `live_${String(n).padStart(3, '0')}.ts`), Buffer.alloc(size, 0x47));
  const names = (w: Watched) => w.reports.map((r) => r.name);
  /** Polls until `w` has listed `n` segments (thread-pool round trips take their time on a loaded machine). */
  const listed = (w: Watched, n: number) => poll(() => (w.reports.length >= n ? true : undefined), 5000, 5);
  const errorsSeen = (w: Watched, n: number) => poll(() => (w.writeErrors >= n ? true : undefined), 5000, 5);
  const gone = (dir: string, name: string) => poll(() => (existsSync(join(dir, name)) ? undefined : true), 2000, 5);
  const settle = async () => {
    for (let i = 0; i < 10; i++) await tick();
  };

  it('lists in report order once checked; a bad segment is deleted and the next good one is a discontinuity', async () => {
    const held = new Set(['live_000.ts', 'live_005.ts', 'live_009.ts']);
    const gate = gatedStat(held);
    const w = watched('c1', { statSegment: gate.statSegment });
    const f = new Feeder(w, looped(clip, 1));
    await f.started();
    const fake = w.fakes[0] as FakeFfmpeg;
    file(w.dir, 0, 3 * TS);
    file(w.dir, 1, 2 * TS);
    file(w.dir, 2, 0); // empty: a full disk
    file(w.dir, 3, 4 * TS + 100); // cut off mid-packet
    file(w.dir, 4, 2 * TS);
    for (let n = 0; n <= 4; n++) fake.segment(n);
    await gate.statted('live_001.ts', 'live_002.ts', 'live_003.ts', 'live_004.ts');
    await settle();
    expect(names(w)).toEqual([]); // live_000's check is still running: nothing after it either
    await gate.release('live_000.ts');
    await listed(w, 3);
    expect(names(w)).toEqual(['live_000.ts', 'live_001.ts', 'live_004.ts']);
    expect(w.reports.map((r) => r.discontinuity)).toEqual([false, false, true]);
    await gone(w.dir, 'live_002.ts'); // space given back
    await gone(w.dir, 'live_003.ts');
    expect(w.writeErrors).toBe(2);

    // stdout lists live_005 first; the error naming it comes on stderr after, but before its check ends.
    file(w.dir, 5, 2 * TS);
    fake.segment(5);
    await poll(() => (gate.started('live_005.ts') ? true : undefined), 5000, 5);
    fake.say(`[hls @ 0x1c0ffee] [error] Failed to open file '${w.dir}/live_005.ts.tmp'`);
    await errorsSeen(w, 3);
    await gate.release('live_005.ts');
    await gate.statted('live_005.ts');
    await settle();
    // An error naming no segment is charged to the next check that ends after it.
    fake.say('[error] av_interleaved_write_frame(): No space left on device');
    await errorsSeen(w, 4);
    file(w.dir, 6, 2 * TS);
    fake.segment(6);
    fake.segment(7); // FFmpeg listed it, but the file is not there
    file(w.dir, 8, 5 * TS);
    fake.segment(8);
    await listed(w, 4);
    expect(names(w)).toEqual(['live_000.ts', 'live_001.ts', 'live_004.ts', 'live_008.ts']);
    expect(w.reports.at(-1)?.discontinuity).toBe(true);
    await gone(w.dir, 'live_005.ts');
    await gone(w.dir, 'live_006.ts');
    expect(existsSync(join(w.dir, 'live_008.ts'))).toBe(true);
    // Counted once each: the two stderr lines, and live_002, live_003, live_007 that FFmpeg did not report.
    expect(w.writeErrors).toBe(5);
    // Bounded log: one warning per kind (the limiter's window is 10 s), then "complete again".
    expect(warnings(w, /^segment not fully written/)).toHaveLength(1);
    expect(warnings(w, /^ffmpeg cannot write/)).toHaveLength(1);
    expect(warnings(w, /^segment not fully written/)[0]).toMatchObject({ segment: 'live_002.ts', reason: 'empty' });
    expect(w.logs.filter((l) => l.msg === 'segments complete again').map((l) => l.segment)).toEqual([
      'live_004.ts',
      'live_008.ts',
    ]);

    // close() resolves only once the last reported segment has been listed.
    file(w.dir, 9, 2 * TS);
    fake.segment(9);
    let closed = false;
    const closing = w.producer.close().then(() => {
      closed = true;
    });
    await settle();
    expect(closed).toBe(false);
    await gate.release('live_009.ts');
    await closing;
    expect(names(w).at(-1)).toBe('live_009.ts');
  });

  it('with FFmpeg and no seam: every segment costs one stat and is listed whole (happy path)', async () => {
    let stats = 0;
    const counted = (path: string) => {
      stats++;
      return stat(path);
    };
    const w = watched('c2', { statSegment: counted }, true);
    const f = new Feeder(w, looped(clip, 1));
    await f.started();
    f.until(LOOP_MS);
    await w.producer.close();
    expect(names(w)).toEqual(['live_000.ts', 'live_001.ts', 'live_002.ts', 'live_003.ts']);
    expect(stats).toBe(4);
    for (const name of names(w)) expect(readFileSync(join(w.dir, name)).length % TS).toBe(0);
    expect(w.writeErrors).toBe(0);
    expect(warnings(w, /./)).toEqual([]);
  }, 30_000);
});

describe('ffmpegWriteError', () => {
  // Lines FFmpeg 5.1 (the lean build and Debian's) printed with the server's argv, and look-alikes.
  it.each([
    ["[hls @ 0x184a3c80] [error] Failed to open file '/srv/u/live_003.ts.tmp'", 3],
    ['[error] av_interleaved_write_frame(): Read-only file system', undefined],
    [
      '[hls @ 0x184a3c80] [error] failed to rename file /srv/u/live_012.ts.tmp to /srv/u/live_012.ts: Read-only file system',
      12,
    ],
    ['[error] av_interleaved_write_frame(): No space left on device', undefined],
    ["[hls @ 0x1] [error] Failed to open file '/srv/u/live_1000.ts'", 1000],
    ['[error] Error writing trailer of pipe:1: Disk quota exceeded', undefined],
    ['[mpegts @ 0x1] [error] Input/output error', undefined],
  ])('%s is a write error (segment %s)', (line, segment) => {
    expect(ffmpegWriteError(line)).toEqual({ segment });
  });

  it.each([
    '[hls @ 0x192aec80] [error] Cannot use rename on non file protocol, this may lead to races and temporary partial files',
    '[flv @ 0x1] [warning] Non-monotonous DTS in output stream 0:1',
    '[hls @ 0x1] [warning] Duplicated segment filename detected: /srv/u/live_003.ts',
  ])('%s is not', (line) => {
    expect(ffmpegWriteError(line)).toBeUndefined();
  });
});
