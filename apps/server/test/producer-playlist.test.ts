/**
 * FFmpeg's private playlist as the server reads it off FFmpeg's stdout: a byte stream of whole
 * playlists, one per cut, split anywhere by the pipe, possibly cut short by a crash or filled with
 * bytes that are no playlist at all.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_LINE_LENGTH, type ProducedSegment, ProducerPlaylistReader } from '../src/output/producer-playlist';

/** What FFmpeg 5.1 writes at a cut with `-hls_list_size 1`. */
function cut(n: number, duration: string): string {
  const name = `live_${String(n).padStart(3, '0')}.ts`;
  return `#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:${n}\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXTINF:${duration},\n${name}\n`;
}

function read(chunks: (Buffer | string)[]): { segments: ProducedSegment[]; reader: ProducerPlaylistReader } {
  const segments: ProducedSegment[] = [];
  const reader = new ProducerPlaylistReader((s) => segments.push(s));
  for (const c of chunks) reader.push(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
  return { segments, reader };
}

describe("FFmpeg's private playlist on its stdout", () => {
  it('reads each cut as it arrives: names, numbers and durations; foreign names skipped', () => {
    const { segments } = read([
      cut(41, '1.000000'),
      cut(42, '0.960000').replace('live_042.ts', 'elsewhere.ts'),
      cut(43, '1.040000').replaceAll('\n', '\r\n'),
    ]);
    expect(segments).toEqual([
      { name: 'live_041.ts', number: 41, duration: 1 },
      { name: 'live_043.ts', number: 43, duration: 1.04 },
    ]);
  });

  it('gives the same segments however the pipe splits the bytes', () => {
    const text = [cut(0, '2.000000'), cut(1, '2.000000'), cut(2, '0.924000')].join('');
    const whole = read([text]).segments;
    expect(whole.map((s) => s.number)).toEqual([0, 1, 2]);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: text.length - 1 }), { maxLength: 30 }), (cuts) => {
        const at = [0, ...cuts.sort((a, b) => a - b), text.length];
        const chunks = at.slice(1).map((end, i) => text.slice(at[i], end));
        expect(read(chunks).segments).toEqual(whole);
      }),
    );
  });

  it('lists nothing for an entry cut short (a crash mid-write)', () => {
    expect(read([cut(5, '1.000000').slice(0, -3)]).segments).toEqual([]);
    expect(read(['#EXTM3U\n#EXTINF:1.0,\n#EXTINF']).segments).toEqual([]);
  });

  it('skips a malformed EXTINF and the name after it', () => {
    const { segments, reader } = read(['#EXTM3U\n#EXTINF:soon,\nlive_001.ts\n', cut(2, '1.000000')]);
    expect(segments.map((s) => s.number)).toEqual([2]);
    expect(reader.skipped).toBe(1);
  });

  it('holds at most one bounded line of bytes that are no playlist, and reads on after them', () => {
    const binary = Buffer.alloc(5 * MAX_LINE_LENGTH, 0x47); // MPEG-TS sync bytes, no newline
    const reader = read([binary, binary]).reader;
    expect(reader.buffered).toBeLessThanOrEqual(MAX_LINE_LENGTH);
    const after = read([binary, '\n', cut(7, '1.000000')]);
    expect(after.segments.map((s) => s.number)).toEqual([7]);
    expect(after.reader.skipped).toBe(1);
    // A line just over the bound inside one chunk, and one built across chunks, are both skipped.
    const long = `${'x'.repeat(MAX_LINE_LENGTH + 1)}\n`;
    expect(read([long, cut(8, '1.0')]).segments.map((s) => s.number)).toEqual([8]);
    expect(read([long.slice(0, 600), long.slice(600), cut(9, '1.0')]).reader.skipped).toBe(1);
  });
});
