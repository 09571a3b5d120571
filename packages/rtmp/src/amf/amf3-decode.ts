/**
 * AMF3 decoding, used for values behind the AMF0 AVM+ marker (0x11).
 * Spec: Adobe AMF 3 Specification (January 2013), §3.
 *
 * U29 (variable-length unsigned 29-bit integer): up to 3 bytes carry 7 bits each while their top bit
 * is set; a 4th byte carries 8 bits. References: most markers are followed by a U29 whose low bit is 0
 * for "reference to table entry (value >> 1)" and 1 for "inline, (value >> 1) = length or count".
 * Tables: strings (non-empty strings), objects (objects, arrays, dates, XML, byte arrays), traits.
 */
import { RtmpProtocolError } from '../errors';
import { type AmfReader, emptyObject } from './reader';
import { AMF_CLASS_NAME, type AmfObject, type AmfValue } from './types';

const Amf3Marker = {
  Undefined: 0x00,
  Null: 0x01,
  False: 0x02,
  True: 0x03,
  Integer: 0x04,
  Double: 0x05,
  String: 0x06,
  XmlDoc: 0x07,
  Date: 0x08,
  Array: 0x09,
  Object: 0x0a,
  Xml: 0x0b,
  ByteArray: 0x0c,
} as const;

interface Traits {
  className: string;
  dynamic: boolean;
  sealed: string[];
}

function badReference(table: string, index: number, size: number): RtmpProtocolError {
  return new RtmpProtocolError(
    'ERR_AMF_BAD_REFERENCE',
    `AMF3 ${table} reference ${index} with ${size} entries complete (cycles are refused)`,
  );
}

/** Reference tables of one AMF3 value (fresh for every AVM+ switch). */
class Amf3Context {
  private readonly strings: string[] = [];
  private readonly objects: AmfValue[] = [];
  /** Items each completed object table entry expands to (references are counted at full size). */
  private readonly objectSizes: number[] = [];
  /** False while the entry is still being decoded. */
  private readonly objectDone: boolean[] = [];
  private readonly traits: Traits[] = [];

  constructor(private readonly r: AmfReader) {}

  private u29(): number {
    const r = this.r;
    let v = 0;
    for (let i = 0; i < 3; i++) {
      const b = r.u8('AMF3 U29');
      v = (v << 7) | (b & 0x7f);
      if ((b & 0x80) === 0) return v;
    }
    return ((v << 8) | r.u8('AMF3 U29')) >>> 0;
  }

  string(): string {
    const u = this.u29();
    if ((u & 1) === 0) {
      const idx = u >>> 1;
      const s = this.strings[idx];
      if (s === undefined) throw badReference('string', idx, this.strings.length);
      return s;
    }
    const len = u >>> 1;
    if (len === 0) return '';
    const s = this.r.utf8(len, 'AMF3 string');
    this.strings.push(s);
    return s;
  }

  /** Resolves an object-table reference, counting the items it expands to. */
  private objectRef(u: number): AmfValue {
    const idx = u >>> 1;
    if (idx >= this.objects.length || !this.objectDone[idx]) throw badReference('object', idx, this.objects.length);
    this.r.count(this.objectSizes[idx]!);
    return this.objects[idx];
  }

  /** Reserves an object table slot for a value being decoded. */
  private reserve(): number {
    this.objects.push(undefined);
    this.objectDone.push(false);
    this.objectSizes.push(0);
    return this.objects.length - 1;
  }

  private complete(slot: number, value: AmfValue, itemsBefore: number): void {
    this.objects[slot] = value;
    this.objectDone[slot] = true;
    this.objectSizes[slot] = this.r.itemCount - itemsBefore;
  }

