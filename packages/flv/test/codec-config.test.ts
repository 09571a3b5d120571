/**
 * Configuration records and parameter sets built by hand (with a test-only bit writer), so every
 * branch of the SPS / AudioSpecificConfig syntax is reached on purpose.
 */
import { describe, expect, it } from 'vitest';
import { BitReader, removeEmulationPrevention } from '../src/codec/bit-reader';
import {
  type CodecInfo,
  checkFfmpegSupport,
  inspectAudioTag,
  inspectVideoTag,
  parseAudioSpecificConfig,
  parseAv1Config,
  parseAvcDecoderConfigurationRecord,
  parseFlacStreamInfo,
  parseH264Sps,
  parseHevcDecoderConfigurationRecord,
  parseHevcSps,
  parseMpegAudioFrameHeader,
  parseOpusHead,
  parseVpConfig,
} from '../src/index';
import { addEmulationPrevention, ascii, BitWriter } from './helpers/bits';
import { flvErrorCode } from './helpers/errors';

describe('BitReader', () => {
  it('reads Exp-Golomb codes (ue, se) as in H.264 Table 9-2 / 9-3', () => {
    // bit strings: 1 | 010 | 011 | 00100 | 00111 | 0001000
    const r = new BitReader(new BitWriter().u(1, 1).u(3, 2).u(3, 3).u(5, 4).u(5, 7).u(7, 8).bytes(), 't');
    expect([r.readUe(), r.readUe(), r.readUe(), r.readUe(), r.readUe(), r.readUe()]).toEqual([0, 1, 2, 3, 6, 7]);
    const s = new BitReader(new BitWriter().ue(1).ue(2).ue(3).ue(4).ue(0).bytes(), 't');
    expect([s.readSe(), s.readSe(), s.readSe(), s.readSe(), s.readSe()]).toEqual([1, -1, 2, -2, 0]);
  });

  it('round-trips large values and 32-bit reads', () => {
    const w = new BitWriter()
      .ue(2 ** 31)
      .se(-123456)
      .u(32, 0xdeadbeef)
      .u(1, 1);
    const r = new BitReader(w.bytes(), 't');
    expect(r.readUe()).toBe(2 ** 31);
    expect(r.readSe()).toBe(-123456);
    expect(r.readBits(32)).toBe(0xdeadbeef);
    expect(r.readBit()).toBe(1);
  });

  it('rejects codes longer than 32 bits and reads past the end', () => {
    expect(flvErrorCode(() => new BitReader(new Uint8Array(5), 't').readUe())).toBe('ERR_FLV_BAD_CODEC_CONFIG');
    expect(flvErrorCode(() => new BitReader(new Uint8Array([0x01]), 't').readUe())).toBe(
      'ERR_FLV_TRUNCATED_CODEC_CONFIG',
    );
    expect(flvErrorCode(() => new BitReader(new Uint8Array(1), 't').readBits(9))).toBe(
      'ERR_FLV_TRUNCATED_CODEC_CONFIG',
    );
  });
});

describe('removeEmulationPrevention', () => {
  const rows: [number[], number[]][] = [
    [
      [0x00, 0x00, 0x03, 0x01],
      [0x00, 0x00, 0x01],
    ],
    [
      [0x01, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x02],
      [0x01, 0x00, 0x00, 0x00, 0x00, 0x02],
    ],
    [
      [0x00, 0x00, 0x03],
      [0x00, 0x00],
    ],
    [
      [0x00, 0x03, 0x00, 0x03],
      [0x00, 0x03, 0x00, 0x03],
    ], // one zero before 03 is not a pattern
    [
      [0x00, 0x00, 0x03, 0x03],
      [0x00, 0x00, 0x03],
    ], // the second 03 is data
  ];
  for (const [input, output] of rows) {
    it(Buffer.from(input).toString('hex'), () => {
      expect([...removeEmulationPrevention(new Uint8Array(input))]).toEqual(output);
    });
  }
  it('returns the input itself when there is nothing to remove', () => {
    const a = new Uint8Array([1, 2, 0, 0, 4]);
    expect(removeEmulationPrevention(a)).toBe(a);
  });
});

interface SpsSpec {
  profileIdc: number;
  constraint?: number;
  level?: number;
  chromaFormatIdc?: number;
  separateColourPlane?: boolean;
  scalingLists?: boolean;
  pocType?: 0 | 1 | 2;
  widthMbs: number;
  heightMapUnits: number;
  frameMbsOnly?: boolean;
  crop?: [number, number, number, number];
}

