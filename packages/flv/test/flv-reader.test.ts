import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AudioPacketType,
  FlvReader,
  type FlvReadTag,
  isFlvError,
  muxFlv,
  parseAudioTagHeader,
  parseVideoTagHeader,
  TagType,
  VideoPacketType,
} from '../src/index';
import { ffmpeg, ffprobe, H264, type ProbePacket, sine, tempDir, testsrc } from './helpers/media';

let tmp: { dir: string; remove: () => Promise<void> };
const files: Record<string, Uint8Array> = {};
const paths: Record<string, string> = {};

beforeAll(async () => {
  tmp = await tempDir();
  const make = async (name: string, args: string[]) => {
    const path = join(tmp.dir, `${name}.flv`);
    await ffmpeg([...args, '-f', 'flv', path]);
    paths[name] = path;
    files[name] = new Uint8Array(await readFile(path));
  };
  const h264 = [...H264, '-g', '25'];
  await Promise.all([
    make('av', [...testsrc('320x240'), ...sine(), '-t', '2', ...h264, '-bf', '2', '-c:a', 'aac']),
    make('audio', [...sine(48000), '-t', '1', '-c:a', 'aac']),
    make('video', [...testsrc('160x120'), '-t', '1', ...h264]),
    make('offset', [...testsrc('160x120'), ...sine(), '-t', '1', ...h264, '-c:a', 'aac', '-output_ts_offset', '16800']),
  ]);
}, 60_000);

afterAll(async () => {
  await tmp?.remove();
});

function readAll(bytes: Uint8Array, splits: number[] = []): FlvReadTag[] {
  const r = new FlvReader();
  const tags: FlvReadTag[] = [];
  let prev = 0;
  for (const s of [...splits, bytes.length]) {
    tags.push(...r.push(bytes.subarray(prev, s)));
    prev = s;
  }
  r.end();
  return tags;
}

/** Reader tags that FFmpeg turns into packets: coded frames (not configs, end-of-sequence, metadata). */
function mediaPackets(tags: FlvReadTag[]) {
  const out: { kind: 'video' | 'audio'; dts: number; pts: number; size: number; key: boolean }[] = [];
  for (const t of tags) {
    if (t.type === TagType.Video) {
      const h = parseVideoTagHeader(t.payload);
      if (h.packetType !== VideoPacketType.CodedFrames) continue;
      out.push({
        kind: 'video',
        dts: t.timestamp,
        pts: t.timestamp + h.compositionTime,
        size: t.payload.length - h.bodyOffset,
        key: h.frameType === 1,
      });
    } else if (t.type === TagType.Audio) {
      const h = parseAudioTagHeader(t.payload);
      if (h.packetType !== AudioPacketType.CodedFrames) continue;
      out.push({ kind: 'audio', dts: t.timestamp, pts: t.timestamp, size: t.payload.length - h.bodyOffset, key: true });
    }
  }
  return out;
}

function probePackets(packets: ProbePacket[]) {
  return packets.map((p) => ({
    kind: p.codec_type as 'video' | 'audio',
    dts: p.dts!,
    pts: p.pts!,
    size: Number(p.size),
    key: p.flags.startsWith('K'),
  }));
}

