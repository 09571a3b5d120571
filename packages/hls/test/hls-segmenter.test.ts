/** Where the segmenter cuts, what it reports, and how it handles reconnects and its limits. */
import { describe, expect, it } from 'vitest';
import { HlsSegmenter, type HlsSegmenterOptions, type SegmenterEvent, type SegmentInfo } from '../src/index';
import { hlsErrorCode } from './helpers/errors';
import { ASC_LC_44100_STEREO, avcc, avcRecord, nal } from './helpers/streams';
import { parsePackets } from './helpers/ts-parse';

function segmenter(options: HlsSegmenterOptions = { video: 'h264', audio: 'aac' }): HlsSegmenter {
  const s = new HlsSegmenter(options);
  if (options.video) s.setVideoConfig(avcRecord());
  if (options.audio === 'aac') s.setAudioConfig(ASC_LC_44100_STEREO);
  return s;
}

const ends = (events: SegmenterEvent[]): SegmentInfo[] =>
  events.flatMap((e) => (e.type === 'segment-end' ? [e.segment] : []));

/** 25 fps video, a keyframe every `gop` frames, for `frames` frames from `startMs`; audio every 20 ms. */
function feed(s: HlsSegmenter, frames: number, gop: number, startMs = 0, audio = true): SegmenterEvent[] {
  const events: SegmenterEvent[] = [];
  for (let i = 0; i < frames; i++) {
    const dts = startMs + i * 40;
    events.push(...s.writeVideo({ dts, keyframe: i % gop === 0, data: avcc([nal(i % gop === 0 ? 5 : 1, 200)]) }));
    if (audio) {
      events.push(...s.writeAudio({ pts: dts, data: new Uint8Array(50) }));
      events.push(...s.writeAudio({ pts: dts + 20, data: new Uint8Array(50) }));
    }
  }
  return events;
}

describe('cutting', () => {
  it('cuts at the first keyframe at or after the 1 s target; durations from DTS', () => {
    const s = segmenter();
    // keyframes every 0.6 s: cuts at 1.2 s and 2.4 s
    const events = [...feed(s, 75, 15), ...s.end()];
    const segs = ends(events);
    expect(segs.map((g) => [g.sequence, g.duration, g.videoFrames, g.audioFrames])).toEqual([
      [0, 1.2, 30, 60],
      [1, 1.2, 30, 60],
      [2, 0.6, 15, 30], // ended: last DTS + one frame interval
    ]);
    expect(segs.every((g) => g.independent && !g.discontinuity)).toBe(true);
  });

  it('reports segment-start, PAT/PMT data first, then frames; bytes add up', () => {
    const s = segmenter();
    const events = [...feed(s, 50, 25), ...s.end()];
    expect(events[0]).toMatchObject({ type: 'segment-start', sequence: 0, independent: true, startDts: 0 });
    const first = events[1] as Extract<SegmenterEvent, { type: 'data' }>;
    expect(parsePackets(first.data).map((p) => p.pid)).toEqual([0, 0x1000]);
    for (const seg of ends(events)) {
      const bytes = events
        .filter((e) => e.type === 'data' && e.sequence === seg.sequence)
        .reduce((n, e) => n + (e as { data: Uint8Array }).data.length, 0);
      expect(seg.bytes).toBe(bytes);
      expect(bytes % 188).toBe(0);
    }
  });

  it('drops frames before the first keyframe and counts them', () => {
    const s = segmenter();
    expect(s.writeAudio({ pts: 0, data: new Uint8Array(10) })).toEqual([]);
    expect(s.writeVideo({ dts: 0, keyframe: false, data: avcc([nal(1, 10)]) })).toEqual([]);
    expect(s.droppedFrames).toBe(2);
    expect(s.writeVideo({ dts: 40, keyframe: true, data: avcc([nal(5, 10)]) })[0]!.type).toBe('segment-start');
  });

  it('audio-only: cuts at the first frame at or after the target', () => {
    const s = segmenter({ audio: 'aac', targetDuration: 1 });
    const events: SegmenterEvent[] = [];
    for (let i = 0; i < 130; i++) events.push(...s.writeAudio({ pts: i * 23.22, data: new Uint8Array(100) }));
    const segs = ends([...events, ...s.end()]);
    expect(segs.map((g) => g.audioFrames)).toEqual([44, 44, 42]);
    expect(segs[0]!.durationTicks).toBe(Math.round(44 * 23.22 * 90));
    expect(segs.every((g) => g.independent)).toBe(true);
  });

  it('without keyframes, cuts at maxSegmentDuration and says the segment is not independent', () => {
    const s = segmenter({ video: 'h264', maxSegmentDuration: 2 });
    const events = [...feed(s, 150, 1000, 0, false), ...s.end()];
    const segs = ends(events);
    expect(segs.map((g) => [g.duration, g.independent])).toEqual([
      [2, true],
      [2, false],
      [2, false],
    ]);
  });

  it('durations stay right across the 2^33 wrap and a 32-bit ms wrap', () => {
    for (const start of [2 ** 33 / 90 - 500, 2 ** 32 - 500]) {
      const s = segmenter();
      const events: SegmenterEvent[] = [];
      for (let i = 0; i < 75; i++) {
        const dts = (start + i * 40) % (start > 2 ** 32 - 1000 && start < 2 ** 32 ? 2 ** 32 : Infinity);
        events.push(...s.writeVideo({ dts, keyframe: i % 25 === 0, data: avcc([nal(1, 50)]) }));
      }
      expect(ends([...events, ...s.end()]).map((g) => g.duration)).toEqual([1, 1, 1]);
    }
  });
});

