/**
 * Splits one PES packet (given as pieces, never concatenated) into 188-byte transport stream
 * packets (ISO/IEC 13818-1 §2.4.3.2–§2.4.3.5), with one allocation per call: the exact packet
 * count is known from the length, and every payload byte is copied once, into its packet.
 *
 * Packet header (4 bytes):
 *   sync_byte 0x47 | TEI 1 | payload_unit_start 1 | priority 1 | PID 13 | scrambling 2 |
 *   adaptation_field_control 2 (01 payload, 11 adaptation field + payload) | continuity_counter 4
 * Adaptation field: length 8 | discontinuity 1 | random_access 1 | ES_priority 1 | PCR_flag 1 |
 *   OPCR/splicing/private/extension flags 4 | [PCR base 33 | reserved 6 | extension 9] | 0xFF stuffing
 * A one-byte adaptation field (length 0, no flags byte) stuffs a single byte.
 */
import { TS_PACKET_SIZE, TS_SYNC_BYTE } from '../constants';

const PAYLOAD_SIZE = TS_PACKET_SIZE - 4;
const AF_DISCONTINUITY = 0x80;
const AF_RANDOM_ACCESS = 0x40;
const AF_PCR = 0x10;

/** What the first packet of a PES carries in its adaptation field. */
export interface FirstPacketFlags {
  /** PCR base in 90 kHz ticks (extension 0), written when defined. */
  pcr?: number | undefined;
  /** random_access_indicator: the PES starts a keyframe (video) or any frame (audio-only). */
  randomAccess?: boolean;
  /** discontinuity_indicator: a new time base starts here (a reconnect). */
  discontinuity?: boolean;
}

/** The packets of one PES, and the continuity counter the next packet of this PID takes. */
export interface Packetized {
  packets: Uint8Array;
  nextCounter: number;
}

/** Writes a 6-byte PCR (base = `ticks` mod 2^33, extension 0) at `out[o]`. */
export function writePcr(out: Uint8Array, o: number, ticks: number): void {
  const high32 = Math.floor(ticks / 2) >>> 0; // bits 32..1 of the base
  out[o] = high32 >>> 24;
  out[o + 1] = (high32 >>> 16) & 0xff;
  out[o + 2] = (high32 >>> 8) & 0xff;
  out[o + 3] = high32 & 0xff;
  out[o + 4] = ((ticks % 2) << 7) | 0x7e; // base bit 0, 6 reserved ones, extension bits 8 (0)
  out[o + 5] = 0; // extension bits 7..0
}

function firstAdaptationSize(flags: FirstPacketFlags): number {
  if (flags.pcr !== undefined) return 8;
  return flags.randomAccess || flags.discontinuity ? 2 : 0;
}

function flagsByte(flags: FirstPacketFlags): number {
  return (
    (flags.discontinuity ? AF_DISCONTINUITY : 0) |
    (flags.randomAccess ? AF_RANDOM_ACCESS : 0) |
    (flags.pcr !== undefined ? AF_PCR : 0)
  );
}

/** Number of packets a PES of `length` bytes takes when the first packet reserves `firstAf` bytes. */
export function packetCount(length: number, firstAf: number): number {
  const first = PAYLOAD_SIZE - firstAf;
  return length <= first ? 1 : 1 + Math.ceil((length - first) / PAYLOAD_SIZE);
}

/**
 * Packetizes the PES made of `pieces` (total length > 0) on `pid`, starting at continuity counter
 * `counter`. The last packet is filled up by adaptation-field stuffing.
 */
export function packetize(
  pid: number,
  counter: number,
  pieces: readonly Uint8Array[],
  flags: FirstPacketFlags,
): Packetized {
  let remaining = 0;
  for (const p of pieces) remaining += p.length;
  const firstAf = firstAdaptationSize(flags);
  const count = packetCount(remaining, firstAf);
  const out = new Uint8Array(count * TS_PACKET_SIZE);
  let cc = counter & 0x0f;
  let piece = 0;
  let pieceOffset = 0;
  for (let i = 0; i < count; i++) {
    const o = i * TS_PACKET_SIZE;
    const payload = Math.min(remaining, PAYLOAD_SIZE - (i === 0 ? firstAf : 0));
    const af = PAYLOAD_SIZE - payload; // adaptation field bytes, length byte included
    out[o] = TS_SYNC_BYTE;
    out[o + 1] = (i === 0 ? 0x40 : 0) | ((pid >>> 8) & 0x1f);
    out[o + 2] = pid & 0xff;
    out[o + 3] = (af > 0 ? 0x30 : 0x10) | cc;
    cc = (cc + 1) & 0x0f;
    if (af > 0) {
      out[o + 4] = af - 1;
      if (af > 1) {
        out[o + 5] = i === 0 ? flagsByte(flags) : 0;
        let s = o + 6;
        if (i === 0 && flags.pcr !== undefined) {
          writePcr(out, s, flags.pcr);
          s += 6;
        }
        out.fill(0xff, s, o + 4 + af);
      }
    }
    let w = o + 4 + af;
    let need = payload;
    while (need > 0) {
      const src = pieces[piece]!;
      const n = Math.min(need, src.length - pieceOffset);
      out.set(n === src.length ? src : src.subarray(pieceOffset, pieceOffset + n), w);
      w += n;
      need -= n;
      pieceOffset += n;
      if (pieceOffset === src.length) {
        piece++;
        pieceOffset = 0;
      }
    }
    remaining -= payload;
  }
  return { packets: out, nextCounter: cc };
}
