/**
 * AMF0 decoding. Spec: Adobe Action Message Format AMF 0 (December 2007), §2.
 *
 * Each value is a 1-byte marker then its body:
 *   0x00 number        f64 BE
 *   0x01 boolean       u8 (non-zero = true)
 *   0x02 string        u16 BE length + UTF-8
 *   0x03 object        (u16 key length + UTF-8 key + value)* then 00 00 09
 *   0x04 movieclip     reserved → ERR_AMF_UNSUPPORTED
 *   0x05 null, 0x06 undefined (no body)
 *   0x07 reference     u16 BE index into the table of objects/arrays seen so far
 *   0x08 ECMA array    u32 BE count (unreliable, ignored) + object body
 *   0x09 object end    only valid after an empty key
 *   0x0A strict array  u32 BE count + values
 *   0x0B date          f64 BE ms since epoch + s16 BE time zone (ignored)
 *   0x0C long string   u32 BE length + UTF-8
 *   0x0D unsupported   no body → undefined
 *   0x0E recordset     reserved → ERR_AMF_UNSUPPORTED
 *   0x0F XML document  u32 BE length + UTF-8 → string
 *   0x10 typed object  u16 class name length + name + object body
 *   0x11 AVM+          one AMF3 value follows (fresh AMF3 reference tables)
 */
import { RtmpProtocolError } from '../errors';
import { type Amf0DecodeOptions, resolveAmf0DecodeOptions } from '../options';
import { readAmf3Value } from './amf3-decode';
import { AmfReader, emptyObject } from './reader';
import { AMF_CLASS_NAME, type AmfObject, type AmfValue } from './types';

/** AMF0 type markers. */
export const Amf0Marker = {
  Number: 0x00,
  Boolean: 0x01,
  String: 0x02,
  Object: 0x03,
  MovieClip: 0x04,
  Null: 0x05,
  Undefined: 0x06,
  Reference: 0x07,
  EcmaArray: 0x08,
  ObjectEnd: 0x09,
  StrictArray: 0x0a,
  Date: 0x0b,
  LongString: 0x0c,
  Unsupported: 0x0d,
  RecordSet: 0x0e,
  XmlDocument: 0x0f,
  TypedObject: 0x10,
  AvmPlus: 0x11,
} as const;

/** One decoding run: the reader plus the AMF0 reference table. */
class Amf0Decoder {
  private readonly refs: AmfValue[] = [];
  private readonly refSizes: number[] = [];
  private readonly refDone: boolean[] = [];

  constructor(readonly r: AmfReader) {}

  value(): AmfValue {
    const r = this.r;
    const marker = r.u8('AMF0 marker');
    r.count(1);
    switch (marker) {
      case Amf0Marker.Number:
        return r.f64('AMF0 number');
      case Amf0Marker.Boolean:
        return r.u8('AMF0 boolean') !== 0;
      case Amf0Marker.String:
        return r.utf8(r.u16('AMF0 string length'), 'AMF0 string');
      case Amf0Marker.LongString:
        return r.utf8(r.u32('AMF0 long string length'), 'AMF0 long string');
      case Amf0Marker.XmlDocument:
        return r.utf8(r.u32('AMF0 XML length'), 'AMF0 XML document');
      case Amf0Marker.Null:
        return null;
      case Amf0Marker.Undefined:
      case Amf0Marker.Unsupported:
        return undefined;
      case Amf0Marker.Date: {
        const ms = r.f64('AMF0 date');
        r.i16('AMF0 date time zone');
        return new Date(ms);
      }
      case Amf0Marker.Object:
        return this.object(null, false);
      case Amf0Marker.TypedObject:
        return this.object(r.utf8(r.u16('AMF0 class name length'), 'AMF0 class name'), false);
      case Amf0Marker.EcmaArray:
        r.u32('AMF0 ECMA array count');
        return this.object(null, true);
      case Amf0Marker.StrictArray:
        return this.strictArray();
      case Amf0Marker.Reference: {
        const idx = r.u16('AMF0 reference');
        if (idx >= this.refs.length || !this.refDone[idx]) {
          throw new RtmpProtocolError(
            'ERR_AMF_BAD_REFERENCE',
            `AMF0 reference ${idx} with ${this.refs.length} objects (cycles are refused)`,
          );
        }
        r.count(this.refSizes[idx]!);
        return this.refs[idx];
      }
      case Amf0Marker.AvmPlus:
        return readAmf3Value(r);
      case Amf0Marker.MovieClip:
      case Amf0Marker.RecordSet:
        throw new RtmpProtocolError('ERR_AMF_UNSUPPORTED', `AMF0 marker 0x${marker.toString(16)} is reserved`);
      case Amf0Marker.ObjectEnd:
        throw new RtmpProtocolError('ERR_AMF_UNKNOWN_MARKER', 'AMF0 object end marker outside an object');
      default:
        throw new RtmpProtocolError('ERR_AMF_UNKNOWN_MARKER', `unknown AMF0 marker 0x${marker.toString(16)}`);
    }
  }

