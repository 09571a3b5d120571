/**
 * Fuzz: malformed configuration records, AudioSpecificConfigs and length-prefixed frames raise
 * only typed HlsErrors — never a TypeError/RangeError — and a refused frame changes nothing.
 * Seeds: edge cases found while writing the parsers, kept as a table.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HlsFormatError, isHlsError, parseAacConfig, parseAvcConfig, TsMuxer } from '../src/index';
import { hlsErrorCode } from './helpers/errors';
import { avcc, avcRecord, nal } from './helpers/streams';
import { expectContinuous, parsePackets } from './helpers/ts-parse';

const bytes = (...b: number[]) => new Uint8Array(b);

/** Calls fn; only success or an HlsFormatError may come out. */
function formatErrorOrValue(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    expect(err instanceof HlsFormatError && isHlsError(err), String(err)).toBe(true);
  }
}

describe('AVCDecoderConfigurationRecord', () => {
  it.each([
    ['empty', bytes(), 'ERR_HLS_TRUNCATED_CONFIG'],
    ['version 0', bytes(0, 0x42, 0, 0x1e, 0xff, 0xe1), 'ERR_HLS_BAD_CONFIG'],
    ['3-byte lengths', bytes(1, 0x42, 0, 0x1e, 0xfe, 0xe1), 'ERR_HLS_BAD_CONFIG'],
    ['no SPS', bytes(1, 0x42, 0, 0x1e, 0xff, 0xe0, 0), 'ERR_HLS_BAD_CONFIG'],
    ['SPS length beyond the end', bytes(1, 0x42, 0, 0x1e, 0xff, 0xe1, 0, 9, 0x67), 'ERR_HLS_TRUNCATED_CONFIG'],
    ['SPS of length 0', bytes(1, 0x42, 0, 0x1e, 0xff, 0xe1, 0, 0, 1), 'ERR_HLS_BAD_CONFIG'],
    ['PPS where the SPS goes', bytes(1, 0x42, 0, 0x1e, 0xff, 0xe1, 0, 1, 0x68, 0), 'ERR_HLS_BAD_CONFIG'],
    ['forbidden_zero_bit set', bytes(1, 0x42, 0, 0x1e, 0xff, 0xe1, 0, 1, 0xe7, 0), 'ERR_HLS_BAD_CONFIG'],
    ['no PPS count', bytes(1, 0x42, 0, 0x1e, 0xff, 0xe1, 0, 1, 0x67), 'ERR_HLS_TRUNCATED_CONFIG'],
    ['PPS cut short', bytes(1, 0x42, 0, 0x1e, 0xff, 0xe1, 0, 1, 0x67, 1, 0, 4, 0x68), 'ERR_HLS_TRUNCATED_CONFIG'],
    ['no PPS (in-band later)', bytes(1, 0x42, 0, 0x1e, 0xff, 0xe1, 0, 1, 0x67, 0), 'no error'],
  ])('%s → %s', (_name, record, code) => {
    expect(hlsErrorCode(() => parseAvcConfig(record))).toBe(code);
  });

  it('every truncation of a valid record is a typed error', () => {
    const record = avcRecord();
    for (let n = 0; n < record.length; n++) {
      expect(hlsErrorCode(() => parseAvcConfig(record.subarray(0, n)))).toMatch(/^ERR_HLS_(TRUNCATED|BAD)_CONFIG$/);
    }
    expect(parseAvcConfig(record).nalLengthSize).toBe(4);
  });

  it('random bytes and bit-flipped records raise only typed errors', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => formatErrorOrValue(() => parseAvcConfig(b))));
    const record = avcRecord();
    fc.assert(
      fc.property(fc.array(fc.nat({ max: record.length * 8 - 1 }), { maxLength: 4 }), (flips) => {
        const r = record.slice();
        for (const f of flips) r[f >>> 3]! ^= 1 << (f & 7);
        formatErrorOrValue(() => parseAvcConfig(r));
      }),
    );
  });
});

