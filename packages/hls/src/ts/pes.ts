/**
 * PES packet header (ISO/IEC 13818-1 §2.4.3.6–§2.4.3.7):
 *   packet_start_code_prefix 0x000001 24 | stream_id 8 | PES_packet_length 16 |
 *   '10' | scrambling 2 | priority 1 | data_alignment 1 | copyright 1 | original 1 |
 *   PTS_DTS_flags 2 | ESCR, ES_rate, trick, copy_info, CRC, extension flags 6 |
 *   PES_header_data_length 8 | PTS (5 bytes) | DTS (5 bytes, when it differs from PTS)
 * A timestamp: '0010' (PTS only) / '0011' (PTS then DTS) / '0001' (DTS) 4 | ts[32..30] 3 | 1 |
 *   ts[29..15] 15 | 1 | ts[14..0] 15 | 1.
 */

/** Writes the 5-byte timestamp field with 4-bit `prefix` for the 33-bit `ticks` at `out[o]`. */
export function writeTimestamp(out: Uint8Array, o: number, prefix: number, ticks: number): void {
  const high = Math.floor(ticks / 2 ** 30) & 0x07; // bits 32..30
  const low = ticks % 2 ** 30; // bits 29..0, fits bitwise ops
  out[o] = (prefix << 4) | (high << 1) | 1;
  out[o + 1] = (low >>> 22) & 0xff;
  out[o + 2] = (((low >>> 15) & 0x7f) << 1) | 1;
  out[o + 3] = (low >>> 7) & 0xff;
  out[o + 4] = ((low & 0x7f) << 1) | 1;
}

/** Reads a 5-byte timestamp field back (for tests and the segment inspector). */
export function readTimestamp(b: Uint8Array, o: number): number {
  const high = (b[o]! >>> 1) & 0x07;
  const low = (b[o + 1]! << 22) | ((b[o + 2]! >>> 1) << 15) | (b[o + 3]! << 7) | (b[o + 4]! >>> 1);
  return high * 2 ** 30 + (low >>> 0);
}

/**
 * The PES header for a payload of `payloadLength` bytes. PES_packet_length is 0 (unbounded, allowed
 * for video in TS only) when `unbounded` or when the packet would not fit 16 bits.
 * data_alignment_indicator is set: every PES starts with an access unit.
 */
export function pesHeader(
  streamId: number,
  pts: number,
  dts: number | undefined,
  payloadLength: number,
  unbounded: boolean,
): Uint8Array {
  const withDts = dts !== undefined && dts !== pts;
  const dataLength = withDts ? 10 : 5;
  const h = new Uint8Array(9 + dataLength);
  h[2] = 0x01;
  h[3] = streamId;
  const length = 3 + dataLength + payloadLength;
  if (!unbounded && length <= 0xffff) {
    h[4] = length >>> 8;
    h[5] = length & 0xff;
  }
  h[6] = 0x84; // '10', data_alignment_indicator
  h[7] = withDts ? 0xc0 : 0x80;
  h[8] = dataLength;
  writeTimestamp(h, 9, withDts ? 0x3 : 0x2, pts);
  if (withDts) writeTimestamp(h, 14, 0x1, dts);
  return h;
}
