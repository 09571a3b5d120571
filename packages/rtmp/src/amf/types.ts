/**
 * JavaScript shapes of AMF values.
 *
 * Decoding maps: number → number; boolean → boolean; string, long string, XML document → string;
 * null → null; undefined and "unsupported" → undefined; date → Date; object, ECMA array, typed object
 * → an object with a null prototype (so no key, not even `__proto__`, can reach Object.prototype; use
 * `Object.keys`/`in`, and `JSON.stringify` rather than template literals to print one); strict array →
 * array; AMF3 byte array → Uint8Array (a copy). A typed object's class name is kept under the
 * non-enumerable symbol {@link AMF_CLASS_NAME} (read it with {@link amfClassName}).
 */

/** Non-enumerable property holding the class name of a decoded AMF0/AMF3 typed object. */
export const AMF_CLASS_NAME: unique symbol = Symbol.for('@org/rtmp.amfClassName');

/** An AMF object: string keys, AMF values; may carry a class name under {@link AMF_CLASS_NAME}. */
export interface AmfObject {
  [key: string]: AmfValue;
  [AMF_CLASS_NAME]?: string;
}

/**
 * Marks an object to be encoded as an AMF0 ECMA array (marker 0x08), as onMetaData is sent.
 * Decoding gives ECMA arrays back as plain {@link AmfObject}s.
 */
export class AmfEcmaArray {
  constructor(readonly entries: { readonly [key: string]: AmfValue }) {}
}

/** Any value the AMF decoders produce or `encodeAmf0` accepts. */
export type AmfValue =
  | number
  | boolean
  | string
  | null
  | undefined
  | Date
  | Uint8Array
  | AmfValue[]
  | AmfObject
  | AmfEcmaArray;

/** The class name of a decoded typed object, or undefined for anything else. */
export function amfClassName(value: AmfValue): string | undefined {
  if (typeof value !== 'object' || value === null || value instanceof AmfEcmaArray) return undefined;
  const name = (value as AmfObject)[AMF_CLASS_NAME];
  return typeof name === 'string' ? name : undefined;
}

/** Builds an object that `encodeAmf0` writes as an AMF0 typed object (marker 0x10) named `className`. */
export function amfTypedObject(className: string, properties: { readonly [key: string]: AmfValue }): AmfObject {
  const obj = Object.assign(Object.create(null) as AmfObject, properties);
  Object.defineProperty(obj, AMF_CLASS_NAME, { value: className, enumerable: false });
  return obj;
}

/** True for an AMF object (not null, not an array, date or byte array). */
export function isAmfObject(v: AmfValue): v is AmfObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof Uint8Array);
}