describe('AudioSpecificConfig', () => {
  it.each([
    ['empty', bytes(), 'ERR_HLS_TRUNCATED_CONFIG'],
    ['one byte', bytes(0x12), 'ERR_HLS_TRUNCATED_CONFIG'],
    ['object type 0', bytes(0x00, 0x10), 'ERR_HLS_BAD_CONFIG'],
    ['reserved frequency index 13', bytes(0x16, 0x90), 'ERR_HLS_BAD_CONFIG'],
    ['channel configuration 0 (PCE)', bytes(0x12, 0x00), 'ERR_HLS_UNSUPPORTED_CONFIG'],
    ['USAC (escape 31 → 42)', bytes(0xf9, 0x42, 0x00, 0x00), 'ERR_HLS_UNSUPPORTED_CONFIG'],
    ['explicit 44,100 Hz maps to index 4', bytes(0x17, 0x80, 0x56, 0x22, 0x10), 'no error'],
    ['explicit 44,000 Hz has no index', bytes(0x17, 0x80, 0x55, 0xf0, 0x10), 'ERR_HLS_UNSUPPORTED_CONFIG'],
    ['HE-AAC (SBR) over AAC-LC', bytes(0x2b, 0x91, 0x88), 'no error'],
    ['SBR cut before its core type', bytes(0x2b, 0x91), 'ERR_HLS_TRUNCATED_CONFIG'],
  ])('%s → %s', (_name, asc, code) => {
    expect(hlsErrorCode(() => parseAacConfig(asc))).toBe(code);
  });

  it('HE-AAC is carried as its AAC-LC core at the core rate (implicit SBR signalling)', () => {
    expect(parseAacConfig(bytes(0x2b, 0x91, 0x88))).toMatchObject({
      objectType: 2,
      announcedObjectType: 5,
      sampleRate: 22050,
      channelConfiguration: 2,
    });
    expect(parseAacConfig(bytes(0x17, 0x80, 0x56, 0x22, 0x10)).samplingFrequencyIndex).toBe(4);
  });

  it('random bytes raise only typed errors', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 8 }), (b) => formatErrorOrValue(() => parseAacConfig(b))));
  });
});

describe('frames', () => {
  it('random AVCC frame bytes: typed error, or packets; a refused frame leaves the counters alone', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 2, 4),
        fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 5 }),
        (ls, frames) => {
          const m = new TsMuxer({ video: 'h264' });
          m.setVideoConfig(avcRecord(ls));
          const out = [m.segmentStart()];
          for (const [i, data] of frames.entries()) {
            try {
              out.push(m.writeVideo({ dts: i * 40, keyframe: i === 0, data }));
            } catch (err) {
              expect(err instanceof HlsFormatError, String(err)).toBe(true);
            }
          }
          out.push(m.writeVideo({ dts: 1000, keyframe: false, data: avcc([nal(1, 10)], ls) }));
          expectContinuous(parsePackets(Buffer.concat(out)));
        },
      ),
    );
  });

  it.each([
    ['length field cut short', avcc([nal(1, 10)]).subarray(0, 2), 'ERR_HLS_BAD_NAL_LENGTH'],
    ['NAL longer than the frame', bytes(0, 0, 0, 9, 0x65, 1, 2), 'ERR_HLS_BAD_NAL_LENGTH'],
    ['empty frame', bytes(), 'ERR_HLS_EMPTY_FRAME'],
  ])('%s → %s', (_name, data, code) => {
    const m = new TsMuxer({ video: 'h264' });
    m.setVideoConfig(avcRecord());
    expect(hlsErrorCode(() => m.writeVideo({ dts: 0, keyframe: true, data }))).toBe(code);
  });

  it.each([
    ['NaN dts', () => ({ dts: Number.NaN, keyframe: true, data: bytes(0, 0, 0, 1, 0x65) }), 'ERR_HLS_INVALID_ARGUMENT'],
    [
      'string cts',
      () => ({ dts: 0, cts: '5', keyframe: true, data: bytes(0, 0, 0, 1, 0x65) }),
      'ERR_HLS_INVALID_ARGUMENT',
    ],
    ['data not bytes', () => ({ dts: 0, keyframe: true, data: [1, 2] }), 'ERR_HLS_INVALID_ARGUMENT'],
  ])('%s → %s', (_name, frame, code) => {
    const m = new TsMuxer({ video: 'h264' });
    m.setVideoConfig(avcRecord());
    expect(hlsErrorCode(() => m.writeVideo(frame() as never))).toBe(code);
  });

  it('calls out of order or on a missing track are usage errors', () => {
    const m = new TsMuxer({ video: 'h264', audio: 'aac' });
    expect(hlsErrorCode(() => m.writeVideo({ dts: 0, keyframe: true, data: bytes(1) }))).toBe('ERR_HLS_NOT_CONFIGURED');
    expect(hlsErrorCode(() => m.writeAudio({ pts: 0, data: bytes(1) }))).toBe('ERR_HLS_NOT_CONFIGURED');
    const a = new TsMuxer({ audio: 'mp3' });
    expect(hlsErrorCode(() => a.writeVideo({ dts: 0, keyframe: true, data: bytes(1) }))).toBe('ERR_HLS_NO_SUCH_TRACK');
    expect(hlsErrorCode(() => a.setVideoConfig(avcRecord()))).toBe('ERR_HLS_NO_SUCH_TRACK');
    expect(hlsErrorCode(() => a.setAudioConfig(bytes(0x12, 0x10)))).toBe('ERR_HLS_INVALID_ARGUMENT');
    expect(hlsErrorCode(() => a.writeAudio({ pts: 0, data: bytes(0xff, 0xfb, 0x90, 0x00) }))).toBe('no error');
    const aac = new TsMuxer({ audio: 'aac' });
    aac.setAudioConfig(bytes(0x12, 0x10));
    expect(hlsErrorCode(() => aac.writeAudio({ pts: 0, data: new Uint8Array(8185) }))).toBe('ERR_HLS_FRAME_TOO_LARGE');
  });
});
