/**
 * The HLS module's pure pieces: the media playlist text (RFC 8216 tags, serialize/parse round trip,
 * typed errors on malformed input) and the keyframe clock that dates segments.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSegmentName, segmentName, segmentNumber } from '../src/hls/names';
import {
  type MediaPlaylist,
  PlaylistParseError,
  parseMediaPlaylist,
  serializeMediaPlaylist,
} from '../src/hls/playlist';
import { KeyframeClock } from '../src/output/keyframe-clock';

const T0 = Date.UTC(2026, 11, 7, 12, 0, 0, 250);

const sample: MediaPlaylist = {
  version: 3,
  targetDuration: 2,
  mediaSequence: 7,
  discontinuitySequence: 1,
  independentSegments: true,
  segments: [
    { uri: 'live_007.ts', duration: 2, discontinuity: false, programDateTime: T0 },
    { uri: 'live_008.ts', duration: 1.5, discontinuity: true, programDateTime: T0 + 60_000 },
  ],
  endList: true,
};

function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PlaylistParseError);
    return (err as PlaylistParseError).code;
  }
  return undefined;
}

describe('media playlist text', () => {
  it('writes the RFC 8216 tags in order, without EXT-X-ALLOW-CACHE', () => {
    expect(serializeMediaPlaylist(sample)).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:3',
        '#EXT-X-TARGETDURATION:2',
        '#EXT-X-MEDIA-SEQUENCE:7',
        '#EXT-X-DISCONTINUITY-SEQUENCE:1',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-PROGRAM-DATE-TIME:2026-12-07T12:00:00.250Z',
        '#EXTINF:2.000,',
        'live_007.ts',
        '#EXT-X-DISCONTINUITY',
        '#EXT-X-PROGRAM-DATE-TIME:2026-12-07T12:01:00.250Z',
        '#EXTINF:1.500,',
        'live_008.ts',
        '#EXT-X-ENDLIST',
        '',
      ].join('\n'),
    );
  });

  it('reads back what it writes', () => {
    const segment = fc.record({
      uri: fc.nat(999_999).map(segmentName),
      duration: fc.integer({ min: 1, max: 10_000 }).map((ms) => ms / 1000),
      discontinuity: fc.boolean(),
      programDateTime: fc.integer({ min: 0, max: 4_102_444_800_000 }),
    });
    fc.assert(
      fc.property(
        fc.record({
          targetDuration: fc.integer({ min: 1, max: 20 }),
          mediaSequence: fc.nat(),
          discontinuitySequence: fc.nat(),
          segments: fc.array(segment, { maxLength: 8 }),
          endList: fc.boolean(),
        }),
        (p) => {
          const playlist: MediaPlaylist = { version: 3, independentSegments: true, ...p };
          expect(parseMediaPlaylist(serializeMediaPlaylist(playlist))).toEqual(playlist);
        },
      ),
    );
  });

  it('skips unknown tags (RFC 8216 §6.3.1) and reads CRLF lines', () => {
    const p = parseMediaPlaylist(
      '#EXTM3U\r\n#EXT-X-ALLOW-CACHE:NO\r\n#EXT-X-FUTURE:1\r\n#EXTINF:1.2,\r\nlive_001.ts\r\n',
    );
    expect(p.segments).toEqual([{ uri: 'live_001.ts', duration: 1.2, discontinuity: false }]);
  });

  it.each([
    ['no header', 'live_001.ts\n', 'ERR_HLS_NOT_A_PLAYLIST'],
    ['a segment without EXTINF', '#EXTM3U\nlive_001.ts\n', 'ERR_HLS_BAD_TAG'],
    ['a non-numeric EXTINF', '#EXTM3U\n#EXTINF:abc,\nlive_001.ts\n', 'ERR_HLS_BAD_TAG'],
    ['a negative media sequence', '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:-1\n', 'ERR_HLS_BAD_TAG'],
    ['an overlong integer', `#EXTM3U\n#EXT-X-TARGETDURATION:${'9'.repeat(16)}\n`, 'ERR_HLS_BAD_TAG'],
    ['a bad date', '#EXTM3U\n#EXT-X-PROGRAM-DATE-TIME:yesterday\n#EXTINF:1,\nlive_001.ts\n', 'ERR_HLS_BAD_TAG'],
  ])('refuses %s with a typed error', (_what, text, code) => {
    expect(errorCode(() => parseMediaPlaylist(text))).toBe(code);
  });

  it('stops at maxSegments instead of growing without bound', () => {
    const text = `#EXTM3U\n${Array.from({ length: 5 }, (_, i) => `#EXTINF:1,\n${segmentName(i)}`).join('\n')}\n`;
    expect(parseMediaPlaylist(text, { maxSegments: 5 }).segments).toHaveLength(5);
    expect(errorCode(() => parseMediaPlaylist(text, { maxSegments: 4 }))).toBe('ERR_HLS_TOO_MANY_SEGMENTS');
  });
});

describe('segment names', () => {
  it('round-trips numbers and refuses anything that is not a finished segment', () => {
    expect(segmentName(7)).toBe('live_007.ts');
    expect(segmentName(12_345)).toBe('live_12345.ts');
    expect(segmentNumber('live_12345.ts')).toBe(12_345);
    for (const name of [
      'live_07.ts',
      'live_007.ts.tmp',
      '../live_007.ts',
      'live_-01.ts',
      `live_${'1'.repeat(21)}.ts`,
    ]) {
      expect(isSegmentName(name), name).toBe(false);
    }
    expect(() => segmentName(-1)).toThrow(RangeError);
  });
});

describe('KeyframeClock', () => {
  it("dates a segment with its keyframe's arrival, tolerating FFmpeg's rounding", () => {
    const clock = new KeyframeClock();
    clock.note(0, T0);
    clock.note(1000, T0 + 1003);
    clock.note(2000, T0 + 1998);
    expect(clock.arrivalAt(0)).toBe(T0);
    expect(clock.arrivalAt(1000.4)).toBe(T0 + 1003);
    expect(clock.arrivalAt(1960)).toBe(T0 + 1998);
  });

  it('estimates from the nearest keyframe when none is close, and forgets keyframes it dated past', () => {
    const clock = new KeyframeClock();
    expect(clock.arrivalAt(0)).toBeUndefined();
    clock.note(0, T0);
    clock.note(4000, T0 + 4010);
    expect(clock.arrivalAt(1500)).toBe(T0 + 1500);
    expect(clock.arrivalAt(4000)).toBe(T0 + 4010);
    // The keyframe at 0 is gone: a late question about it is answered from the one at 4000.
    expect(clock.arrivalAt(0)).toBe(T0 + 10);
  });

  it('keeps a bounded number of keyframes', () => {
    const clock = new KeyframeClock();
    for (let i = 0; i < 10_000; i++) clock.note(i * 1000, T0 + i * 2000);
    // The oldest kept is keyframe 5904 (10 000 - 4096): the estimate for 0 is made from it.
    expect(clock.arrivalAt(0)).toBe(T0 + 5904 * 2000 - 5904 * 1000);
  });
});
