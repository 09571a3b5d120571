/**
 * H.264 / AVC: the decoder configuration record carried by an AVC sequence header, and the
 * sequence parameter set inside it.
 * Specs: ISO/IEC 14496-15 §5.3.3.1 (AVCDecoderConfigurationRecord); ISO/IEC 14496-10 (Rec. ITU-T
 * H.264) §7.3.2.1.1 (seq_parameter_set_data), §7.4.2.1.1 (semantics, frame cropping), Table 6-1
 * (SubWidthC / SubHeightC).
 */
import { FlvFormatError } from '../errors';
import { BitReader, removeEmulationPrevention } from './bit-reader';

/** The parsed AVCDecoderConfigurationRecord. NAL units are views into the input, not copies. */
export interface AvcDecoderConfigurationRecord {
  /** Always 1. */
  configurationVersion: number;
  /** AVCProfileIndication (profile_idc of the SPS). */
  profile: number;
  /** profile_compatibility (the SPS constraint_set flags byte). */
  profileCompatibility: number;
  /** AVCLevelIndication (level_idc of the SPS). */
  level: number;
  /** Bytes of the length prefix before every NAL unit of the coded frames: 1, 2 or 4. */
  nalLengthSize: number;
  /** Sequence parameter set NAL units (with their 1-byte NAL header). */
  sps: Uint8Array[];
  /** Picture parameter set NAL units. */
  pps: Uint8Array[];
}

function truncated(what: string): FlvFormatError {
  return new FlvFormatError('ERR_FLV_TRUNCATED_CODEC_CONFIG', `AVCDecoderConfigurationRecord: truncated ${what}`);
}

/**
 * Parses an AVCDecoderConfigurationRecord (the body of an AVC sequence header, after the 5-byte
 * VIDEODATA header).
 *
 * ```
 * byte 0   configurationVersion = 1
 * byte 1   AVCProfileIndication
 * byte 2   profile_compatibility
 * byte 3   AVCLevelIndication
 * byte 4   reserved '111111'b (6) | lengthSizeMinusOne (2)
 * byte 5   reserved '111'b (3)    | numOfSequenceParameterSets (5)
 *          { sequenceParameterSetLength UI16, sequenceParameterSetNALUnit } × n
 *          numOfPictureParameterSets UI8
 *          { pictureParameterSetLength UI16, pictureParameterSetNALUnit } × n
 *          (high profiles may append chroma_format / bit depth / SPS-ext fields; ignored here)
 * ```
 * @throws FlvFormatError ERR_FLV_TRUNCATED_CODEC_CONFIG, ERR_FLV_BAD_CODEC_CONFIG
 */
export function parseAvcDecoderConfigurationRecord(bytes: Uint8Array): AvcDecoderConfigurationRecord {
  if (bytes.length < 7) throw truncated(`header (${bytes.length} bytes < 7)`);
  const configurationVersion = bytes[0]!;
  if (configurationVersion !== 1) {
    throw new FlvFormatError(
      'ERR_FLV_BAD_CODEC_CONFIG',
      `AVCDecoderConfigurationRecord: configurationVersion ${configurationVersion}, expected 1`,
    );
  }
  const lengthSizeMinusOne = bytes[4]! & 0x03;
  if (lengthSizeMinusOne === 2) {
    throw new FlvFormatError('ERR_FLV_BAD_CODEC_CONFIG', 'AVCDecoderConfigurationRecord: NAL length size 3');
  }
  let o = 5;
  const numSps = bytes[o++]! & 0x1f;
  const sps: Uint8Array[] = [];
  for (let i = 0; i < numSps; i++) {
    if (o + 2 > bytes.length) throw truncated('SPS length');
    const len = (bytes[o]! << 8) | bytes[o + 1]!;
    o += 2;
    if (o + len > bytes.length) throw truncated(`SPS (${len} bytes)`);
    sps.push(bytes.subarray(o, o + len));
    o += len;
  }
  if (o + 1 > bytes.length) throw truncated('PPS count');
  const numPps = bytes[o++]!;
  const pps: Uint8Array[] = [];
  for (let i = 0; i < numPps; i++) {
    if (o + 2 > bytes.length) throw truncated('PPS length');
    const len = (bytes[o]! << 8) | bytes[o + 1]!;
    o += 2;
    if (o + len > bytes.length) throw truncated(`PPS (${len} bytes)`);
    pps.push(bytes.subarray(o, o + len));
    o += len;
  }
  return {
    configurationVersion,
    profile: bytes[1]!,
    profileCompatibility: bytes[2]!,
    level: bytes[3]!,
    nalLengthSize: lengthSizeMinusOne + 1,
    sps,
    pps,
  };
}