  private reserve(): number {
    this.refs.push(undefined);
    this.refDone.push(false);
    this.refSizes.push(0);
    return this.refs.length - 1;
  }

  private complete(slot: number, value: AmfValue, itemsBefore: number): void {
    this.refs[slot] = value;
    this.refDone[slot] = true;
    this.refSizes[slot] = this.r.itemCount - itemsBefore;
  }

  /**
   * Object body: key/value pairs until an empty key followed by the object end marker. An ECMA array
   * that simply stops at the end of the input is accepted (some encoders omit its end marker).
   */
  private object(className: string | null, ecma: boolean): AmfObject {
    const r = this.r;
    const before = r.itemCount;
    const slot = this.reserve();
    r.enter();
    const obj = emptyObject<AmfObject>();
    if (className !== null) Object.defineProperty(obj, AMF_CLASS_NAME, { value: className, enumerable: false });
    for (;;) {
      if (ecma && r.remaining === 0) break;
      const key = r.utf8(r.u16('AMF0 key length'), 'AMF0 key');
      if (key === '') {
        r.need(1, 'AMF0 object end');
        if (r.bytes[r.pos] === Amf0Marker.ObjectEnd) {
          r.pos++;
          break;
        }
      }
      r.count(1);
      obj[key] = this.value();
    }
    r.leave();
    this.complete(slot, obj, before);
    return obj;
  }

  private strictArray(): AmfValue[] {
    const r = this.r;
    const count = r.u32('AMF0 strict array count');
    if (count > r.remaining) {
      throw new RtmpProtocolError(
        'ERR_AMF_TRUNCATED',
        `AMF0 strict array of ${count} items with ${r.remaining} bytes left`,
      );
    }
    const before = r.itemCount;
    const slot = this.reserve();
    r.enter();
    const arr: AmfValue[] = [];
    for (let i = 0; i < count; i++) arr.push(this.value());
    r.leave();
    this.complete(slot, arr, before);
    return arr;
  }
}

/**
 * Decodes every AMF0 value in `bytes`, in order. Objects come back with a null prototype (see
 * `AmfValue`); ECMA arrays as objects; typed objects as objects carrying `AMF_CLASS_NAME`.
 * @throws RtmpProtocolError `ERR_AMF_TRUNCATED`, `ERR_AMF_UNKNOWN_MARKER`, `ERR_AMF_UNSUPPORTED`,
 * `ERR_AMF_DEPTH`, `ERR_AMF_TOO_LARGE` or `ERR_AMF_BAD_REFERENCE`.
 */
export function decodeAmf0(bytes: Uint8Array, options?: Amf0DecodeOptions): AmfValue[] {
  const opts = resolveAmf0DecodeOptions(options);
  if (bytes.length > opts.maxInputBytes) {
    throw new RtmpProtocolError(
      'ERR_AMF_TOO_LARGE',
      `${bytes.length} bytes of AMF > maxInputBytes ${opts.maxInputBytes}`,
    );
  }
  const d = new Amf0Decoder(new AmfReader(bytes, opts.maxDepth, opts.maxItems));
  const values: AmfValue[] = [];
  while (d.r.remaining > 0) values.push(d.value());
  return values;
}