const HIGH = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** Builds an H.264 SPS NAL unit (header 0x67) following §7.3.2.1.1 field by field. */
function h264Sps(s: SpsSpec): Uint8Array {
  const w = new BitWriter();
  w.u(8, s.profileIdc)
    .u(8, s.constraint ?? 0)
    .u(8, s.level ?? 31)
    .ue(0); // seq_parameter_set_id
  const chroma = s.chromaFormatIdc ?? 1;
  if (HIGH.has(s.profileIdc)) {
    w.ue(chroma);
    if (chroma === 3) w.u(1, s.separateColourPlane ? 1 : 0);
    w.ue(0).ue(0).u(1, 0); // bit depths 8, qpprime_y_zero_transform_bypass_flag
    w.u(1, s.scalingLists ? 1 : 0);
    if (s.scalingLists) {
      const lists = chroma !== 3 ? 8 : 12;
      for (let i = 0; i < lists; i++) {
        const present = i % 3 !== 2; // some lists absent
        w.u(1, present ? 1 : 0);
        if (!present) continue;
        const size = i < 6 ? 16 : 64;
        if (i === 1) {
          w.se(-8); // nextScale = 0 at once: "use the default list", no more deltas
        } else {
          for (let j = 0; j < size; j++) w.se(j % 2 === 0 ? 3 : -2);
        }
      }
    }
  }
  w.ue(0); // log2_max_frame_num_minus4
  const poc = s.pocType ?? 0;
  w.ue(poc);
  if (poc === 0) w.ue(2);
  if (poc === 1) w.u(1, 0).se(-1).se(2).ue(3).se(1).se(-2).se(3);
  w.ue(2).u(1, 0); // max_num_ref_frames, gaps_in_frame_num_value_allowed_flag
  w.ue(s.widthMbs - 1).ue(s.heightMapUnits - 1);
  const frameMbsOnly = s.frameMbsOnly ?? true;
  w.u(1, frameMbsOnly ? 1 : 0);
  if (!frameMbsOnly) w.u(1, 0);
  w.u(1, 1); // direct_8x8_inference_flag
  if (s.crop) {
    w.u(1, 1);
    for (const c of s.crop) w.ue(c);
  } else {
    w.u(1, 0);
  }
  w.u(1, 0); // vui_parameters_present_flag
  return addEmulationPrevention(new Uint8Array([0x67, ...w.rbsp()]));
}

