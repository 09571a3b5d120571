/**
 * AAC AudioSpecificConfig (the body of an AAC sequence header).
 * Spec: ISO/IEC 14496-3 §1.6.2.1 (AudioSpecificConfig, GetAudioObjectType), Table 1.16
 * (sampling frequency index), Table 1.19 (channel configuration, with the amendment values 11–14).
 */
import { FlvFormatError } from '../errors';
import { BitReader } from './bit-reader';

/** What an AudioSpecificConfig says. */
export interface AudioSpecificConfig {
  /** audioObjectType of the core coder (2 = AAC LC; 5/29 are reported via `sbr`/`ps` instead). */
  objectType: number;
  /** Sampling rate of the core coder in Hz. */
  coreSampleRate: number;
  /** Output sampling rate in Hz: the SBR extension rate for HE-AAC, else the core rate. */
  sampleRate: number;
  /** channelConfiguration (0 = defined by a program_config_element). */
  channelConfiguration: number;
  /** Output channels for channelConfiguration 1–14; 0 when a PCE defines them. */
  channels: number;
  /** Spectral band replication signalled explicitly (object type 5 or 29). */
  sbr: boolean;
  /** Parametric stereo signalled explicitly (object type 29). */
  ps: boolean;
  /** Profile name as FFmpeg prints it: "LC", "HE-AAC", "HE-AACv2", "Main", "LTP", … */
  profileName: string;
}

/** Table 1.16: index → Hz; 13 and 14 are reserved, 15 means a 24-bit explicit rate follows. */
export const AAC_SAMPLE_RATES: readonly number[] = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/** Table 1.19 (+ amendment 4): channelConfiguration → channel count; 0 = from the PCE. */
const CHANNELS_BY_CONFIGURATION = [0, 1, 2, 3, 4, 5, 6, 8, 0, 0, 0, 7, 8, 24, 8, 0];

const PROFILE_NAMES = new Map<number, string>([
  [1, 'Main'],
  [2, 'LC'],
  [3, 'SSR'],
  [4, 'LTP'],
  [5, 'HE-AAC'],
  [23, 'LD'],
  [29, 'HE-AACv2'],
  [39, 'ELD'],
]);

/** GetAudioObjectType(): 5 bits; 31 is an escape for 32 + 6 more bits. */
function readObjectType(r: BitReader): number {
  const t = r.readBits(5);
  return t === 31 ? 32 + r.readBits(6) : t;
}

/** samplingFrequencyIndex (4 bits), or 0xF followed by a 24-bit rate in Hz. */
function readSampleRate(r: BitReader): number {
  const index = r.readBits(4);
  if (index === 0xf) {
    const rate = r.readBits(24);
    if (rate === 0) throw new FlvFormatError('ERR_FLV_BAD_CODEC_CONFIG', 'AudioSpecificConfig: explicit rate 0 Hz');
    return rate;
  }
  const rate = AAC_SAMPLE_RATES[index];
  if (rate === undefined) {
    throw new FlvFormatError(
      'ERR_FLV_BAD_CODEC_CONFIG',
      `AudioSpecificConfig: reserved samplingFrequencyIndex ${index}`,
    );
  }
  return rate;
}

/**
 * Parses an AudioSpecificConfig as far as the output rate and channels.
 *
 * ```
 * audioObjectType            5 bits (31 → 32 + 6 bits)
 * samplingFrequencyIndex     4 bits (15 → samplingFrequency 24 bits)
 * channelConfiguration       4 bits
 * if audioObjectType is 5 (SBR) or 29 (SBR+PS):
 *   extensionSamplingFrequencyIndex 4 bits (15 → 24 bits)
 *   audioObjectType          5 bits (31 → 32 + 6 bits), the core coder (usually 2, LC)
 *   [extensionChannelConfiguration 4 bits if that is 22, ER BSAC]
 * GASpecificConfig / … follows (not needed)
 * ```
 * @throws FlvFormatError ERR_FLV_TRUNCATED_CODEC_CONFIG, ERR_FLV_BAD_CODEC_CONFIG
 */
export function parseAudioSpecificConfig(bytes: Uint8Array): AudioSpecificConfig {
  if (bytes.length < 2) {
    throw new FlvFormatError('ERR_FLV_TRUNCATED_CODEC_CONFIG', `AudioSpecificConfig: ${bytes.length} bytes < 2`);
  }
  const r = new BitReader(bytes, 'AudioSpecificConfig');
  let objectType = readObjectType(r);
  if (objectType === 0) throw new FlvFormatError('ERR_FLV_BAD_CODEC_CONFIG', 'AudioSpecificConfig: object type 0');
  const coreSampleRate = readSampleRate(r);
  const channelConfiguration = r.readBits(4);
  let sampleRate = coreSampleRate;
  let sbr = false;
  let ps = false;
  if (objectType === 5 || objectType === 29) {
    sbr = true;
    ps = objectType === 29;
    sampleRate = readSampleRate(r);
    objectType = readObjectType(r);
  }
  const profileName = ps
    ? 'HE-AACv2'
    : sbr
      ? 'HE-AAC'
      : (PROFILE_NAMES.get(objectType) ?? `audioObjectType ${objectType}`);
  return {
    objectType,
    coreSampleRate,
    sampleRate,
    channelConfiguration,
    channels: CHANNELS_BY_CONFIGURATION[channelConfiguration] ?? 0,
    sbr,
    ps,
    profileName,
  };
}
