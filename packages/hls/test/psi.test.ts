/** PAT / PMT bytes and the MPEG-2 CRC_32, checked against the spec tables and known values. */
import { describe, expect, it } from 'vitest';
import { crc32Mpeg2, StreamType, TsMuxer } from '../src/index';
import { patSection, pmtSection, psiPacket } from '../src/ts/psi';
import { parsePackets } from './helpers/ts-parse';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('crc32Mpeg2', () => {
  it('gives the CRC-32/MPEG-2 check value 0x0376E6E7 for "123456789"', () => {
    expect(crc32Mpeg2(new TextEncoder().encode('123456789'))).toBe(0x0376e6e7);
  });
  it('is 0 over a section including its own CRC_32 (the decoder check)', () => {
    const s = pmtSection(0x100, [{ streamType: 0x1b, pid: 0x100 }]);
    expect(crc32Mpeg2(s)).toBe(0);
  });
});

describe('PAT', () => {
  it('is the well-known single-program PAT (program 1 → PID 0x1000)', () => {
    // FFmpeg writes the same PAT for its defaults; its CRC is 2A B1 04 B2.
    expect(hex(patSection())).toBe(
      [
        '00', // table_id: program_association_section
        'b00d', // section_syntax_indicator 1, '0', reserved 11, section_length 13
        '0001', // transport_stream_id 1
        'c1', // reserved 11, version_number 0, current_next_indicator 1
        '00', // section_number
        '00', // last_section_number
        '0001', // program_number 1
        'f000', // reserved 111, program_map_PID 0x1000
        '2ab104b2', // CRC_32
      ].join(''),
    );
  });
  it('travels in one packet: PUSI, pointer_field 0, 0xFF fill', () => {
    const p = psiPacket(0, 5, patSection());
    expect(hex(p.subarray(0, 5))).toBe('4740001500');
    expect(p.subarray(5 + 16).every((b) => b === 0xff)).toBe(true);
  });
});

describe('PMT', () => {
  it('lists H.264 on 0x100 and AAC on 0x101 with the PCR on video', () => {
    expect(
      hex(
        pmtSection(0x100, [
          { streamType: 0x1b, pid: 0x100 },
          { streamType: 0x0f, pid: 0x101 },
        ]),
      ),
    ).toMatch(
      new RegExp(
        [
          '^02', // table_id: TS_program_map_section
          'b017', // section_length 23 = 9 + 2 × 5 + 4
          '0001', // program_number 1
          'c1', // version 0, current_next 1
          '0000', // section_number, last_section_number
          'e100', // reserved 111, PCR_PID 0x100
          'f000', // reserved 1111, program_info_length 0
          '1be100f000', // H.264 on 0x100, ES_info_length 0
          '0fe101f000', // AAC ADTS on 0x101
          '[0-9a-f]{8}$', // CRC_32
        ].join(''),
      ),
    );
  });
  it.each([
    [{ video: 'h264', audio: 'aac' } as const, 0x100, [StreamType.H264, StreamType.AacAdts]],
    [{ video: 'h264' } as const, 0x100, [StreamType.H264]],
    [{ audio: 'aac' } as const, 0x101, [StreamType.AacAdts]],
    [{ audio: 'mp3' } as const, 0x101, [StreamType.Mpeg1Audio]],
  ])('%o: PCR PID %i, stream types %o', (options, pcrPid, types) => {
    const packets = parsePackets(new TsMuxer(options).segmentStart());
    expect(packets.map((p) => p.pid)).toEqual([0, 0x1000]);
    const pmt = packets[1]!.payload.subarray(1); // after pointer_field
    const length = ((pmt[1]! & 0x0f) << 8) | pmt[2]!;
    expect(crc32Mpeg2(pmt, 0, 3 + length)).toBe(0);
    expect(((pmt[8]! & 0x1f) << 8) | pmt[9]!).toBe(pcrPid);
    const streams = [];
    for (let o = 12; o < 3 + length - 4; o += 5) streams.push(pmt[o]);
    expect(streams).toEqual(types);
  });
});
