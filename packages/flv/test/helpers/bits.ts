/** A test-only MSB-first bit writer for building SPS / AudioSpecificConfig bytes by hand. */
export class BitWriter {
  private bits: number[] = [];

  u(n: number, value: number): this {
    for (let i = n - 1; i >= 0; i--) this.bits.push(Math.floor(value / 2 ** i) % 2);
    return this;
  }

  /** ue(v): zeros, 1, then the low bits of value + 1. */
  ue(value: number): this {
    const v = value + 1;
    const len = Math.floor(Math.log2(v));
    this.u(len, 0);
    return this.u(len + 1, v);
  }

  se(value: number): this {
    return this.ue(value > 0 ? 2 * value - 1 : -2 * value);
  }

  /** Pads with zero bits to a byte boundary (no rbsp stop bit). */
  bytes(): Uint8Array {
    const out = new Uint8Array(Math.ceil(this.bits.length / 8));
    this.bits.forEach((b, i) => {
      if (b) out[i >> 3]! |= 0x80 >> (i & 7);
    });
    return out;
  }

  /** rbsp_trailing_bits: a 1, then zeros to the byte boundary. */
  rbsp(): Uint8Array {
    this.bits.push(1);
    return this.bytes();
  }
}

/** Inserts emulation-prevention bytes: 00 00 0x (x ≤ 3) → 00 00 03 0x. */
export function addEmulationPrevention(rbsp: Uint8Array): Uint8Array {
  const out: number[] = [];
  let zeros = 0;
  for (const b of rbsp) {
    if (zeros >= 2 && b <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return new Uint8Array(out);
}

export function ascii(s: string): number[] {
  return Array.from(s, (c) => c.charCodeAt(0));
}
