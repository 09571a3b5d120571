import { describe, expect, it } from 'vitest';
import { type AmfObject, type AmfValue, amfClassName, decodeAmf0 } from '../src/amf';
import { RtmpError } from '../src/errors';
import { obj } from './helpers/amf';
import { ascii, b, f64 } from './helpers/bytes';

/** AMF3 inline string: U29 (length << 1 | 1) (lengths < 64 fit one byte) + UTF-8. */
const s3 = (s: string): number[] => [(s.length << 1) | 1, ...ascii(s)];

interface Case {
  name: string;
  /** Bytes after the AMF0 AVM+ marker 0x11. */
  amf3: Uint8Array;
  value: AmfValue;
  className?: string;
}

const cases: Case[] = [
  { name: 'undefined', amf3: b(0x00), value: undefined },
  { name: 'null', amf3: b(0x01), value: null },
  { name: 'false', amf3: b(0x02), value: false },
  { name: 'true', amf3: b(0x03), value: true },
  { name: 'integer 5 (1-byte U29)', amf3: b(0x04, 0x05), value: 5 },
  { name: 'integer 300 (2-byte U29)', amf3: b(0x04, 0x82, 0x2c), value: 300 },
  {
    name: 'integer 2^28 − 1 (4-byte U29, last byte 8 bits)',
    amf3: b(0x04, 0xbf, 0xff, 0xff, 0xff),
    value: 0x0fffffff,
  },
  { name: 'integer −1 (29-bit sign extension)', amf3: b(0x04, 0xff, 0xff, 0xff, 0xff), value: -1 },
  { name: 'double', amf3: b(0x05, f64(2.5)), value: 2.5 },
  { name: 'string', amf3: b(0x06, s3('hello')), value: 'hello' },
  { name: 'empty string', amf3: b(0x06, 0x01), value: '' },
  { name: 'XML document → string', amf3: b(0x07, s3('<x/>')), value: '<x/>' },
  { name: 'XML → string', amf3: b(0x0b, s3('<y/>')), value: '<y/>' },
  { name: 'date', amf3: b(0x08, 0x01, f64(86400000)), value: new Date(86400000) },
  { name: 'byte array', amf3: b(0x0c, 0x07 /* length 3 */, [1, 2, 3]), value: Uint8Array.of(1, 2, 3) },
  {
    name: 'dense array',
    amf3: b(
      0x09, // array
      0x05, // U29: 2 dense items, inline
      0x01, // empty key: no associative part
      0x04,
      0x01, // integer 1
      0x06,
      s3('a'), // "a"
    ),
    value: [1, 'a'],
  },
  {
    name: 'array with an associative part → object',
    amf3: b(
      0x09, // array
      0x03, // 1 dense item
      s3('k'), // key "k"
      0x03, // true
      0x01, // end of associative part
      0x01, // dense[0] = null
    ),
    value: obj({ k: true, 0: null }),
  },
  {
    name: 'anonymous dynamic object',
    amf3: b(
      0x0a, // object
      0x0b, // U29O: inline object, inline traits, dynamic, 0 sealed
      0x01, // class name ""
      s3('app'), // dynamic key
      0x06,
      s3('live'), // "live"
      0x01, // end of dynamic members
    ),
    value: obj({ app: 'live' }),
  },
  {
    name: 'sealed typed object with dynamic members',
    amf3: b(
      0x0a, // object
      0x2b, // U29O: inline, traits inline, dynamic, 2 sealed (2 << 4 | 0b1011)
      s3('Pt'), // class name
      s3('x'), // sealed name
      s3('y'), // sealed name
      0x04,
      0x01, // x = 1
      0x04,
      0x02, // y = 2
      s3('z'), // dynamic key
      0x04,
      0x03, // z = 3
      0x01, // end
    ),
    value: obj({ x: 1, y: 2, z: 3 }),
    className: 'Pt',
  },
  {
    name: 'string, traits and object references',
    amf3: b(
      0x09, // array
      0x07, // 3 dense items
      0x01, // no associative part
      // item 0: object with inline traits (sealed 1: "v"), class "C"
      0x0a,
      0x13, // inline, traits inline, not dynamic, 1 sealed
      s3('C'), // class name (string ref 0)
      s3('v'), // sealed name (string ref 1)
      0x06,
      0x00, // value: string reference 0 → "C"
      // item 1: object using traits reference 0
      0x0a,
      0x01, // U29O: inline object, traits reference 0 (0 << 2 | 0b01)
      0x04,
      0x07, // v = 7
      // item 2: object reference 1 (objects: 0 = array, 1 = first object)
      0x0a,
      0x02, // U29O: reference 1
    ),
    value: [obj({ v: 'C' }), obj({ v: 7 }), obj({ v: 'C' })],
  },
];