describe('parseH264Sps', () => {
  const rows: [string, SpsSpec, { width: number; height: number; profileName: string; levelIdc?: number }][] = [
    [
      'Constrained Baseline 1280x720',
      { profileIdc: 66, constraint: 0xc0, level: 31, widthMbs: 80, heightMapUnits: 45 },
      { width: 1280, height: 720, profileName: 'Constrained Baseline', levelIdc: 31 },
    ],
    [
      'Main 1920x1080 (8 lines cropped: unit 2 × 4)',
      { profileIdc: 77, level: 40, widthMbs: 120, heightMapUnits: 68, crop: [0, 0, 0, 4] },
      { width: 1920, height: 1080, profileName: 'Main', levelIdc: 40 },
    ],
    [
      'High with scaling lists, 854x480 (10 columns cropped)',
      { profileIdc: 100, scalingLists: true, widthMbs: 54, heightMapUnits: 30, crop: [0, 5, 0, 0] },
      { width: 854, height: 480, profileName: 'High' },
    ],
    [
      'High 4:4:4 Predictive, 12 scaling lists, crop unit 1',
      { profileIdc: 244, chromaFormatIdc: 3, scalingLists: true, widthMbs: 20, heightMapUnits: 15, crop: [0, 3, 0, 1] },
      { width: 317, height: 239, profileName: 'High 4:4:4 Predictive' },
    ],
    [
      'High 4:2:2 Intra: crop unit 2 horizontally, 1 vertically',
      { profileIdc: 122, constraint: 0x10, chromaFormatIdc: 2, widthMbs: 20, heightMapUnits: 15, crop: [1, 1, 1, 1] },
      { width: 316, height: 238, profileName: 'High 4:2:2 Intra' },
    ],
    [
      'interlaced 720x480 (map units are field pairs, crop unit 4)',
      { profileIdc: 100, widthMbs: 45, heightMapUnits: 15, frameMbsOnly: false, crop: [0, 0, 0, 2] },
      { width: 720, height: 472, profileName: 'High' },
    ],
    [
      'separate colour planes: ChromaArrayType 0, crop unit 1',
      {
        profileIdc: 244,
        chromaFormatIdc: 3,
        separateColourPlane: true,
        widthMbs: 4,
        heightMapUnits: 4,
        crop: [1, 0, 0, 1],
      },
      { width: 63, height: 63, profileName: 'High 4:4:4 Predictive' },
    ],
    [
      'pic_order_cnt_type 1 with a cycle',
      { profileIdc: 77, pocType: 1, widthMbs: 10, heightMapUnits: 8 },
      { width: 160, height: 128, profileName: 'Main' },
    ],
    [
      'pic_order_cnt_type 2, Extended',
      { profileIdc: 88, pocType: 2, widthMbs: 11, heightMapUnits: 9 },
      { width: 176, height: 144, profileName: 'Extended' },
    ],
  ];
  for (const [name, spec, expected] of rows) {
    it(name, () => expect(parseH264Sps(h264Sps(spec))).toMatchObject(expected));
  }

  it('removes emulation-prevention bytes before reading', () => {
    // ue(32767) ends in 15 zero bits and the next ue(32767) starts with 15: a 30-bit zero run,
    // which always covers "00 00 0x" and so needs emulation prevention.
    const spec: SpsSpec = { profileIdc: 66, widthMbs: 4096, heightMapUnits: 4096, crop: [0, 32767, 32767, 0] };
    const nal = h264Sps(spec);
    const raw = removeEmulationPrevention(nal);
    expect(raw.length).toBeLessThan(nal.length); // the fixture really contains 0x000003
    expect(parseH264Sps(nal)).toMatchObject({ width: 2, height: 2, codedWidth: 65536 });
  });

  it('rejects garbage with typed errors', () => {
    expect(flvErrorCode(() => parseH264Sps(new Uint8Array([0x68, 1, 2, 3])))).toBe('ERR_FLV_BAD_CODEC_CONFIG'); // PPS
    expect(flvErrorCode(() => parseH264Sps(new Uint8Array([0x67, 100])))).toBe('ERR_FLV_TRUNCATED_CODEC_CONFIG');
    const full = h264Sps({ profileIdc: 100, widthMbs: 20, heightMapUnits: 15 });
    expect(flvErrorCode(() => parseH264Sps(full.subarray(0, 8)))).toBe('ERR_FLV_TRUNCATED_CODEC_CONFIG');
    // Cropping more than the picture.
    const over = h264Sps({ profileIdc: 77, widthMbs: 2, heightMapUnits: 2, crop: [10, 10, 0, 0] });
    expect(flvErrorCode(() => parseH264Sps(over))).toBe('ERR_FLV_BAD_CODEC_CONFIG');
  });
});

/** AVCDecoderConfigurationRecord around one SPS and one PPS. */
function avcC(sps: Uint8Array, pps = new Uint8Array([0x68, 0xce, 0x38, 0x80])): Uint8Array {
  // biome-ignore format: one line per field
  return new Uint8Array([
    0x01, // configurationVersion
    sps[1]!, // AVCProfileIndication
    sps[2]!, // profile_compatibility
    sps[3]!, // AVCLevelIndication
    0xff, // reserved 111111 | lengthSizeMinusOne 3
    0xe1, // reserved 111 | numOfSequenceParameterSets 1
    sps.length >> 8,
    sps.length & 0xff,
    ...sps, 0x01, // numOfPictureParameterSets
    pps.length >> 8,
    pps.length & 0xff,
    ...pps,
  ]);
}

