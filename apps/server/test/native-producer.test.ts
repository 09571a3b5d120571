/**
 * The native producer (@org/hls in the server) fed real FLV tags from clips FFmpeg encodes here
 * (H.264 with B-frames + AAC; audio only): segments cut at 1 s keyframes land on disk whole and
 * are reported in order with their arrival time; ffprobe reads each with both streams, and FFmpeg
 * decodes the concatenation without an error; a second publisher continues the numbering behind
 * a discontinuity; a frame the muxer refuses is dropped and counted, and the stream goes on; a
 * segment that cannot be written is not reported.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FlvTag } from '@org/flv';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SegmentReport } from '../src/hls/live-playlist';
import { NativeProducer } from '../src/output/native-producer';
import { probeStreams, readFlvTags } from './helpers/media';
import { publishTags } from './helpers/publish-tags';

const run = promisify(execFile);
const logger = pino({ level: process.env.TEST_LOG ?? 'silent' });
let root: string;
let av: FlvTag[];
let audioOnly: FlvTag[];

async function encode(path: string, args: string[]): Promise<FlvTag[]> {
  await run('ffmpeg', ['-v', 'error', '-y', ...args, '-f', 'flv', path], { timeout: 60_000 });
  return readFlvTags(path);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'native-producer-'));
  av = await encode(join(root, 'av.flv'), [
    ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440'],
    ...['-t', '4.2', '-c:v', 'libx264', '-preset', 'veryfast', '-bf', '2', '-g', '25', '-pix_fmt', 'yuv420p'],
    ...['-c:a', 'aac', '-b:a', '64k'],
  ]);
  audioOnly = await encode(join(root, 'a.flv'), [
    ...['-f', 'lavfi', '-i', 'sine=frequency=660', '-t', '3.1', '-c:a', 'aac'],
  ]);
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

interface Made {
  producer: NativeProducer;
  dir: string;
  reports: SegmentReport[];
  clock: { t: number };
  writeErrors: number[];
}

async function producer(name: string): Promise<Made> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  const reports: SegmentReport[] = [];
  const writeErrors: number[] = [];
  const clock = { t: 0 };
  const p = new NativeProducer({
    dir,
    hlsTime: 1,
    maxQueuedBytes: 16 << 20,
    logger,
    now: () => clock.t,
    events: { segment: (r) => reports.push(r), writeErrors: (n) => writeErrors.push(n) },
  });
  return { producer: p, dir, reports, clock, writeErrors };
}

const publish = publishTags;

const firstKeyframeTimes = (tags: FlvTag[]) =>
  tags.filter((t) => t.type === 9 && t.payload[0]! >> 4 === 1 && t.payload[1] === 1).map((t) => t.timestamp);

describe('NativeProducer', () => {
  it('cuts at 1 s keyframes, writes whole segments, reports them in order dated by arrival', async () => {
    const m = await producer('av');
    publish(m, av, 1_000_000);
    await m.producer.close();
    expect(m.reports.map((r) => r.name)).toEqual([
      'live_000.ts',
      'live_001.ts',
      'live_002.ts',
      'live_003.ts',
      'live_004.ts',
    ]);
    expect(m.reports.every((r) => !r.discontinuity)).toBe(true);
    for (const r of m.reports.slice(0, 4)) expect(r.duration).toBeCloseTo(1, 2);
    // Each is dated by the arrival of its first frame: the keyframe that opened it.
    const keys = firstKeyframeTimes(av);
    expect(m.reports.map((r) => r.programDateTime)).toEqual(keys.slice(0, 5).map((k) => 1_000_000 + k));
    expect((await readdir(m.dir)).sort()).toEqual(m.reports.map((r) => r.name));
    for (const r of m.reports) {
      const streams = await probeStreams(join(m.dir, r.name));
      expect(streams.map((s) => s.codec_name).sort(), r.name).toEqual(['aac', 'h264']);
    }
    const all = Buffer.concat(await Promise.all(m.reports.map((r) => readFile(join(m.dir, r.name)))));
    await writeFile(join(root, 'av-all.ts'), all);
    const { stderr } = await run('ffmpeg', ['-v', 'error', '-i', join(root, 'av-all.ts'), '-f', 'null', '-']);
    expect(stderr).toBe('');
    const { stdout } = await run('ffprobe', [
      ...['-v', 'error', '-select_streams', 'v', '-count_frames', '-show_entries', 'stream=nb_read_frames'],
      ...['-of', 'csv=p=0', join(root, 'av-all.ts')],
    ]);
    expect(Number(stdout.trim().split('\n')[0])).toBe(av.filter((t) => t.type === 9 && t.payload[1] === 1).length);
  }, 60_000);

  it('a second publisher continues the numbering behind a discontinuity', async () => {
    const m = await producer('two');
    publish(
      m,
      av.filter((t) => t.timestamp < 2100),
      0,
    );
    publish(m, av, 10_000);
    await m.producer.close();
    const names = m.reports.map((r) => r.name);
    expect(names.slice(0, 4)).toEqual(['live_000.ts', 'live_001.ts', 'live_002.ts', 'live_003.ts']);
    const second = m.reports.findIndex((r) => r.programDateTime >= 10_000);
    expect(second).toBe(3);
    expect(m.reports.map((r) => r.discontinuity)).toEqual(m.reports.map((_, i) => i === second));
    // The break in the TS itself: the new run's first packets carry the discontinuity indicator.
    const seg = await readFile(join(m.dir, names[second]!));
    const flagged = [];
    for (let o = 0; o + 188 <= seg.length; o += 188) {
      if ((seg[o + 3]! & 0x20) !== 0 && seg[o + 4]! > 0 && (seg[o + 5]! & 0x80) !== 0) flagged.push(o / 188);
    }
    expect(flagged.length).toBeGreaterThan(0);
  }, 30_000);

  it('packages audio-only streams, cutting at the first frame past the target', async () => {
    const m = await producer('audio');
    publish(m, audioOnly, 0);
    await m.producer.close();
    expect(m.reports.length).toBe(4);
    for (const r of m.reports.slice(0, 3)) expect(r.duration).toBeGreaterThanOrEqual(1);
    const streams = await probeStreams(join(m.dir, 'live_000.ts'));
    expect(streams.map((s) => s.codec_name)).toEqual(['aac']);
  }, 30_000);

  it('drops and counts a frame the muxer refuses; the stream goes on', async () => {
    const m = await producer('bad');
    let mangled = 0;
    publish(m, av, 0, (tag) => {
      // One inter frame whose NAL unit length runs past its payload.
      if (mangled > 0 || tag.type !== 9 || tag.timestamp < 1500 || tag.payload[1] !== 1) return tag;
      mangled++;
      const p = new Uint8Array(tag.payload);
      p.set([0x7f, 0xff, 0xff, 0xff], 5);
      return { ...tag, payload: p };
    });
    await m.producer.close();
    expect(mangled).toBe(1);
    expect(m.producer.droppedFrames).toBe(1);
    expect(m.reports.length).toBe(5);
  }, 30_000);

  it('does not report a segment it could not write', async () => {
    const m = await producer('gone');
    await rm(m.dir, { recursive: true });
    publish(
      m,
      av.filter((t) => t.timestamp < 1500),
      0,
    );
    await m.producer.close();
    expect(m.reports).toEqual([]);
    expect(m.writeErrors.reduce((a, b) => a + b, 0)).toBe(2);
    expect(m.producer.writeErrors).toBe(2);
  }, 30_000);
});