describe('AMF3 behind the AVM+ marker', () => {
  it.each(cases)('$name', ({ amf3, value, className }) => {
    const [got] = decodeAmf0(b(0x11, amf3));
    expect(got).toEqual(value);
    expect(amfClassName(got)).toBe(className);
  });

  it('each AVM+ switch starts fresh reference tables', () => {
    const bytes = b(0x11, 0x06, s3('abc'), 0x11, 0x06, 0x00 /* string reference 0 */);
    expect(() => decodeAmf0(bytes)).toThrow(/string reference 0/);
    expect(decodeAmf0(b(0x11, 0x06, s3('abc'), 0x02, 0x00, 0x01, ascii('x')))).toEqual(['abc', 'x']);
  });

  it('keys of AMF3 objects cannot pollute prototypes', () => {
    const [v] = decodeAmf0(b(0x11, 0x0a, 0x0b, 0x01, s3('__proto__'), 0x03, 0x01)) as [AmfObject];
    expect(Object.getPrototypeOf(v)).toBeNull();
    expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toBe(true);
  });

  it.each([
    ['externalizable traits', b(0x11, 0x0a, 0x07, s3('X')), 'ERR_AMF_UNSUPPORTED'],
    ['vector', b(0x11, 0x0d, 0x01), 'ERR_AMF_UNSUPPORTED'],
    ['dictionary', b(0x11, 0x11, 0x01), 'ERR_AMF_UNSUPPORTED'],
    ['unknown marker', b(0x11, 0x20), 'ERR_AMF_UNKNOWN_MARKER'],
    ['missing string reference', b(0x11, 0x06, 0x02), 'ERR_AMF_BAD_REFERENCE'],
    ['missing traits reference', b(0x11, 0x0a, 0x05), 'ERR_AMF_BAD_REFERENCE'],
    ['object referencing itself', b(0x11, 0x0a, 0x0b, 0x01, s3('me'), 0x0a, 0x00, 0x01), 'ERR_AMF_BAD_REFERENCE'],
    ['truncated U29', b(0x11, 0x04, 0x80, 0x80), 'ERR_AMF_TRUNCATED'],
    ['array count beyond the input', b(0x11, 0x09, 0xbf, 0xff, 0xff, 0xff), 'ERR_AMF_TRUNCATED'],
    ['sealed count beyond the input', b(0x11, 0x0a, 0xbf, 0xff, 0xff, 0xf3, 0x01), 'ERR_AMF_TRUNCATED'],
    ['byte array beyond the input', b(0x11, 0x0c, 0x21, 1), 'ERR_AMF_TRUNCATED'],
    [
      'nesting past maxDepth',
      b(
        0x11,
        Array.from({ length: 40 }, () => [0x09, 0x03, 0x01]),
        0x01,
      ),
      'ERR_AMF_DEPTH',
    ],
  ] as const)('%s → %s', (_name, bytes, code) => {
    let caught: unknown;
    try {
      decodeAmf0(bytes);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(RtmpError);
    expect((caught as RtmpError).code).toBe(code);
  });
});