describe('parseAvcDecoderConfigurationRecord', () => {
  it('reads the fields and returns views of the parameter sets', () => {
    const sps = h264Sps({ profileIdc: 100, level: 41, widthMbs: 120, heightMapUnits: 68, crop: [0, 0, 0, 4] });
    const rec = parseAvcDecoderConfigurationRecord(avcC(sps));
    expect(rec).toMatchObject({ configurationVersion: 1, profile: 100, level: 41, nalLengthSize: 4 });
    expect([...rec.sps[0]!]).toEqual([...sps]);
    expect(rec.pps).toHaveLength(1);
  });

  it('rejects bad versions, a 3-byte NAL length and truncation', () => {
    const good = avcC(h264Sps({ profileIdc: 66, widthMbs: 2, heightMapUnits: 2 }));
    const v2 = good.slice();
    v2[0] = 2;
    expect(flvErrorCode(() => parseAvcDecoderConfigurationRecord(v2))).toBe('ERR_FLV_BAD_CODEC_CONFIG');
    const len3 = good.slice();
    len3[4] = 0xfe;
    expect(flvErrorCode(() => parseAvcDecoderConfigurationRecord(len3))).toBe('ERR_FLV_BAD_CODEC_CONFIG');
    for (const cut of [3, 7, 9, good.length - 5, good.length - 1]) {
      expect(flvErrorCode(() => parseAvcDecoderConfigurationRecord(good.subarray(0, cut)))).toBe(
        'ERR_FLV_TRUNCATED_CODEC_CONFIG',
      );
    }
  });
});

/** HEVC SPS with 3 temporal sub-layers (sub-layer profile/level fields to skip). */
function hevcSps(width: number, height: number, conf: [number, number, number, number] | undefined): Uint8Array {
  const w = new BitWriter();
  w.u(4, 0).u(3, 2).u(1, 1); // vps id, sps_max_sub_layers_minus1 = 2, temporal_id_nesting
  w.u(2, 0).u(1, 0).u(5, 2); // general_profile_space, tier, profile_idc 2 (Main 10)
  w.u(32, 0x20000000); // compatibility flags
  w.u(4, 0b1001).u(32, 0).u(12, 0); // source flags + 43 reserved + 1 = 48 bits
  w.u(8, 120); // general_level_idc (level 4)
  w.u(1, 1).u(1, 1); // sub-layer 0: profile and level present
  w.u(1, 0).u(1, 1); // sub-layer 1: level only
  w.u(12, 0); // reserved_zero_2bits × (8 − 2)
  w.u(32, 0xffffffff).u(32, 0xffffffff).u(24, 0xffffff).u(8, 90); // sub-layer 0: 88 bits + level
  w.u(8, 93); // sub-layer 1: level
  w.ue(0).ue(1).ue(width).ue(height); // sps id, chroma_format_idc 1, size
  if (conf) {
    w.u(1, 1);
    for (const c of conf) w.ue(c);
  } else {
    w.u(1, 0);
  }
  w.ue(0).ue(0).ue(4); // bit depths, log2_max_poc_lsb_minus4 (not read)
  return addEmulationPrevention(new Uint8Array([0x42, 0x01, ...w.rbsp()])); // NAL type 33
}

describe('HEVC', () => {
  it('parses an SPS with sub-layers and a conformance window (chroma units of 2)', () => {
    expect(parseHevcSps(hevcSps(1280, 720, [0, 0, 0, 4]))).toEqual({
      profileIdc: 2,
      tier: 0,
      levelIdc: 120,
      profileName: 'Main 10',
      chromaFormatIdc: 1,
      width: 1280,
      height: 712,
    });
    expect(parseHevcSps(hevcSps(856, 480, [0, 1, 0, 0]))).toMatchObject({ width: 854, height: 480 });
  });

  it('parses an hvcC and finds the SPS', () => {
    const sps = hevcSps(856, 480, [0, 1, 0, 0]);
    const vps = new Uint8Array([0x40, 0x01, 0x0c]);
    // biome-ignore format: one line per field
    const hvcc = new Uint8Array([
      0x01, // configurationVersion
      0x02, // profile_space 0 | tier 0 | profile_idc 2
      0x20, 0, 0, 0, // compatibility flags
      0x90, 0, 0, 0, 0, 0, // constraint flags
      120, // general_level_idc
      0xf0, 0x00, // min_spatial_segmentation_idc
      0xfc, // parallelismType
      0xfd, // chromaFormat 1
      0xfa, // bitDepthLumaMinus8 2
      0xfa, // bitDepthChromaMinus8 2
      0x00, 0x00, // avgFrameRate
      0x0f, // constantFrameRate 0 | numTemporalLayers 1 | nested 1 | lengthSizeMinusOne 3
      0x02, // numOfArrays
      0xa0, 0x00, 0x01, 0x00, vps.length, ...vps, // VPS array: completeness | type 32, 1 NAL
      0xa1, 0x00, 0x01, 0x00, sps.length, ...sps, // SPS array: type 33
    ]);
    const rec = parseHevcDecoderConfigurationRecord(hvcc);
    expect(rec).toMatchObject({ profile: 2, tier: 0, level: 120, chromaFormat: 1, bitDepthLuma: 10, nalLengthSize: 4 });
    expect(rec.nalUnits.map((n) => n.type)).toEqual([32, 33]);
    const tag = new Uint8Array([0x90, ...ascii('hvc1'), ...hvcc]);
    expect(inspectVideoTag(tag)).toEqual({
      kind: 'video',
      codec: 'hevc',
      enhanced: true,
      fourCc: 'hvc1',
      width: 854,
      height: 480,
      profile: 2,
      profileName: 'Main 10',
      level: 120,
    });
    expect(flvErrorCode(() => parseHevcDecoderConfigurationRecord(hvcc.subarray(0, 30)))).toBe(
      'ERR_FLV_TRUNCATED_CODEC_CONFIG',
    );
  });
});

