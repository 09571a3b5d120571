/**
 * Small configuration records of the Enhanced RTMP codecs: only the fields a summary needs.
 * Specs: AV1 Codec ISO Media File Format Binding §2.3 (AV1CodecConfigurationRecord, av1C);
 * VP Codec ISO Media File Format Binding §2.2 (VPCodecConfigurationRecord, vpcC);
 * RFC 7845 §5.1 (Opus ID header); FLAC format §"METADATA_BLOCK_STREAMINFO".
 */
import { FlvFormatError } from '../errors';

function truncated(what: string, have: number, need: number): FlvFormatError {
  return new FlvFormatError('ERR_FLV_TRUNCATED_CODEC_CONFIG', `${what}: ${have} bytes < ${need}`);
}

/** Fields of an AV1CodecConfigurationRecord. */
export interface Av1Config {
  /** seq_profile: 0 Main, 1 High, 2 Professional. */
  profile: number;
  /** seq_level_idx_0 (level = 2 + (idx >> 2) + "." + (idx & 3)). */
  level: number;
  tier: number;
  bitDepth: number;
  monochrome: boolean;
}

/**
 * ```
 * byte 0  marker (1) = 1 | version (7) = 1
 * byte 1  seq_profile (3) | seq_level_idx_0 (5)
 * byte 2  seq_tier_0 (1) | high_bitdepth (1) | twelve_bit (1) | monochrome (1) |
 *         chroma_subsampling_x (1) | chroma_subsampling_y (1) | chroma_sample_position (2)
 * byte 3  reserved (3) | initial_presentation_delay_present (1) | delay_minus_one (4)
 *         configOBUs (sequence header OBU)
 * ```
 * @throws FlvFormatError ERR_FLV_TRUNCATED_CODEC_CONFIG, ERR_FLV_BAD_CODEC_CONFIG
 */
export function parseAv1Config(p: Uint8Array): Av1Config {
  if (p.length < 4) throw truncated('AV1CodecConfigurationRecord', p.length, 4);
  if (p[0] !== 0x81) {
    throw new FlvFormatError(
      'ERR_FLV_BAD_CODEC_CONFIG',
      `AV1CodecConfigurationRecord: first byte ${p[0]}, expected 0x81`,
    );
  }
  const b2 = p[2]!;
  const highBitdepth = (b2 >>> 6) & 1;
  const twelveBit = (b2 >>> 5) & 1;
  return {
    profile: p[1]! >>> 5,
    level: p[1]! & 0x1f,
    tier: b2 >>> 7,
    bitDepth: highBitdepth ? (twelveBit ? 12 : 10) : 8,
    monochrome: ((b2 >>> 4) & 1) === 1,
  };
}

/** Fields of a VPCodecConfigurationRecord. */
export interface VpConfig {
  profile: number;
  /** Level times ten (e.g. 31 = level 3.1). */
  level: number;
  bitDepth: number;
  chromaSubsampling: number;
}

/**
 * Accepts the record with or without the 4-byte FullBox header (version 1, flags 0) that the
 * `vpcC` box puts in front of it; FFmpeg's FLV muxer writes it, other encoders may not.
 * ```
 * [version UI8 = 1, flags UI24 = 0]
 * profile UI8 | level UI8 | bitDepth (4) chromaSubsampling (3) videoFullRangeFlag (1) |
 * colourPrimaries UI8 | transferCharacteristics UI8 | matrixCoefficients UI8 |
 * codecIntializationDataSize UI16 | codecIntializationData
 * ```
 * @throws FlvFormatError ERR_FLV_TRUNCATED_CODEC_CONFIG
 */
export function parseVpConfig(p: Uint8Array): VpConfig {
  let o = 0;
  if (p.length >= 4 && p[0] === 1 && p[1] === 0 && p[2] === 0 && p[3] === 0) o = 4;
  if (p.length < o + 8) throw truncated('VPCodecConfigurationRecord', p.length, o + 8);
  return {
    profile: p[o]!,
    level: p[o + 1]!,
    bitDepth: p[o + 2]! >>> 4,
    chromaSubsampling: (p[o + 2]! >>> 1) & 0x07,
  };
}

/** Fields of an Opus identification header. */
export interface OpusHead {
  channels: number;
  /** The encoder's input rate (informative); Opus always decodes at 48 kHz. */
  inputSampleRate: number;
  mappingFamily: number;
}

/**
 * ```
 * "OpusHead" (8) | version UI8 | channelCount UI8 | preSkip UI16 LE | inputSampleRate UI32 LE |
 * outputGain SI16 LE | channelMappingFamily UI8 | [mapping table]
 * ```
 * @throws FlvFormatError ERR_FLV_TRUNCATED_CODEC_CONFIG, ERR_FLV_BAD_CODEC_CONFIG
 */
export function parseOpusHead(p: Uint8Array): OpusHead {
  if (p.length < 19) throw truncated('OpusHead', p.length, 19);
  const magic = String.fromCharCode(...p.subarray(0, 8));
  if (magic !== 'OpusHead') throw new FlvFormatError('ERR_FLV_BAD_CODEC_CONFIG', 'Opus header: no "OpusHead" magic');
  const channels = p[9]!;
  if (channels === 0) throw new FlvFormatError('ERR_FLV_BAD_CODEC_CONFIG', 'Opus header: 0 channels');
  return {
    channels,
    inputSampleRate: (p[12]! | (p[13]! << 8) | (p[14]! << 16) | (p[15]! << 24)) >>> 0,
    mappingFamily: p[18]!,
  };
}

/** Fields of a FLAC STREAMINFO block. */
export interface FlacStreamInfo {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
}

/**
 * ```
 * "fLaC" | last-block (1) type (7) = 0 | length UI24 (34) | STREAMINFO:
 *   min/max block size UI16 ×2 | min/max frame size UI24 ×2 |
 *   sample rate (20) | channels − 1 (3) | bits per sample − 1 (5) | total samples (36) | MD5 (128)
 * ```
 * @throws FlvFormatError ERR_FLV_TRUNCATED_CODEC_CONFIG, ERR_FLV_BAD_CODEC_CONFIG
 */
export function parseFlacStreamInfo(p: Uint8Array): FlacStreamInfo {
  if (p.length < 8 + 18) throw truncated('FLAC header', p.length, 26);
  if (p[0] !== 0x66 || p[1] !== 0x4c || p[2] !== 0x61 || p[3] !== 0x43) {
    throw new FlvFormatError('ERR_FLV_BAD_CODEC_CONFIG', 'FLAC header: no "fLaC" signature');
  }
  if ((p[4]! & 0x7f) !== 0)
    throw new FlvFormatError('ERR_FLV_BAD_CODEC_CONFIG', 'FLAC header: first block is not STREAMINFO');
  const s = 8; // STREAMINFO starts after the 4-byte signature and the 4-byte block header
  const sampleRate = (p[s + 10]! << 12) | (p[s + 11]! << 4) | (p[s + 12]! >>> 4);
  if (sampleRate === 0) throw new FlvFormatError('ERR_FLV_BAD_CODEC_CONFIG', 'FLAC STREAMINFO: sample rate 0');
  return {
    sampleRate,
    channels: ((p[s + 12]! >>> 1) & 0x07) + 1,
    bitsPerSample: (((p[s + 12]! & 1) << 4) | (p[s + 13]! >>> 4)) + 1,
  };
}
