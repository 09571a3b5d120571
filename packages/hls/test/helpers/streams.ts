/** Synthetic H.264 / AAC inputs: a real-looking AVCDecoderConfigurationRecord and frames. */

export const SPS = new Uint8Array([0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00, 0xa0, 0x47, 0xfe, 0xc8]);
export const PPS = new Uint8Array([0x68, 0xce, 0x3c, 0x80]);

/** An AVCDecoderConfigurationRecord (Baseline 3.0) with one SPS and one PPS. */
export function avcRecord(lengthSize = 4, sps = SPS, pps = PPS): Uint8Array {
  return new Uint8Array([
    0x01, // configurationVersion
    sps[1]!, // AVCProfileIndication
    sps[2]!, // profile_compatibility
    sps[3]!, // AVCLevelIndication
    0xfc | (lengthSize - 1), // reserved + lengthSizeMinusOne
    0xe1, // reserved + numOfSequenceParameterSets = 1
    sps.length >>> 8,
    sps.length & 0xff,
    ...sps,
    0x01, // numOfPictureParameterSets
    pps.length >>> 8,
    pps.length & 0xff,
    ...pps,
  ]);
}

/** AAC-LC, 44.1 kHz, stereo. */
export const ASC_LC_44100_STEREO = new Uint8Array([0x12, 0x10]);

/** Length-prefixes `nals` with `lengthSize`-byte big-endian lengths (the AVCC sample format). */
export function avcc(nals: readonly Uint8Array[], lengthSize = 4): Uint8Array {
  const out = new Uint8Array(nals.reduce((n, u) => n + lengthSize + u.length, 0));
  let o = 0;
  for (const u of nals) {
    for (let i = lengthSize - 1; i >= 0; i--) out[o + (lengthSize - 1 - i)] = Math.floor(u.length / 256 ** i) & 0xff;
    o += lengthSize;
    out.set(u, o);
    o += u.length;
  }
  return out;
}

/** A NAL unit of `type` and `size` bytes (header byte nal_ref_idc 3), filled with a pattern. */
export function nal(type: number, size: number, seed = 0): Uint8Array {
  const u = new Uint8Array(size);
  u[0] = 0x60 | type;
  for (let i = 1; i < size; i++) u[i] = (i * 31 + seed) & 0xff;
  return u;
}

/** `parts` as one Annex B stream with 4-byte start codes. */
export function annexB(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, u) => n + 4 + u.length, 0));
  let o = 0;
  for (const u of parts) {
    out.set([0, 0, 0, 1], o);
    out.set(u, o + 4);
    o += 4 + u.length;
  }
  return out;
}

export const AUD = new Uint8Array([0x09, 0xf0]);
