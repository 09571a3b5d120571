/**
 * VIDEODATA header: the legacy FLV form and the Enhanced RTMP ExVideoTagHeader.
 * Specs: Adobe FLV/F4V 10.1 §E.4.3.1 (VIDEODATA, VideoTagHeader); Enhanced RTMP v1 "Defining
 * Additional Video Codecs" and v2 "Enhanced Video" (ModEx, Multitrack, Command frames).
 */
import { AvcPacketType, VideoCodecId, VideoFourCc, VideoFrameType, VideoPacketType } from '../constants';
import { FlvFormatError } from '../errors';
import { readTrackHeader, skipModEx } from './ex-header';

/** Codec names used in summaries (FFmpeg's codec names where one exists). */
export type VideoCodecName =
  | 'h263'
  | 'screen'
  | 'vp6'
  | 'vp6a'
  | 'screen2'
  | 'h264'
  | 'hevc'
  | 'av1'
  | 'vp9'
  | 'vp8'
  | 'vvc'
  | 'unknown';

/** A parsed video tag header. Offsets index the tag payload it was parsed from. */
export interface VideoTagHeader {
  /** True for an Enhanced RTMP ExVideoTagHeader (bit 7 of the first byte). */
  enhanced: boolean;
  /** VideoFrameType: 1 key, 2 inter, 3 disposable inter, 4 generated key, 5 command. */
  frameType: number;
  /** Legacy CodecID (low nibble), undefined with an ExHeader. */
  codecId: number | undefined;
  /** FourCC of an ExHeader, e.g. "hvc1"; undefined for legacy headers and command frames. */
  fourCc: string | undefined;
  codec: VideoCodecName;
  /**
   * A {@link VideoPacketType}. Legacy AVC/HEVC packet types map onto it (0 → SequenceStart,
   * 1 → CodedFrames, 2 → SequenceEnd); other legacy codecs report CodedFrames.
   */
  packetType: number;
  /** Signed composition time offset (PTS − DTS) in ms; 0 when the header has none. */
  compositionTime: number;
  /** The UI8 VideoCommand of a command frame (frame type 5), else undefined. */
  command: number | undefined;
  /** Multitrack details of the first track, when the ExHeader announced Multitrack. */
  multitrack: { type: number; trackId: number } | undefined;
  /** ModEx TimestampOffsetNano, when present. */
  timestampOffsetNano: number | undefined;
  /** Offset of the codec data (configuration record, NAL units, OBUs) in the payload. */
  bodyOffset: number;
  /** End of the first track's codec data (the payload length unless multitrack sizes say less). */
  bodyEnd: number;
}

const LEGACY_CODECS: Record<number, VideoCodecName> = {
  [VideoCodecId.SorensonH263]: 'h263',
  [VideoCodecId.ScreenVideo]: 'screen',
  [VideoCodecId.On2Vp6]: 'vp6',
  [VideoCodecId.On2Vp6Alpha]: 'vp6a',
  [VideoCodecId.ScreenVideo2]: 'screen2',
  [VideoCodecId.Avc]: 'h264',
  [VideoCodecId.HevcNonStandard]: 'hevc',
};

const FOURCC_CODECS: Record<string, VideoCodecName> = {
  [VideoFourCc.Avc]: 'h264',
  [VideoFourCc.Hevc]: 'hevc',
  [VideoFourCc.Av1]: 'av1',
  [VideoFourCc.Vp9]: 'vp9',
  [VideoFourCc.Vp8]: 'vp8',
  [VideoFourCc.Vvc]: 'vvc',
};

/** Codecs whose coded frames carry an SI24 composition time (NAL-unit codecs). */
const CTS_FOURCCS = new Set<string>([VideoFourCc.Avc, VideoFourCc.Hevc, VideoFourCc.Vvc]);

function truncated(what: string): FlvFormatError {
  return new FlvFormatError('ERR_FLV_TRUNCATED_TAG_HEADER', `video tag: truncated ${what}`);
}

/** Signed 24-bit big-endian integer at `o`. */
export function readInt24BE(p: Uint8Array, o: number): number {
  const v = (p[o]! << 16) | (p[o + 1]! << 8) | p[o + 2]!;
  return v & 0x800000 ? v - 0x1000000 : v;
}

