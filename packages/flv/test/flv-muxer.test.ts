import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { concatBytes } from '@org/rtmp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeFlvHeader,
  encodeTagHeader,
  FlvMuxer,
  FlvReader,
  type FlvReadTag,
  FlvStreamWriter,
  type FlvTag,
  isFlvError,
  muxFlv,
  TagType,
} from '../src/index';
import { encodeFlv, ffmpeg, ffprobe, H264, sine, tempDir, testsrc } from './helpers/media';

let tmp: { dir: string; remove: () => Promise<void> };
let source: Uint8Array;
let sourceTags: FlvReadTag[];

beforeAll(async () => {
  tmp = await tempDir();
  const path = join(tmp.dir, 'source.flv');
  ({ bytes: source, tags: sourceTags } = await encodeFlv(path, [
    ...testsrc('320x240'),
    ...sine(48000),
    ...['-t', '3', ...H264, '-g', '25', '-c:a', 'aac'],
  ]));
}, 60_000);

afterAll(async () => {
  await tmp?.remove();
});

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

describe('FLV header', () => {
  // "FLV" | version 1 | flags (bit 2 audio, bit 0 video) | DataOffset 9 | PreviousTagSize0 0
  const table: [string, { audio: boolean; video: boolean }, string][] = [
    ['audio + video', { audio: true, video: true }, '464c5601' + '05' + '00000009' + '00000000'],
    ['audio only', { audio: true, video: false }, '464c5601' + '04' + '00000009' + '00000000'],
    ['video only', { audio: false, video: true }, '464c5601' + '01' + '00000009' + '00000000'],
    ['neither', { audio: false, video: false }, '464c5601' + '00' + '00000009' + '00000000'],
  ];
  for (const [name, flags, bytes] of table) {
    it(name, () => expect(hex(encodeFlvHeader(flags))).toBe(bytes));
  }
});

describe('tag encoding', () => {
  const table: [string, FlvTag, string, string][] = [
    [
      'audio at 0',
      { type: 8, timestamp: 0, payload: new Uint8Array([0xaf, 0x01]) },
      '08' + '000002' + '000000' + '00' + '000000', // type | DataSize | Timestamp | Ext | StreamID
      '0000000d', // PreviousTagSize = 11 + 2
    ],
    [
      'video at 2^24 − 1 (largest without the extended byte)',
      { type: 9, timestamp: 0xffffff, payload: new Uint8Array(300) },
      '09' + '00012c' + 'ffffff' + '00' + '000000',
      '00000137',
    ],
    [
      'video at 2^24 (extended byte 1)',
      { type: 9, timestamp: 0x1000000, payload: new Uint8Array(1) },
      '09' + '000001' + '000000' + '01' + '000000',
      '0000000c',
    ],
    [
      'script at 0x12345678 (low 24 bits, then the upper 8)',
      { type: 18, timestamp: 0x12345678, payload: new Uint8Array(0) },
      '12' + '000000' + '345678' + '12' + '000000',
      '0000000b',
    ],
    [
      'at 2^32 − 1',
      { type: 8, timestamp: 0xffffffff, payload: new Uint8Array(1) },
      '08' + '000001' + 'ffffff' + 'ff' + '000000',
      '0000000c',
    ],
    [
      'at 2^32 + 5: written modulo 2^32',
      { type: 8, timestamp: 2 ** 32 + 5, payload: new Uint8Array(1) },
      '08' + '000001' + '000005' + '00' + '000000',
      '0000000c',
    ],
  ];
  for (const [name, tag, header, trailer] of table) {
    it(name, () => {
      const [h, p, t] = new FlvMuxer().tag(tag);
      expect(hex(h)).toBe(header);
      expect(p).toBe(tag.payload); // the caller's array itself: no copy
      expect(hex(t)).toBe(trailer);
      const out = new Uint8Array(11);
      encodeTagHeader(tag.type, tag.timestamp, tag.payload.length, out);
      expect(hex(out)).toBe(header);
    });
  }

  it('cuts header and trailer from one shared slab, starting a new slab when full', () => {
    const m = new FlvMuxer({ slabSize: 15 * 3 });
    const pieces = [0, 1, 2, 3].map((i) => m.tag({ type: 8, timestamp: i, payload: new Uint8Array(1) }));
    const buffers = pieces.map(([h, , t]) => {
      expect(h.buffer).toBe(t.buffer);
      expect(t.byteOffset).toBe(h.byteOffset + 11);
      return h.buffer;
    });
    expect(buffers[0]).toBe(buffers[2]);
    expect(buffers[3]).not.toBe(buffers[0]);
    // Earlier tags are untouched by later ones.
    expect(hex(pieces[0]![0])).toBe('08000001000000' + '00000000');
    expect(hex(pieces[2]![0])).toBe('08000001000002' + '00000000');
  });

  it('rejects what FLV cannot express', () => {
    const m = new FlvMuxer();
    const bad: [FlvTag, string][] = [
      [{ type: 7, timestamp: 0, payload: new Uint8Array(0) }, 'type'],
      [{ type: 8, timestamp: -1, payload: new Uint8Array(0) }, 'negative'],
      [{ type: 8, timestamp: 1.5, payload: new Uint8Array(0) }, 'fractional'],
      [{ type: 8, timestamp: Number.NaN, payload: new Uint8Array(0) }, 'NaN'],
      [{ type: 9, timestamp: 0, payload: new Uint8Array(0x1000000) }, 'DataSize > 2^24 − 1'],
    ];
    for (const [tag, why] of bad) {
      let caught: unknown;
      try {
        m.tag(tag);
      } catch (e) {
        caught = e;
      }
      expect(isFlvError(caught), why).toBe(true);
      expect((caught as { code: string }).code, why).toBe('ERR_FLV_INVALID_ARGUMENT');
    }
    expect(() => new FlvMuxer({ slabSize: 14 })).toThrow(/slabSize/);
  });
});

