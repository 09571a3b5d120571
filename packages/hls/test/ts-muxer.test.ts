/** Byte-level checks of the muxer's packets: PID layout, CC, PCR, RAI, PES header bits, stuffing. */
import { describe, expect, it } from 'vitest';
import { AUDIO_PID, TsMuxer, VIDEO_PID } from '../src/index';
import { packetize } from '../src/ts/packetizer';
import { ASC_LC_44100_STEREO, AUD, annexB, avcc, avcRecord, nal, PPS, SPS } from './helpers/streams';
import { collectPes, expectContinuous, parsePackets } from './helpers/ts-parse';

function avMuxer(): TsMuxer {
  const m = new TsMuxer({ video: 'h264', audio: 'aac' });
  m.setVideoConfig(avcRecord());
  m.setAudioConfig(ASC_LC_44100_STEREO);
  return m;
}

const idr = () => avcc([nal(5, 3000)]);
const inter = (size = 500) => avcc([nal(1, size)]);

describe('packet layout', () => {
  it('segment: PAT, PMT, then PES packets; CCs continue across segments per PID', () => {
    const m = avMuxer();
    const chunks: Uint8Array[] = [];
    for (let seg = 0; seg < 3; seg++) {
      chunks.push(m.segmentStart());
      chunks.push(m.writeVideo({ dts: seg * 1000, cts: 80, keyframe: true, data: idr() }));
      chunks.push(m.writeAudio({ pts: seg * 1000, data: new Uint8Array(300) }));
      for (let i = 1; i < 20; i++)
        chunks.push(m.writeVideo({ dts: seg * 1000 + i * 40, keyframe: false, data: inter() }));
    }
    for (const c of chunks) expect(c.length % 188).toBe(0);
    const packets = parsePackets(Buffer.concat(chunks));
    expect(packets.slice(0, 3).map((p) => p.pid)).toEqual([0, 0x1000, VIDEO_PID]);
    expect(new Set(packets.map((p) => p.pid))).toEqual(new Set([0, 0x1000, VIDEO_PID, AUDIO_PID]));
    expectContinuous(packets);
    expect(packets.filter((p) => p.pid === 0).map((p) => p.cc)).toEqual([0, 1, 2]);
  });

  it('PCR on the first packet of every video PES, equal to its DTS, never on audio (A/V)', () => {
    const m = avMuxer();
    const bytes = Buffer.concat([
      m.segmentStart(),
      m.writeVideo({ dts: 1000, cts: 80, keyframe: true, data: idr() }),
      m.writeAudio({ pts: 990, data: new Uint8Array(300) }),
      m.writeVideo({ dts: 1040, cts: 0, keyframe: false, data: inter() }),
    ]);
    const packets = parsePackets(bytes);
    const withPcr = packets.filter((p) => p.pcr !== undefined);
    expect(withPcr.every((p) => p.pid === VIDEO_PID && p.pusi)).toBe(true);
    expect(withPcr.map((p) => p.pcr)).toEqual([90_000, 93_600]);
    expect(withPcr.map((p) => p.pcrExtension)).toEqual([0, 0]);
  });

  it('audio-only: PCR on the audio PID, equal to the PTS, increasing', () => {
    const m = new TsMuxer({ audio: 'aac' });
    m.setAudioConfig(ASC_LC_44100_STEREO);
    const chunks = [m.segmentStart()];
    for (let i = 0; i < 5; i++) chunks.push(m.writeAudio({ pts: i * 23.22, data: new Uint8Array(200) }));
    const pcrs = parsePackets(Buffer.concat(chunks)).flatMap((p) => (p.pcr === undefined ? [] : [[p.pid, p.pcr]]));
    expect(pcrs).toEqual([0, 2090, 4180, 6269, 8359].map((t) => [AUDIO_PID, t]));
  });

  it('random_access_indicator on keyframes and audio frames only', () => {
    const m = avMuxer();
    const rai = (b: Uint8Array) => parsePackets(b)[0]!.randomAccess;
    expect(rai(m.writeVideo({ dts: 0, keyframe: true, data: idr() }))).toBe(true);
    expect(rai(m.writeVideo({ dts: 40, keyframe: false, data: inter() }))).toBe(false);
    expect(rai(m.writeAudio({ pts: 0, data: new Uint8Array(10) }))).toBe(true);
  });

  it('discontinuity_indicator on the next PCR packet after markDiscontinuity, once', () => {
    const m = avMuxer();
    m.markDiscontinuity();
    const a = parsePackets(m.writeAudio({ pts: 0, data: new Uint8Array(10) }))[0]!;
    const v1 = parsePackets(m.writeVideo({ dts: 0, keyframe: true, data: idr() }))[0]!;
    const v2 = parsePackets(m.writeVideo({ dts: 40, keyframe: false, data: inter() }))[0]!;
    expect([a.discontinuity, v1.discontinuity, v2.discontinuity]).toEqual([false, true, false]);
  });
});

