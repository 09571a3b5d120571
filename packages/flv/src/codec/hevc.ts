/**
 * H.265 / HEVC: the decoder configuration record of an Enhanced RTMP `hvc1` sequence start, and the
 * sequence parameter set inside it.
 * Specs: ISO/IEC 14496-15 §8.3.3.1 (HEVCDecoderConfigurationRecord); Rec. ITU-T H.265 §7.3.2.2
 * (seq_parameter_set_rbsp), §7.3.3 (profile_tier_level), §7.4.3.2.1 (conformance window).
 */
import { FlvFormatError } from '../errors';
import { BitReader, removeEmulationPrevention } from './bit-reader';

/** The parsed HEVCDecoderConfigurationRecord. NAL units are views into the input. */
export interface HevcDecoderConfigurationRecord {
  /** general_profile_idc: 1 Main, 2 Main 10, 3 Main Still Picture, 4 Range extensions. */
  profile: number;
  /** general_tier_flag: 0 Main tier, 1 High tier. */
  tier: number;
  /** general_level_idc: thirty times the level number (93 = level 3.1). */
  level: number;
  /** chroma_format_idc. */
  chromaFormat: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  /** Bytes of the NAL length prefix of coded frames: 1, 2 or 4. */
  nalLengthSize: number;
  /** NAL units by type: 32 VPS, 33 SPS, 34 PPS, 39/40 SEI. */
  nalUnits: { type: number; data: Uint8Array }[];
}

function truncated(what: string): FlvFormatError {
  return new FlvFormatError('ERR_FLV_TRUNCATED_CODEC_CONFIG', `HEVCDecoderConfigurationRecord: truncated ${what}`);
}

/** Most NAL units an hvcC may list before we call it garbage (bounds the loops). */
const MAX_HVCC_NAL_UNITS = 1024;

/**
 * Parses an HEVCDecoderConfigurationRecord.
 *
 * ```
 * byte 0      configurationVersion = 1
 * byte 1      general_profile_space (2) | general_tier_flag (1) | general_profile_idc (5)
 * bytes 2-5   general_profile_compatibility_flags (32)
 * bytes 6-11  general_constraint_indicator_flags (48)
 * byte 12     general_level_idc
 * bytes 13-14 reserved '1111'b | min_spatial_segmentation_idc (12)
 * byte 15     reserved '111111'b | parallelismType (2)
 * byte 16     reserved '111111'b | chromaFormat (2)
 * byte 17     reserved '11111'b | bitDepthLumaMinus8 (3)
 * byte 18     reserved '11111'b | bitDepthChromaMinus8 (3)
 * bytes 19-20 avgFrameRate
 * byte 21     constantFrameRate (2) | numTemporalLayers (3) | temporalIdNested (1) | lengthSizeMinusOne (2)
 * byte 22     numOfArrays
 *             { array_completeness (1) | reserved (1) | NAL_unit_type (6), numNalus UI16,
 *               { nalUnitLength UI16, nalUnit } × numNalus } × numOfArrays
 * ```
 * @throws FlvFormatError ERR_FLV_TRUNCATED_CODEC_CONFIG, ERR_FLV_BAD_CODEC_CONFIG
 */
export function parseHevcDecoderConfigurationRecord(bytes: Uint8Array): HevcDecoderConfigurationRecord {
  if (bytes.length < 23) throw truncated(`header (${bytes.length} bytes < 23)`);
  if (bytes[0] !== 1) {
    throw new FlvFormatError(
      'ERR_FLV_BAD_CODEC_CONFIG',
      `HEVCDecoderConfigurationRecord: configurationVersion ${bytes[0]}, expected 1`,
    );
  }
  const lengthSizeMinusOne = bytes[21]! & 0x03;
  if (lengthSizeMinusOne === 2) {
    throw new FlvFormatError('ERR_FLV_BAD_CODEC_CONFIG', 'HEVCDecoderConfigurationRecord: NAL length size 3');
  }
  const numArrays = bytes[22]!;
  const nalUnits: { type: number; data: Uint8Array }[] = [];
  let o = 23;
  for (let a = 0; a < numArrays; a++) {
    if (o + 3 > bytes.length) throw truncated('NAL array header');
    const type = bytes[o]! & 0x3f;
    const count = (bytes[o + 1]! << 8) | bytes[o + 2]!;
    o += 3;
    for (let i = 0; i < count; i++) {
      if (nalUnits.length >= MAX_HVCC_NAL_UNITS) {
        throw new FlvFormatError('ERR_FLV_BAD_CODEC_CONFIG', 'HEVCDecoderConfigurationRecord: too many NAL units');
      }
      if (o + 2 > bytes.length) throw truncated('NAL unit length');
      const len = (bytes[o]! << 8) | bytes[o + 1]!;
      o += 2;
      if (o + len > bytes.length) throw truncated(`NAL unit (${len} bytes)`);
      nalUnits.push({ type, data: bytes.subarray(o, o + len) });
      o += len;
    }
  }
  return {
    profile: bytes[1]! & 0x1f,
    tier: (bytes[1]! >>> 5) & 1,
    level: bytes[12]!,
    chromaFormat: bytes[16]! & 0x03,
    bitDepthLuma: (bytes[17]! & 0x07) + 8,
    bitDepthChroma: (bytes[18]! & 0x07) + 8,
    nalLengthSize: lengthSizeMinusOne + 1,
    nalUnits,
  };
}

