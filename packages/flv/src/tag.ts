/**
 * The FLV tag model shared by the reader, the muxer, the stream state and the queue, and a cheap
 * classification of tags by role (what may be dropped, what must be kept for re-priming).
 * Spec: Adobe FLV/F4V 10.1 §E.4.1 (FLVTAG); Enhanced RTMP v2 for ExHeader packet types.
 */

import { parseAudioTagHeader } from './codec/audio-tag';
import { parseVideoTagHeader } from './codec/video-tag';
import { AudioPacketType, SoundFormat, TagType, VideoCodecId, VideoFrameType, VideoPacketType } from './constants';
import { isFlvError } from './errors';

/** One FLV tag: what goes between two PreviousTagSize fields, minus the fixed header fields. */
export interface FlvTag {
  /** {@link TagType}: 8 audio, 9 video, 18 script data. */
  type: number;
  /** Decode timestamp in ms. FLV stores 32 bits (24 + 8 extended); see `encodeTagHeader`. */
  timestamp: number;
  /** The tag body (AUDIODATA / VIDEODATA / SCRIPTDATA), never copied by the muxer. */
  payload: Uint8Array;
}

/**
 * What a tag is for:
 * - `metadata`: script data (onMetaData and friends).
 * - `video-config` / `audio-config`: decoder configuration (AVC/HEVC/AV1/VP sequence start, AAC /
 *   Opus / FLAC sequence start, audio multichannel config, video HDR metadata).
 * - `video-end` / `audio-end`: end of sequence.
 * - `video-keyframe`, `video-frame`, `video-command`, `audio-frame`: media.
 * - `malformed`: the header cannot be parsed (including RTMP's empty "silence" audio message).
 */
export type TagRole =
  | 'metadata'
  | 'video-config'
  | 'video-end'
  | 'video-keyframe'
  | 'video-frame'
  | 'video-command'
  | 'audio-config'
  | 'audio-end'
  | 'audio-frame'
  | 'malformed';

function enhancedVideoRole(payload: Uint8Array): TagRole {
  try {
    const h = parseVideoTagHeader(payload);
    if (h.command !== undefined) return 'video-command';
    switch (h.packetType) {
      case VideoPacketType.SequenceStart:
      case VideoPacketType.Mpeg2TsSequenceStart:
      case VideoPacketType.Metadata:
        return 'video-config';
      case VideoPacketType.SequenceEnd:
        return 'video-end';
      default:
        return h.frameType === VideoFrameType.KeyFrame || h.frameType === VideoFrameType.GeneratedKeyFrame
          ? 'video-keyframe'
          : 'video-frame';
    }
  } catch (err) {
    if (isFlvError(err)) return 'malformed';
    throw err;
  }
}

function enhancedAudioRole(payload: Uint8Array): TagRole {
  try {
    const h = parseAudioTagHeader(payload);
    if (h.packetType === AudioPacketType.SequenceStart || h.packetType === AudioPacketType.MultichannelConfig) {
      return 'audio-config';
    }
    return h.packetType === AudioPacketType.SequenceEnd ? 'audio-end' : 'audio-frame';
  } catch (err) {
    if (isFlvError(err)) return 'malformed';
    throw err;
  }
}

/**
 * Classifies a tag from its first bytes. Legacy headers are read inline (two byte reads, no
 * allocation); Enhanced RTMP headers go through the full header parser. Never throws.
 */
export function tagRole(tag: FlvTag): TagRole {
  const p = tag.payload;
  if (tag.type === TagType.Script) return 'metadata';
  if (p.length === 0) return 'malformed';
  const b0 = p[0]!;
  if (tag.type === TagType.Video) {
    if (b0 & 0x80) return enhancedVideoRole(p);
    const frameType = b0 >>> 4;
    const codecId = b0 & 0x0f;
    if (codecId === VideoCodecId.Avc || codecId === VideoCodecId.HevcNonStandard) {
      if (p.length < 5) return 'malformed';
      if (p[1] === 0) return 'video-config';
      if (p[1] === 2) return 'video-end';
    }
    if (frameType === VideoFrameType.Command) return 'video-command';
    return frameType === VideoFrameType.KeyFrame || frameType === VideoFrameType.GeneratedKeyFrame
      ? 'video-keyframe'
      : 'video-frame';
  }
  if (tag.type === TagType.Audio) {
    const format = b0 >>> 4;
    if (format === SoundFormat.ExHeader) return enhancedAudioRole(p);
    if (format === SoundFormat.Aac) {
      if (p.length < 2) return 'malformed';
      if (p[1] === 0) return 'audio-config';
    }
    return 'audio-frame';
  }
  return 'malformed';
}

/** True for tags a decoder cannot do without: metadata, decoder configuration, end of sequence. */
export function isEssentialRole(role: TagRole): boolean {
  return (
    role === 'metadata' ||
    role === 'video-config' ||
    role === 'audio-config' ||
    role === 'video-end' ||
    role === 'audio-end'
  );
}

/** True when the tag is a video keyframe (a point where decoding can start). */
export function isVideoKeyframe(tag: FlvTag): boolean {
  return tag.type === TagType.Video && tagRole(tag) === 'video-keyframe';
}

/** True when the tag carries decoder configuration (an AVC/HEVC/AV1/VP/AAC/Opus/FLAC sequence start). */
export function isSequenceHeader(tag: FlvTag): boolean {
  const role = tagRole(tag);
  return role === 'video-config' || role === 'audio-config';
}
