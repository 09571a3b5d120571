/** Property test: every value the AMF0 encoder accepts decodes back to an equal value. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AmfEcmaArray,
  type AmfObject,
  type AmfValue,
  amfClassName,
  amfTypedObject,
  decodeAmf0,
  encodeAmf0,
} from '../src/amf';

const keyArb = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', ''),
);
const dict = (value: fc.Arbitrary<AmfValue>): fc.Arbitrary<Record<string, AmfValue>> =>
  fc.dictionary(keyArb, value, { maxKeys: 6 });

const { value: valueArb } = fc.letrec<{ value: AmfValue }>((tie) => ({
  value: fc.oneof(
    { maxDepth: 5, depthIdentifier: 'amf' },
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.constant(null),
    fc.constant(undefined),
    fc.date({ noInvalidDate: true }),
    fc.array(tie('value'), { maxLength: 5 }),
    dict(tie('value')),
    dict(tie('value')).map((d) => new AmfEcmaArray(d)),
    fc.tuple(fc.string({ maxLength: 10 }), dict(tie('value'))).map(([name, d]) => amfTypedObject(name, d)),
  ),
}));

/**
 * What decoding should give for an encoded value: ECMA arrays become objects; typed objects keep
 * their class name (recorded here as a visible field so deep equality checks it).
 */
function expected(v: AmfValue): unknown {
  if (Array.isArray(v)) return v.map(expected);
  if (v instanceof AmfEcmaArray) return expectedObject(v.entries, undefined);
  if (v === null || typeof v !== 'object' || v instanceof Date || v instanceof Uint8Array) return v;
  return expectedObject(v, amfClassName(v));
}

function expectedObject(o: { readonly [key: string]: AmfValue }, className: string | undefined): unknown {
  const out: Record<string, unknown> = Object.create(null);
  for (const k of Object.keys(o)) Object.defineProperty(out, k, { value: expected(o[k]), enumerable: true });
  return className === undefined ? out : { class: className, props: out };
}

describe('AMF0 round trip', () => {
  it('decodeAmf0(encodeAmf0(...values)) equals the values', () => {
    fc.assert(
      fc.property(fc.array(valueArb, { maxLength: 5 }), (values) => {
        const decoded = decodeAmf0(encodeAmf0(...values));
        expect(decoded.map(expected)).toEqual(values.map(expected));
        // Decoded objects never have a prototype.
        const walk = (v: AmfValue): void => {
          if (Array.isArray(v)) v.forEach(walk);
          else if (v !== null && typeof v === 'object' && !(v instanceof Date) && !(v instanceof Uint8Array)) {
            expect(Object.getPrototypeOf(v)).toBeNull();
            Object.values(v as AmfObject).forEach(walk);
          }
        };
        decoded.forEach(walk);
      }),
      { numRuns: 400 },
    );
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('keeps -0 and NaN bit-exact enough to compare with Object.is', () => {
    fc.assert(
      fc.property(fc.double(), (n) => {
        expect(Object.is(decodeAmf0(encodeAmf0(n))[0], n)).toBe(true);
      }),
    );
  });
});