describe('parseAudioSpecificConfig', () => {
  const asc = (f: (w: BitWriter) => BitWriter) => f(new BitWriter()).bytes();
  const rows: [string, Uint8Array, object][] = [
    [
      'LC 44.1 kHz stereo (0x1210)',
      new Uint8Array([0x12, 0x10]),
      { objectType: 2, sampleRate: 44100, channels: 2, profileName: 'LC', sbr: false },
    ],
    ['LC 48 kHz mono (0x1188)', new Uint8Array([0x11, 0x88]), { sampleRate: 48000, channels: 1 }],
    [
      'explicit 24-bit rate',
      asc((w) => w.u(5, 2).u(4, 15).u(24, 37800).u(4, 2).u(3, 0)),
      { sampleRate: 37800, coreSampleRate: 37800, channels: 2 },
    ],
    [
      'escaped object type 42 (31 + 6 bits)',
      asc((w) => w.u(5, 31).u(6, 10).u(4, 3).u(4, 1).u(3, 0)),
      { objectType: 42, sampleRate: 48000, channels: 1 },
    ],
    [
      'HE-AAC: SBR extension rate is the output rate',
      asc((w) => w.u(5, 5).u(4, 6).u(4, 2).u(4, 3).u(5, 2).u(3, 0)),
      { objectType: 2, coreSampleRate: 24000, sampleRate: 48000, sbr: true, ps: false, profileName: 'HE-AAC' },
    ],
    [
      'HE-AACv2: SBR + PS',
      asc((w) => w.u(5, 29).u(4, 7).u(4, 1).u(4, 4).u(5, 2).u(3, 0)),
      { coreSampleRate: 22050, sampleRate: 44100, ps: true, profileName: 'HE-AACv2', channels: 1 },
    ],
    ['channel configuration 7 = 8 channels', asc((w) => w.u(5, 2).u(4, 3).u(4, 7).u(3, 0)), { channels: 8 }],
    [
      'channel configuration 0 = PCE',
      asc((w) => w.u(5, 1).u(4, 3).u(4, 0).u(3, 0)),
      { channels: 0, profileName: 'Main' },
    ],
  ];
  for (const [name, bytes, expected] of rows) {
    it(name, () => expect(parseAudioSpecificConfig(bytes)).toMatchObject(expected));
  }
  it('rejects reserved rates, object type 0 and truncation', () => {
    expect(flvErrorCode(() => parseAudioSpecificConfig(new BitWriter().u(5, 2).u(4, 13).u(7, 0).bytes()))).toBe(
      'ERR_FLV_BAD_CODEC_CONFIG',
    );
    expect(flvErrorCode(() => parseAudioSpecificConfig(new Uint8Array([0x00, 0x10])))).toBe('ERR_FLV_BAD_CODEC_CONFIG');
    expect(flvErrorCode(() => parseAudioSpecificConfig(new Uint8Array([0x12])))).toBe('ERR_FLV_TRUNCATED_CODEC_CONFIG');
    expect(flvErrorCode(() => parseAudioSpecificConfig(new Uint8Array([0x17, 0x80])))).toBe(
      'ERR_FLV_TRUNCATED_CODEC_CONFIG',
    );
  });
});

