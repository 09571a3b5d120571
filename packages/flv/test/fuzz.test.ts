import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeScriptData,
  FlvReader,
  FlvStreamState,
  type FlvTag,
  inspectAudioTag,
  inspectVideoTag,
  isFlvError,
  parseAudioSpecificConfig,
  parseAvcDecoderConfigurationRecord,
  parseH264Sps,
  parseHevcDecoderConfigurationRecord,
  parseHevcSps,
  TagType,
  tagRole,
} from '../src/index';
import { encodeFlv, H264, sine, tempDir, testsrc } from './helpers/media';

let tmp: { dir: string; remove: () => Promise<void> };
let file: Uint8Array;
let tags: FlvTag[];

beforeAll(async () => {
  tmp = await tempDir();
  const path = join(tmp.dir, 'seed.flv');
  ({ bytes: file, tags } = await encodeFlv(path, [
    ...testsrc('160x120'),
    ...sine(),
    '-t',
    '0.5',
    ...H264,
    '-c:a',
    'aac',
  ]));
}, 30_000);

afterAll(async () => {
  await tmp?.remove();
});

/** Runs `fn`; an exception must be an FlvError. */
function onlyTyped(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!isFlvError(err)) throw err;
  }
}

/** Applies random byte edits (overwrite, truncate, insert) to `base`. */
const mutated = (base: () => Uint8Array) =>
  fc
    .tuple(
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      fc.option(fc.nat()),
      fc.option(fc.tuple(fc.nat(), fc.uint8Array({ maxLength: 16 }))),
    )
    .map(([edits, cut, insert]) => {
      let b = base().slice();
      for (const [pos, value] of edits) b[pos % b.length] = value;
      if (insert) {
        const at = insert[0] % (b.length + 1);
        b = new Uint8Array([...b.subarray(0, at), ...insert[1], ...b.subarray(at)]);
      }
      if (cut !== null) b = b.subarray(0, cut % (b.length + 1));
      return b;
    });

const parsers: [string, (b: Uint8Array) => unknown][] = [
  ['parseH264Sps', parseH264Sps],
  ['parseHevcSps', parseHevcSps],
  ['parseAvcDecoderConfigurationRecord', parseAvcDecoderConfigurationRecord],
  ['parseHevcDecoderConfigurationRecord', parseHevcDecoderConfigurationRecord],
  ['parseAudioSpecificConfig', parseAudioSpecificConfig],
  ['inspectVideoTag', inspectVideoTag],
  ['inspectAudioTag', inspectAudioTag],
  ['decodeScriptData', decodeScriptData],
];

describe('fuzz: reader', () => {
  it('random bytes, pushed in random slices', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.nat(), { maxLength: 10 }), (bytes, cuts) => {
        const r = new FlvReader({ maxTagSize: 1 << 20 });
        onlyTyped(() => {
          let prev = 0;
          for (const c of [...cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b), bytes.length]) {
            r.push(bytes.subarray(prev, Math.max(prev, c)));
            prev = Math.max(prev, c);
          }
          r.end();
        });
      }),
      { numRuns: 500 },
    );
  });

  it('random bytes after a valid header', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => {
        const r = new FlvReader({ checkPreviousTagSize: false });
        onlyTyped(() => {
          r.push(file.subarray(0, 13));
          r.push(bytes);
          r.end();
        });
      }),
      { numRuns: 300 },
    );
  });

  it('mutated FFmpeg output', () => {
    fc.assert(
      fc.property(
        mutated(() => file),
        (bytes) => {
          onlyTyped(() => {
            const r = new FlvReader();
            r.push(bytes);
            r.end();
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('fuzz: codec parsers', () => {
  for (const [name, parse] of parsers) {
    it(`${name}: random bytes`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), (b) => onlyTyped(() => parse(b))),
        { numRuns: 400 },
      );
    });
  }

  it('sequence headers with plausible prefixes and random bodies', () => {
    const prefixes = [
      [0x17, 0x00, 0, 0, 0, 0x01], // legacy AVC sequence header, configurationVersion 1
      [0x90, 0x68, 0x76, 0x63, 0x31, 0x01], // E-RTMP hvc1 SequenceStart
      [0x90, 0x61, 0x76, 0x63, 0x31, 0x01], // E-RTMP avc1 SequenceStart
      [0x90, 0x61, 0x76, 0x30, 0x31, 0x81], // E-RTMP av01
      [0x96], // E-RTMP multitrack
      [0x97], // E-RTMP ModEx
    ];
    fc.assert(
      fc.property(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 200 }), (prefix, body) =>
        onlyTyped(() => inspectVideoTag(new Uint8Array([...prefix, ...body]))),
      ),
      { numRuns: 1500 },
    );
    const audioPrefixes = [
      [0xaf, 0x00], // legacy AAC sequence header
      [0x90, 0x4f, 0x70, 0x75, 0x73], // Opus
      [0x90, 0x66, 0x4c, 0x61, 0x43], // fLaC
      [0x95], // multitrack
      [0x97], // ModEx
      [0x2f], // MP3
    ];
    fc.assert(
      fc.property(fc.constantFrom(...audioPrefixes), fc.uint8Array({ maxLength: 100 }), (prefix, body) =>
        onlyTyped(() => inspectAudioTag(new Uint8Array([...prefix, ...body]))),
      ),
      { numRuns: 1000 },
    );
  });

  it('mutated real sequence headers', () => {
    const vconf = tags.find((t) => t.type === TagType.Video && tagRole(t) === 'video-config')!.payload;
    const aconf = tags.find((t) => t.type === TagType.Audio && tagRole(t) === 'audio-config')!.payload;
    expect(inspectVideoTag(vconf).width).toBe(160); // the seed itself parses
    fc.assert(
      fc.property(
        mutated(() => vconf),
        (b) => onlyTyped(() => inspectVideoTag(b)),
      ),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(
        mutated(() => aconf),
        (b) => onlyTyped(() => inspectAudioTag(b)),
      ),
      { numRuns: 300 },
    );
  });

  it('tagRole and FlvStreamState.observe never throw', () => {
    fc.assert(
      fc.property(fc.constantFrom(8, 9, 18), fc.uint8Array({ maxLength: 64 }), (type, payload) => {
        const tag = { type, timestamp: 0, payload };
        tagRole(tag);
        new FlvStreamState().observe(tag);
      }),
      { numRuns: 1500 },
    );
  });
});