/** What an HEVC sequence parameter set says about the pictures. */
export interface HevcSps {
  profileIdc: number;
  tier: number;
  levelIdc: number;
  /** Profile name as FFmpeg prints it ("Main", "Main 10", "Main Still Picture", "Rext"). */
  profileName: string;
  chromaFormatIdc: number;
  /** Width after the conformance window. */
  width: number;
  /** Height after the conformance window. */
  height: number;
}

const HEVC_PROFILE_NAMES = new Map<number, string>([
  [1, 'Main'],
  [2, 'Main 10'],
  [3, 'Main Still Picture'],
  [4, 'Rext'],
  [9, 'SCC'],
]);

/** Name FFmpeg gives a general_profile_idc. */
export function hevcProfileName(profileIdc: number): string {
  return HEVC_PROFILE_NAMES.get(profileIdc) ?? `general_profile_idc ${profileIdc}`;
}

function bad(message: string): FlvFormatError {
  return new FlvFormatError('ERR_FLV_BAD_CODEC_CONFIG', `HEVC SPS: ${message}`);
}

/**
 * Parses an HEVC SPS NAL unit (2-byte NAL header, type 33) up to the conformance window.
 *
 * ```
 * NAL header  forbidden_zero_bit(1) nal_unit_type(6) nuh_layer_id(6) nuh_temporal_id_plus1(3)
 * sps_video_parameter_set_id u(4)  sps_max_sub_layers_minus1 u(3)  sps_temporal_id_nesting_flag u(1)
 * profile_tier_level(1, sps_max_sub_layers_minus1):
 *   general_profile_space u(2) general_tier_flag u(1) general_profile_idc u(5)
 *   general_profile_compatibility_flag u(32)  4 source flags + 43 reserved + 1 = 48 bits
 *   general_level_idc u(8)
 *   n × (sub_layer_profile_present_flag u(1), sub_layer_level_present_flag u(1)),
 *   if n > 0: (8 − n) × reserved_zero_2bits,
 *   n × ([88 bits if profile present] [8 bits if level present])
 * sps_seq_parameter_set_id ue  chroma_format_idc ue [separate_colour_plane_flag u(1) if 3]
 * pic_width_in_luma_samples ue  pic_height_in_luma_samples ue
 * conformance_window_flag u(1) [left, right, top, bottom offsets ue, in chroma units]
 * ```
 * @throws FlvFormatError ERR_FLV_TRUNCATED_CODEC_CONFIG, ERR_FLV_BAD_CODEC_CONFIG
 */
export function parseHevcSps(nal: Uint8Array): HevcSps {
  if (nal.length < 3) throw new FlvFormatError('ERR_FLV_TRUNCATED_CODEC_CONFIG', `HEVC SPS: ${nal.length} bytes`);
  const nalType = (nal[0]! >>> 1) & 0x3f;
  if (nalType !== 33) throw bad(`NAL unit type ${nalType}, expected 33`);
  const r = new BitReader(removeEmulationPrevention(nal.subarray(2)), 'HEVC SPS');
  r.skipBits(4); // sps_video_parameter_set_id
  const maxSubLayersMinus1 = r.readBits(3);
  if (maxSubLayersMinus1 > 6) throw bad(`sps_max_sub_layers_minus1 ${maxSubLayersMinus1} > 6`);
  r.skipBits(1); // sps_temporal_id_nesting_flag
  r.skipBits(2); // general_profile_space
  const tier = r.readBit();
  const profileIdc = r.readBits(5);
  r.skipBits(32); // general_profile_compatibility_flags
  r.skipBits(48); // progressive/interlaced/non-packed/frame-only + 43 reserved + inbld/reserved
  const levelIdc = r.readBits(8);
  const profilePresent: number[] = [];
  const levelPresent: number[] = [];
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    profilePresent.push(r.readBit());
    levelPresent.push(r.readBit());
  }
  if (maxSubLayersMinus1 > 0) r.skipBits(2 * (8 - maxSubLayersMinus1));
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (profilePresent[i] === 1) r.skipBits(88);
    if (levelPresent[i] === 1) r.skipBits(8);
  }
  const spsId = r.readUe();
  if (spsId > 15) throw bad(`sps_seq_parameter_set_id ${spsId} > 15`);
  const chromaFormatIdc = r.readUe();
  if (chromaFormatIdc > 3) throw bad(`chroma_format_idc ${chromaFormatIdc} > 3`);
  let separateColourPlane = false;
  if (chromaFormatIdc === 3) separateColourPlane = r.readBit() === 1;
  const codedWidth = r.readUe();
  const codedHeight = r.readUe();
  if (codedWidth === 0 || codedHeight === 0 || codedWidth > 65536 || codedHeight > 65536) {
    throw bad(`picture size ${codedWidth}x${codedHeight}`);
  }
  let left = 0;
  let right = 0;
  let top = 0;
  let bottom = 0;
  if (r.readBit() === 1) {
    left = r.readUe();
    right = r.readUe();
    top = r.readUe();
    bottom = r.readUe();
  }
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
  const subHeightC = chromaArrayType === 1 ? 2 : 1;
  const width = codedWidth - subWidthC * (left + right);
  const height = codedHeight - subHeightC * (top + bottom);
  if (width <= 0 || height <= 0) throw bad(`conformance window leaves ${width}x${height}`);
  return { profileIdc, tier, levelIdc, profileName: hevcProfileName(profileIdc), chromaFormatIdc, width, height };
}
