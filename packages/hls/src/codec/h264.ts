/**
 * H.264 in MPEG-TS (ISO/IEC 13818-1 §2.14, stream_type 0x1B): the AVCDecoderConfigurationRecord
 * (ISO/IEC 14496-15 §5.3.3.1) gives the NAL length size and the SPS/PPS put before IDR pictures.
 *
 * AVCDecoderConfigurationRecord:
 *   configurationVersion 8 (= 1) | AVCProfileIndication 8 | profile_compatibility 8 |
 *   AVCLevelIndication 8 | reserved '111111' | lengthSizeMinusOne 2 |
 *   reserved '111' | numOfSequenceParameterSets 5 | { sequenceParameterSetLength 16 | SPS } |
 *   numOfPictureParameterSets 8 | { pictureParameterSetLength 16 | PPS } | [high-profile fields]
 */
import { HlsFormatError } from '../errors';
import { type NalSyntax, toAnnexB } from './annexb';
import type { VideoCodec } from './codec';

/** What the muxer keeps of an AVCDecoderConfigurationRecord. */
export interface AvcConfig {
  profile: number;
  compatibility: number;
  level: number;
  /** Bytes of each NAL length prefix: 1, 2 or 4. */
  nalLengthSize: number;
  /** Copies of the SPS NAL units (type 7). */
  sps: Uint8Array[];
  /** Copies of the PPS NAL units (type 8). */
  pps: Uint8Array[];
}

const NAL_IDR = 5;
const NAL_SPS = 7;
const NAL_PPS = 8;
const NAL_AUD = 9;

/** H.264 NAL syntax: nal_unit_type is the low 5 bits of the first byte. */
export const H264_NAL_SYNTAX: NalSyntax = {
  type: (nal) => nal[0]! & 0x1f,
  isAccessUnitDelimiter: (t) => t === NAL_AUD,
  isParameterSet: (t) => t === NAL_SPS || t === NAL_PPS,
  isRandomAccess: (t) => t === NAL_IDR,
  // nal_unit_type 9, primary_pic_type 7 (any slice type), rbsp_stop_one_bit.
  delimiter: new Uint8Array([0x09, 0xf0]),
};

function truncated(what: string): HlsFormatError {
  return new HlsFormatError('ERR_HLS_TRUNCATED_CONFIG', `AVCDecoderConfigurationRecord ends inside ${what}`);
}

function readParameterSets(b: Uint8Array, o: number, count: number, type: number, what: string) {
  const sets: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    if (o + 2 > b.length) throw truncated(`the length of ${what} ${i}`);
    const n = (b[o]! << 8) | b[o + 1]!;
    o += 2;
    if (n > b.length - o) throw truncated(`${what} ${i} (${n} bytes)`);
    if (n === 0 || (b[o]! & 0x1f) !== type || (b[o]! & 0x80) !== 0) {
      throw new HlsFormatError('ERR_HLS_BAD_CONFIG', `${what} ${i} is not a NAL unit of type ${type}`);
    }
    sets.push(b.slice(o, o + n));
    o += n;
  }
  return { sets, end: o };
}

/** Parses an AVCDecoderConfigurationRecord (the body of an FLV AVC sequence header). */
export function parseAvcConfig(record: Uint8Array): AvcConfig {
  if (record.length < 6) throw truncated('the fixed header');
  if (record[0] !== 1) {
    throw new HlsFormatError('ERR_HLS_BAD_CONFIG', `configurationVersion ${record[0]} is not 1`);
  }
  const lengthSizeMinusOne = record[4]! & 0x03;
  if (lengthSizeMinusOne === 2) {
    throw new HlsFormatError('ERR_HLS_BAD_CONFIG', 'lengthSizeMinusOne 2 (3-byte NAL lengths) is reserved');
  }
  const spsCount = record[5]! & 0x1f;
  if (spsCount === 0) throw new HlsFormatError('ERR_HLS_BAD_CONFIG', 'the record holds no SPS');
  const sps = readParameterSets(record, 6, spsCount, NAL_SPS, 'SPS');
  if (sps.end >= record.length) throw truncated('numOfPictureParameterSets');
  const pps = readParameterSets(record, sps.end + 1, record[sps.end]!, NAL_PPS, 'PPS');
  return {
    profile: record[1]!,
    compatibility: record[2]!,
    level: record[3]!,
    nalLengthSize: lengthSizeMinusOne + 1,
    sps: sps.sets,
    pps: pps.sets,
  };
}

/** The H.264 {@link VideoCodec}. */
export class H264Codec implements VideoCodec {
  readonly name = 'h264';
  readonly streamType = 0x1b;
  #config: AvcConfig | undefined;
  #parameterSets: Uint8Array[] = [];

  get configured(): boolean {
    return this.#config !== undefined;
  }

  /** The configuration in use, if any. */
  get config(): AvcConfig | undefined {
    return this.#config;
  }

  configure(record: Uint8Array): void {
    const config = parseAvcConfig(record);
    this.#config = config;
    this.#parameterSets = [...config.sps, ...config.pps];
  }

  accessUnit(data: Uint8Array, keyframe: boolean): Uint8Array[] {
    const config = this.#config!;
    return toAnnexB(data, config.nalLengthSize, H264_NAL_SYNTAX, this.#parameterSets, keyframe);
  }
}