describe('small records', () => {
  it('MPEG audio frame headers', () => {
    // FF FB 90 64: MPEG-1 Layer III, 128 kb/s, 44.1 kHz, joint stereo
    expect(parseMpegAudioFrameHeader(new Uint8Array([0xff, 0xfb, 0x90, 0x64]))).toEqual({
      version: 1,
      layer: 3,
      sampleRate: 44100,
      channels: 2,
    });
    // FF F3 88 C4: MPEG-2 Layer III, rate index 2 → 16 kHz, mono
    expect(parseMpegAudioFrameHeader(new Uint8Array([0xff, 0xf3, 0x88, 0xc4]))).toMatchObject({
      version: 2,
      sampleRate: 16000,
      channels: 1,
    });
    // FF E3 08 C4: MPEG-2.5, rate index 2 → 8 kHz
    expect(parseMpegAudioFrameHeader(new Uint8Array([0xff, 0xe3, 0x08, 0xc4]))).toMatchObject({
      version: 2.5,
      sampleRate: 8000,
    });
    expect(flvErrorCode(() => parseMpegAudioFrameHeader(new Uint8Array([0xff, 0xeb, 0x90, 0x64])))).toBe(
      'ERR_FLV_BAD_CODEC_CONFIG',
    ); // version 01 reserved
    expect(flvErrorCode(() => parseMpegAudioFrameHeader(new Uint8Array([0x49, 0x44, 0x33, 0x04])))).toBe(
      'ERR_FLV_BAD_CODEC_CONFIG',
    ); // "ID3"
  });

  it('av1C', () => {
    // 0x81 marker|version, 0x2d profile 1 | level 13, 0x60 tier 0 | high_bitdepth | twelve_bit, 0x00
    expect(parseAv1Config(new Uint8Array([0x81, 0x2d, 0x60, 0x00]))).toEqual({
      profile: 1,
      level: 13,
      tier: 0,
      bitDepth: 12,
      monochrome: false,
    });
    expect(flvErrorCode(() => parseAv1Config(new Uint8Array([0x01, 0, 0, 0])))).toBe('ERR_FLV_BAD_CODEC_CONFIG');
  });

  it('vpcC with and without the FullBox header', () => {
    // profile 2 | level 31 | bitDepth 10, 4:2:0 colocated (1), full range 0 | BT.709 ×3 | no init data
    const record = [0x02, 0x1f, 0xa2, 0x01, 0x01, 0x01, 0x00, 0x00];
    const expected = { profile: 2, level: 31, bitDepth: 10, chromaSubsampling: 1 };
    expect(parseVpConfig(new Uint8Array(record))).toEqual(expected);
    expect(parseVpConfig(new Uint8Array([0x01, 0x00, 0x00, 0x00, ...record]))).toEqual(expected);
  });

  it('OpusHead and FLAC STREAMINFO', () => {
    // biome-ignore format: one line per field
    const opus = new Uint8Array([
      ...ascii('OpusHead'), // magic
      0x01, // version
      0x02, // channels
      0x38, 0x01, // pre-skip 312 (LE)
      0x80, 0xbb, 0x00, 0x00, // input rate 48000 (LE)
      0x00, 0x00, // gain
      0x00, // mapping family
    ]);
    expect(parseOpusHead(opus)).toEqual({ channels: 2, inputSampleRate: 48000, mappingFamily: 0 });
    const streamInfo = new BitWriter()
      .u(16, 4096)
      .u(16, 4096) // block sizes
      .u(24, 0)
      .u(24, 0) // frame sizes
      .u(20, 44100)
      .u(3, 1)
      .u(5, 15) // rate, channels − 1, bits − 1
      .u(36, 0)
      .u(32, 0)
      .u(32, 0)
      .u(32, 0)
      .u(32, 0) // total samples, MD5
      .bytes();
    const flac = new Uint8Array([...ascii('fLaC'), 0x80, 0x00, 0x00, 0x22, ...streamInfo]);
    expect(parseFlacStreamInfo(flac)).toEqual({ sampleRate: 44100, channels: 2, bitsPerSample: 16 });
    expect(flvErrorCode(() => parseOpusHead(opus.subarray(0, 10)))).toBe('ERR_FLV_TRUNCATED_CODEC_CONFIG');
    expect(flvErrorCode(() => parseFlacStreamInfo(new Uint8Array(30)))).toBe('ERR_FLV_BAD_CODEC_CONFIG');
  });
});