describe('PES header', () => {
  it('video with cts > 0: PTS and DTS (flags 11, prefixes 0011 / 0001), length 0, aligned', () => {
    const [pes] = collectPes(parsePackets(avMuxer().writeVideo({ dts: 1000, cts: 80, keyframe: true, data: idr() })));
    expect(pes!.streamId).toBe(0xe0);
    expect(pes!.length).toBe(0); // unbounded: allowed for video in TS
    expect(pes!.flags6).toBe(0x84); // '10', data_alignment_indicator
    expect(pes!.flags7).toBe(0xc0);
    expect(pes!.headerDataLength).toBe(10);
    expect([pes!.pts, pes!.dts]).toEqual([97_200, 90_000]);
  });
  it('video with cts 0: PTS only (flags 10, prefix 0010)', () => {
    const [pes] = collectPes(parsePackets(avMuxer().writeVideo({ dts: 40, keyframe: false, data: inter() })));
    expect([pes!.flags7, pes!.headerDataLength, pes!.pts, pes!.dts]).toEqual([0x80, 5, 3600, undefined]);
  });
  it('audio: stream_id 0xC0, PTS only, exact PES_packet_length', () => {
    const [pes] = collectPes(parsePackets(avMuxer().writeAudio({ pts: 500, data: new Uint8Array(300) })));
    expect([pes!.streamId, pes!.flags7, pes!.pts, pes!.length]).toEqual([0xc0, 0x80, 45_000, 3 + 5 + 7 + 300]);
  });
  it('writes the 33rd bit and wraps at 2^33 ticks', () => {
    const m = avMuxer();
    const at = (dts: number) => collectPes(parsePackets(m.writeVideo({ dts, keyframe: false, data: inter() })))[0]!.pts;
    expect(at(2 ** 32 / 90)).toBe(2 ** 32);
    expect(at(2 ** 33 / 90 + 1)).toBe(90);
  });
  it('a wrapped 32-bit FLV ms clock stays continuous: 2^32 − 40 ms, then 0 ms are 40 ms apart', () => {
    const m = avMuxer();
    const a = collectPes(parsePackets(m.writeVideo({ dts: 2 ** 32 - 40, keyframe: false, data: inter() })))[0]!;
    const b = collectPes(parsePackets(m.writeVideo({ dts: 0, keyframe: false, data: inter() })))[0]!;
    expect((b.pts! - a.pts! + 2 ** 33) % 2 ** 33).toBe(3600);
  });
});

