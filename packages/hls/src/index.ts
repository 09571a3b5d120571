/**
 * @org/hls: a native HLS packager — an MPEG-TS muxer (H.264; AAC via ADTS, MP3) and a keyframe
 * segmenter, fed timed access units as FLV/RTMP carries them. Pure: no I/O, no timers.
 *
 * Specs: ISO/IEC 13818-1 (MPEG-2 TS: packets, PSI, PES, PCR, CRC_32); RFC 8216 §3.2 (MPEG-TS
 * segments), §6.2.1 (cutting); ISO/IEC 14496-15 §5.3.3.1 (AVCDecoderConfigurationRecord);
 * Rec. ITU-T H.264 Annex B (byte stream), §7.3.2.4 (AUD); ISO/IEC 14496-3 §1.6.2.1
 * (AudioSpecificConfig), ISO/IEC 13818-7 §6.2 (ADTS).
 *
 * Public API: every name here is in README.md ("API"); `test/public-api.txt` pins the runtime names.
 * Internal: the packetizer, PSI/PES writers, Annex B conversion and codec classes.
 */

export { type AacConfig, parseAacConfig } from './codec/aac';
export type { AudioCodecName, VideoCodecName } from './codec/codec';
export { type AvcConfig, parseAvcConfig } from './codec/h264';
export { AUDIO_CODECS, VIDEO_CODECS } from './codec/registry';
export {
  AUDIO_PID,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_MAX_SEGMENT_DURATION,
  DEFAULT_TARGET_DURATION,
  PAT_PID,
  PMT_PID,
  StreamType,
  TIMESTAMP_MODULUS,
  TS_CLOCK_HZ,
  TS_PACKET_SIZE,
  VIDEO_PID,
} from './constants';
export { crc32Mpeg2 } from './crc32';
export {
  HlsError,
  type HlsErrorCode,
  HlsFormatError,
  type HlsFormatErrorCode,
  HlsUsageError,
  type HlsUsageErrorCode,
  isHlsError,
} from './errors';
export {
  type CutOptions,
  HlsSegmenter,
  type HlsSegmenterOptions,
  type SegmenterEvent,
  type SegmentInfo,
} from './hls-segmenter';
export { msToTicks, tickDelta, wrapTicks } from './timestamp';
export { type AudioFrame, TsMuxer, type TsMuxerOptions, type VideoFrame } from './ts-muxer';