describe('FlvReader on FFmpeg output', () => {
  for (const name of ['av', 'audio', 'video', 'offset']) {
    it(`${name}: tags match ffprobe's packet list (count, dts, pts, size, keyframes)`, async () => {
      const tags = readAll(files[name]!);
      const probe = await ffprobe(paths[name]!, ['-show_packets']);
      const expected = probePackets(probe.packets ?? []);
      const got = mediaPackets(tags);
      expect(expected.length).toBeGreaterThan(10);
      // ffprobe orders packets as they appear in the file, like the reader.
      expect(got).toEqual(expected);
    });
  }

  for (const name of ['av', 'audio', 'video', 'offset']) {
    it(`${name}: re-muxed, ffprobe sees the same streams, frame counts and packets`, async () => {
      const r = new FlvReader();
      const tags = r.push(files[name]!);
      r.end();
      const remuxed = join(tmp.dir, `${name}-remuxed.flv`);
      await writeFile(remuxed, muxFlv({ audio: r.header!.hasAudio, video: r.header!.hasVideo }, tags));
      const args = ['-show_streams', '-count_frames', '-show_packets'];
      const [a, b] = await Promise.all([ffprobe(paths[name]!, args), ffprobe(remuxed, args)]);
      const streams = (p: typeof a) =>
        (p.streams ?? []).map((s) => [s.codec_name, s.width, s.height, s.sample_rate, s.channels, s.nb_read_frames]);
      expect(streams(b)).toEqual(streams(a));
      expect(streams(b).length).toBe(name === 'av' || name === 'offset' ? 2 : 1);
      expect(probePackets(b.packets ?? [])).toEqual(probePackets(a.packets ?? []));
    });
  }

  it('reads the header flags FFmpeg wrote', () => {
    const flags = (name: string) => {
      const r = new FlvReader();
      r.push(files[name]!);
      return { audio: r.header!.hasAudio, video: r.header!.hasVideo };
    };
    expect(flags('av')).toEqual({ audio: true, video: true });
    expect(flags('audio')).toEqual({ audio: true, video: false });
    expect(flags('video')).toEqual({ audio: false, video: true });
  });

  it('offset: timestamps above 2^24 ms use the extended byte', () => {
    const tags = readAll(files.offset!);
    // FFmpeg writes metadata and sequence headers at 0; coded frames carry the offset.
    const media = tags.filter((t) => mediaPackets([t]).length === 1);
    expect(media.length).toBeGreaterThan(20);
    expect(media.every((t) => t.timestamp >= 16_790_000)).toBe(true);
    expect(media.some((t) => t.timestamp > 0xffffff)).toBe(true);
    // The raw extended byte of a tag above 2^24 is 1.
    const big = media.find((t) => t.timestamp > 0xffffff)!;
    expect(files.offset![big.offset + 7]).toBe(1);
  });

  it('payloads are views of the pushed bytes when they are not split', () => {
    const bytes = files.av!;
    const tags = readAll(bytes);
    expect(tags.every((t) => t.payload.buffer === bytes.buffer)).toBe(true);
    expect(tags[0]!.offset).toBe(13);
  });

  it('gives the same tags byte by byte and at random split points', () => {
    const bytes = files.video!;
    const whole = readAll(bytes);
    const r = new FlvReader();
    const byByte: FlvReadTag[] = [];
    for (let i = 0; i < bytes.length; i++) byByte.push(...r.push(bytes.subarray(i, i + 1)));
    r.end();
    expect(byByte).toEqual(whole);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 60 }), (cuts) => {
        const splits = [...cuts].sort((a, b) => a - b);
        expect(readAll(bytes, splits)).toEqual(whole);
      }),
      { numRuns: 100 },
    );
  }, 30_000);
});

/** A small synthetic FLV: header, metadata-ish script tag, audio, video with a timestamp > 2^24. */
function smallFile(): Uint8Array {
  return muxFlv({ audio: true, video: true }, [
    { type: TagType.Script, timestamp: 0, payload: new Uint8Array([2, 0, 1, 0x41, 5]) },
    { type: TagType.Audio, timestamp: 23, payload: new Uint8Array([0xaf, 1, 9, 8, 7]) },
    { type: TagType.Video, timestamp: 0x1234567, payload: new Uint8Array([0x17, 1, 0, 0, 0, 0xaa]) },
    { type: TagType.Video, timestamp: 0x1234568, payload: new Uint8Array(0) },
  ]);
}

describe('FlvReader split invariance (every offset)', () => {
  it('every single split point and every pair of split points give identical tags', () => {
    const bytes = smallFile();
    const whole = readAll(bytes);
    expect(whole.map((t) => [t.type, t.timestamp, t.payload.length])).toEqual([
      [18, 0, 5],
      [8, 23, 5],
      [9, 0x1234567, 6],
      [9, 0x1234568, 0],
    ]);
    for (let i = 0; i <= bytes.length; i++) {
      expect(readAll(bytes, [i])).toEqual(whole);
      for (let j = i; j <= bytes.length; j += 7) expect(readAll(bytes, [i, j])).toEqual(whole);
    }
  });
});

function expectCode(fn: () => unknown, code: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(isFlvError(caught)).toBe(true);
  expect((caught as { code: string }).code).toBe(code);
}

