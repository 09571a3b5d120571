/**
 * Tag headers from hand-built bytes: legacy FLV and Enhanced RTMP (v1 FourCC video, v2 audio,
 * ModEx, multitrack, command frames). One row per case, one comment per field.
 */
import { describe, expect, it } from 'vitest';
import { type AudioTagHeader, parseAudioTagHeader, parseVideoTagHeader, type VideoTagHeader } from '../src/index';
import { ascii } from './helpers/bits';
import { flvErrorCode } from './helpers/errors';

type VideoRow = [name: string, bytes: number[], expected: Partial<VideoTagHeader>];

// biome-ignore format: one line per wire field, each with its comment
const videoRows: VideoRow[] = [
  [
    'legacy AVC sequence header',
    [
      0x17, // FrameType 1 (key) | CodecID 7 (AVC)
      0x00, // AVCPacketType 0: sequence header
      0x00, 0x00, 0x00, // CompositionTime 0
    ],
    { enhanced: false, frameType: 1, codecId: 7, codec: 'h264', packetType: 0, compositionTime: 0, bodyOffset: 5 },
  ],
  [
    'legacy AVC keyframe, CTS +80 ms',
    [
      0x17, // key | AVC
      0x01, // AVCPacketType 1: NALU
      0x00, 0x00, 0x50, // CompositionTime SI24 = 80
      0x00, 0x00, 0x00, 0x02, 0x09, 0xf0, // a 2-byte NAL unit (AUD)
    ],
    { frameType: 1, packetType: 1, compositionTime: 80, bodyOffset: 5, bodyEnd: 11 },
  ],
  [
    'legacy AVC inter frame, negative CTS −50 ms',
    [
      0x27, // FrameType 2 (inter) | AVC
      0x01, // NALU
      0xff, 0xff, 0xce, // SI24 = −50
    ],
    { frameType: 2, compositionTime: -50 },
  ],
  [
    'legacy AVC end of sequence',
    [0x17, 0x02, 0x00, 0x00, 0x00], // key | AVC, AVCPacketType 2, CTS 0
    { packetType: 2 },
  ],
  [
    'legacy HEVC (codec id 12, non-standard)',
    [0x1c, 0x00, 0x00, 0x00, 0x00], // key | CodecID 12, sequence header, CTS 0
    { codecId: 12, codec: 'hevc', packetType: 0 },
  ],
  [
    'legacy On2 VP6 inter frame',
    [0x24, 0x00], // FrameType 2 | CodecID 4; then the VP6 adjustment byte
    { codecId: 4, codec: 'vp6', packetType: 1, bodyOffset: 1 },
  ],
  [
    'legacy Sorenson H.263 disposable frame',
    [0x32], // FrameType 3 | CodecID 2
    { frameType: 3, codec: 'h263' },
  ],
  [
    'legacy command frame (start of seek)',
    [
      0x57, // FrameType 5 (command) | AVC
      0x01, 0x00, 0x00, 0x00, // AVCPacketType, CTS
      0x00, // VideoCommand 0: StartSeek
    ],
    { frameType: 5, command: 0, bodyOffset: 6 },
  ],
  [
    'E-RTMP hvc1 SequenceStart',
    [
      0x90, // IsExHeader 1 | FrameType 1 (key) | PacketType 0 (SequenceStart)
      ...ascii('hvc1'), // FourCC
    ],
    { enhanced: true, frameType: 1, fourCc: 'hvc1', codec: 'hevc', packetType: 0, codecId: undefined, bodyOffset: 5 },
  ],
  [
    'E-RTMP hvc1 CodedFrames with CTS',
    [
      0xa1, // ExHeader | FrameType 2 (inter) | PacketType 1 (CodedFrames)
      ...ascii('hvc1'), 0x00, 0x00, 0x21, // CompositionTime SI24 = 33
    ],
    { frameType: 2, packetType: 1, compositionTime: 33, bodyOffset: 8 },
  ],
  [
    'E-RTMP avc1 CodedFramesX (CTS implied 0)',
    [
      0x93, // ExHeader | key | PacketType 3 (CodedFramesX)
      ...ascii('avc1'),
    ],
    { codec: 'h264', packetType: 3, compositionTime: 0, bodyOffset: 5 },
  ],
  [
    'E-RTMP av01 CodedFrames (no CTS field for AV1)',
    [
      0x91, // ExHeader | key | CodedFrames
      ...ascii('av01'), 0x12, 0x00, // OBU: temporal delimiter
    ],
    { codec: 'av1', packetType: 1, compositionTime: 0, bodyOffset: 5 },
  ],
  ['E-RTMP vp09 SequenceStart', [0x90, ...ascii('vp09')], { codec: 'vp9', packetType: 0 }],
  ['E-RTMP vp08 CodedFrames', [0xa1, ...ascii('vp08')], { codec: 'vp8', frameType: 2, bodyOffset: 5 }],
  ['E-RTMP vvc1 SequenceEnd', [0x92, ...ascii('vvc1')], { codec: 'vvc', packetType: 2 }],
  ['E-RTMP unknown FourCC', [0x91, ...ascii('xyz1')], { codec: 'unknown', fourCc: 'xyz1' }],
  [
    'E-RTMP command frame: VideoCommand, no FourCC',
    [
      0xd1, // ExHeader | FrameType 5 (command) | PacketType 1
      0x01, // VideoCommand 1: EndSeek
    ],
    { frameType: 5, command: 1, fourCc: undefined, bodyOffset: 2, bodyEnd: 2 },
  ],
  [
    'E-RTMP Metadata packet: frame type ignored, FourCC present',
    [
      0xd4, // ExHeader | FrameType 5 | PacketType 4 (Metadata)
      ...ascii('hvc1'), 0x02, 0x00, 0x09, ...ascii('colorInfo'), // AMF0 "colorInfo" …
    ],
    { packetType: 4, command: undefined, fourCc: 'hvc1', bodyOffset: 5 },
  ],
  [
    'E-RTMP ModEx TimestampOffsetNano, then CodedFrames',
    [
      0x97, // ExHeader | key | PacketType 7 (ModEx)
      0x02, // modExDataSize − 1 = 2 → 3 bytes
      0x0f, 0x42, 0x3f, // UI24 999999 ns
      0x01, // ModExType 0 (TimestampOffsetNano) | PacketType 1 (CodedFrames)
      ...ascii('avc1'), 0x00, 0x00, 0x00, // CTS
    ],
    { packetType: 1, timestampOffsetNano: 999_999, codec: 'h264', bodyOffset: 13 },
  ],
  [
    'E-RTMP Multitrack OneTrack',
    [
      0x96, // ExHeader | key | PacketType 6 (Multitrack)
      0x01, // AvMultitrackType 0 (OneTrack) | PacketType 1 (CodedFrames)
      ...ascii('hvc1'), // FourCC shared by the tracks
      0x02, // trackId
      0x00, 0x00, 0x28, // CTS 40
    ],
    { multitrack: { type: 0, trackId: 2 }, packetType: 1, compositionTime: 40, bodyOffset: 10 },
  ],
  [
    'E-RTMP Multitrack ManyTracks: first track bounded by its size',
    [
      0x96, // ExHeader | key | Multitrack
      0x10, // AvMultitrackType 1 (ManyTracks) | PacketType 0 (SequenceStart)
      ...ascii('av01'), 0x00, // trackId 0
      0x00, 0x00, 0x04, // sizeOfVideoTrack 4
      0x81, 0x00, 0x0c, 0x00, // track 0 body (av1C)
      0x01, 0x00, 0x00, 0x04, 0x81, 0x20, 0x0c, 0x00, // track 1
    ],
    { multitrack: { type: 1, trackId: 0 }, packetType: 0, codec: 'av1', bodyOffset: 10, bodyEnd: 14 },
  ],
  [
    'E-RTMP Multitrack ManyTracksManyCodecs: FourCC per track',
    [
      0x96, // ExHeader | key | Multitrack
      0x21, // AvMultitrackType 2 (ManyTracksManyCodecs) | CodedFrames
      ...ascii('avc1'), // first track's FourCC
      0x03, // trackId 3
      0x00, 0x00, 0x05, // sizeOfVideoTrack 5
      0x00, 0x00, 0x0a, // CTS 10
      0xaa, 0xbb, // data
    ],
    { multitrack: { type: 2, trackId: 3 }, codec: 'h264', compositionTime: 10, bodyOffset: 13, bodyEnd: 15 },
  ],
];

