/**
 * Independent validation: FFmpeg encodes an FLV (H.264 with B-frames, AAC), @org/flv reads it, our
 * segmenter muxes it, and ffprobe / ffmpeg read every segment back: codecs, packet counts, PTS/DTS
 * equal to the input's (×90, mod 2^33), clean decoding. Also across the 33-bit wrap.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { msToTicks, TIMESTAMP_MODULUS, wrapTicks } from '../src/index';
import { encodeFlvInputs, type FlvInput } from './helpers/flv-input';
import { ffprobe, H264, type ProbePacket, run, sine, tempDir, testsrc } from './helpers/media';
import { type MuxedSegment, segment } from './helpers/segments';

let dir: string;
let remove: () => Promise<void>;
let inputs: FlvInput[];

beforeAll(async () => {
  ({ dir, remove } = await tempDir());
  inputs = await encodeFlvInputs(join(dir, 'in.flv'), [
    ...testsrc('320x240', 25),
    ...sine(44100),
    '-t',
    '4',
    ...H264,
    '-bf',
    '2',
    '-g',
    '25',
    '-c:a',
    'aac',
    '-b:a',
    '64k',
  ]);
}, 60_000);

afterAll(() => remove?.());

interface Expected {
  pts: number;
  dts: number;
}

function expected(input: FlvInput): Expected | undefined {
  if (input.kind === 'video') return { pts: msToTicks(input.dts + (input.cts ?? 0)), dts: msToTicks(input.dts) };
  if (input.kind === 'audio') return { pts: msToTicks(input.pts), dts: msToTicks(input.pts) };
  return undefined;
}

/** Probes `seg`, checks it against its inputs, decodes it; returns its packets. */
async function check(seg: MuxedSegment, name: string): Promise<ProbePacket[]> {
  const path = join(dir, name);
  await writeFile(path, seg.bytes);
  const probe = await ffprobe(path, ['-show_packets', '-show_streams']);
  const codecs = (probe.streams ?? []).map((s) => s.codec_name).sort();
  expect(codecs).toEqual(['aac', 'h264']);
  const packets = probe.packets ?? [];
  for (const kind of ['video', 'audio'] as const) {
    const want = seg.inputs.filter((i) => i.kind === kind).map(expected);
    const got = packets
      .filter((p) => p.codec_type === kind)
      .map((p) => ({ pts: wrapTicks(p.pts ?? -1), dts: wrapTicks(p.dts ?? -1) }));
    expect(got, `${name} ${kind} timestamps`).toEqual(want);
  }
  const decode = await run('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-i', path, '-f', 'null', '-']);
  expect(decode.code).toBe(0);
  expect(decode.stderr, `${name} decodes clean`).toBe('');
  return packets;
}

describe('H.264 (B-frames) + AAC from FFmpeg → TS segments → ffprobe', () => {
  it('cuts 1 s segments at keyframes; packets, timestamps and decoding match the input', async () => {
    const segments = segment(inputs, { video: 'h264', audio: 'aac' });
    expect(segments.length).toBe(4);
    const frames = inputs.filter((i) => i.kind === 'video' || i.kind === 'audio');
    expect(frames.some((f) => f.kind === 'video' && (f.cts ?? 0) > 0)).toBe(true); // B-frames present
    let packets = 0;
    for (const [i, seg] of segments.entries()) {
      expect(seg.info.sequence).toBe(i);
      expect(seg.info.independent).toBe(true);
      expect(seg.bytes.length % 188).toBe(0);
      expect(seg.info.bytes).toBe(seg.bytes.length);
      expect(seg.info.duration).toBeCloseTo(1, 1);
      packets += (await check(seg, `seg${i}.ts`)).length;
    }
    expect(packets).toBe(frames.length);
  }, 60_000);

  it('stays exact across the 33-bit wrap (timestamps near 2^33 / 90 ms)', async () => {
    const wrapMs = TIMESTAMP_MODULUS / 90; // 95,443,717.7 ms ≈ 26.5 h
    const offset = Math.floor(wrapMs) - 1500; // the wrap falls in the second segment
    const shifted = inputs.map((i) =>
      i.kind === 'video' ? { ...i, dts: i.dts + offset } : i.kind === 'audio' ? { ...i, pts: i.pts + offset } : i,
    );
    const segments = segment(shifted, { video: 'h264', audio: 'aac' });
    expect(segments.length).toBe(4);
    let packets = 0;
    let wrapped = false;
    for (const [i, seg] of segments.entries()) {
      expect(seg.info.duration).toBeCloseTo(1, 1); // durations are wrap-aware
      const got = await check(seg, `wrap${i}.ts`);
      if (got.some((p) => wrapTicks(p.dts ?? 0) < 90_000 * 3)) wrapped = true;
      packets += got.length;
    }
    expect(wrapped).toBe(true);
    expect(packets).toBe(shifted.filter((f) => f.kind === 'video' || f.kind === 'audio').length);
  }, 60_000);
});