describe('H.264 elementary stream', () => {
  const es = (m: TsMuxer, data: Uint8Array, keyframe: boolean) =>
    collectPes(parsePackets(m.writeVideo({ dts: 0, keyframe, data })))[0]!.data;

  it.each([1, 2, 4])('AVCC with %i-byte lengths → Annex B; AUD first; SPS/PPS before the IDR', (lengthSize) => {
    const m = new TsMuxer({ video: 'h264' });
    m.setVideoConfig(avcRecord(lengthSize));
    const sei = nal(6, 20);
    const slice = nal(5, lengthSize === 1 ? 200 : 1000);
    expect(Buffer.from(es(m, avcc([sei, slice], lengthSize), true))).toEqual(
      Buffer.from(annexB([AUD, SPS, PPS, sei, slice])),
    );
  });
  it('inter frames get an AUD only; an existing AUD and in-band SPS/PPS are not duplicated', () => {
    const m = new TsMuxer({ video: 'h264' });
    m.setVideoConfig(avcRecord());
    const p = nal(1, 100);
    expect(Buffer.from(es(m, avcc([p]), false))).toEqual(Buffer.from(annexB([AUD, p])));
    const inband = [AUD, SPS, PPS, nal(5, 100)];
    expect(Buffer.from(es(m, avcc(inband), true))).toEqual(Buffer.from(annexB(inband)));
  });
  it('an IDR NAL without the keyframe flag still gets SPS/PPS', () => {
    const m = new TsMuxer({ video: 'h264' });
    m.setVideoConfig(avcRecord());
    const i = nal(5, 100);
    expect(Buffer.from(es(m, avcc([i]), false))).toEqual(Buffer.from(annexB([AUD, SPS, PPS, i])));
  });
});

describe('AAC elementary stream', () => {
  it('wraps raw frames in a 7-byte ADTS header from the AudioSpecificConfig', () => {
    const raw = new Uint8Array(300).fill(0x21);
    const [pes] = collectPes(parsePackets(avMuxer().writeAudio({ pts: 0, data: raw })));
    const len = 307;
    expect([...pes!.data.subarray(0, 7)]).toEqual([
      0xff, // syncword
      0xf1, // syncword, ID 0 (MPEG-4), layer 00, protection_absent 1
      0x50, // profile 01 (LC), sampling_frequency_index 4 (44.1 kHz), private 0, channel_configuration 0b0..
      0x80 | (len >>> 11), // channel_configuration ..10, original/home/copyright 0, frame length bits 12..11
      (len >>> 3) & 0xff,
      ((len & 7) << 5) | 0x1f, // buffer fullness 0x7FF (VBR)
      0xfc, // number_of_raw_data_blocks 0
    ]);
    expect(Buffer.from(pes!.data.subarray(7))).toEqual(Buffer.from(raw));
  });
});

describe('adaptation-field stuffing', () => {
  it('every payload length 1..400 (with and without PCR) round-trips through stuffed packets', () => {
    for (const pcr of [undefined, 12345]) {
      for (let n = 1; n <= 400; n++) {
        const payload = new Uint8Array(n).map((_, i) => i & 0xff);
        const { packets, nextCounter } = packetize(0x100, 15, [payload.subarray(0, 7), payload.subarray(7)], {
          pcr,
          randomAccess: true,
        });
        const parsed = parsePackets(packets);
        expect(parsed[0]!.pcr).toBe(pcr);
        expect(parsed[0]!.randomAccess).toBe(true);
        expect(parsed[0]!.cc).toBe(15);
        expect(nextCounter).toBe(parsed.length % 16 === 0 ? 15 : (15 + parsed.length) & 15);
        expect(Buffer.concat(parsed.map((p) => p.payload))).toEqual(Buffer.from(payload));
        expect(parsed.slice(1, -1).every((p) => p.adaptationLength === undefined)).toBe(true);
      }
    }
  });
  it('a 183-byte payload needs a 1-byte adaptation field (length 0, no flags byte)', () => {
    const parsed = parsePackets(packetize(0x100, 0, [new Uint8Array(183)], {}).packets);
    expect(parsed.length).toBe(1);
    expect(parsed[0]!.adaptationLength).toBe(0);
    expect(parsed[0]!.payload.length).toBe(183);
  });
});
