/**
 * FfmpegProducer with the real FFmpeg: FLV in, segments out, each reported once in order with its
 * duration and the arrival of its first keyframe; a second publisher's run continues the numbering
 * and starts with a discontinuity; a killed FFmpeg is reaped and restarted; a stalled FFmpeg makes
 * frames drop within the queue bound.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { FlvStreamState, type FlvTag, isVideoKeyframe, tagRole, tagWireSize } from '@org/flv';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SegmentReport } from '../src/hls/live-playlist';
import { FfmpegProducer, type FfmpegProducerOptions } from '../src/output/ffmpeg-producer';
import { makeClip, poll, probeFormat, probeStreams, readFlvTags } from './helpers/media';

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

/**
 * Plays tags into the producer like a publisher whose message with timestamp `ts` arrives at
 * `offset + ts` on the producer's clock: state observes everything, the producer gets media.
 */
function publish(m: Made, tags: FlvTag[], offset = BASE) {
  const state = new FlvStreamState();
  let opened = false;
  for (const tag of tags) {
    const role = state.observe(tag);
    if (role === 'metadata') continue;
    if (!opened && role !== 'video-config' && role !== 'audio-config') {
      m.producer.open(state, Promise.resolve());
      opened = true;
    }
    m.clock.t = offset + tag.timestamp;
    if (opened) m.producer.write(tag, role);
  }
  return state;
}

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
      { ffmpegPath: stalled, maxQueuedBytes: 64 * 1024, stop: { stdinGraceMs: 100, termGraceMs: 500 } },
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
