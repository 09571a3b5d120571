import { describe, expect, it } from 'vitest';
import {
  AMF_CLASS_NAME,
  AmfEcmaArray,
  type AmfObject,
  type AmfValue,
  amfClassName,
  amfTypedObject,
  decodeAmf0,
  encodeAmf0,
} from '../src/amf';
import { RtmpError } from '../src/errors';
import type { Amf0DecodeOptions } from '../src/options';
import { obj } from './helpers/amf';
import { ascii, b, f64, u16, u32 } from './helpers/bytes';

interface Case {
  name: string;
  bytes: Uint8Array;
  value: AmfValue;
  /** The encoder writes exactly `bytes` for `encode ?? value`. */
  encode?: AmfValue;
  decodeOnly?: boolean;
}

const cases: Case[] = [
  { name: 'number 0', bytes: b(0x00 /* number */, f64(0)), value: 0 },
  { name: 'number 1.5', bytes: b(0x00 /* number */, f64(1.5)), value: 1.5 },
  { name: 'number −2^53', bytes: b(0x00 /* number */, f64(-(2 ** 53))), value: -(2 ** 53) },
  { name: 'boolean true', bytes: b(0x01 /* boolean */, 0x01), value: true },
  { name: 'boolean false', bytes: b(0x01 /* boolean */, 0x00), value: false },
  { name: 'boolean non-zero byte is true', bytes: b(0x01, 0x7f), value: true, decodeOnly: true },
  { name: 'empty string', bytes: b(0x02 /* string */, u16(0)), value: '' },
  {
    name: 'string',
    bytes: b(
      0x02, // string
      u16(4), // length
      ascii('live'), // UTF-8
    ),
    value: 'live',
  },
  {
    name: 'UTF-8 string',
    bytes: b(
      0x02, // string
      u16(5), // byte length
      [0xc3, 0xbc], // ü
      [0xe2, 0x82, 0xac], // €
    ),
    value: 'ü€',
  },
  { name: 'null', bytes: b(0x05), value: null },
  { name: 'undefined', bytes: b(0x06), value: undefined },
  { name: 'unsupported marker → undefined', bytes: b(0x0d), value: undefined, decodeOnly: true },
  {
    name: 'object',
    bytes: b(
      0x03, // object
      u16(3), // key length
      ascii('app'), // key
      0x02, // string
      u16(4), // length
      ascii('live'), // value
      u16(1), // key length
      ascii('n'), // key
      0x00, // number
      f64(3), // value
      u16(0), // empty key
      0x09, // object end
    ),
    value: obj({ app: 'live', n: 3 }),
  },
  {
    name: 'empty object',
    bytes: b(0x03 /* object */, u16(0), 0x09 /* end */),
    value: obj({}),
  },
  {
    name: 'object with an empty key that is not the end',
    bytes: b(
      0x03, // object
      u16(0), // empty key
      0x05, // null: a property named ""
      u16(0), // empty key
      0x09, // object end
    ),
    value: obj({ '': null }),
  },
  {
    name: 'strict array',
    bytes: b(
      0x0a, // strict array
      u32(3), // count
      0x00, // number
      f64(1),
      0x02, // string
      u16(1),
      ascii('a'),
      0x05, // null
    ),
    value: [1, 'a', null],
  },
  {
    name: 'date (time zone ignored)',
    bytes: b(
      0x0b, // date
      f64(1_700_000_000_000), // ms since epoch
      u16(0), // time zone
    ),
    value: new Date(1_700_000_000_000),
  },
  {
    name: 'date with a non-zero time zone',
    bytes: b(0x0b, f64(5), u16(0xffc4)),
    value: new Date(5),
    decodeOnly: true,
  },
  {
    name: 'ECMA array (onMetaData)',
    bytes: b(
      0x08, // ECMA array
      u32(2), // count
      u16(5), // key length
      ascii('width'), // key
      0x00, // number
      f64(1920),
      u16(6), // key length
      ascii('stereo'), // key
      0x01, // boolean
      0x01,
      u16(0), // empty key
      0x09, // object end
    ),
    value: obj({ width: 1920, stereo: true }),
    encode: new AmfEcmaArray({ width: 1920, stereo: true }),
  },
  {
    name: 'ECMA array with a wrong count (count unreliable)',
    bytes: b(
      0x08, // ECMA array
      u32(0), // count says 0
      u16(1),
      ascii('a'),
      0x05, // a: null
      u16(1),
      ascii('b'),
      0x06, // b: undefined
      u16(0),
      0x09, // end
    ),
    value: obj({ a: null, b: undefined }),
    decodeOnly: true,
  },
  {
    name: 'ECMA array ending with the input, no end marker',
    bytes: b(
      0x08, // ECMA array
      u32(1), // count
      u16(1),
      ascii('a'),
      0x00, // number
      f64(1),
    ),
    value: obj({ a: 1 }),
    decodeOnly: true,
  },
  {
    name: 'typed object',
    bytes: b(
      0x10, // typed object
      u16(3), // class name length
      ascii('Foo'), // class name
      u16(1),
      ascii('x'),
      0x00,
      f64(1),
      u16(0),
      0x09, // end
    ),
    value: amfTypedObject('Foo', { x: 1 }),
  },
  {
    name: 'XML document → string',
    bytes: b(
      0x0f, // XML document
      u32(7), // length
      ascii('<a>b</a>').slice(0, 7), // '<a>b</a' (any text)
    ),
    value: '<a>b</a',
    decodeOnly: true,
  },
  {
    name: 'long string marker with a short string decodes',
    bytes: b(0x0c /* long string */, u32(2), ascii('hi')),
    value: 'hi',
    decodeOnly: true,
  },
];