/** What a sequence parameter set says about the pictures. */
export interface H264Sps {
  /** profile_idc, e.g. 66 Baseline, 77 Main, 100 High. */
  profileIdc: number;
  /** The constraint_set0..5 flags byte (bit 7 = constraint_set0_flag). */
  constraintFlags: number;
  /** level_idc: ten times the level number (31 = level 3.1). */
  levelIdc: number;
  /** Profile name as FFmpeg prints it, e.g. "Constrained Baseline", "High", "High 10 Intra". */
  profileName: string;
  /** 0 monochrome, 1 = 4:2:0, 2 = 4:2:2, 3 = 4:4:4. */
  chromaFormatIdc: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  /** True for progressive-only streams (frame_mbs_only_flag). */
  frameMbsOnly: boolean;
  /** Displayed width in luma samples, after frame cropping. */
  width: number;
  /** Displayed height in luma samples, after frame cropping. */
  height: number;
  /** Coded width before cropping (a multiple of 16). */
  codedWidth: number;
  /** Coded height before cropping. */
  codedHeight: number;
}

/** Profiles whose SPS carries chroma_format_idc, bit depths and scaling matrices (§7.3.2.1.1). */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

const PROFILE_NAMES = new Map<number, string>([
  [66, 'Baseline'],
  [77, 'Main'],
  [88, 'Extended'],
  [100, 'High'],
  [110, 'High 10'],
  [122, 'High 4:2:2'],
  [244, 'High 4:4:4 Predictive'],
  [44, 'CAVLC 4:4:4'],
  [118, 'Multiview High'],
  [128, 'Stereo High'],
]);

/** FFmpeg's naming: constraint_set1 makes Baseline "Constrained", constraint_set3 makes High x "Intra". */
function h264ProfileName(profileIdc: number, constraintFlags: number): string {
  const base = PROFILE_NAMES.get(profileIdc) ?? `profile_idc ${profileIdc}`;
  const set1 = (constraintFlags & 0x40) !== 0;
  const set3 = (constraintFlags & 0x10) !== 0;
  if (profileIdc === 66 && set1) return 'Constrained Baseline';
  if (set3 && (profileIdc === 110 || profileIdc === 122)) return `${base} Intra`;
  if (set3 && profileIdc === 244) return 'High 4:4:4 Intra';
  return base;
}

/** scaling_list(): only skipped, we need no matrices. §7.3.2.1.1.1. */
function skipScalingList(r: BitReader, size: number): void {
  let lastScale = 8;
  let nextScale = 8;
  for (let j = 0; j < size; j++) {
    if (nextScale !== 0) {
      const delta = r.readSe();
      if (delta < -128 || delta > 127) {
        throw new FlvFormatError('ERR_FLV_BAD_CODEC_CONFIG', `H.264 SPS: delta_scale ${delta} out of range`);
      }
      nextScale = (lastScale + delta + 256) % 256;
    }
    lastScale = nextScale === 0 ? lastScale : nextScale;
  }
}

function bad(message: string): FlvFormatError {
  return new FlvFormatError('ERR_FLV_BAD_CODEC_CONFIG', `H.264 SPS: ${message}`);
}

/** Chroma format and bit depths of an SPS whose profile does not carry them (4:2:0, 8 bits). */
const DEFAULT_CHROMA_FORMAT = { chromaFormatIdc: 1, separateColourPlane: false, bitDepthLuma: 8, bitDepthChroma: 8 };

