/**
 * Which codecs a stream may carry, and how they are shown. The first audio and the first video
 * message of each publisher are checked against the FFmpeg in use (Debian's 5.1 cannot demux
 * Enhanced RTMP HEVC/AV1/VP9 from FLV); a refused codec never reaches a producer.
 */
import {
  type AudioCodecInfo,
  checkFfmpegSupport,
  type FlvStreamState,
  type FlvTag,
  parseAudioTagHeader,
  parseVideoTagHeader,
  TagType,
  type VideoCodecInfo,
} from '@org/flv';
import type { StreamCodecInfo } from './registry';

/** The version number in an `ffmpeg -version` first line ("ffmpeg version 5.1.9-0+deb12u1 …" → "5.1.9-0+deb12u1"). */
export function ffmpegVersionNumber(versionLine: string): string {
  const m = /version\s+(\S+)/.exec(versionLine);
  return m?.[1] ?? versionLine;
}

/** A refused codec: what to tell the publisher and the log. */
export interface CodecRefusal {
  readonly info: VideoCodecInfo | AudioCodecInfo;
  readonly label: string;
  readonly reason: string;
}

/** One publisher's codec check: the first message of each kind decides. */
export class CodecAdmission {
  private checkedVideo = false;
  private checkedAudio = false;

  constructor(private readonly ffmpegVersion: string) {}

  /** Undefined when `tag` may pass (or was decided before), else why its codec is refused. */
  check(tag: FlvTag, flv: FlvStreamState): CodecRefusal | undefined {
    const isVideo = tag.type === TagType.Video;
    if (isVideo ? this.checkedVideo : this.checkedAudio) return undefined;
    if (isVideo) this.checkedVideo = true;
    else this.checkedAudio = true;
    const info = (isVideo ? flv.videoCodec : flv.audioCodec) ?? headerCodecInfo(tag);
    if (info === undefined) return undefined; // unparsable header: FFmpeg will judge
    const verdict = checkFfmpegSupport(info, { ffmpegVersion: this.ffmpegVersion, hlsCopy: true });
    if (verdict.supported) return undefined;
    return { info, label: info.fourCc ?? info.codec, reason: verdict.reason };
  }
}

/**
 * Codec from the tag header alone, for when the configuration record did not parse (the codec is
 * still known from the FourCC / codec id, and decides admission).
 */
function headerCodecInfo(tag: FlvTag): VideoCodecInfo | AudioCodecInfo | undefined {
  try {
    if (tag.type === TagType.Video) {
      const h = parseVideoTagHeader(tag.payload);
      const info: VideoCodecInfo = { kind: 'video', codec: h.codec, enhanced: h.enhanced };
      if (h.codecId !== undefined) info.codecId = h.codecId;
      if (h.fourCc !== undefined) info.fourCc = h.fourCc;
      if (h.multitrack) info.multitrack = true;
      return info;
    }
    const h = parseAudioTagHeader(tag.payload);
    const info: AudioCodecInfo = { kind: 'audio', codec: h.codec, enhanced: h.enhanced, soundFormat: h.soundFormat };
    if (h.fourCc !== undefined) info.fourCc = h.fourCc;
    if (h.multitrack) info.multitrack = true;
    return info;
  } catch {
    return undefined;
  }
}

/** The codec summary the status page and the API show. */
export function codecSummary(v: VideoCodecInfo | undefined, a: AudioCodecInfo | undefined): StreamCodecInfo {
  const codecs: StreamCodecInfo = {};
  if (v) {
    codecs.video = { codec: v.codec };
    if (v.width !== undefined) codecs.video.width = v.width;
    if (v.height !== undefined) codecs.video.height = v.height;
    if (v.profileName !== undefined) codecs.video.profile = v.profileName;
    if (v.level !== undefined) codecs.video.level = displayLevel(v.codec, v.level);
  }
  if (a) {
    codecs.audio = { codec: a.codec };
    if (a.sampleRate !== undefined) codecs.audio.sampleRate = a.sampleRate;
    if (a.channels !== undefined) codecs.audio.channels = a.channels;
  }
  return codecs;
}

/**
 * A codec level as people write it: H.264 level_idc 30 → "3.0", HEVC general_level_idc 93 → "3.1"
 * (30 × level); other codecs' levels as they are.
 */
export function displayLevel(codec: string, level: number): string {
  if (codec === 'h264') return (level / 10).toFixed(1);
  if (codec === 'hevc') return (level / 30).toFixed(1);
  return String(level);
}