type AudioRow = [name: string, bytes: number[], expected: Partial<AudioTagHeader>];

// biome-ignore format: one line per wire field, each with its comment
const audioRows: AudioRow[] = [
  [
    'legacy AAC sequence header',
    [
      0xaf, // SoundFormat 10 (AAC) | SoundRate 3 (44 kHz) | SoundSize 1 (16-bit) | SoundType 1 (stereo)
      0x00, // AACPacketType 0: sequence header
      0x12, 0x10, // AudioSpecificConfig
    ],
    {
      enhanced: false,
      soundFormat: 10,
      codec: 'aac',
      packetType: 0,
      soundRate: 44100,
      soundSize: 16,
      soundChannels: 2,
      bodyOffset: 2,
    },
  ],
  ['legacy AAC raw, mono flag', [0xae, 0x01, 0x21], { packetType: 1, soundChannels: 1, bodyOffset: 2 }],
  [
    'legacy MP3 at 22 kHz, 8-bit mono',
    [
      0x28, // SoundFormat 2 | SoundRate 2 (22 kHz) | SoundSize 0 | SoundType 0
      0xff, 0xf3, // frame sync …
    ],
    { codec: 'mp3', soundRate: 22050, soundSize: 8, soundChannels: 1, bodyOffset: 1 },
  ],
  ['legacy Nellymoser 8 kHz mono', [0x52], { codec: 'nellymoser', soundFormat: 5 }],
  ['legacy G.711 µ-law', [0x82], { codec: 'g711u' }],
  ['legacy Speex', [0xb2], { codec: 'speex' }],
  ['legacy MP3 8 kHz', [0xe2], { codec: 'mp3', soundFormat: 14 }],
  [
    'E-RTMP Opus SequenceStart',
    [
      0x90, // SoundFormat 9 (ExHeader) | AudioPacketType 0 (SequenceStart)
      ...ascii('Opus'), // FourCC
    ],
    {
      enhanced: true,
      soundFormat: 9,
      fourCc: 'Opus',
      codec: 'opus',
      packetType: 0,
      soundRate: undefined,
      bodyOffset: 5,
    },
  ],
  ['E-RTMP fLaC CodedFrames', [0x91, ...ascii('fLaC')], { codec: 'flac', packetType: 1 }],
  ['E-RTMP ac-3', [0x91, ...ascii('ac-3')], { codec: 'ac3' }],
  ['E-RTMP ec-3', [0x91, ...ascii('ec-3')], { codec: 'eac3' }],
  ['E-RTMP .mp3', [0x91, ...ascii('.mp3')], { codec: 'mp3' }],
  ['E-RTMP mp4a SequenceEnd', [0x92, ...ascii('mp4a')], { codec: 'aac', packetType: 2 }],
  [
    'E-RTMP MultichannelConfig',
    [
      0x94, // ExHeader | AudioPacketType 4 (MultichannelConfig)
      ...ascii('Opus'), 0x01, // AudioChannelOrder 1 (Native)
      0x02, // channelCount
      0x00, 0x00, 0x00, 0x03, // AudioChannelFlags: FrontLeft | FrontRight
    ],
    { packetType: 4, codec: 'opus', bodyOffset: 5 },
  ],
  [
    'E-RTMP ModEx, then CodedFrames',
    [
      0x97, // ExHeader | AudioPacketType 7 (ModEx)
      0x02, // modExDataSize − 1 = 2
      0x00, 0x01, 0xf4, // 500 ns
      0x01, // ModExType 0 | AudioPacketType 1
      ...ascii('mp4a'),
    ],
    { packetType: 1, codec: 'aac', bodyOffset: 10 },
  ],
  [
    'E-RTMP ModEx with a 16-bit size',
    [
      0x97, // ExHeader | ModEx
      0xff, // UI8 255 → 256 means "read a UI16"
      0x01, 0x00, // UI16 256 → 257 bytes
      ...new Array<number>(257).fill(0), 0x11, // ModExType 1 | CodedFrames
      ...ascii('Opus'),
    ],
    { packetType: 1, codec: 'opus', bodyOffset: 266 },
  ],
  [
    'E-RTMP Multitrack ManyTracksManyCodecs',
    [
      0x95, // ExHeader | AudioPacketType 5 (Multitrack)
      0x21, // AvMultitrackType 2 | CodedFrames
      ...ascii('Opus'), // first track's FourCC
      0x01, // trackId 1
      0x00, 0x00, 0x02, // sizeOfAudioTrack 2
      0xf8, 0xff, // Opus packet
      ...ascii('mp4a'), 0x02, 0x00, 0x00, 0x01, 0x21, // next track
    ],
    { multitrack: { type: 2, trackId: 1 }, codec: 'opus', bodyOffset: 10, bodyEnd: 12 },
  ],
];

