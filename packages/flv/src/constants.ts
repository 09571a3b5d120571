/**
 * FLV constants.
 * Specs: Adobe Flash Video File Format Specification 10.1 (FLV/F4V), Annex E (FLV header, tags,
 * AUDIODATA, VIDEODATA, SCRIPTDATA); Enhanced RTMP v1 and v2 (veovera/enhanced-rtmp),
 * "Enhanced Audio" and "Enhanced Video".
 */

/** FLV tag types (the low 5 bits of the first tag header byte). Equal to the RTMP message type ids. */
export const TagType = {
  Audio: 8,
  Video: 9,
  /** SCRIPTDATA: AMF0 name + value, e.g. "onMetaData" + ECMA array. */
  Script: 18,
} as const;
/** One of {@link TagType}. */
export type TagTypeId = (typeof TagType)[keyof typeof TagType];

/** Size of the FLV file header ("FLV", version, flags, DataOffset). */
export const FLV_HEADER_SIZE = 9;
/** Size of a tag header: type, DataSize UI24, Timestamp UI24, TimestampExtended UI8, StreamID UI24. */
export const TAG_HEADER_SIZE = 11;
/** Size of each PreviousTagSize field (UI32). */
export const PREVIOUS_TAG_SIZE_SIZE = 4;
/** Largest DataSize the 24-bit field can express. */
export const MAX_TAG_DATA_SIZE = 0xffffff;

/** Legacy SoundFormat values (high nibble of the first AUDIODATA byte). */
export const SoundFormat = {
  LinearPcmPlatformEndian: 0,
  Adpcm: 1,
  Mp3: 2,
  LinearPcmLittleEndian: 3,
  Nellymoser16kMono: 4,
  Nellymoser8kMono: 5,
  Nellymoser: 6,
  G711ALaw: 7,
  G711MuLaw: 8,
  /** Enhanced RTMP v2: the low nibble is an AudioPacketType and a FourCC follows. */
  ExHeader: 9,
  Aac: 10,
  Speex: 11,
  Mp3_8k: 14,
  DeviceSpecific: 15,
} as const;

/** Legacy AACPacketType (second AUDIODATA byte when SoundFormat = 10). */
export const AacPacketType = { SequenceHeader: 0, Raw: 1 } as const;

/** Enhanced RTMP AudioPacketType (low nibble of the first byte when SoundFormat = 9). */
export const AudioPacketType = {
  SequenceStart: 0,
  CodedFrames: 1,
  SequenceEnd: 2,
  MultichannelConfig: 4,
  Multitrack: 5,
  ModEx: 7,
} as const;

/** Legacy CodecID values (low nibble of the first VIDEODATA byte). */
export const VideoCodecId = {
  SorensonH263: 2,
  ScreenVideo: 3,
  On2Vp6: 4,
  On2Vp6Alpha: 5,
  ScreenVideo2: 6,
  Avc: 7,
  /** Not in any Adobe spec: the "codec id 12" HEVC extension of several Chinese CDNs and forks. */
  HevcNonStandard: 12,
} as const;

/** VideoFrameType (4 bits legacy, 3 bits with an ExHeader). */
export const VideoFrameType = {
  KeyFrame: 1,
  InterFrame: 2,
  DisposableInterFrame: 3,
  GeneratedKeyFrame: 4,
  /** Video info / command frame: no picture; a UI8 VideoCommand follows the header. */
  Command: 5,
} as const;

/** Legacy AVCPacketType (second VIDEODATA byte when CodecID = 7 or 12). */
export const AvcPacketType = { SequenceHeader: 0, Nalu: 1, EndOfSequence: 2 } as const;

/** Enhanced RTMP VideoPacketType (low nibble of the first byte when bit 7 is set). */
export const VideoPacketType = {
  SequenceStart: 0,
  CodedFrames: 1,
  SequenceEnd: 2,
  /** CodedFrames without the SI24 composition time (implied 0). */
  CodedFramesX: 3,
  /** AMF-encoded metadata (colorInfo / HDR), not a picture. */
  Metadata: 4,
  Mpeg2TsSequenceStart: 5,
  Multitrack: 6,
  ModEx: 7,
} as const;

/** Enhanced RTMP v2 AvMultitrackType (high nibble of the byte after a Multitrack packet type). */
export const AvMultitrackType = { OneTrack: 0, ManyTracks: 1, ManyTracksManyCodecs: 2 } as const;

/** Video FourCCs of Enhanced RTMP. */
export const VideoFourCc = {
  Vp8: 'vp08',
  Vp9: 'vp09',
  Av1: 'av01',
  Avc: 'avc1',
  Hevc: 'hvc1',
  Vvc: 'vvc1',
} as const;

/** Audio FourCCs of Enhanced RTMP v2. */
export const AudioFourCc = {
  Ac3: 'ac-3',
  Eac3: 'ec-3',
  Opus: 'Opus',
  Mp3: '.mp3',
  Flac: 'fLaC',
  Aac: 'mp4a',
} as const;