describe('inspectVideoTag / inspectAudioTag', () => {
  it('legacy AVC sequence header → size, profile, level', () => {
    const sps = h264Sps({ profileIdc: 100, level: 41, widthMbs: 120, heightMapUnits: 68, crop: [0, 0, 0, 4] });
    const tag = new Uint8Array([0x17, 0x00, 0x00, 0x00, 0x00, ...avcC(sps)]);
    expect(inspectVideoTag(tag)).toEqual({
      kind: 'video',
      codec: 'h264',
      enhanced: false,
      codecId: 7,
      width: 1920,
      height: 1080,
      profile: 100,
      profileName: 'High',
      level: 41,
    });
  });

  it('E-RTMP avc1, av01 and vp09 sequence starts; frames name the codec only', () => {
    const sps = h264Sps({ profileIdc: 77, widthMbs: 40, heightMapUnits: 30 });
    expect(inspectVideoTag(new Uint8Array([0x90, ...ascii('avc1'), ...avcC(sps)]))).toMatchObject({
      codec: 'h264',
      enhanced: true,
      width: 640,
      height: 480,
    });
    expect(inspectVideoTag(new Uint8Array([0x90, ...ascii('av01'), 0x81, 0x08, 0x0c, 0x00]))).toMatchObject({
      codec: 'av1',
      profile: 0,
      profileName: 'Main',
      level: 8,
    });
    expect(inspectVideoTag(new Uint8Array([0x90, ...ascii('vp09'), 0, 31, 0x82, 1, 1, 1, 0, 0]))).toMatchObject({
      codec: 'vp9',
      profile: 0,
      level: 31,
    });
    expect(inspectVideoTag(new Uint8Array([0xa1, ...ascii('hvc1'), 0, 0, 0]))).toEqual({
      kind: 'video',
      codec: 'hevc',
      enhanced: true,
      fourCc: 'hvc1',
    });
    expect(inspectVideoTag(new Uint8Array([0x24, 0x00]))).toEqual({
      kind: 'video',
      codec: 'vp6',
      enhanced: false,
      codecId: 4,
    });
    expect(inspectVideoTag(new Uint8Array([0x96, 0x00, ...ascii('av01'), 0x00, 0x81, 0, 0, 0]))).toMatchObject({
      codec: 'av1',
      multitrack: true,
    });
  });

  it('audio: AAC config, Opus / FLAC heads, MP3 frames, flags for the rest', () => {
    expect(inspectAudioTag(new Uint8Array([0xaf, 0x00, 0x11, 0x88]))).toEqual({
      kind: 'audio',
      codec: 'aac',
      enhanced: false,
      soundFormat: 10,
      sampleRate: 48000, // the AudioSpecificConfig wins over the 44 kHz flag
      channels: 1,
      profile: 2,
      profileName: 'LC',
    });
    expect(inspectAudioTag(new Uint8Array([0x90, ...ascii('mp4a'), 0x12, 0x10]))).toMatchObject({
      codec: 'aac',
      enhanced: true,
      fourCc: 'mp4a',
      sampleRate: 44100,
      channels: 2,
    });
    const opusHead = [...ascii('OpusHead'), 1, 6, 0, 0, 0x44, 0xac, 0, 0, 0, 0, 1];
    expect(inspectAudioTag(new Uint8Array([0x90, ...ascii('Opus'), ...opusHead]))).toMatchObject({
      codec: 'opus',
      sampleRate: 48000,
      channels: 6,
    });
    // MP3 at "44 kHz stereo" flags but a 48 kHz MPEG-1 frame: the frame header wins.
    expect(inspectAudioTag(new Uint8Array([0x2f, 0xff, 0xfb, 0x94, 0x64]))).toMatchObject({
      codec: 'mp3',
      sampleRate: 48000,
      channels: 2,
    });
    // MP3 tag not starting on a frame header: the flags.
    expect(inspectAudioTag(new Uint8Array([0x2e, 0x00, 0x00, 0x00, 0x00]))).toMatchObject({
      sampleRate: 44100,
      channels: 1,
    });
    expect(inspectAudioTag(new Uint8Array([0x52, 0x00]))).toMatchObject({ codec: 'nellymoser', sampleRate: 8000 });
    expect(inspectAudioTag(new Uint8Array([0x91, ...ascii('.mp3'), 0xff, 0xfb, 0x90, 0xc4]))).toMatchObject({
      codec: 'mp3',
      sampleRate: 44100,
      channels: 1,
    });
  });

  it('throws typed errors for broken configuration', () => {
    expect(flvErrorCode(() => inspectVideoTag(new Uint8Array([0x17, 0, 0, 0, 0, 1, 100])))).toBe(
      'ERR_FLV_TRUNCATED_CODEC_CONFIG',
    );
    // AVC record without any SPS
    expect(flvErrorCode(() => inspectVideoTag(new Uint8Array([0x17, 0, 0, 0, 0, 1, 100, 0, 31, 0xff, 0xe0, 0])))).toBe(
      'ERR_FLV_BAD_CODEC_CONFIG',
    );
    expect(flvErrorCode(() => inspectAudioTag(new Uint8Array([0xaf, 0x00])))).toBe('ERR_FLV_TRUNCATED_CODEC_CONFIG');
  });
});

