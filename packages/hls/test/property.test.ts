/**
 * Properties over random streams (fast-check): whatever access units arrive, the output is whole
 * 188-byte packets with sync bytes, continuity counters continue per PID across segments, and the
 * PES timestamps are the inputs' (×90 mod 2^33) — so monotonic mod 2^33 when the inputs are.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HlsSegmenter, msToTicks, TsMuxer, tickDelta } from '../src/index';
import { ASC_LC_44100_STEREO, avcc, avcRecord, nal } from './helpers/streams';
import { collectPes, expectContinuous, parsePackets } from './helpers/ts-parse';

type Op =
  | { kind: 'video'; delta: number; cts: number; keyframe: boolean; nals: { type: number; size: number }[] }
  | { kind: 'audio'; delta: number; size: number }
  | { kind: 'cut'; discontinuity: boolean };

const START_MS = [0, 1000, 2 ** 33 / 90 - 700, 2 ** 32 - 700, 2 ** 40];

function ops(maxNal: number): fc.Arbitrary<Op[]> {
  const video = fc.record({
    kind: fc.constant('video' as const),
    delta: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.double({ min: 0, max: 100, noNaN: true })),
    cts: fc.integer({ min: 0, max: 200 }),
    keyframe: fc.boolean(),
    nals: fc.array(fc.record({ type: fc.constantFrom(1, 5, 6, 7, 8, 9), size: fc.integer({ min: 1, max: maxNal }) }), {
      minLength: 1,
      maxLength: 4,
    }),
  });
  const audio = fc.record({
    kind: fc.constant('audio' as const),
    delta: fc.integer({ min: 0, max: 60 }),
    size: fc.integer({ min: 1, max: 1500 }),
  });
  const cut = fc.record({ kind: fc.constant('cut' as const), discontinuity: fc.boolean() });
  return fc.array(
    fc.oneof({ arbitrary: video, weight: 6 }, { arbitrary: audio, weight: 4 }, { arbitrary: cut, weight: 1 }),
    {
      maxLength: 60,
    },
  );
}

const stream = fc.constantFrom(1, 2, 4).chain((lengthSize) =>
  fc.record({
    lengthSize: fc.constant(lengthSize),
    start: fc.constantFrom(...START_MS),
    ops: ops(lengthSize === 1 ? 255 : 3000),
  }),
);

describe('random access-unit sequences', () => {
  it('muxer: 188-byte packets, sync bytes, continuous CCs, timestamps = inputs mod 2^33, monotonic', () => {
    fc.assert(
      fc.property(stream, ({ lengthSize, start, ops }) => {
        const m = new TsMuxer({ video: 'h264', audio: 'aac' });
        m.setVideoConfig(avcRecord(lengthSize));
        m.setAudioConfig(ASC_LC_44100_STEREO);
        const chunks = [m.segmentStart()];
        const want = { video: [] as number[][], audio: [] as number[] };
        let vt = start;
        let at = start;
        for (const op of ops) {
          if (op.kind === 'cut') chunks.push(m.segmentStart());
          else if (op.kind === 'video') {
            vt += op.delta;
            const data = avcc(
              op.nals.map((n, i) => nal(n.type, n.size, i)),
              lengthSize,
            );
            chunks.push(m.writeVideo({ dts: vt, cts: op.cts, keyframe: op.keyframe, data }));
            want.video.push([msToTicks(vt + op.cts), msToTicks(vt)]);
          } else {
            at += op.delta;
            chunks.push(m.writeAudio({ pts: at, data: new Uint8Array(op.size) }));
            want.audio.push(msToTicks(at));
          }
        }
        for (const c of chunks) expect(c.length % 188).toBe(0);
        const packets = parsePackets(Buffer.concat(chunks));
        expectContinuous(packets);
        const pes = collectPes(packets);
        const video = pes.filter((p) => p.pid === 0x100);
        expect(video.map((p) => [p.pts, p.dts ?? p.pts])).toEqual(want.video);
        expect(pes.filter((p) => p.pid === 0x101).map((p) => p.pts)).toEqual(want.audio);
        for (let i = 1; i < video.length; i++) {
          expect(
            tickDelta(video[i - 1]!.dts ?? video[i - 1]!.pts!, video[i]!.dts ?? video[i]!.pts!),
          ).toBeGreaterThanOrEqual(0);
        }
        const pcrs = packets.flatMap((p) => (p.pcr === undefined ? [] : [p.pcr]));
        for (let i = 1; i < pcrs.length; i++) expect(tickDelta(pcrs[i - 1]!, pcrs[i]!)).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 150 },
    );
  });

  it('segmenter: segments start with PAT, PMT and (when independent) a keyframe; numbering and bytes add up', () => {
    fc.assert(
      fc.property(stream, fc.double({ min: 0.2, max: 2, noNaN: true }), ({ lengthSize, start, ops }, target) => {
        const s = new HlsSegmenter({ video: 'h264', audio: 'aac', targetDuration: target });
        s.setVideoConfig(avcRecord(lengthSize));
        s.setAudioConfig(ASC_LC_44100_STEREO);
        const bySegment = new Map<number, Uint8Array[]>();
        const infos = [];
        let vt = start;
        let at = start;
        for (const op of [...ops, { kind: 'end' as const }]) {
          let events: ReturnType<HlsSegmenter['end']>;
          if (op.kind === 'end') events = s.end();
          else if (op.kind === 'cut') events = s.cut({ discontinuity: op.discontinuity });
          else if (op.kind === 'video') {
            vt += op.delta;
            const data = avcc(
              op.nals.map((n, i) => nal(n.type, n.size, i)),
              lengthSize,
            );
            events = s.writeVideo({ dts: vt, cts: op.cts, keyframe: op.keyframe, data });
          } else {
            at += op.delta;
            events = s.writeAudio({ pts: at, data: new Uint8Array(op.size) });
          }
          for (const e of events) {
            if (e.type === 'data') bySegment.set(e.sequence, [...(bySegment.get(e.sequence) ?? []), e.data]);
            if (e.type === 'segment-end') infos.push(e.segment);
          }
        }
        expect(infos.map((i) => i.sequence)).toEqual(infos.map((_, i) => i));
        const all: Uint8Array[] = [];
        for (const info of infos) {
          const bytes = Buffer.concat(bySegment.get(info.sequence)!);
          all.push(bytes);
          expect(bytes.length).toBe(info.bytes);
          expect(info.durationTicks).toBeGreaterThanOrEqual(0);
          const packets = parsePackets(bytes);
          expect(packets.slice(0, 2).map((p) => p.pid)).toEqual([0, 0x1000]);
          if (info.independent) expect(packets[2]!.randomAccess).toBe(true);
        }
        expectContinuous(parsePackets(Buffer.concat(all)));
      }),
      { numRuns: 150 },
    );
  });
});