describe('AMF0 table', () => {
  it.each(cases)('decode: $name', ({ bytes, value }) => {
    const [got, ...more] = decodeAmf0(bytes);
    expect(more).toEqual([]);
    expect(got).toEqual(value);
    expect(amfClassName(got)).toBe(amfClassName(value));
  });

  it.each(cases.filter((c) => !c.decodeOnly))('encode: $name', ({ bytes, value, encode }) => {
    expect(encodeAmf0(encode === undefined ? value : encode)).toEqual(bytes);
  });

  it.each(cases.filter((c) => !c.decodeOnly))('round trip: $name', ({ value, encode }) => {
    const [got] = decodeAmf0(encodeAmf0(encode === undefined ? value : encode));
    expect(got).toEqual(value);
  });
});

describe('AMF0 decoding details', () => {
  it('decodes several values in order', () => {
    const bytes = encodeAmf0('connect', 1, { app: 'live' }, null);
    expect(decodeAmf0(bytes)).toEqual(['connect', 1, obj({ app: 'live' }), null]);
  });

  it('objects have a null prototype; __proto__ is an ordinary own key', () => {
    const bytes = b(
      0x03, // object
      u16(9),
      ascii('__proto__'),
      0x03, // object
      u16(8),
      ascii('polluted'),
      0x01,
      0x01, // true
      u16(0),
      0x09,
      u16(0),
      0x09,
    );
    const [value] = decodeAmf0(bytes) as [AmfObject];
    expect(Object.getPrototypeOf(value)).toBeNull();
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const inner = Object.getOwnPropertyDescriptor(value, '__proto__')!.value as AmfObject;
    expect(inner.polluted).toBe(true);
  });

  it('a reference returns the earlier object (table counts objects, arrays and typed objects)', () => {
    const bytes = b(
      0x0a, // strict array (ref 0)
      u32(3),
      0x03, // object (ref 1)
      u16(1),
      ascii('k'),
      0x00,
      f64(2),
      u16(0),
      0x09,
      0x07, // reference
      u16(1), // → the object
      0x07, // reference
      u16(1),
    );
    const [arr] = decodeAmf0(bytes) as [AmfValue[]];
    expect(arr).toEqual([obj({ k: 2 }), obj({ k: 2 }), obj({ k: 2 })]);
    expect(arr[1]).toBe(arr[0]);
  });

  it('a typed object keeps its class name as a non-enumerable symbol', () => {
    const [v] = decodeAmf0(encodeAmf0(amfTypedObject('flex.Foo', { a: 1 }))) as [AmfObject];
    expect(v[AMF_CLASS_NAME]).toBe('flex.Foo');
    expect(Object.keys(v)).toEqual(['a']);
    expect(JSON.stringify(v)).toBe('{"a":1}');
  });

  it('long strings: > 65535 UTF-8 bytes use marker 0x0C', () => {
    const s = 'é'.repeat(40000); // 80000 bytes
    const bytes = encodeAmf0(s);
    expect(bytes[0]).toBe(0x0c);
    expect(Array.from(bytes.subarray(1, 5))).toEqual(u32(80000));
    expect(decodeAmf0(bytes)).toEqual([s]);
    expect(encodeAmf0('x'.repeat(65535))[0]).toBe(0x02);
  });
});

interface ErrorCase {
  name: string;
  bytes: Uint8Array;
  options?: Amf0DecodeOptions;
  code: string;
}

