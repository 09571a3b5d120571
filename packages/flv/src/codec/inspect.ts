/**
 * Codec summaries of audio and video tags, and whether a given FFmpeg can take them.
 * Builds on the header parsers (video-tag.ts, audio-tag.ts) and the configuration parsers
 * (avc.ts, hevc.ts, aac.ts, config-records.ts, mp3.ts).
 */
import { AudioPacketType, SoundFormat, VideoPacketType } from '../constants';
import { FlvFormatError, isFlvError } from '../errors';
import { parseAudioSpecificConfig } from './aac';
import { type AudioCodecName, parseAudioTagHeader } from './audio-tag';
import { parseAvcDecoderConfigurationRecord, parseH264Sps } from './avc';
import { parseAv1Config, parseFlacStreamInfo, parseOpusHead, parseVpConfig } from './config-records';
import { parseHevcDecoderConfigurationRecord, parseHevcSps } from './hevc';
import { parseMpegAudioFrameHeader } from './mp3';
import { parseVideoTagHeader, type VideoCodecName } from './video-tag';

/** What a video tag tells about its codec. Sequence headers fill in size, profile and level. */
export interface VideoCodecInfo {
  kind: 'video';
  codec: VideoCodecName;
  /** Sent with an Enhanced RTMP ExVideoTagHeader (FourCC). */
  enhanced: boolean;
  /** Legacy CodecID (2–7, 12). */
  codecId?: number;
  /** Enhanced RTMP FourCC. */
  fourCc?: string;
  /** Multitrack stream (Enhanced RTMP v2). */
  multitrack?: boolean;
  /** Displayed width (after cropping), from the SPS. */
  width?: number;
  /** Displayed height (after cropping), from the SPS. */
  height?: number;
  /** Codec profile number (profile_idc, general_profile_idc, seq_profile, VP profile). */
  profile?: number;
  /** Profile name as FFmpeg prints it, e.g. "High", "Main 10". */
  profileName?: string;
  /** Codec level as FFmpeg prints it (level_idc for H.264, general_level_idc for HEVC). */
  level?: number;
}

/** What an audio tag tells about its codec. Sequence headers fill in rate, channels, profile. */
export interface AudioCodecInfo {
  kind: 'audio';
  codec: AudioCodecName;
  /** Sent with an Enhanced RTMP ExAudioTagHeader (SoundFormat 9 + FourCC). */
  enhanced: boolean;
  /** SoundFormat (0–15). */
  soundFormat: number;
  /** Enhanced RTMP FourCC. */
  fourCc?: string;
  /** Multitrack stream (Enhanced RTMP v2). */
  multitrack?: boolean;
  /** Output sample rate in Hz. */
  sampleRate?: number;
  /** Output channel count. */
  channels?: number;
  /** Codec profile number (the AAC audioObjectType). */
  profile?: number;
  /** Profile name as FFmpeg prints it, e.g. "LC", "HE-AAC". */
  profileName?: string;
}

/** Summary of either kind. */
export type CodecInfo = VideoCodecInfo | AudioCodecInfo;

/**
 * Summarises a VIDEODATA payload. For a sequence header (legacy AVC, `avc1`, `hvc1`, legacy id 12,
 * `av01`, `vp09`, `vp08`) it parses the configuration record and SPS for size, profile and level;
 * other tags give the codec only.
 * @throws FlvFormatError on a malformed header or configuration record (nothing else)
 */
export function inspectVideoTag(payload: Uint8Array): VideoCodecInfo {
  const h = parseVideoTagHeader(payload);
  const info: VideoCodecInfo = { kind: 'video', codec: h.codec, enhanced: h.enhanced };
  if (h.codecId !== undefined) info.codecId = h.codecId;
  if (h.fourCc !== undefined) info.fourCc = h.fourCc;
  if (h.multitrack) info.multitrack = true;
  if (h.packetType !== VideoPacketType.SequenceStart || h.command !== undefined) return info;
  const body = payload.subarray(h.bodyOffset, h.bodyEnd);
  switch (h.codec) {
    case 'h264': {
      const rec = parseAvcDecoderConfigurationRecord(body);
      const first = rec.sps[0];
      if (first === undefined) throw new FlvFormatError('ERR_FLV_BAD_CODEC_CONFIG', 'AVC sequence header without SPS');
      const sps = parseH264Sps(first);
      Object.assign(info, {
        width: sps.width,
        height: sps.height,
        profile: sps.profileIdc,
        profileName: sps.profileName,
        level: sps.levelIdc,
      });
      break;
    }
    case 'hevc': {
      const rec = parseHevcDecoderConfigurationRecord(body);
      const spsNal = rec.nalUnits.find((n) => n.type === 33);
      if (spsNal === undefined)
        throw new FlvFormatError('ERR_FLV_BAD_CODEC_CONFIG', 'HEVC sequence header without SPS');
      const sps = parseHevcSps(spsNal.data);
      Object.assign(info, {
        width: sps.width,
        height: sps.height,
        profile: sps.profileIdc,
        profileName: sps.profileName,
        level: sps.levelIdc,
      });
      break;
    }
    case 'av1': {
      const c = parseAv1Config(body);
      Object.assign(info, {
        profile: c.profile,
        profileName: ['Main', 'High', 'Professional'][c.profile],
        level: c.level,
      });
      break;
    }
    case 'vp9':
    case 'vp8': {
      const c = parseVpConfig(body);
      Object.assign(info, { profile: c.profile, profileName: `Profile ${c.profile}`, level: c.level });
      break;
    }
    default:
      break;
  }
  return info;
}

