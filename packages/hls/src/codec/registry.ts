/** Codec name → implementation: the one list to extend with a new codec. */
import { HlsUsageError } from '../errors';
import { AacCodec } from './aac';
import type { AudioCodec, AudioCodecName, VideoCodec, VideoCodecName } from './codec';
import { H264Codec } from './h264';
import { Mp3Codec } from './mp3';

const VIDEO: Record<VideoCodecName, () => VideoCodec> = { h264: () => new H264Codec() };
const AUDIO: Record<AudioCodecName, () => AudioCodec> = { aac: () => new AacCodec(), mp3: () => new Mp3Codec() };

/** Video codec names the muxer accepts. */
export const VIDEO_CODECS: readonly VideoCodecName[] = Object.keys(VIDEO) as VideoCodecName[];
/** Audio codec names the muxer accepts. */
export const AUDIO_CODECS: readonly AudioCodecName[] = Object.keys(AUDIO) as AudioCodecName[];

export function createVideoCodec(name: VideoCodecName): VideoCodec {
  const make = Object.hasOwn(VIDEO, name) ? VIDEO[name] : undefined;
  if (!make)
    throw new HlsUsageError('ERR_HLS_INVALID_OPTION', `video codec ${String(name)} is not one of ${VIDEO_CODECS}`);
  return make();
}

export function createAudioCodec(name: AudioCodecName): AudioCodec {
  const make = Object.hasOwn(AUDIO, name) ? AUDIO[name] : undefined;
  if (!make)
    throw new HlsUsageError('ERR_HLS_INVALID_OPTION', `audio codec ${String(name)} is not one of ${AUDIO_CODECS}`);
  return make();
}
