/**
 * MSB-first bit reader with Exp-Golomb codes, for SPS / AudioSpecificConfig / sequence headers.
 * Spec: ISO/IEC 14496-10 §7.2 (u(n), ue(v), se(v)) and §9.1 (Exp-Golomb parsing);
 * §7.4.1 (emulation prevention: 0x000003).
 *
 * Every read is bounds-checked: running past the end throws ERR_FLV_TRUNCATED_CODEC_CONFIG, an
 * Exp-Golomb code with more than 31 leading zeros (not representable in 32 bits) throws
 * ERR_FLV_BAD_CODEC_CONFIG. Nothing else is thrown.
 */
import { FlvFormatError } from '../errors';

/** Reads bits MSB first from a byte array. */
export class BitReader {
  private readonly bytes: Uint8Array;
  private pos = 0;
  private readonly end: number;
  private readonly what: string;

  /**
   * @param bytes the data (already free of emulation-prevention bytes if it is a NAL unit)
   * @param what names the structure in error messages, e.g. "H.264 SPS"
   */
  constructor(bytes: Uint8Array, what: string) {
    this.bytes = bytes;
    this.end = bytes.length * 8;
    this.what = what;
  }

  /** Bits consumed so far. */
  get bitPosition(): number {
    return this.pos;
  }

  /** Bits still unread. */
  get bitsLeft(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) {
      throw new FlvFormatError(
        'ERR_FLV_TRUNCATED_CODEC_CONFIG',
        `${this.what}: needs ${n} more bits at bit ${this.pos}, only ${this.end - this.pos} left`,
      );
    }
  }

  /** One bit, 0 or 1. */
  readBit(): number {
    this.need(1);
    const byte = this.bytes[this.pos >>> 3]!;
    const bit = (byte >>> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return bit;
  }

  /** `n` bits (0 ≤ n ≤ 32) as an unsigned integer. */
  readBits(n: number): number {
    this.need(n);
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.bytes[this.pos >>> 3]!;
      v = v * 2 + ((byte >>> (7 - (this.pos & 7))) & 1);
      this.pos++;
    }
    return v;
  }

  /** Skips `n` bits. */
  skipBits(n: number): void {
    this.need(n);
    this.pos += n;
  }

  /**
   * ue(v): unsigned Exp-Golomb. `leadingZeros` zero bits, a 1, then `leadingZeros` bits of suffix:
   * value = 2^leadingZeros − 1 + suffix. At most 31 leading zeros (values up to 2^32 − 2).
   */
  readUe(): number {
    let zeros = 0;
    while (this.readBit() === 0) {
      zeros++;
      if (zeros > 31) {
        throw new FlvFormatError('ERR_FLV_BAD_CODEC_CONFIG', `${this.what}: Exp-Golomb code longer than 32 bits`);
      }
    }
    return 2 ** zeros - 1 + this.readBits(zeros);
  }

  /** se(v): signed Exp-Golomb; codeNum k maps to (−1)^(k+1) · ceil(k / 2): 0, 1, −1, 2, −2, … */
  readSe(): number {
    const k = this.readUe();
    if (k === 0) return 0; // not −0
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }
}

/**
 * Removes emulation-prevention bytes: inside a NAL unit every 0x00 0x00 0x03 stands for 0x00 0x00
 * (the 0x03 keeps start codes out of the payload). Returns the input itself when there is none.
 */
export function removeEmulationPrevention(nal: Uint8Array): Uint8Array {
  let found = -1;
  for (let i = 2; i < nal.length; i++) {
    if (nal[i] === 3 && nal[i - 1] === 0 && nal[i - 2] === 0) {
      found = i;
      break;
    }
  }
  if (found < 0) return nal;
  const out = new Uint8Array(nal.length);
  let o = 0;
  let zeros = 0;
  for (let i = 0; i < nal.length; i++) {
    const b = nal[i]!;
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out[o++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, o);
}