/**
 * Parses the header of a VIDEODATA payload.
 *
 * Legacy (bit 7 of byte 0 clear):
 * ```
 * byte 0    FrameType UB[4] | CodecID UB[4]
 * CodecID 7 (AVC) or 12 (HEVC extension):
 * byte 1    AVCPacketType (0 sequence header, 1 NALU, 2 end of sequence)
 * bytes 2-4 CompositionTime SI24 (ms, 0 unless NALU)
 * FrameType 5: one UI8 VideoCommand follows
 * ```
 * Enhanced (bit 7 set):
 * ```
 * byte 0    IsExHeader UB[1] = 1 | FrameType UB[3] | VideoPacketType UB[4]
 *           [ModEx packets while VideoPacketType = 7]
 *           FrameType 5 and PacketType ≠ Metadata: UI8 VideoCommand, no FourCC, no body
 *           PacketType 6 (Multitrack): AvMultitrackType UB[4] | VideoPacketType UB[4],
 *             FourCC unless ManyTracksManyCodecs, then per track: [FourCC if ManyTracksManyCodecs]
 *             trackId UI8, [sizeOfVideoTrack UI24 unless OneTrack]
 *           else FourCC (4 bytes: avc1, hvc1, av01, vp09, vp08, vvc1)
 *           CodedFrames (1) of avc1/hvc1/vvc1: CompositionTime SI24
 * ```
 * @throws FlvFormatError ERR_FLV_TRUNCATED_TAG_HEADER, ERR_FLV_BAD_TAG_HEADER
 */
export function parseVideoTagHeader(p: Uint8Array): VideoTagHeader {
  if (p.length < 1) throw truncated('first byte (empty payload)');
  const b0 = p[0]!;
  return (b0 & 0x80) === 0 ? parseLegacyVideoTagHeader(p, b0) : parseEnhancedVideoTagHeader(p, b0);
}

/** A legacy header (IsExHeader 0): codec id, and for AVC (and non-standard HEVC 12) packet type + CTS. */
function parseLegacyVideoTagHeader(p: Uint8Array, b0: number): VideoTagHeader {
  const frameType = b0 >>> 4;
  const codecId = b0 & 0x0f;
  const codec = LEGACY_CODECS[codecId] ?? 'unknown';
  let o = 1;
  let packetType: number = VideoPacketType.CodedFrames;
  let compositionTime = 0;
  if (codecId === VideoCodecId.Avc || codecId === VideoCodecId.HevcNonStandard) {
    if (p.length < 5) throw truncated(`AVC header (${p.length} bytes < 5)`);
    const avcPacketType = p[1]!;
    if (avcPacketType > AvcPacketType.EndOfSequence) {
      throw new FlvFormatError('ERR_FLV_BAD_TAG_HEADER', `video tag: AVCPacketType ${avcPacketType}`);
    }
    packetType = avcPacketType; // 0, 1, 2 coincide with SequenceStart, CodedFrames, SequenceEnd
    compositionTime = readInt24BE(p, 2);
    o = 5;
  }
  let command: number | undefined;
  if (frameType === VideoFrameType.Command) {
    if (o + 1 > p.length) throw truncated('video command');
    command = p[o++];
  }
  return {
    enhanced: false,
    frameType,
    codecId,
    fourCc: undefined,
    codec,
    packetType,
    compositionTime,
    command,
    multitrack: undefined,
    timestampOffsetNano: undefined,
    bodyOffset: o,
    bodyEnd: p.length,
  };
}

/** An E-RTMP header (IsExHeader 1): ModEx, command frames, multitrack, FourCC, CTS for avc1/hvc1/vvc1. */
function parseEnhancedVideoTagHeader(p: Uint8Array, b0: number): VideoTagHeader {
  const frameType = (b0 >>> 4) & 0x07;
  let packetType = b0 & 0x0f;
  let o = 1;
  let timestampOffsetNano: number | undefined;
  if (packetType === VideoPacketType.ModEx) {
    const m = skipModEx(p, o, 'video tag');
    o = m.offset;
    packetType = m.packetType;
    timestampOffsetNano = m.nano;
  }
  const base = {
    enhanced: true,
    frameType,
    codecId: undefined,
    compositionTime: 0,
    timestampOffsetNano,
  };
  if (frameType === VideoFrameType.Command && packetType !== VideoPacketType.Metadata) {
    if (o + 1 > p.length) throw truncated('video command');
    const command = p[o++];
    return {
      ...base,
      fourCc: undefined,
      codec: 'unknown',
      packetType,
      command,
      multitrack: undefined,
      bodyOffset: o,
      bodyEnd: o,
    };
  }
  const track = readTrackHeader(p, o, packetType, VideoPacketType.Multitrack, 'video');
  const { fourCc, multitrack, bodyEnd } = track;
  packetType = track.packetType;
  o = track.offset;
  let compositionTime = 0;
  if (packetType === VideoPacketType.CodedFrames && CTS_FOURCCS.has(fourCc)) {
    if (o + 3 > bodyEnd) throw truncated('composition time');
    compositionTime = readInt24BE(p, o);
    o += 3;
  }
  return {
    ...base,
    fourCc,
    codec: FOURCC_CODECS[fourCc] ?? 'unknown',
    packetType,
    compositionTime,
    command: undefined,
    multitrack,
    bodyOffset: o,
    bodyEnd,
  };
}