/** Fixed rates of formats whose SoundRate bits do not apply. */
const FIXED_RATES: Record<number, number> = {
  [SoundFormat.Nellymoser16kMono]: 16000,
  [SoundFormat.Nellymoser8kMono]: 8000,
  [SoundFormat.G711ALaw]: 8000,
  [SoundFormat.G711MuLaw]: 8000,
  [SoundFormat.Speex]: 16000,
  [SoundFormat.Mp3_8k]: 8000,
};

/**
 * Summarises an AUDIODATA payload. AAC sequence headers (legacy or `mp4a`) give the object type,
 * output rate and channels from the AudioSpecificConfig; `Opus` and `fLaC` sequence starts give
 * theirs from the ID header / STREAMINFO; MP3 frames from the MPEG frame header (falling back to
 * the FLV flags when the frame does not start with a valid header); other legacy formats from the
 * SoundRate / SoundType bits.
 * @throws FlvFormatError on a malformed header or configuration (nothing else)
 */
export function inspectAudioTag(payload: Uint8Array): AudioCodecInfo {
  const h = parseAudioTagHeader(payload);
  const info: AudioCodecInfo = { kind: 'audio', codec: h.codec, enhanced: h.enhanced, soundFormat: h.soundFormat };
  if (h.fourCc !== undefined) info.fourCc = h.fourCc;
  if (h.multitrack) info.multitrack = true;
  const body = payload.subarray(h.bodyOffset, h.bodyEnd);
  if (h.packetType === AudioPacketType.SequenceStart) {
    if (h.codec === 'aac') {
      const asc = parseAudioSpecificConfig(body);
      Object.assign(info, {
        sampleRate: asc.sampleRate,
        channels: asc.channels,
        profile: asc.objectType,
        profileName: asc.profileName,
      });
    } else if (h.codec === 'opus' && body.length > 0) {
      const head = parseOpusHead(body);
      Object.assign(info, { sampleRate: 48000, channels: head.channels });
    } else if (h.codec === 'flac') {
      const si = parseFlacStreamInfo(body);
      Object.assign(info, { sampleRate: si.sampleRate, channels: si.channels });
    }
    return info;
  }
  if (h.enhanced) {
    if (h.codec === 'mp3' && h.packetType === AudioPacketType.CodedFrames) addMpegAudio(info, body);
    return info;
  }
  if (h.codec === 'aac') return info; // raw AAC frames say nothing the flags would not get wrong
  info.sampleRate = FIXED_RATES[h.soundFormat] ?? h.soundRate;
  info.channels = h.soundChannels;
  if (h.codec === 'mp3') addMpegAudio(info, body);
  return info;
}

function addMpegAudio(info: AudioCodecInfo, body: Uint8Array): void {
  try {
    const m = parseMpegAudioFrameHeader(body);
    info.sampleRate = m.sampleRate;
    info.channels = m.channels;
  } catch (err) {
    // A frame that does not start on a header (junk, ID3) is legal: keep what the flags said.
    if (!isFlvError(err)) throw err;
  }
}

/**
 * Which FFmpeg versions demux a codec from FLV, as [major, minor]. Sources: the project's
 * protocol checklist §7 (Debian 12's FFmpeg 5.1 demuxes legacy ids only; Enhanced RTMP v1 FourCCs
 * hvc1/av01/vp09 need ≥ 6.1; v2 FourCCs, audio ExHeader and multitrack need ≥ 8.0). `null` = none.
 */