/** The fields only High profiles (100, 110, 122, 244, …) carry: chroma format, bit depths, scaling lists. */
function readHighProfileFields(r: BitReader): typeof DEFAULT_CHROMA_FORMAT {
  const chromaFormatIdc = r.readUe();
  if (chromaFormatIdc > 3) throw bad(`chroma_format_idc ${chromaFormatIdc} > 3`);
  const separateColourPlane = chromaFormatIdc === 3 ? r.readBit() === 1 : false;
  const bitDepthLuma = r.readUe() + 8;
  const bitDepthChroma = r.readUe() + 8;
  if (bitDepthLuma > 14 || bitDepthChroma > 14) throw bad(`bit depth ${bitDepthLuma}/${bitDepthChroma} > 14`);
  r.skipBits(1); // qpprime_y_zero_transform_bypass_flag
  if (r.readBit() === 1) {
    // seq_scaling_matrix_present_flag: 6 4x4 lists, then 2 (or 6 for 4:4:4) 8x8 lists
    const lists = chromaFormatIdc !== 3 ? 8 : 12;
    for (let i = 0; i < lists; i++) {
      if (r.readBit() === 1) skipScalingList(r, i < 6 ? 16 : 64);
    }
  }
  return { chromaFormatIdc, separateColourPlane, bitDepthLuma, bitDepthChroma };
}

/** Skips log2_max_frame_num_minus4 and the picture order count fields, checking their ranges. */
function skipFrameNumAndPictureOrder(r: BitReader): void {
  const log2MaxFrameNumMinus4 = r.readUe();
  if (log2MaxFrameNumMinus4 > 12) throw bad(`log2_max_frame_num_minus4 ${log2MaxFrameNumMinus4} > 12`);
  const pocType = r.readUe();
  if (pocType === 0) {
    const log2MaxPocLsbMinus4 = r.readUe();
    if (log2MaxPocLsbMinus4 > 12) throw bad(`log2_max_pic_order_cnt_lsb_minus4 ${log2MaxPocLsbMinus4} > 12`);
  } else if (pocType === 1) {
    r.skipBits(1); // delta_pic_order_always_zero_flag
    r.readSe(); // offset_for_non_ref_pic
    r.readSe(); // offset_for_top_to_bottom_field
    const cycle = r.readUe();
    if (cycle > 255) throw bad(`num_ref_frames_in_pic_order_cnt_cycle ${cycle} > 255`);
    for (let i = 0; i < cycle; i++) r.readSe();
  } else if (pocType !== 2) {
    throw bad(`pic_order_cnt_type ${pocType} > 2`);
  }
}

/**
 * Parses an H.264 sequence parameter set NAL unit (starting with its NAL header byte, type 7),
 * as far as the frame cropping fields. Emulation-prevention bytes are removed first.
 *
 * ```
 * NAL header        forbidden_zero_bit(1) nal_ref_idc(2) nal_unit_type(5) = 7
 * profile_idc u(8)  constraint_set0..5_flag u(6) reserved_zero_2bits u(2)  level_idc u(8)
 * seq_parameter_set_id ue
 * if high profile:  chroma_format_idc ue [separate_colour_plane_flag u(1) if 3]
 *                   bit_depth_luma_minus8 ue  bit_depth_chroma_minus8 ue
 *                   qpprime_y_zero_transform_bypass_flag u(1)
 *                   seq_scaling_matrix_present_flag u(1) [8 or 12 × (flag u(1) [scaling_list])]
 * log2_max_frame_num_minus4 ue   pic_order_cnt_type ue  (0: log2_max_poc_lsb_minus4 ue;
 *                   1: delta_pic_order_always_zero u(1), offset_for_non_ref_pic se,
 *                      offset_for_top_to_bottom_field se, n ue, n × offset_for_ref_frame se)
 * max_num_ref_frames ue  gaps_in_frame_num_value_allowed_flag u(1)
 * pic_width_in_mbs_minus1 ue  pic_height_in_map_units_minus1 ue
 * frame_mbs_only_flag u(1) [mb_adaptive_frame_field_flag u(1) if 0]  direct_8x8_inference_flag u(1)
 * frame_cropping_flag u(1) [left, right, top, bottom offsets ue]
 * ```
 * Width  = 16·(pic_width_in_mbs_minus1+1) − CropUnitX·(left+right);
 * Height = 16·(2 − frame_mbs_only)·(pic_height_in_map_units_minus1+1) − CropUnitY·(top+bottom),
 * with CropUnitX = SubWidthC, CropUnitY = SubHeightC·(2 − frame_mbs_only) (1 and 2 − frame_mbs_only
 * when ChromaArrayType = 0).
 * @throws FlvFormatError ERR_FLV_TRUNCATED_CODEC_CONFIG, ERR_FLV_BAD_CODEC_CONFIG
 */
