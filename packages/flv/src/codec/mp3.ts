/**
 * MPEG audio frame header, to report the real rate and channels of MP3 tags (the FLV SoundRate
 * field cannot express 48 kHz and is only a hint).
 * Spec: ISO/IEC 11172-3 §2.4.1.3 and ISO/IEC 13818-3 (MPEG-2 LSF); "MPEG 2.5" is a de-facto extension.
 */
import { FlvFormatError } from '../errors';

/** What a MPEG audio frame header says. */
export interface MpegAudioFrameHeader {
  /** 1 (MPEG-1), 2 (MPEG-2) or 2.5. */
  version: 1 | 2 | 2.5;
  /** 1, 2 or 3 (MP3). */
  layer: 1 | 2 | 3;
  sampleRate: number;
  /** 1 for mono (channel mode 3), else 2. */
  channels: number;
}

const RATES_MPEG1 = [44100, 48000, 32000];

/**
 * Parses the 4-byte MPEG audio frame header at the start of `bytes`.
 *
 * ```
 * sync 11 bits (all 1) | version 2 (00 = 2.5, 01 reserved, 10 = 2, 11 = 1) | layer 2 (01 = III,
 * 10 = II, 11 = I) | protection 1 | bitrate index 4 | sampling rate index 2 (3 reserved) |
 * padding 1 | private 1 | channel mode 2 (3 = mono) | mode ext 2 | copyright 1 | original 1 | emphasis 2
 * ```
 * @throws FlvFormatError ERR_FLV_TRUNCATED_CODEC_CONFIG, ERR_FLV_BAD_CODEC_CONFIG
 */
export function parseMpegAudioFrameHeader(bytes: Uint8Array): MpegAudioFrameHeader {
  if (bytes.length < 4) {
    throw new FlvFormatError('ERR_FLV_TRUNCATED_CODEC_CONFIG', `MPEG audio header: ${bytes.length} bytes < 4`);
  }
  const b1 = bytes[1]!;
  const b2 = bytes[2]!;
  if (bytes[0] !== 0xff || (b1 & 0xe0) !== 0xe0) {
    throw new FlvFormatError('ERR_FLV_BAD_CODEC_CONFIG', 'MPEG audio header: no frame sync');
  }
  const versionBits = (b1 >>> 3) & 3;
  const layerBits = (b1 >>> 1) & 3;
  const rateIndex = (b2 >>> 2) & 3;
  if (versionBits === 1 || layerBits === 0 || rateIndex === 3) {
    throw new FlvFormatError('ERR_FLV_BAD_CODEC_CONFIG', 'MPEG audio header: reserved version, layer or rate');
  }
  const version = versionBits === 3 ? 1 : versionBits === 2 ? 2 : 2.5;
  const divisor = version === 1 ? 1 : version === 2 ? 2 : 4;
  const layer = (4 - layerBits) as 1 | 2 | 3;
  return {
    version,
    layer,
    sampleRate: RATES_MPEG1[rateIndex]! / divisor,
    channels: ((bytes[3]! >>> 6) & 3) === 3 ? 1 : 2,
  };
}
