/**
 * @org/flv: a streaming FLV muxer and incremental reader with codec inspection, for feeding RTMP
 * streams to FFmpeg.
 *
 * Specs: Adobe Flash Video File Format Specification 10.1 (FLV/F4V);
 * Enhanced RTMP v1 / v2 (https://github.com/veovera/enhanced-rtmp);
 * ISO/IEC 14496-10 (H.264 SPS); ISO/IEC 14496-15 (AVC/HEVC decoder configuration records);
 * Rec. ITU-T H.265 (HEVC SPS); ISO/IEC 14496-3 (AudioSpecificConfig); Adobe RTMP 1.0 (timestamps).
 *
 * Public API: every name here is deliberate and listed in README.md ("API"); `test/public-api.txt`
 * pins the runtime names. Internals stay out: the bit reader and emulation-prevention removal behind
 * the SPS parsers, byte readers (`readFourCc`, `readInt24BE`), the muxer's in-place tag encoder, the
 * HEVC profile-name table, and `concatBytes` (it is @org/rtmp's).
 */

export { AAC_SAMPLE_RATES, type AudioSpecificConfig, parseAudioSpecificConfig } from './codec/aac';
export { type AudioCodecName, type AudioTagHeader, parseAudioTagHeader } from './codec/audio-tag';
export {
  type AvcDecoderConfigurationRecord,
  type H264Sps,
  parseAvcDecoderConfigurationRecord,
  parseH264Sps,
} from './codec/avc';
export {
  type Av1Config,
  type FlacStreamInfo,
  type OpusHead,
  parseAv1Config,
  parseFlacStreamInfo,
  parseOpusHead,
  parseVpConfig,
  type VpConfig,
} from './codec/config-records';
export {
  type HevcDecoderConfigurationRecord,
  type HevcSps,
  parseHevcDecoderConfigurationRecord,
  parseHevcSps,
} from './codec/hevc';
export {
  type AudioCodecInfo,
  type CodecInfo,
  checkFfmpegSupport,
  FFMPEG_FLV_DEMUX_SINCE,
  type FfmpegSupport,
  type FfmpegSupportOptions,
  HLS_COPY_CODECS,
  inspectAudioTag,
  inspectVideoTag,
  type VideoCodecInfo,
} from './codec/inspect';
export { type MpegAudioFrameHeader, parseMpegAudioFrameHeader } from './codec/mp3';
export { parseVideoTagHeader, type VideoCodecName, type VideoTagHeader } from './codec/video-tag';
export {
  AacPacketType,
  AudioFourCc,
  AudioPacketType,
  AvcPacketType,
  AvMultitrackType,
  FLV_HEADER_SIZE,
  MAX_TAG_DATA_SIZE,
  PREVIOUS_TAG_SIZE_SIZE,
  SoundFormat,
  TAG_HEADER_SIZE,
  TagType,
  type TagTypeId,
  VideoCodecId,
  VideoFourCc,
  VideoFrameType,
  VideoPacketType,
} from './constants';
export {
  FlvError,
  type FlvErrorCode,
  FlvFormatError,
  type FlvFormatErrorCode,
  FlvUsageError,
  type FlvUsageErrorCode,
  isFlvError,
} from './errors';
export {
  DEFAULT_MAX_QUEUED_BYTES,
  FlvDropQueue,
  type FlvDropQueueOptions,
  MIN_MAX_QUEUED_BYTES,
} from './flv-drop-queue';
export {
  DEFAULT_SLAB_SIZE,
  encodeFlvHeader,
  encodeTagHeader,
  type FlvHeaderFlags,
  FlvMuxer,
  type FlvMuxerOptions,
  muxFlv,
  tagWireSize,
} from './flv-muxer';
export {
  DEFAULT_MAX_TAG_SIZE,
  type FlvFileHeader,
  FlvReader,
  type FlvReaderOptions,
  type FlvReadTag,
} from './flv-reader';
export {
  FlvStreamState,
  KeyframeGate,
  type KeyframeGateOptions,
  type PrimerOptions,
} from './flv-stream-state';
export {
  BufferedFlvWriter,
  type BufferedFlvWriterOptions,
  type BufferedWriteResult,
  FlvStreamWriter,
  type FlvStreamWriterOptions,
} from './flv-stream-writer';
export {
  decodeScriptData,
  encodeOnMetaData,
  isOnMetaData,
  metadataTag,
  type ScriptData,
  stripSetDataFrame,
  tagFromRtmpMessage,
} from './script-data';
export { type FlvTag, isEssentialRole, isSequenceHeader, isVideoKeyframe, type TagRole, tagRole } from './tag';
export {
  DEFAULT_MAX_BACKWARD_JUMP_MS,
  serialDelta,
  TimestampRebaser,
  type TimestampRebaserOptions,
} from './timestamp';
