/**
 * AMF0 encoding (spec: Adobe AMF 0, §2; marker table in amf0-decode.ts).
 *
 * number → 0x00; boolean → 0x01; string → 0x02, or 0x0C when its UTF-8 exceeds 65,535 bytes;
 * null → 0x05; undefined → 0x06; array → strict array 0x0A; Date → 0x0B (time zone 0);
 * {@link AmfEcmaArray} → ECMA array 0x08; object with an `AMF_CLASS_NAME` → typed object 0x10;
 * other objects → 0x03 (own enumerable string keys).
 */
import { ByteWriter } from '../bytes';
import { RtmpError } from '../errors';
import { Amf0Marker } from './amf0-decode';
import { AMF_CLASS_NAME, AmfEcmaArray, type AmfObject, type AmfValue } from './types';

const utf8 = new TextEncoder();
/** Deepest nesting `encodeAmf0` writes; deeper (or cyclic) input throws. */
const MAX_ENCODE_DEPTH = 256;

function writeShortString(w: ByteWriter, s: string, what: string): void {
  const bytes = utf8.encode(s);
  if (bytes.length > 0xffff) {
    throw new RtmpError('ERR_AMF_TOO_LARGE', `${what} of ${bytes.length} UTF-8 bytes > 65535`);
  }
  w.u16(bytes.length);
  w.bytes(bytes);
}

function writeProperties(w: ByteWriter, obj: { readonly [key: string]: AmfValue }, depth: number): void {
  for (const key of Object.keys(obj)) {
    writeShortString(w, key, 'object key');
    writeValue(w, obj[key], depth);
  }
  w.u16(0);
  w.u8(Amf0Marker.ObjectEnd);
}

function writeValue(w: ByteWriter, v: AmfValue, depth: number): void {
  if (depth > MAX_ENCODE_DEPTH) {
    throw new RtmpError('ERR_AMF_DEPTH', `value nested deeper than ${MAX_ENCODE_DEPTH} (cyclic?)`);
  }
  switch (typeof v) {
    case 'number':
      w.u8(Amf0Marker.Number);
      w.f64(v);
      return;
    case 'boolean':
      w.u8(Amf0Marker.Boolean);
      w.u8(v ? 1 : 0);
      return;
    case 'string': {
      const bytes = utf8.encode(v);
      if (bytes.length > 0xffff) {
        w.u8(Amf0Marker.LongString);
        w.u32(bytes.length);
      } else {
        w.u8(Amf0Marker.String);
        w.u16(bytes.length);
      }
      w.bytes(bytes);
      return;
    }
    case 'undefined':
      w.u8(Amf0Marker.Undefined);
      return;
    case 'object':
      break;
    default:
      throw new RtmpError('ERR_AMF_UNSUPPORTED', `cannot encode a ${typeof v} as AMF0`);
  }
  if (v === null) {
    w.u8(Amf0Marker.Null);
  } else if (Array.isArray(v)) {
    w.u8(Amf0Marker.StrictArray);
    w.u32(v.length);
    for (let i = 0; i < v.length; i++) writeValue(w, v[i], depth + 1);
  } else if (v instanceof Date) {
    w.u8(Amf0Marker.Date);
    w.f64(v.getTime());
    w.i16(0);
  } else if (v instanceof AmfEcmaArray) {
    w.u8(Amf0Marker.EcmaArray);
    w.u32(Object.keys(v.entries).length);
    writeProperties(w, v.entries, depth + 1);
  } else if (v instanceof Uint8Array) {
    throw new RtmpError('ERR_AMF_UNSUPPORTED', 'AMF0 has no byte array type');
  } else {
    const className = (v as AmfObject)[AMF_CLASS_NAME];
    if (typeof className === 'string') {
      w.u8(Amf0Marker.TypedObject);
      writeShortString(w, className, 'class name');
    } else {
      w.u8(Amf0Marker.Object);
    }
    writeProperties(w, v as AmfObject, depth + 1);
  }
}

/**
 * Encodes values as consecutive AMF0 values.
 * @throws RtmpError `ERR_AMF_UNSUPPORTED` for functions, symbols, bigints and byte arrays;
 * `ERR_AMF_TOO_LARGE` for a key or class name over 65,535 UTF-8 bytes; `ERR_AMF_DEPTH` for input
 * nested deeper than 256 (or cyclic).
 */
export function encodeAmf0(...values: AmfValue[]): Uint8Array {
  const w = new ByteWriter(256);
  for (const v of values) writeValue(w, v, 0);
  return w.finish();
}