  value(): AmfValue {
    const r = this.r;
    const marker = r.u8('AMF3 marker');
    r.count(1);
    switch (marker) {
      case Amf3Marker.Undefined:
        return undefined;
      case Amf3Marker.Null:
        return null;
      case Amf3Marker.False:
        return false;
      case Amf3Marker.True:
        return true;
      case Amf3Marker.Integer:
        return (this.u29() << 3) >> 3;
      case Amf3Marker.Double:
        return r.f64('AMF3 double');
      case Amf3Marker.String:
        return this.string();
      case Amf3Marker.XmlDoc:
      case Amf3Marker.Xml: {
        const u = this.u29();
        if ((u & 1) === 0) return this.objectRef(u);
        const before = r.itemCount;
        const slot = this.reserve();
        const s = r.utf8(u >>> 1, 'AMF3 XML');
        this.complete(slot, s, before);
        return s;
      }
      case Amf3Marker.Date: {
        const u = this.u29();
        if ((u & 1) === 0) return this.objectRef(u);
        const before = r.itemCount;
        const slot = this.reserve();
        const d = new Date(r.f64('AMF3 date'));
        this.complete(slot, d, before);
        return d;
      }
      case Amf3Marker.ByteArray: {
        const u = this.u29();
        if ((u & 1) === 0) return this.objectRef(u);
        const before = r.itemCount;
        const slot = this.reserve();
        const b = r.copy(u >>> 1, 'AMF3 byte array');
        this.complete(slot, b, before);
        return b;
      }
      case Amf3Marker.Array:
        return this.array();
      case Amf3Marker.Object:
        return this.object();
      default:
        if (marker <= 0x11) {
          throw new RtmpProtocolError(
            'ERR_AMF_UNSUPPORTED',
            `AMF3 marker 0x${marker.toString(16)} (vector/dictionary) is not supported`,
          );
        }
        throw new RtmpProtocolError('ERR_AMF_UNKNOWN_MARKER', `unknown AMF3 marker 0x${marker.toString(16)}`);
    }
  }

  private array(): AmfValue {
    const r = this.r;
    const u = this.u29();
    if ((u & 1) === 0) return this.objectRef(u);
    const dense = u >>> 1;
    if (dense > r.remaining) {
      throw new RtmpProtocolError('ERR_AMF_TRUNCATED', `AMF3 array of ${dense} items with ${r.remaining} bytes left`);
    }
    const before = r.itemCount;
    const slot = this.reserve();
    r.enter();
    let assoc: AmfObject | null = null;
    for (;;) {
      const key = this.string();
      if (key === '') break;
      r.count(1);
      assoc ??= emptyObject<AmfObject>();
      assoc[key] = this.value();
    }
    let result: AmfValue;
    if (assoc === null) {
      const arr: AmfValue[] = [];
      for (let i = 0; i < dense; i++) arr.push(this.value());
      result = arr;
    } else {
      for (let i = 0; i < dense; i++) assoc[String(i)] = this.value();
      result = assoc;
    }
    r.leave();
    this.complete(slot, result, before);
    return result;
  }

  private object(): AmfValue {
    const r = this.r;
    const u = this.u29();
    if ((u & 1) === 0) return this.objectRef(u);
    let traits: Traits;
    if ((u & 2) === 0) {
      const idx = u >>> 2;
      const t = this.traits[idx];
      if (t === undefined) throw badReference('traits', idx, this.traits.length);
      traits = t;
    } else if ((u & 4) !== 0) {
      throw new RtmpProtocolError('ERR_AMF_UNSUPPORTED', 'AMF3 externalizable objects are not supported');
    } else {
      const sealedCount = u >>> 4;
      const className = this.string();
      if (sealedCount > r.remaining) {
        throw new RtmpProtocolError(
          'ERR_AMF_TRUNCATED',
          `AMF3 traits with ${sealedCount} sealed members and ${r.remaining} bytes left`,
        );
      }
      const sealed: string[] = [];
      for (let i = 0; i < sealedCount; i++) sealed.push(this.string());
      traits = { className, dynamic: (u & 8) !== 0, sealed };
      this.traits.push(traits);
    }
    const before = r.itemCount;
    const slot = this.reserve();
    r.enter();
    const obj = emptyObject<AmfObject>();
    if (traits.className !== '') {
      Object.defineProperty(obj, AMF_CLASS_NAME, { value: traits.className, enumerable: false });
    }
    for (const name of traits.sealed) {
      r.count(1);
      obj[name] = this.value();
    }
    if (traits.dynamic) {
      for (;;) {
        const key = this.string();
        if (key === '') break;
        r.count(1);
        obj[key] = this.value();
      }
    }
    r.leave();
    this.complete(slot, obj, before);
    return obj;
  }
}

/** Decodes one AMF3 value at the reader's position with fresh reference tables. */
export function readAmf3Value(r: AmfReader): AmfValue {
  return new Amf3Context(r).value();
}
