/**
 * Command replies: `_result`, `_error` and `onStatus` messages, and the status codes we send.
 * Spec: Adobe RTMP Specification 1.0, §7.2.1 (NetConnection commands) and §7.2.2 (NetStream commands,
 * onStatus info objects: level, code, description).
 */

import type { AmfObject, AmfValue } from '../amf';
import type { RtmpMessage } from '../constants';
import { COMMAND_CHUNK_STREAM_ID, commandMessage, STREAM_STATUS_CHUNK_STREAM_ID } from './command';

/** Status codes this package sends (clients match on these strings). */
export const NetStatusCode = {
  ConnectSuccess: 'NetConnection.Connect.Success',
  ConnectRejected: 'NetConnection.Connect.Rejected',
  CallFailed: 'NetConnection.Call.Failed',
  PublishStart: 'NetStream.Publish.Start',
  PublishBadName: 'NetStream.Publish.BadName',
  PublishRejected: 'NetStream.Publish.Rejected',
  PublishUnauthorized: 'NetStream.Publish.Unauthorized',
  UnpublishSuccess: 'NetStream.Unpublish.Success',
  PlayFailed: 'NetStream.Play.Failed',
} as const;

/** Level of an onStatus / `_error` info object. */
export type StatusLevel = 'status' | 'warning' | 'error';

/** Longest description we send; longer ones are cut (they are for humans, and travel in every reply). */
const MAX_DESCRIPTION_LENGTH = 256;

/**
 * Makes a description safe to send: control characters become spaces, it is cut to 256 characters, and
 * `authmod=` is defused (ffmpeg treats a rejection description containing it as an authentication
 * challenge and retries with credentials instead of reporting the reason) unless `authChallenge`
 * says the description is such a challenge on purpose.
 */
export function safeDescription(text: string, options: { authChallenge?: boolean } = {}): string {
  let s = text.replace(/[\u0000-\u001f\u007f]/g, ' ');
  if (s.length > MAX_DESCRIPTION_LENGTH) s = `${s.slice(0, MAX_DESCRIPTION_LENGTH - 1)}…`;
  return options.authChallenge ? s : s.replace(/authmod\s*=/gi, 'authmod: ');
}

/** An info object `{ level, code, description, ...extra }` with the description made safe. */
export function statusObject(
  level: StatusLevel,
  code: string,
  description: string,
  extra: Record<string, AmfValue> = {},
): AmfObject {
  return { level, code, description: safeDescription(description), ...extra };
}

/** `onStatus(0, null, info)` on message stream `streamId` (chunk stream 5). */
export function onStatusMessage(streamId: number, info: AmfObject): RtmpMessage {
  return commandMessage('onStatus', 0, null, [info], { chunkStreamId: STREAM_STATUS_CHUNK_STREAM_ID, streamId });
}

/** `_result(txn, commandObject, ...args)` on chunk stream 3, message stream 0. */
export function resultMessage(transactionId: number, commandObject: AmfValue, ...args: AmfValue[]): RtmpMessage {
  return commandMessage('_result', transactionId, commandObject, args, { chunkStreamId: COMMAND_CHUNK_STREAM_ID });
}

/** `_error(txn, null, info)` on chunk stream 3, message stream 0. */
export function errorMessage(transactionId: number, info: AmfObject): RtmpMessage {
  return commandMessage('_error', transactionId, null, [info], { chunkStreamId: COMMAND_CHUNK_STREAM_ID });
}

/** Server properties sent in the connect `_result` (clients print fmsVer; capabilities 31 as FMS 3 does). */
const SERVER_PROPERTIES = { fmsVer: 'FMS/3,0,1,123', capabilities: 31, mode: 1 };

/** The `_result` accepting a connect: server properties + NetConnection.Connect.Success. */
export function connectResultMessage(transactionId: number, objectEncoding: number): RtmpMessage {
  return resultMessage(
    transactionId,
    { ...SERVER_PROPERTIES },
    statusObject('status', NetStatusCode.ConnectSuccess, 'Connection succeeded.', { objectEncoding }),
  );
}
