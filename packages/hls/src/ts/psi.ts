/**
 * Program Specific Information (ISO/IEC 13818-1 §2.4.4): the PAT and the one PMT, each a single
 * section in a single packet, as small pure writers.
 *
 * PAT section: table_id 0x00 | section_syntax 1 | '0' | reserved 2 | section_length 12 |
 *   transport_stream_id 16 | reserved 2 | version 5 | current_next 1 | section_number 8 |
 *   last_section_number 8 | { program_number 16 | reserved 3 | program_map_PID 13 } | CRC_32
 * PMT section: table_id 0x02 | … | program_number 16 | … | reserved 3 | PCR_PID 13 |
 *   reserved 4 | program_info_length 12 | { stream_type 8 | reserved 3 | elementary_PID 13 |
 *   reserved 4 | ES_info_length 12 } | CRC_32
 */
import { PMT_PID, PROGRAM_NUMBER, TS_PACKET_SIZE, TS_SYNC_BYTE } from '../constants';
import { crc32Mpeg2 } from '../crc32';

/** One elementary stream of the PMT. */
export interface PmtStream {
  streamType: number;
  pid: number;
}

function section(tableId: number, idExtension: number, version: number, body: readonly number[]): Uint8Array {
  const length = 5 + body.length + 4; // after section_length: 5 header bytes, body, CRC
  const s = new Uint8Array(3 + length);
  s[0] = tableId;
  s[1] = 0xb0 | ((length >>> 8) & 0x0f); // syntax 1, '0', reserved 11
  s[2] = length & 0xff;
  s[3] = idExtension >>> 8;
  s[4] = idExtension & 0xff;
  s[5] = 0xc1 | ((version & 0x1f) << 1); // reserved 11, version, current_next 1
  s[6] = 0; // section_number
  s[7] = 0; // last_section_number
  s.set(body, 8);
  const crc = crc32Mpeg2(s, 0, s.length - 4);
  const c = s.length - 4;
  s[c] = crc >>> 24;
  s[c + 1] = (crc >>> 16) & 0xff;
  s[c + 2] = (crc >>> 8) & 0xff;
  s[c + 3] = crc & 0xff;
  return s;
}

/** The PAT section: program 1 → {@link PMT_PID}. */
export function patSection(version = 0, transportStreamId = 1): Uint8Array {
  const body = [PROGRAM_NUMBER >>> 8, PROGRAM_NUMBER & 0xff, 0xe0 | (PMT_PID >>> 8), PMT_PID & 0xff];
  return section(0x00, transportStreamId, version, body);
}

/** The PMT section of program 1: PCR on `pcrPid`, the streams in order, no descriptors. */
export function pmtSection(pcrPid: number, streams: readonly PmtStream[], version = 0): Uint8Array {
  const body = [0xe0 | (pcrPid >>> 8), pcrPid & 0xff, 0xf0, 0x00];
  for (const s of streams) body.push(s.streamType, 0xe0 | (s.pid >>> 8), s.pid & 0xff, 0xf0, 0x00);
  return section(0x02, PROGRAM_NUMBER, version, body);
}

/** One packet carrying `sectionBytes` (pointer_field 0, then 0xFF fill) on `pid` with counter `cc`. */
export function psiPacket(pid: number, cc: number, sectionBytes: Uint8Array): Uint8Array {
  const p = new Uint8Array(TS_PACKET_SIZE).fill(0xff);
  p[0] = TS_SYNC_BYTE;
  p[1] = 0x40 | ((pid >>> 8) & 0x1f); // payload_unit_start
  p[2] = pid & 0xff;
  p[3] = 0x10 | (cc & 0x0f); // payload only
  p[4] = 0; // pointer_field
  p.set(sectionBytes, 5);
  return p;
}
