/**
 * Codec inspection checked against ffprobe on inputs FFmpeg encodes here: H.264 in several sizes
 * (odd sizes that need cropping), profiles and chroma formats; AAC and MP3 at several rates and
 * channel counts; HEVC (wrapped as an Enhanced RTMP hvc1 sequence start from x265's parameter sets).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlvReader, type FlvTag, inspectAudioTag, inspectVideoTag, isSequenceHeader, TagType } from '../src/index';
import { ascii } from './helpers/bits';
import { ffmpeg, ffprobe, type ProbeStream, sine, tempDir, testsrc } from './helpers/media';

let tmp: { dir: string; remove: () => Promise<void> };

beforeAll(async () => {
  tmp = await tempDir();
});

afterAll(async () => {
  await tmp?.remove();
});

/** Runs at most `limit` jobs at once (the machine has 2 shared cores). */
async function pool<T>(jobs: (() => Promise<T>)[], limit = 3): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

async function encode(name: string, args: string[], format = 'flv'): Promise<{ path: string; tags: FlvTag[] }> {
  const path = join(tmp.dir, `${name}.${format}`);
  await ffmpeg([...args, '-f', format, path]);
  if (format !== 'flv') return { path, tags: [] };
  const r = new FlvReader();
  const tags = r.push(new Uint8Array(await readFile(path)));
  r.end();
  return { path, tags };
}

async function probeStream(path: string, kind: 'video' | 'audio'): Promise<ProbeStream> {
  const p = await ffprobe(path, ['-show_streams']);
  return p.streams!.find((s) => s.codec_type === kind)!;
}

const videoCases: [name: string, size: string, extra: string[]][] = [
  ['main-1280x720', '1280x720', ['-pix_fmt', 'yuv420p', '-profile:v', 'main']],
  ['high-854x480', '854x480', ['-pix_fmt', 'yuv420p']],
  ['baseline-1920x1080', '1920x1080', ['-pix_fmt', 'yuv420p', '-profile:v', 'baseline']],
  ['scaling-lists-640x360', '640x360', ['-pix_fmt', 'yuv420p', '-x264-params', 'cqm=jvt']],
  ['interlaced-720x480', '720x480', ['-pix_fmt', 'yuv420p', '-flags', '+ildct+ilme', '-x264-params', 'interlaced=1']],
  ['yuv444-320x240', '320x240', ['-pix_fmt', 'yuv444p']],
  ['yuv422-318x178', '318x178', ['-pix_fmt', 'yuv422p']],
  ['high10-330x250', '330x250', ['-pix_fmt', 'yuv420p10le']],
];

/** Codec, size, profile and level we read from a sequence header equal what ffprobe reports. */
function expectSameAsProbe(info: ReturnType<typeof inspectVideoTag>, probe: ProbeStream): void {
  expect({
    codec: info.codec,
    width: info.width,
    height: info.height,
    profile: info.profileName,
    level: info.level,
  }).toEqual({
    codec: probe.codec_name,
    width: probe.width,
    height: probe.height,
    profile: probe.profile,
    level: probe.level,
  });
}

describe('H.264 sequence headers vs ffprobe', () => {
  const results = new Map<string, { info: ReturnType<typeof inspectVideoTag>; probe: ProbeStream }>();

  beforeAll(async () => {
    await pool(
      videoCases.map(([name, size, extra]) => async () => {
        const { path, tags } = await encode(name, [
          ...testsrc(size),
          '-frames:v',
          '2',
          '-c:v',
          'libx264',
          '-preset',
          'ultrafast',
          ...extra,
        ]);
        const config = tags.find((t) => t.type === TagType.Video && isSequenceHeader(t))!;
        results.set(name, { info: inspectVideoTag(config.payload), probe: await probeStream(path, 'video') });
      }),
    );
  }, 60_000);

  for (const [name, size] of videoCases) {
    it(name, () => {
      const { info, probe } = results.get(name)!;
      const [w, h] = size.split('x').map(Number);
      expect(probe.width).toBe(w); // the probe agrees with what we asked for…
      expect(probe.height).toBe(h);
      expectSameAsProbe(info, probe); // …and so do we
    });
  }
});

