/**
 * SCRIPTDATA tags: onMetaData from RTMP `@setDataFrame` data messages, using @org/rtmp's AMF0.
 * Specs: Adobe FLV/F4V 10.1 §E.4.4 (SCRIPTDATA: a name string then a value, onMetaData as an ECMA
 * array); Adobe RTMP 1.0 §7.1.2 (data messages, type 18 AMF0 / 15 AMF3 with a leading format byte).
 *
 * RTMP publishers send `["@setDataFrame", "onMetaData", {...}]`; the FLV form drops the first
 * value: `["onMetaData", ECMA array]`.
 */
import {
  AmfEcmaArray,
  type AmfValue,
  decodeAmf0,
  encodeAmf0,
  isRtmpError,
  MessageType,
  type RtmpMessage,
} from '@org/rtmp';
import { TagType } from './constants';
import { FlvFormatError } from './errors';
import type { FlvTag } from './tag';

/** AMF0 string "@setDataFrame": marker 0x02, UI16 length 13, the characters. */
const SET_DATA_FRAME = [0x02, 0x00, 0x0d, ...Array.from('@setDataFrame', (c) => c.charCodeAt(0))];
/** AMF0 string "onMetaData": marker 0x02, UI16 length 10, the characters. */
const ON_METADATA = [0x02, 0x00, 0x0a, ...Array.from('onMetaData', (c) => c.charCodeAt(0))];

function startsWith(p: Uint8Array, prefix: readonly number[]): boolean {
  if (p.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (p[i] !== prefix[i]) return false;
  return true;
}

/**
 * Removes a leading AMF0 "@setDataFrame" string (a view, no copy); returns other payloads as they
 * are.
 */
export function stripSetDataFrame(payload: Uint8Array): Uint8Array {
  return startsWith(payload, SET_DATA_FRAME) ? payload.subarray(SET_DATA_FRAME.length) : payload;
}

/** True when a script payload starts with the AMF0 string "onMetaData" (after `@setDataFrame`). */
export function isOnMetaData(payload: Uint8Array): boolean {
  return startsWith(stripSetDataFrame(payload), ON_METADATA);
}

/**
 * Encodes an onMetaData script payload: AMF0 "onMetaData" + an ECMA array of `metadata` (the
 * form FFmpeg, flv.js and Flash write).
 * @throws RtmpError from @org/rtmp's encoder for values AMF0 cannot carry
 */
export function encodeOnMetaData(metadata: { readonly [key: string]: AmfValue }): Uint8Array {
  return encodeAmf0('onMetaData', new AmfEcmaArray(metadata));
}

/**
 * An onMetaData script tag, at timestamp 0. Always 0, also mid-stream: FFmpeg's FLV demuxer takes
 * onMetaData for header metadata only at dts 0 and turns one at any other time into an extra
 * subtitle ("text") stream, which breaks `-c copy` outputs.
 */
export function metadataTag(metadata: { readonly [key: string]: AmfValue }): FlvTag {
  return { type: TagType.Script, timestamp: 0, payload: encodeOnMetaData(metadata) };
}

/** A decoded SCRIPTDATA payload. */
export interface ScriptData {
  /** The handler name, e.g. "onMetaData", "onTextData", "onCuePoint". */
  name: string;
  /** The first value after the name (the metadata object), undefined when there is none. */
  value: AmfValue;
  /** Every value after the name. */
  values: AmfValue[];
}

/**
 * Decodes a script payload (with or without a leading "@setDataFrame").
 * @throws FlvFormatError ERR_FLV_BAD_SCRIPT_DATA for malformed AMF0 or a non-string name (the
 * AMF error is the `cause`)
 */
export function decodeScriptData(payload: Uint8Array): ScriptData {
  let values: AmfValue[];
  try {
    values = decodeAmf0(stripSetDataFrame(payload));
  } catch (err) {
    if (!isRtmpError(err)) throw err;
    throw new FlvFormatError('ERR_FLV_BAD_SCRIPT_DATA', `script data: ${err.message}`, { cause: err });
  }
  const name = values[0];
  if (typeof name !== 'string')
    throw new FlvFormatError('ERR_FLV_BAD_SCRIPT_DATA', 'script data: name is not a string');
  const rest = values.slice(1);
  return { name, value: rest[0], values: rest };
}

/**
 * The FLV tag for an RTMP audio, video or metadata message, or undefined for anything else
 * (commands, control, other data such as onTextData, aggregates). Data messages lose their
 * "@setDataFrame" prefix (and the AMF3 format byte of type 15) and are always stamped 0 (see
 * {@link metadataTag} for why). No copy is made.
 * @param timestamp output timestamp of audio/video, e.g. from a `TimestampRebaser`; default the
 * message's own
 */
export function tagFromRtmpMessage(message: RtmpMessage, timestamp: number = message.timestamp): FlvTag | undefined {
  switch (message.type) {
    case MessageType.Audio:
      return { type: TagType.Audio, timestamp, payload: message.payload };
    case MessageType.Video:
      return { type: TagType.Video, timestamp, payload: message.payload };
    case MessageType.DataAmf0:
    case MessageType.DataAmf3: {
      let p = message.payload;
      if (message.type === MessageType.DataAmf3 && p[0] === 0) p = p.subarray(1);
      p = stripSetDataFrame(p);
      return startsWith(p, ON_METADATA) ? { type: TagType.Script, timestamp: 0, payload: p } : undefined;
    }
    default:
      return undefined;
  }
}