export const FFMPEG_FLV_DEMUX_SINCE: {
  legacyVideo: Readonly<Record<string, readonly [number, number] | null>>;
  enhancedVideo: Readonly<Record<string, readonly [number, number] | null>>;
  legacyAudio: Readonly<Record<string, readonly [number, number] | null>>;
  enhancedAudio: readonly [number, number];
  multitrack: readonly [number, number];
} = {
  legacyVideo: { h263: [0, 0], screen: [0, 0], vp6: [0, 0], vp6a: [0, 0], screen2: [0, 0], h264: [0, 0], hevc: null },
  enhancedVideo: { hevc: [6, 1], av1: [6, 1], vp9: [6, 1], h264: [8, 0], vp8: [8, 0], vvc: null },
  legacyAudio: {
    pcm: [0, 0],
    adpcm: [0, 0],
    mp3: [0, 0],
    nellymoser: [0, 0],
    g711a: [0, 0],
    g711u: [0, 0],
    aac: [0, 0],
    speex: [0, 0],
    device: null,
  },
  enhancedAudio: [8, 0],
  multitrack: [8, 0],
};

/** Codecs FFmpeg can stream-copy into MPEG-TS HLS segments (`-c copy -f hls`). */
export const HLS_COPY_CODECS: { video: readonly string[]; audio: readonly string[] } = {
  video: ['h264', 'hevc'],
  audio: ['aac', 'mp3', 'ac3', 'eac3'],
};

/** Options of {@link checkFfmpegSupport}. */
export interface FfmpegSupportOptions {
  /** FFmpeg version as `ffmpeg -version` prints it ("5.1.9-0+deb12u1", "6.1"). Default "5.1". */
  ffmpegVersion?: string;
  /** Also require that the codec can be stream-copied into MPEG-TS HLS segments. Default true. */
  hlsCopy?: boolean;
}

/** Result of {@link checkFfmpegSupport}: `reason` is a sentence fit to send to a publisher. */
export type FfmpegSupport = { supported: true } | { supported: false; reason: string };

function parseVersion(v: string): [number, number] {
  const m = /^n?(\d+)\.(\d+)/.exec(v);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

function atLeast(have: [number, number], need: readonly [number, number]): boolean {
  return have[0] > need[0] || (have[0] === need[0] && have[1] >= need[1]);
}

/**
 * Says whether the given FFmpeg can demux this codec from FLV (and, by default, stream-copy it into
 * HLS), so a server can refuse a publish with a clear reason instead of letting FFmpeg fail.
 */
export function checkFfmpegSupport(info: CodecInfo, options: FfmpegSupportOptions = {}): FfmpegSupport {
  const versionText = options.ffmpegVersion ?? '5.1';
  const version = parseVersion(versionText);
  const hlsCopy = options.hlsCopy ?? true;
  const label =
    info.kind === 'video'
      ? `${info.codec} video${info.enhanced ? ` (Enhanced RTMP FourCC "${info.fourCc}")` : ` (FLV codec id ${info.codecId})`}`
      : `${info.codec} audio${info.enhanced ? ` (Enhanced RTMP FourCC "${info.fourCc}")` : ` (FLV sound format ${info.soundFormat})`}`;
  let since: readonly [number, number] | null | undefined;
  if (info.multitrack) since = FFMPEG_FLV_DEMUX_SINCE.multitrack;
  else if (info.kind === 'video') {
    since = info.enhanced
      ? FFMPEG_FLV_DEMUX_SINCE.enhancedVideo[info.codec]
      : FFMPEG_FLV_DEMUX_SINCE.legacyVideo[info.codec];
  } else {
    since = info.enhanced ? FFMPEG_FLV_DEMUX_SINCE.enhancedAudio : FFMPEG_FLV_DEMUX_SINCE.legacyAudio[info.codec];
  }
  if (since === null || since === undefined) {
    return { supported: false, reason: `${label} is not supported by FFmpeg's FLV demuxer` };
  }
  if (!atLeast(version, since)) {
    return {
      supported: false,
      reason: `${label} needs FFmpeg ≥ ${since[0]}.${since[1]}; this server runs FFmpeg ${versionText}`,
    };
  }
  if (hlsCopy && !(info.kind === 'video' ? HLS_COPY_CODECS.video : HLS_COPY_CODECS.audio).includes(info.codec)) {
    const allowed = info.kind === 'video' ? HLS_COPY_CODECS.video : HLS_COPY_CODECS.audio;
    return {
      supported: false,
      reason: `${label} cannot be copied into HLS (MPEG-TS) segments; use ${allowed.join(', ')}`,
    };
  }
  return { supported: true };
}