export function parseH264Sps(nal: Uint8Array): H264Sps {
  if (nal.length < 4) {
    throw new FlvFormatError('ERR_FLV_TRUNCATED_CODEC_CONFIG', `H.264 SPS: ${nal.length} bytes`);
  }
  const nalType = nal[0]! & 0x1f;
  if (nalType !== 7) throw bad(`NAL unit type ${nalType}, expected 7`);
  const r = new BitReader(removeEmulationPrevention(nal.subarray(1)), 'H.264 SPS');
  const profileIdc = r.readBits(8);
  const constraintFlags = r.readBits(8);
  const levelIdc = r.readBits(8);
  const spsId = r.readUe();
  if (spsId > 31) throw bad(`seq_parameter_set_id ${spsId} > 31`);

  const { chromaFormatIdc, separateColourPlane, bitDepthLuma, bitDepthChroma } = HIGH_PROFILES.has(profileIdc)
    ? readHighProfileFields(r)
    : DEFAULT_CHROMA_FORMAT;
  skipFrameNumAndPictureOrder(r);
  r.readUe(); // max_num_ref_frames
  r.skipBits(1); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.readUe() + 1;
  const heightMapUnits = r.readUe() + 1;
  const frameMbsOnly = r.readBit() === 1;
  if (!frameMbsOnly) r.skipBits(1); // mb_adaptive_frame_field_flag
  r.skipBits(1); // direct_8x8_inference_flag
  let cropLeft = 0;
  let cropRight = 0;
  let cropTop = 0;
  let cropBottom = 0;
  if (r.readBit() === 1) {
    cropLeft = r.readUe();
    cropRight = r.readUe();
    cropTop = r.readUe();
    cropBottom = r.readUe();
  }

  const codedWidth = widthMbs * 16;
  const codedHeight = (frameMbsOnly ? 1 : 2) * heightMapUnits * 16;
  // Level 6.2 allows 139264 macroblocks per frame; anything above 2^16 pixels a side is garbage.
  if (codedWidth > 65536 || codedHeight > 65536) throw bad(`coded size ${codedWidth}x${codedHeight}`);
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  let cropUnitX = 1;
  let cropUnitY = frameMbsOnly ? 1 : 2;
  if (chromaArrayType !== 0) {
    const subWidthC = chromaFormatIdc === 3 ? 1 : 2;
    const subHeightC = chromaFormatIdc === 1 ? 2 : 1;
    cropUnitX = subWidthC;
    cropUnitY = subHeightC * (frameMbsOnly ? 1 : 2);
  }
  const width = codedWidth - cropUnitX * (cropLeft + cropRight);
  const height = codedHeight - cropUnitY * (cropTop + cropBottom);
  if (width <= 0 || height <= 0) throw bad(`cropping leaves ${width}x${height}`);

  return {
    profileIdc,
    constraintFlags,
    levelIdc,
    profileName: h264ProfileName(profileIdc, constraintFlags),
    chromaFormatIdc,
    bitDepthLuma,
    bitDepthChroma,
    frameMbsOnly,
    width,
    height,
    codedWidth,
    codedHeight,
  };
}