describe('round trip with FFmpeg output', () => {
  it('reader → muxer reproduces the FFmpeg file byte for byte', () => {
    const r = new FlvReader();
    r.push(source);
    const flags = { audio: r.header!.hasAudio, video: r.header!.hasVideo };
    const out = muxFlv(flags, sourceTags);
    expect(out.length).toBe(source.length);
    expect(Buffer.compare(Buffer.from(out), Buffer.from(source))).toBe(0);
  });

  it('muxer → reader gives back the same tags', () => {
    const again = new FlvReader().push(muxFlv({ audio: true, video: true }, sourceTags));
    expect(again.map(({ type, timestamp, payload }) => ({ type, timestamp, payload }))).toEqual(
      sourceTags.map(({ type, timestamp, payload }) => ({ type, timestamp, payload })),
    );
  });

  it('a rebased remux probes like the source and copies into HLS segments ffprobe accepts', async () => {
    // Shift media timestamps by 20 s so that the muxed file differs from the source. Script tags
    // stay at 0: FFmpeg reads onMetaData as header metadata only at dts 0 (see the next test).
    const shifted = sourceTags.map((t) => ({
      type: t.type,
      timestamp: t.type === TagType.Script ? 0 : t.timestamp + 20_000,
      payload: t.payload,
    }));
    const muxed = join(tmp.dir, 'muxed.flv');
    await writeFile(muxed, muxFlv({ audio: true, video: true }, shifted));
    const [src, dst] = await Promise.all([
      ffprobe(join(tmp.dir, 'source.flv'), ['-show_streams', '-count_frames', '-show_packets']),
      ffprobe(muxed, ['-show_streams', '-count_frames', '-show_packets']),
    ]);
    const summary = (p: typeof src) =>
      (p.streams ?? []).map((s) => [s.codec_name, s.width, s.height, s.sample_rate, s.channels, s.nb_read_frames]);
    expect(summary(dst)).toEqual(summary(src));
    expect(summary(dst)).toEqual([
      ['h264', 320, 240, undefined, undefined, '75'],
      ['aac', undefined, undefined, '48000', 1, String(Math.ceil((3 * 48000) / 1024) + 1)],
    ]);
    expect(dst.packets!.map((p) => p.dts)).toEqual(src.packets!.map((p) => p.dts! + 20_000));
    expect(dst.packets!.map((p) => p.pts)).toEqual(src.packets!.map((p) => p.pts! + 20_000));

    const hlsDir = join(tmp.dir, 'hls');
    await ffmpeg([
      '-i',
      muxed,
      '-c',
      'copy',
      '-f',
      'hls',
      '-hls_time',
      '1',
      '-hls_list_size',
      '0',
      '-hls_segment_filename',
      join(tmp.dir, 'hls-%d.ts'),
      `${hlsDir}.m3u8`,
    ]);
    const segments = (await readdir(tmp.dir)).filter((f) => f.startsWith('hls-') && f.endsWith('.ts'));
    expect(segments.length).toBeGreaterThanOrEqual(2);
    let videoFrames = 0;
    for (const seg of segments) {
      const p = await ffprobe(join(tmp.dir, seg), ['-show_streams', '-count_frames']);
      const v = p.streams!.find((s) => s.codec_type === 'video')!;
      expect(v.codec_name).toBe('h264');
      expect(p.streams!.find((s) => s.codec_type === 'audio')!.codec_name).toBe('aac');
      videoFrames += Number(v.nb_read_frames);
    }
    expect(videoFrames).toBe(75);
  }, 60_000);
});