const audioCases: [name: string, codec: string, rate: number, channels: number][] = [
  ['aac-44100-stereo', 'aac', 44100, 2],
  ['aac-48000-mono', 'aac', 48000, 1],
  ['aac-22050-stereo', 'aac', 22050, 2],
  ['aac-96000-mono', 'aac', 96000, 1],
  ['aac-8000-6ch', 'aac', 8000, 6],
  ['mp3-44100-stereo', 'libmp3lame', 44100, 2],
  ['mp3-22050-mono', 'libmp3lame', 22050, 1],
  ['mp3-11025-stereo', 'libmp3lame', 11025, 2],
];

describe('AAC / MP3 vs ffprobe', () => {
  const results = new Map<string, { info: ReturnType<typeof inspectAudioTag>; probe: ProbeStream }>();

  beforeAll(async () => {
    await pool(
      audioCases.map(([name, codec, rate, channels]) => async () => {
        const { path, tags } = await encode(name, [...sine(rate), '-t', '0.3', '-ac', String(channels), '-c:a', codec]);
        // AAC: the sequence header; MP3: the first frame.
        const tag = tags.find((t) => t.type === TagType.Audio)!;
        results.set(name, { info: inspectAudioTag(tag.payload), probe: await probeStream(path, 'audio') });
      }),
    );
  }, 60_000);

  for (const [name, , rate, channels] of audioCases) {
    it(name, () => {
      const { info, probe } = results.get(name)!;
      expect(Number(probe.sample_rate)).toBe(rate);
      expect(probe.channels).toBe(channels);
      expect({ codec: info.codec, sampleRate: info.sampleRate, channels: info.channels }).toEqual({
        codec: probe.codec_name,
        sampleRate: Number(probe.sample_rate),
        channels: probe.channels,
      });
      if (info.codec === 'aac') expect(info.profileName).toBe(probe.profile);
    });
  }
});

/** Splits an Annex B byte stream at start codes (00 00 01 / 00 00 00 01). */
function annexBNalUnits(bytes: Uint8Array): Uint8Array[] {
  const starts: number[] = [];
  for (let i = 0; i + 2 < bytes.length; i++) {
    if (bytes[i] === 0 && bytes[i + 1] === 0 && bytes[i + 2] === 1) {
      starts.push(i + 3);
      i += 2;
    }
  }
  return starts.map((s, k) => {
    let end = k + 1 < starts.length ? starts[k + 1]! - 3 : bytes.length;
    while (end > s && bytes[end - 1] === 0) end--; // trailing zero of a 4-byte start code
    return bytes.subarray(s, end);
  });
}

/** An HEVCDecoderConfigurationRecord around VPS/SPS/PPS; header fields copied from the SPS. */
function hvcC(nals: Uint8Array[]): Uint8Array {
  const byType = (t: number) => nals.filter((n) => ((n[0]! >> 1) & 0x3f) === t);
  const sps = byType(33)[0]!;
  const out: number[] = [
    0x01, // configurationVersion
    ...sps.subarray(3, 15), // profile_tier_level's first 12 bytes: same layout as hvcC bytes 1–12
    0xf0,
    0x00,
    0xfc,
    0xfd,
    0xf8,
    0xf8,
    0x00,
    0x00,
    0x0f, // fields this parser does not use
    3, // numOfArrays
  ];
  for (const t of [32, 33, 34]) {
    const list = byType(t);
    out.push(0x80 | t, 0, list.length);
    for (const n of list) out.push(n.length >> 8, n.length & 0xff, ...n);
  }
  return new Uint8Array(out);
}

const hevcCases: [name: string, size: string, pixFmt: string][] = [
  ['hevc-main-854x480', '854x480', 'yuv420p'],
  ['hevc-main10-1280x720', '1280x720', 'yuv420p10le'],
  ['hevc-rext-318x238', '318x238', 'yuv444p'],
];

describe('HEVC (E-RTMP hvc1) vs ffprobe', () => {
  for (const [name, size, pixFmt] of hevcCases) {
    it(name, async () => {
      const { path } = await encode(
        name,
        [...testsrc(size), '-frames:v', '1', '-pix_fmt', pixFmt, '-c:v', 'libx265', '-x265-params', 'log-level=error'],
        'hevc',
      );
      const nals = annexBNalUnits(new Uint8Array(await readFile(path)));
      const tag = new Uint8Array([
        0x90, // ExHeader | key | SequenceStart
        ...ascii('hvc1'),
        ...hvcC(nals),
      ]);
      const info = inspectVideoTag(tag);
      const probe = await probeStream(path, 'video');
      expectSameAsProbe(info, probe);
    }, 30_000);
  }
});