describe('FlvReader errors', () => {
  it('rejects a bad signature as soon as the first wrong byte arrives', () => {
    expectCode(() => new FlvReader().push(new Uint8Array([0x47])), 'ERR_FLV_BAD_SIGNATURE'); // "G" of GET
    expectCode(() => new FlvReader().push(new TextEncoder().encode('FLX')), 'ERR_FLV_BAD_SIGNATURE');
  });

  it('rejects version ≠ 1 and a DataOffset below 9', () => {
    const h = smallFile().slice(0, 13);
    h[3] = 2;
    expectCode(() => new FlvReader().push(h), 'ERR_FLV_BAD_VERSION');
    const g = smallFile().slice(0, 13);
    g[8] = 8;
    expectCode(() => new FlvReader().push(g), 'ERR_FLV_BAD_HEADER_SIZE');
  });

  it('skips extra header bytes announced by DataOffset', () => {
    const f = smallFile();
    const withExtra = new Uint8Array(f.length + 3);
    withExtra.set(f.subarray(0, 9));
    withExtra[8] = 12; // DataOffset 12: three extra bytes
    withExtra.set([0xee, 0xee, 0xee], 9);
    withExtra.set(f.subarray(9), 12);
    expect(readAll(withExtra)).toEqual(readAll(f).map((t) => ({ ...t, offset: t.offset + 3 })));
  });

  it('checks PreviousTagSize (including PreviousTagSize0), unless told not to', () => {
    const f = smallFile();
    const bad0 = f.slice();
    bad0[12] = 1;
    expectCode(() => new FlvReader().push(bad0), 'ERR_FLV_BAD_PREVIOUS_TAG_SIZE');
    const bad = f.slice();
    bad[13 + 11 + 5 + 3] = 0xff; // PreviousTagSize after the script tag
    expectCode(() => new FlvReader().push(bad), 'ERR_FLV_BAD_PREVIOUS_TAG_SIZE');
    const lenient = new FlvReader({ checkPreviousTagSize: false });
    expect(lenient.push(bad)).toHaveLength(4);
  });

  it('enforces maxTagSize when the tag header arrives, before the body', () => {
    const r = new FlvReader({ maxTagSize: 5 });
    const f = smallFile();
    // Script (5) and audio (5) pass; the video tag (6 bytes) fails with only its header pushed.
    const videoHeaderEnd = 13 + 20 + 20 + 11;
    expect(r.push(f.subarray(0, videoHeaderEnd - 1))).toHaveLength(2);
    expectCode(() => r.push(f.subarray(videoHeaderEnd - 1, videoHeaderEnd)), 'ERR_FLV_TAG_TOO_LARGE');
  });

  it('stays failed after an error', () => {
    const r = new FlvReader();
    expectCode(() => r.push(new Uint8Array([1])), 'ERR_FLV_BAD_SIGNATURE');
    expectCode(() => r.push(smallFile()), 'ERR_FLV_READER_FAILED');
    expectCode(() => r.end(), 'ERR_FLV_READER_FAILED');
  });

  it('rejects encrypted tags (Filter bit)', () => {
    const f = smallFile();
    f[13] = f[13]! | 0x20;
    expectCode(() => new FlvReader().push(f), 'ERR_FLV_ENCRYPTED_TAG');
  });

  it('end() reports truncation inside a tag or before the last PreviousTagSize', () => {
    const f = smallFile();
    for (const cut of [5, 12, 20, f.length - 1]) {
      const r = new FlvReader();
      r.push(f.subarray(0, cut));
      expectCode(() => r.end(), 'ERR_FLV_TRUNCATED');
    }
    const ok = new FlvReader();
    ok.push(f);
    expect(() => ok.end()).not.toThrow();
    const empty = new FlvReader(); // header + PreviousTagSize0 and no tag is a complete stream
    empty.push(f.subarray(0, 13));
    expect(() => empty.end()).not.toThrow();
  });

  it('skips unknown tag types and counts them', () => {
    const f = smallFile();
    f[13] = 15; // the script tag becomes type 15
    const r = new FlvReader();
    const tags = r.push(f);
    expect(tags.map((t) => t.type)).toEqual([8, 9, 9]);
    expect(r.skippedTags).toBe(1);
  });

  it('validates its options', () => {
    expectCode(() => new FlvReader({ maxTagSize: -1 }), 'ERR_FLV_INVALID_OPTION');
  });
});