describe('FFmpeg and onMetaData timestamps', () => {
  it('onMetaData at a timestamp other than 0 becomes an extra "text" stream in FFmpeg 5.1', async () => {
    // Regression guard for tagFromRtmpMessage/metadataTag writing script tags at 0: FFmpeg's FLV
    // demuxer treats onMetaData as header metadata only when dts == 0.
    const meta = sourceTags.find((t) => t.type === TagType.Script)!;
    const at = async (ts: number) => {
      const path = join(tmp.dir, `meta-${ts}.flv`);
      const tags = sourceTags.map((t) => (t === meta ? { ...t, timestamp: ts } : t));
      await writeFile(path, muxFlv({ audio: true, video: true }, tags));
      const p = await ffprobe(path, ['-show_streams']);
      return p.streams!.map((s) => s.codec_type).sort();
    };
    expect(await at(0)).toEqual(['audio', 'video']);
    expect(await at(40)).toEqual(['audio', 'subtitle', 'video']);
  }, 30_000);
});

describe('FlvStreamWriter', () => {
  it('writes into a file exactly what muxFlv produces', async () => {
    const path = join(tmp.dir, 'written.flv');
    const file = createWriteStream(path);
    const w = new FlvStreamWriter(file);
    w.writeHeader({ audio: true, video: true });
    for (const t of sourceTags) w.writeTag(t);
    await new Promise<void>((resolve, reject) => file.end((err?: Error | null) => (err ? reject(err) : resolve())));
    const written = new Uint8Array(await readFile(path));
    expect(Buffer.compare(Buffer.from(written), Buffer.from(source))).toBe(0);
    expect(w.bytesWritten).toBe(source.length);
    expect(w.tagsWritten).toBe(sourceTags.length);
  });

  it('feeds FFmpeg through its stdin (flv → HLS, copy) with no error', async () => {
    const child = spawn(
      'ffmpeg',
      [
        '-hide_banner',
        '-nostdin',
        '-v',
        'error',
        '-f',
        'flv',
        '-i',
        'pipe:0',
        '-c',
        'copy',
        '-f',
        'hls',
        '-hls_time',
        '1',
        '-hls_segment_filename',
        join(tmp.dir, 'pipe-%d.ts'),
        join(tmp.dir, 'pipe.m3u8'),
      ],
      { stdio: ['pipe', 'ignore', 'pipe'], shell: false },
    );
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 30_000);
    const w = new FlvStreamWriter(child.stdin);
    w.writeHeader({ audio: true, video: true });
    for (const t of sourceTags) {
      if (!w.writeTag(t)) await w.drained();
    }
    child.stdin.end();
    const code = await exited;
    clearTimeout(timer);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const p = await ffprobe(join(tmp.dir, 'pipe.m3u8'), ['-show_streams', '-count_frames']);
    expect(p.streams!.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    expect(p.streams!.find((s) => s.codec_type === 'video')!.nb_read_frames).toBe('75');
  }, 60_000);

  it('refuses tags before the header and a second header', () => {
    const chunks: Uint8Array[] = [];
    const w = new FlvStreamWriter(
      new Writable({
        write(c: Uint8Array, _e: string, cb: () => void) {
          chunks.push(c);
          cb();
        },
      }),
    );
    expect(() => w.writeTag({ type: 8, timestamp: 0, payload: new Uint8Array(1) })).toThrow(/header first/);
    w.writeHeader({ audio: true, video: false });
    expect(() => w.writeHeader({ audio: true, video: false })).toThrow(/already/);
  });
});

describe('concatBytes', () => {
  it('joins pieces', () => {
    expect(hex(concatBytes([new Uint8Array([1]), new Uint8Array(0), new Uint8Array([2, 3])]))).toBe('010203');
  });
});