describe('checkFfmpegSupport', () => {
  const h264: CodecInfo = { kind: 'video', codec: 'h264', enhanced: false, codecId: 7 };
  const aac: CodecInfo = { kind: 'audio', codec: 'aac', enhanced: false, soundFormat: 10 };
  const rows: [string, CodecInfo, string | undefined, boolean | undefined, RegExp | true][] = [
    ['legacy H.264 on 5.1', h264, '5.1.9-0+deb12u1', undefined, true],
    ['legacy AAC on 5.1', aac, undefined, undefined, true],
    ['legacy MP3', { kind: 'audio', codec: 'mp3', enhanced: false, soundFormat: 2 }, undefined, undefined, true],
    [
      'E-RTMP HEVC on 5.1',
      { kind: 'video', codec: 'hevc', enhanced: true, fourCc: 'hvc1' },
      '5.1',
      undefined,
      /needs FFmpeg ≥ 6\.1; this server runs FFmpeg 5\.1/,
    ],
    ['E-RTMP HEVC on 6.1', { kind: 'video', codec: 'hevc', enhanced: true, fourCc: 'hvc1' }, '6.1.1', undefined, true],
    [
      'E-RTMP AV1 on 7.0: demuxable, not copyable into MPEG-TS HLS',
      { kind: 'video', codec: 'av1', enhanced: true, fourCc: 'av01' },
      '7.0',
      undefined,
      /cannot be copied into HLS/,
    ],
    [
      'E-RTMP AV1 on 7.0 without the HLS requirement',
      { kind: 'video', codec: 'av1', enhanced: true, fourCc: 'av01' },
      '7.0',
      false,
      true,
    ],
    [
      'legacy codec id 12 HEVC: never',
      { kind: 'video', codec: 'hevc', enhanced: false, codecId: 12 },
      '7.1',
      undefined,
      /not supported by FFmpeg's FLV demuxer/,
    ],
    [
      'E-RTMP Opus on 7.1',
      { kind: 'audio', codec: 'opus', enhanced: true, soundFormat: 9, fourCc: 'Opus' },
      '7.1',
      false,
      /needs FFmpeg ≥ 8\.0/,
    ],
    [
      'multitrack on 6.1',
      { kind: 'video', codec: 'hevc', enhanced: true, fourCc: 'hvc1', multitrack: true },
      '6.1',
      undefined,
      /needs FFmpeg ≥ 8\.0/,
    ],
    [
      'legacy VP6: demuxable, not copyable into HLS',
      { kind: 'video', codec: 'vp6', enhanced: false, codecId: 4 },
      '5.1',
      undefined,
      /vp6 video \(FLV codec id 4\) cannot be copied into HLS/,
    ],
    [
      'Speex without the HLS requirement',
      { kind: 'audio', codec: 'speex', enhanced: false, soundFormat: 11 },
      '5.1',
      false,
      true,
    ],
  ];
  for (const [name, info, version, hls, expected] of rows) {
    it(name, () => {
      const opts: { ffmpegVersion?: string; hlsCopy?: boolean } = {};
      if (version !== undefined) opts.ffmpegVersion = version;
      if (hls !== undefined) opts.hlsCopy = hls;
      const r = checkFfmpegSupport(info, opts);
      if (expected === true) expect(r).toEqual({ supported: true });
      else {
        expect(r.supported).toBe(false);
        expect(r.supported === false && r.reason).toMatch(expected);
      }
    });
  }
});
