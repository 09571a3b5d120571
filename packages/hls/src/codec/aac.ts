/**
 * AAC in MPEG-TS (stream_type 0x0F): raw frames from FLV are wrapped in ADTS headers
 * (ISO/IEC 13818-7 §6.2, ISO/IEC 14496-3 §1.A.2) built from the AudioSpecificConfig
 * (ISO/IEC 14496-3 §1.6.2.1).
 *
 * AudioSpecificConfig: audioObjectType 5 (31 → 32 + 6 more bits) | samplingFrequencyIndex 4
 *   (15 → samplingFrequency 24) | channelConfiguration 4 | [SBR/PS (type 5, 29):
 *   extensionSamplingFrequencyIndex 4 (15 → 24 bits) | audioObjectType 5 (the core)] | …
 * ADTS header without CRC (7 bytes): syncword 0xFFF 12 | ID 1 (0 = MPEG-4) | layer 2 (00) |
 *   protection_absent 1 (1) | profile 2 (object type − 1) | sampling_frequency_index 4 |
 *   private 1 | channel_configuration 3 | original 1 | home 1 | copyright_id_bit 1 |
 *   copyright_id_start 1 | aac_frame_length 13 (header included) | buffer_fullness 11 (0x7FF, VBR) |
 *   number_of_raw_data_blocks_in_frame 2 (0)
 * HE-AAC (SBR/PS) is signalled implicitly in ADTS: the header carries the core object type and rate.
 */
import { HlsFormatError } from '../errors';
import type { AudioCodec } from './codec';

/** Sampling frequencies by samplingFrequencyIndex (ISO/IEC 14496-3 Table 1.18). */
export const AAC_SAMPLE_RATES: readonly number[] = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/** ADTS frames are at most 2^13 − 1 bytes, header included. */
export const MAX_ADTS_FRAME_SIZE = 8191;
const ADTS_HEADER_SIZE = 7;

/** What ADTS needs of an AudioSpecificConfig. */
export interface AacConfig {
  /** The core audio object type (2 = AAC-LC), 1..4 — what ADTS can carry. */
  objectType: number;
  /** The object type the config announced (5 = SBR, 29 = PS, else the core type). */
  announcedObjectType: number;
  samplingFrequencyIndex: number;
  sampleRate: number;
  channelConfiguration: number;
}

class Bits {
  #pos = 0;
  constructor(private readonly bytes: Uint8Array) {}
  read(n: number): number {
    if (this.#pos + n > this.bytes.length * 8) {
      throw new HlsFormatError('ERR_HLS_TRUNCATED_CONFIG', 'AudioSpecificConfig ends inside a field');
    }
    let v = 0;
    for (let i = 0; i < n; i++, this.#pos++) v = v * 2 + ((this.bytes[this.#pos >>> 3]! >>> (7 - (this.#pos & 7))) & 1);
    return v;
  }
}

function objectType(bits: Bits): number {
  const t = bits.read(5);
  return t === 31 ? 32 + bits.read(6) : t;
}

function frequencyIndex(bits: Bits): number {
  const index = bits.read(4);
  if (index === 15) {
    const rate = bits.read(24);
    const known = AAC_SAMPLE_RATES.indexOf(rate);
    if (known < 0) {
      throw new HlsFormatError('ERR_HLS_UNSUPPORTED_CONFIG', `sampling frequency ${rate} Hz has no ADTS index`);
    }
    return known;
  }
  if (index >= AAC_SAMPLE_RATES.length) {
    throw new HlsFormatError('ERR_HLS_BAD_CONFIG', `samplingFrequencyIndex ${index} is reserved`);
  }
  return index;
}

/** Parses the fields of an AudioSpecificConfig that ADTS needs. */
export function parseAacConfig(asc: Uint8Array): AacConfig {
  const bits = new Bits(asc);
  const announced = objectType(bits);
  if (announced === 0) throw new HlsFormatError('ERR_HLS_BAD_CONFIG', 'audioObjectType 0 is "null"');
  let samplingFrequencyIndex = frequencyIndex(bits);
  const channelConfiguration = bits.read(4);
  let core = announced;
  if (announced === 5 || announced === 29) {
    frequencyIndex(bits); // the SBR output rate; ADTS carries the core rate
    core = objectType(bits);
  }
  if (core < 1 || core > 4) {
    throw new HlsFormatError('ERR_HLS_UNSUPPORTED_CONFIG', `audio object type ${core} cannot be carried in ADTS`);
  }
  if (channelConfiguration === 0 || channelConfiguration > 7) {
    throw new HlsFormatError(
      'ERR_HLS_UNSUPPORTED_CONFIG',
      `channelConfiguration ${channelConfiguration} (program config element or reserved) is not supported`,
    );
  }
  samplingFrequencyIndex = Math.min(samplingFrequencyIndex, AAC_SAMPLE_RATES.length - 1);
  return {
    objectType: core,
    announcedObjectType: announced,
    samplingFrequencyIndex,
    sampleRate: AAC_SAMPLE_RATES[samplingFrequencyIndex]!,
    channelConfiguration,
  };
}

/** The 7-byte ADTS header of a raw frame of `rawLength` bytes. */
export function adtsHeader(config: AacConfig, rawLength: number): Uint8Array {
  const length = rawLength + ADTS_HEADER_SIZE;
  if (length > MAX_ADTS_FRAME_SIZE) {
    throw new HlsFormatError('ERR_HLS_FRAME_TOO_LARGE', `AAC frame of ${rawLength} bytes exceeds ADTS's 8184`);
  }
  const h = new Uint8Array(ADTS_HEADER_SIZE);
  h[0] = 0xff;
  h[1] = 0xf1; // sync low bits, MPEG-4, layer 0, no CRC
  h[2] = ((config.objectType - 1) << 6) | (config.samplingFrequencyIndex << 2) | (config.channelConfiguration >>> 2);
  h[3] = ((config.channelConfiguration & 0x03) << 6) | (length >>> 11);
  h[4] = (length >>> 3) & 0xff;
  h[5] = ((length & 0x07) << 5) | 0x1f;
  h[6] = 0xfc;
  return h;
}

/** The AAC {@link AudioCodec}. */
export class AacCodec implements AudioCodec {
  readonly name = 'aac';
  readonly streamType = 0x0f;
  readonly needsConfig = true;
  #config: AacConfig | undefined;

  get configured(): boolean {
    return this.#config !== undefined;
  }

  get config(): AacConfig | undefined {
    return this.#config;
  }

  configure(asc: Uint8Array): void {
    this.#config = parseAacConfig(asc);
  }

  frame(data: Uint8Array): Uint8Array[] {
    return [adtsHeader(this.#config!, data.length), data];
  }
}