/** `depth` nested strict arrays of one element around a null. */
const nested = (depth: number): Uint8Array =>
  b(
    Array.from({ length: depth }, () => [0x0a, u32(1)]),
    0x05,
  );

const errors: ErrorCase[] = [
  { name: 'number cut short', bytes: b(0x00, 0x3f, 0xf0), code: 'ERR_AMF_TRUNCATED' },
  { name: 'string longer than the input', bytes: b(0x02, u16(10), ascii('abc')), code: 'ERR_AMF_TRUNCATED' },
  { name: 'object without an end', bytes: b(0x03, u16(1), ascii('a'), 0x05), code: 'ERR_AMF_TRUNCATED' },
  { name: 'empty key then nothing', bytes: b(0x03, u16(0)), code: 'ERR_AMF_TRUNCATED' },
  { name: 'strict array count beyond the input', bytes: b(0x0a, u32(0xffffffff), 0x05), code: 'ERR_AMF_TRUNCATED' },
  { name: 'long string length beyond the input', bytes: b(0x0c, u32(0x7fffffff)), code: 'ERR_AMF_TRUNCATED' },
  { name: 'unknown marker 0x12', bytes: b(0x12), code: 'ERR_AMF_UNKNOWN_MARKER' },
  { name: 'object end outside an object', bytes: b(0x09), code: 'ERR_AMF_UNKNOWN_MARKER' },
  { name: 'movieclip (reserved)', bytes: b(0x04), code: 'ERR_AMF_UNSUPPORTED' },
  { name: 'recordset (reserved)', bytes: b(0x0e), code: 'ERR_AMF_UNSUPPORTED' },
  { name: 'reference to nothing', bytes: b(0x07, u16(0)), code: 'ERR_AMF_BAD_REFERENCE' },
  {
    name: 'self reference (a cycle)',
    bytes: b(0x03, u16(2), ascii('me'), 0x07, u16(0), u16(0), 0x09),
    code: 'ERR_AMF_BAD_REFERENCE',
  },
  { name: 'nesting deeper than maxDepth', bytes: nested(33), code: 'ERR_AMF_DEPTH' },
  { name: 'custom maxDepth', bytes: nested(3), options: { maxDepth: 2 }, code: 'ERR_AMF_DEPTH' },
  {
    name: 'more items than maxItems',
    bytes: b(
      0x0a,
      u32(10),
      Array.from({ length: 10 }, () => 0x05),
    ),
    options: { maxItems: 10 },
    code: 'ERR_AMF_TOO_LARGE',
  },
  {
    name: 'input larger than maxInputBytes',
    bytes: b(0x02, u16(3), ascii('abc')),
    options: { maxInputBytes: 5 },
    code: 'ERR_AMF_TOO_LARGE',
  },
  {
    // Each array holds two references to the previous one: 2^n expansion from ~12n bytes.
    name: 'reference chain that would expand exponentially',
    bytes: b(
      0x0a,
      u32(1),
      0x05, // ref 0: [null]
      Array.from({ length: 40 }, (_, i) => [0x0a, u32(2), 0x07, u16(i), 0x07, u16(i)]),
    ),
    code: 'ERR_AMF_TOO_LARGE',
  },
];

describe('AMF0 errors', () => {
  it.each(errors)('$name → $code', ({ bytes, options, code }) => {
    let caught: unknown;
    try {
      decodeAmf0(bytes, options);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(RtmpError);
    expect((caught as RtmpError).code).toBe(code);
  });

  it('maxDepth itself is allowed', () => {
    expect(() => decodeAmf0(nested(32))).not.toThrow();
    expect(() => decodeAmf0(nested(2), { maxDepth: 2 })).not.toThrow();
  });

  it('invalid options are refused', () => {
    expect(() => decodeAmf0(b(5), { maxDepth: 0 })).toThrow(/options\.maxDepth/);
    expect(() => decodeAmf0(b(5), { maxItems: -1 })).toThrow(/options\.maxItems/);
  });

  it('the encoder refuses values AMF0 cannot carry', () => {
    expect(() => encodeAmf0(new Uint8Array(1))).toThrow(/byte array/);
    expect(() => encodeAmf0((() => 1) as unknown as AmfValue)).toThrow(/function/);
    expect(() => encodeAmf0(obj({ ['k'.repeat(70000)]: 1 }))).toThrow(/object key/);
    const cyclic: AmfValue[] = [];
    cyclic.push(cyclic);
    expect(() => encodeAmf0(cyclic)).toThrow(/deeper than 256/);
  });
});