describe('parseVideoTagHeader', () => {
  for (const [name, bytes, expected] of videoRows) {
    it(name, () => {
      const h = parseVideoTagHeader(new Uint8Array(bytes));
      expect(h).toMatchObject(expected);
      if (expected.bodyEnd === undefined) expect(h.bodyEnd).toBe(bytes.length);
    });
  }
});

describe('parseAudioTagHeader', () => {
  for (const [name, bytes, expected] of audioRows) {
    it(name, () => {
      const h = parseAudioTagHeader(new Uint8Array(bytes));
      expect(h).toMatchObject(expected);
      if (expected.bodyEnd === undefined) expect(h.bodyEnd).toBe(bytes.length);
    });
  }
});

describe('malformed headers', () => {
  const video: [string, number[], string][] = [
    ['empty', [], 'ERR_FLV_TRUNCATED_TAG_HEADER'],
    ['AVC header cut', [0x17, 0x01, 0x00], 'ERR_FLV_TRUNCATED_TAG_HEADER'],
    ['AVCPacketType 3', [0x17, 0x03, 0, 0, 0], 'ERR_FLV_BAD_TAG_HEADER'],
    ['FourCC cut', [0x90, 0x68, 0x76], 'ERR_FLV_TRUNCATED_TAG_HEADER'],
    ['CTS cut', [0xa1, ...ascii('hvc1'), 0x00], 'ERR_FLV_TRUNCATED_TAG_HEADER'],
    ['ModEx data cut', [0x97, 0x05, 0x00], 'ERR_FLV_TRUNCATED_TAG_HEADER'],
    ['multitrack type 3', [0x96, 0x31, ...ascii('hvc1'), 0], 'ERR_FLV_BAD_TAG_HEADER'],
    ['multitrack in multitrack', [0x96, 0x06, ...ascii('hvc1'), 0], 'ERR_FLV_BAD_TAG_HEADER'],
    ['track size beyond payload', [0x96, 0x11, ...ascii('hvc1'), 0, 0, 0, 9, 1], 'ERR_FLV_TRUNCATED_TAG_HEADER'],
    ['command byte missing', [0xd1], 'ERR_FLV_TRUNCATED_TAG_HEADER'],
  ];
  for (const [name, bytes, expected] of video) {
    it(`video: ${name}`, () => expect(flvErrorCode(() => parseVideoTagHeader(new Uint8Array(bytes)))).toBe(expected));
  }
  const audio: [string, number[], string][] = [
    ['empty (RTMP silence message)', [], 'ERR_FLV_TRUNCATED_TAG_HEADER'],
    ['AAC packet type missing', [0xaf], 'ERR_FLV_TRUNCATED_TAG_HEADER'],
    ['AACPacketType 2', [0xaf, 0x02], 'ERR_FLV_BAD_TAG_HEADER'],
    ['FourCC cut', [0x90, 0x4f], 'ERR_FLV_TRUNCATED_TAG_HEADER'],
    ['ModEx size cut', [0x97], 'ERR_FLV_TRUNCATED_TAG_HEADER'],
    ['multitrack type 5', [0x95, 0x51, ...ascii('Opus'), 0], 'ERR_FLV_BAD_TAG_HEADER'],
  ];
  for (const [name, bytes, expected] of audio) {
    it(`audio: ${name}`, () => expect(flvErrorCode(() => parseAudioTagHeader(new Uint8Array(bytes)))).toBe(expected));
  }
});
