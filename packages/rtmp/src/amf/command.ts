/**
 * Command (type 20/17) and data (type 18/15) message bodies. Spec: RTMP 1.0 §7.1.1–7.1.2, §7.2.
 *
 * Type 20 / 18 bodies are AMF0 values. Type 17 / 15 ("AMF3") bodies start with a format byte 0x00 and
 * then AMF0 values, any of which may switch to AMF3 with the AVM+ marker.
 * A command is: name (string), transaction id (number), command object (object or null), arguments.
 */
import { MessageType } from '../constants';
import { RtmpProtocolError } from '../errors';
import type { Amf0DecodeOptions } from '../options';
import { decodeAmf0 } from './amf0-decode';
import { encodeAmf0 } from './amf0-encode';
import type { AmfValue } from './types';

/** A decoded command message. */
export interface RtmpCommand {
  /** Command name, e.g. "connect", "publish", "_result", "onStatus". */
  name: string;
  /** Transaction id to echo in the reply (0 when the peer wants none, or sent none). */
  transactionId: number;
  /** Command object (connect's properties; null for most other commands). Null when absent. */
  commandObject: AmfValue;
  /** Remaining arguments, e.g. publish's stream name and type. */
  args: AmfValue[];
}

/** Strips the format byte of an AMF3 command/data body (type 17/15) when it is 0x00. */
function amfBody(payload: Uint8Array, type: number): Uint8Array {
  if ((type === MessageType.CommandAmf3 || type === MessageType.DataAmf3) && payload[0] === 0) {
    return payload.subarray(1);
  }
  return payload;
}

/**
 * Decodes a command message body.
 * @param type the message type: 20 (AMF0) or 17 (AMF3, whose leading format byte is stripped).
 * @throws RtmpProtocolError `ERR_AMF_*` for malformed AMF; `ERR_RTMP_BAD_COMMAND` when the first value
 * is not a string or the transaction id is present but not a number.
 */
export function decodeCommand(
  payload: Uint8Array,
  type: number = MessageType.CommandAmf0,
  options?: Amf0DecodeOptions,
): RtmpCommand {
  const values = decodeAmf0(amfBody(payload, type), options);
  const name = values[0];
  if (typeof name !== 'string') {
    throw new RtmpProtocolError('ERR_RTMP_BAD_COMMAND', `command name is ${describe(name)}, not a string`);
  }
  const txn = values.length > 1 ? values[1] : 0;
  if (typeof txn !== 'number') {
    throw new RtmpProtocolError('ERR_RTMP_BAD_COMMAND', `${name}: transaction id is ${describe(txn)}, not a number`);
  }
  return {
    name,
    transactionId: txn,
    commandObject: values.length > 2 ? values[2] : null,
    args: values.slice(3),
  };
}

/** Encodes a command message body (type 20): name, transaction id, command object, then `args`. */
export function encodeCommand(
  name: string,
  transactionId: number,
  commandObject: AmfValue,
  ...args: AmfValue[]
): Uint8Array {
  return encodeAmf0(name, transactionId, commandObject, ...args);
}

/**
 * Decodes a data message body (type 18, or 15 whose format byte is stripped), e.g.
 * `["@setDataFrame", "onMetaData", {...}]` or `["onMetaData", {...}]`.
 */
export function decodeData(
  payload: Uint8Array,
  type: number = MessageType.DataAmf0,
  options?: Amf0DecodeOptions,
): AmfValue[] {
  return decodeAmf0(amfBody(payload, type), options);
}

/** Encodes a data message body (type 18). */
export function encodeData(...values: AmfValue[]): Uint8Array {
  return encodeAmf0(...values);
}

function describe(v: AmfValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : typeof v;
}
