/**
 * Building command (type 20) and data (type 18) messages. Decoding lives in `../amf/command.ts`.
 * Spec: Adobe RTMP Specification 1.0, §7.1.1 (command), §7.1.2 (data).
 */
import { type AmfValue, encodeCommand, encodeData } from '../amf';
import { MessageType, type RtmpMessage } from '../constants';

/** Chunk stream of NetConnection commands and their replies (message stream 0). */
export const COMMAND_CHUNK_STREAM_ID = 3;
/** Chunk stream of the server's onStatus messages on a NetStream (nginx-rtmp and FMS use 5 too). */
export const STREAM_STATUS_CHUNK_STREAM_ID = 5;

/** Where a message travels. */
export interface MessageRoute {
  /** @default 3 */
  chunkStreamId?: number;
  /** @default 0 */
  streamId?: number;
  /** @default 0 */
  timestamp?: number;
}

/** A type 20 message `name(transactionId, commandObject, ...args)`. */
export function commandMessage(
  name: string,
  transactionId: number,
  commandObject: AmfValue,
  args: readonly AmfValue[],
  route: MessageRoute = {},
): RtmpMessage {
  return {
    chunkStreamId: route.chunkStreamId ?? COMMAND_CHUNK_STREAM_ID,
    type: MessageType.CommandAmf0,
    streamId: route.streamId ?? 0,
    timestamp: route.timestamp ?? 0,
    payload: encodeCommand(name, transactionId, commandObject, ...args),
  };
}

/** A type 18 data message carrying `values` (e.g. `"@setDataFrame", "onMetaData", {...}`). */
export function dataMessage(values: readonly AmfValue[], route: MessageRoute): RtmpMessage {
  return {
    chunkStreamId: route.chunkStreamId ?? COMMAND_CHUNK_STREAM_ID,
    type: MessageType.DataAmf0,
    streamId: route.streamId ?? 0,
    timestamp: route.timestamp ?? 0,
    payload: encodeData(...values),
  };
}
