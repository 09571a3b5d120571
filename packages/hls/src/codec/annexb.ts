/**
 * Length-prefixed NAL units (ISO/IEC 14496-15 sample format, what FLV carries) → Annex B byte
 * stream (Rec. ITU-T H.264 Annex B), generic over the NAL syntax so that HEVC can share it.
 * NAL payloads are never copied: the result is a list of views and start codes.
 */
import { HlsFormatError } from '../errors';

/** A 4-byte start code (zero_byte + start_code_prefix_one_3bytes), shared and never written to. */
export const START_CODE: Uint8Array = new Uint8Array([0, 0, 0, 1]);

/** What the converter must know of a codec's NAL units. */
export interface NalSyntax {
  /** nal_unit_type of a NAL unit (its first byte(s)). */
  type(nal: Uint8Array): number;
  isAccessUnitDelimiter(type: number): boolean;
  isParameterSet(type: number): boolean;
  /** An IDR (H.264) / IRAP (HEVC) picture: parameter sets must precede it. */
  isRandomAccess(type: number): boolean;
  /** The access unit delimiter NAL to insert when an access unit has none. */
  readonly delimiter: Uint8Array;
}

/** Splits length-prefixed NAL units; empty units are skipped. Throws ERR_HLS_BAD_NAL_LENGTH. */
export function splitNalUnits(data: Uint8Array, lengthSize: number): Uint8Array[] {
  const units: Uint8Array[] = [];
  let o = 0;
  while (o < data.length) {
    if (o + lengthSize > data.length) {
      throw new HlsFormatError('ERR_HLS_BAD_NAL_LENGTH', `NAL length field cut short at byte ${o}`);
    }
    let n = 0;
    for (let i = 0; i < lengthSize; i++) n = n * 256 + data[o + i]!;
    o += lengthSize;
    if (n > data.length - o) {
      throw new HlsFormatError('ERR_HLS_BAD_NAL_LENGTH', `NAL unit of ${n} bytes at ${o} exceeds the frame`, {
        details: { length: n, available: data.length - o },
      });
    }
    if (n > 0) units.push(data.subarray(o, o + n));
    o += n;
  }
  return units;
}

/**
 * One access unit in Annex B: an access unit delimiter first (inserted if missing), then the
 * decoder's parameter sets when the unit is a keyframe or holds a random access picture and
 * carries none of its own, then its NAL units.
 */
export function toAnnexB(
  data: Uint8Array,
  lengthSize: number,
  syntax: NalSyntax,
  parameterSets: readonly Uint8Array[],
  keyframe: boolean,
): Uint8Array[] {
  const units = splitNalUnits(data, lengthSize);
  let hasParameterSets = false;
  let randomAccess = keyframe;
  for (const u of units) {
    const t = syntax.type(u);
    if (syntax.isParameterSet(t)) hasParameterSets = true;
    else if (syntax.isRandomAccess(t)) randomAccess = true;
  }
  const out: Uint8Array[] = [];
  let i = 0;
  const first = units[0];
  if (first !== undefined && syntax.isAccessUnitDelimiter(syntax.type(first))) {
    out.push(START_CODE, first);
    i = 1;
  } else {
    out.push(START_CODE, syntax.delimiter);
  }
  if (randomAccess && !hasParameterSets) for (const p of parameterSets) out.push(START_CODE, p);
  for (; i < units.length; i++) out.push(START_CODE, units[i]!);
  return out;
}
