/**
 * AUDIODATA header: the legacy FLV form and the Enhanced RTMP v2 ExAudioTagHeader.
 * Specs: Adobe FLV/F4V 10.1 §E.4.2.1 (AUDIODATA, AudioTagHeader); Enhanced RTMP v2 "Enhanced Audio".
 */
import { AacPacketType, AudioFourCc, AudioPacketType, SoundFormat } from '../constants';
import { FlvFormatError } from '../errors';
import { readTrackHeader, skipModEx } from './ex-header';

/** Codec names used in summaries (FFmpeg's codec names where one exists). */
export type AudioCodecName =
  | 'pcm'
  | 'adpcm'
  | 'mp3'
  | 'nellymoser'
  | 'g711a'
  | 'g711u'
  | 'aac'
  | 'speex'
  | 'device'
  | 'opus'
  | 'flac'
  | 'ac3'
  | 'eac3'
  | 'unknown';

/** A parsed audio tag header. Offsets index the tag payload it was parsed from. */
export interface AudioTagHeader {
  /** True for an Enhanced RTMP ExAudioTagHeader (SoundFormat 9). */
  enhanced: boolean;
  /** SoundFormat (high nibble of byte 0). */
  soundFormat: number;
  /** FourCC of an ExHeader, e.g. "Opus"; undefined for legacy headers. */
  fourCc: string | undefined;
  codec: AudioCodecName;
  /**
   * An {@link AudioPacketType}. The legacy AAC packet type maps onto it (0 → SequenceStart,
   * 1 → CodedFrames); other legacy formats report CodedFrames.
   */
  packetType: number;
  /** Legacy SoundRate in Hz (5512, 11025, 22050, 44100): only a hint for compressed formats. */
  soundRate: number | undefined;
  /** Legacy SoundSize in bits (8 or 16). */
  soundSize: number | undefined;
  /** Legacy SoundType as a channel count (1 mono, 2 stereo). */
  soundChannels: number | undefined;
  /** Multitrack details of the first track, when the ExHeader announced Multitrack. */
  multitrack: { type: number; trackId: number } | undefined;
  /** Offset of the codec data in the payload. */
  bodyOffset: number;
  /** End of the first track's codec data. */
  bodyEnd: number;
}

const LEGACY_CODECS: Record<number, AudioCodecName> = {
  [SoundFormat.LinearPcmPlatformEndian]: 'pcm',
  [SoundFormat.Adpcm]: 'adpcm',
  [SoundFormat.Mp3]: 'mp3',
  [SoundFormat.LinearPcmLittleEndian]: 'pcm',
  [SoundFormat.Nellymoser16kMono]: 'nellymoser',
  [SoundFormat.Nellymoser8kMono]: 'nellymoser',
  [SoundFormat.Nellymoser]: 'nellymoser',
  [SoundFormat.G711ALaw]: 'g711a',
  [SoundFormat.G711MuLaw]: 'g711u',
  [SoundFormat.Aac]: 'aac',
  [SoundFormat.Speex]: 'speex',
  [SoundFormat.Mp3_8k]: 'mp3',
  [SoundFormat.DeviceSpecific]: 'device',
};

const FOURCC_CODECS: Record<string, AudioCodecName> = {
  [AudioFourCc.Aac]: 'aac',
  [AudioFourCc.Opus]: 'opus',
  [AudioFourCc.Flac]: 'flac',
  [AudioFourCc.Mp3]: 'mp3',
  [AudioFourCc.Ac3]: 'ac3',
  [AudioFourCc.Eac3]: 'eac3',
};

/** SoundRate UB[2] → Hz. */
const SOUND_RATES = [5512, 11025, 22050, 44100];

function truncated(what: string): FlvFormatError {
  return new FlvFormatError('ERR_FLV_TRUNCATED_TAG_HEADER', `audio tag: truncated ${what}`);
}

/**
 * Parses the header of an AUDIODATA payload.
 *
 * Legacy (SoundFormat ≠ 9):
 * ```
 * byte 0   SoundFormat UB[4] | SoundRate UB[2] | SoundSize UB[1] | SoundType UB[1]
 * byte 1   AACPacketType (SoundFormat 10 only: 0 sequence header, 1 raw)
 * ```
 * Enhanced (SoundFormat = 9):
 * ```
 * byte 0   SoundFormat UB[4] = 9 | AudioPacketType UB[4]
 *          [ModEx packets while AudioPacketType = 7: size UI8+1 (256 → UI16+1), data,
 *           ModExType UB[4] | AudioPacketType UB[4]]
 *          AudioPacketType 5 (Multitrack): AvMultitrackType UB[4] | AudioPacketType UB[4],
 *            FourCC unless ManyTracksManyCodecs, then per track: [FourCC if ManyTracksManyCodecs]
 *            trackId UI8, [sizeOfAudioTrack UI24 unless OneTrack]
 *          else FourCC: mp4a, Opus, fLaC, .mp3, ac-3, ec-3
 * ```
 * An empty payload is RTMP's "silence" message and has no header: it throws TRUNCATED here.
 * @throws FlvFormatError ERR_FLV_TRUNCATED_TAG_HEADER, ERR_FLV_BAD_TAG_HEADER
 */
export function parseAudioTagHeader(p: Uint8Array): AudioTagHeader {
  if (p.length < 1) throw truncated('first byte (empty payload: silence message)');
  const b0 = p[0]!;
  const soundFormat = b0 >>> 4;
  if (soundFormat !== SoundFormat.ExHeader) {
    let packetType: number = AudioPacketType.CodedFrames;
    let o = 1;
    if (soundFormat === SoundFormat.Aac) {
      if (p.length < 2) throw truncated('AACPacketType');
      const aacPacketType = p[1]!;
      if (aacPacketType > AacPacketType.Raw) {
        throw new FlvFormatError('ERR_FLV_BAD_TAG_HEADER', `audio tag: AACPacketType ${aacPacketType}`);
      }
      packetType = aacPacketType === AacPacketType.SequenceHeader ? AudioPacketType.SequenceStart : packetType;
      o = 2;
    }
    return {
      enhanced: false,
      soundFormat,
      fourCc: undefined,
      codec: LEGACY_CODECS[soundFormat] ?? 'unknown',
      packetType,
      soundRate: SOUND_RATES[(b0 >>> 2) & 3],
      soundSize: b0 & 0x02 ? 16 : 8,
      soundChannels: (b0 & 0x01) + 1,
      multitrack: undefined,
      bodyOffset: o,
      bodyEnd: p.length,
    };
  }

  let packetType = b0 & 0x0f;
  let o = 1;
  if (packetType === AudioPacketType.ModEx) {
    const m = skipModEx(p, o, 'audio tag');
    o = m.offset;
    packetType = m.packetType;
  }
  const track = readTrackHeader(p, o, packetType, AudioPacketType.Multitrack, 'audio');
  const { fourCc, multitrack, bodyEnd } = track;
  packetType = track.packetType;
  o = track.offset;
  return {
    enhanced: true,
    soundFormat,
    fourCc,
    codec: FOURCC_CODECS[fourCc] ?? 'unknown',
    packetType,
    soundRate: undefined,
    soundSize: undefined,
    soundChannels: undefined,
    multitrack,
    bodyOffset: o,
    bodyEnd,
  };
}