describe('forced cuts and discontinuities', () => {
  it('cut({ discontinuity }) ends the segment now; the next starts at a keyframe, flagged', () => {
    const s = segmenter();
    const before = feed(s, 10, 25);
    const cut = s.cut({ discontinuity: true });
    expect(ends(cut).map((g) => [g.sequence, g.duration, g.discontinuity])).toEqual([[0, 0.4, false]]);
    expect(s.open).toBe(false);
    // the publisher reconnects with a new clock
    const after = [...feed(s, 30, 25, 50_000), ...s.end()];
    const segs = ends(after);
    expect(segs.map((g) => [g.sequence, g.discontinuity])).toEqual([
      [1, true],
      [2, false],
    ]);
    const firstData = after.filter((e) => e.type === 'data').slice(0, 2);
    const packets = parsePackets(Buffer.concat(firstData.map((e) => (e as { data: Uint8Array }).data)));
    expect(packets.find((p) => p.pcr !== undefined)!.discontinuity).toBe(true);
    expect(before.length).toBeGreaterThan(0);
  });

  it('a cut with no open segment reports nothing; end() is idempotent; writes after end throw', () => {
    const s = segmenter();
    expect(s.cut()).toEqual([]);
    expect(s.end()).toEqual([]);
    expect(s.end()).toEqual([]);
    expect(hlsErrorCode(() => s.writeVideo({ dts: 0, keyframe: true, data: avcc([nal(5, 5)]) }))).toBe('ERR_HLS_ENDED');
  });

  it('a frame the muxer refuses leaves the segmenter as it was', () => {
    const s = segmenter({ video: 'h264', maxFrameSize: 300 });
    feed(s, 25, 25, 0, false);
    expect(hlsErrorCode(() => s.writeVideo({ dts: 1000, keyframe: true, data: avcc([nal(5, 400)]) }))).toBe(
      'ERR_HLS_FRAME_TOO_LARGE',
    );
    expect(s.nextSequence).toBe(1);
    const events = s.writeVideo({ dts: 1040, keyframe: true, data: avcc([nal(5, 20)]) });
    expect(ends(events).map((g) => g.duration)).toEqual([1.04]);
  });
});

describe('options', () => {
  it.each([
    [{ video: 'h264', targetDuration: 0 }, 'ERR_HLS_INVALID_OPTION'],
    [{ video: 'h264', targetDuration: 4, maxSegmentDuration: 2 }, 'ERR_HLS_INVALID_OPTION'],
    [{ video: 'h264', firstSequence: -1 }, 'ERR_HLS_INVALID_OPTION'],
    [{ video: 'h264', maxFrameSize: 0 }, 'ERR_HLS_INVALID_OPTION'],
    [{}, 'ERR_HLS_INVALID_OPTION'],
    [{ video: 'vp8' }, 'ERR_HLS_INVALID_OPTION'],
    [{ audio: 'opus' }, 'ERR_HLS_INVALID_OPTION'],
  ])('%o → %s', (options, code) => {
    expect(hlsErrorCode(() => new HlsSegmenter(options as HlsSegmenterOptions))).toBe(code);
  });
  it('a long target raises the default maximum to twice the target; firstSequence numbers the first segment', () => {
    const s = segmenter({ video: 'h264', targetDuration: 12, firstSequence: 7 });
    const segs = ends([...feed(s, 400, 1000, 0, false), ...s.end()]);
    expect(segs.map((g) => [g.sequence, g.duration])).toEqual([[7, 16]]);
  });
});
