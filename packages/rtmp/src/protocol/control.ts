/**
 * Protocol control messages (types 1, 2, 3, 5, 6) and user control messages (type 4): one decode/encode
 * pair per message. Spec: Adobe RTMP Specification 1.0 (December 2012), §5.4 and §6.2 / §7.1.7.
 *
 * Every control message travels on chunk stream 2, message stream 0 (spec §5.4; Larix breaks on csid 3).
 *
 *   1 Set Chunk Size       u32 BE, top bit 0         (1..2^31 − 1)
 *   2 Abort                u32 BE chunk stream id
 *   3 Acknowledgement      u32 BE sequence number    (bytes received so far, mod 2^32)
 *   5 Window Ack Size      u32 BE window
 *   6 Set Peer Bandwidth   u32 BE window | u8 limit type (0 hard, 1 soft, 2 dynamic)
 *   4 User Control         u16 BE event type | event data (u32 BE stream id / timestamp; SetBufferLength: + u32 ms)
 */
import { readUint16BE, readUint32BE, writeUint16BE, writeUint32BE } from '../bytes';
import { MessageType, type RtmpMessage, UserControlEvent } from '../constants';
import { RtmpProtocolError } from '../errors';

/** Chunk stream id of protocol and user control messages. */
export const CONTROL_CHUNK_STREAM_ID = 2;

function controlMessage(type: number, payload: Uint8Array): RtmpMessage {
  return { chunkStreamId: CONTROL_CHUNK_STREAM_ID, type, streamId: 0, timestamp: 0, payload };
}

function u32Payload(value: number): Uint8Array {
  const p = new Uint8Array(4);
  writeUint32BE(p, 0, value >>> 0);
  return p;
}

function readU32Body(payload: Uint8Array, what: string): number {
  if (payload.length < 4) {
    throw new RtmpProtocolError('ERR_RTMP_BAD_CONTROL_MESSAGE', `${what} with a ${payload.length}-byte body (needs 4)`);
  }
  return readUint32BE(payload, 0);
}

/** Set Chunk Size (type 1). `size` must be 1..2^31 − 1; the caller validates it. */
export function encodeSetChunkSize(size: number): RtmpMessage {
  return controlMessage(MessageType.SetChunkSize, u32Payload(size & 0x7fffffff));
}

/** Acknowledgement (type 3) carrying `sequenceNumber` mod 2^32. */
export function encodeAcknowledgement(sequenceNumber: number): RtmpMessage {
  return controlMessage(MessageType.Acknowledgement, u32Payload(sequenceNumber % 0x100000000));
}

/** Window Acknowledgement Size (type 5). */
export function encodeWindowAckSize(size: number): RtmpMessage {
  return controlMessage(MessageType.WindowAckSize, u32Payload(size));
}

/** Set Peer Bandwidth (type 6); `limitType` is a {@link PeerBandwidthLimit} value. */
export function encodeSetPeerBandwidth(size: number, limitType: number): RtmpMessage {
  const p = new Uint8Array(5);
  writeUint32BE(p, 0, size >>> 0);
  p[4] = limitType;
  return controlMessage(MessageType.SetPeerBandwidth, p);
}

/** User control event (type 4) with a 4-byte argument (stream id or timestamp). */
export function encodeUserControl(event: number, value: number): RtmpMessage {
  const p = new Uint8Array(6);
  writeUint16BE(p, 0, event);
  writeUint32BE(p, 2, value >>> 0);
  return controlMessage(MessageType.UserControl, p);
}

/** User control SetBufferLength (event 3): stream id + buffer length in ms (a player sends it). */
export function encodeSetBufferLength(streamId: number, bufferMs: number): RtmpMessage {
  const p = new Uint8Array(10);
  writeUint16BE(p, 0, UserControlEvent.SetBufferLength);
  writeUint32BE(p, 2, streamId >>> 0);
  writeUint32BE(p, 6, bufferMs >>> 0);
  return controlMessage(MessageType.UserControl, p);
}

/** Reads the 4-byte body of Set Chunk Size, Abort, Acknowledgement or Window Ack Size. */
export function decodeU32Control(payload: Uint8Array, what: string): number {
  return readU32Body(payload, what);
}

/** A decoded Set Peer Bandwidth. */
export interface PeerBandwidth {
  windowSize: number;
  /** 0 hard, 1 soft, 2 dynamic. */
  limitType: number;
}

/** Reads a Set Peer Bandwidth body. */
export function decodeSetPeerBandwidth(payload: Uint8Array): PeerBandwidth {
  if (payload.length < 5) {
    throw new RtmpProtocolError(
      'ERR_RTMP_BAD_CONTROL_MESSAGE',
      `Set Peer Bandwidth with a ${payload.length}-byte body (needs 5)`,
    );
  }
  return { windowSize: readUint32BE(payload, 0), limitType: payload[4]! };
}

/** A decoded user control event. */
export interface UserControl {
  /** Event type, see {@link UserControlEvent}. */
  event: number;
  /** First 4-byte argument (stream id, or timestamp for ping events); 0 when absent. */
  value: number;
  /** SetBufferLength's buffer length in ms; undefined for other events. */
  bufferLength?: number;
}

/**
 * Reads a user control body. Ping events, which need an answer, must carry their 4-byte timestamp; any
 * other event with a short body comes back with value 0, so the caller can ignore it.
 */
export function decodeUserControl(payload: Uint8Array): UserControl {
  if (payload.length < 2) {
    throw new RtmpProtocolError(
      'ERR_RTMP_BAD_CONTROL_MESSAGE',
      `user control message with a ${payload.length}-byte body (needs 2 or more)`,
    );
  }
  const event = readUint16BE(payload, 0);
  if (payload.length < 6) {
    if (event === UserControlEvent.PingRequest || event === UserControlEvent.PingResponse) {
      throw new RtmpProtocolError(
        'ERR_RTMP_BAD_CONTROL_MESSAGE',
        `user control event ${event} with a ${payload.length}-byte body (needs 6)`,
      );
    }
    return { event, value: 0 };
  }
  const out: UserControl = { event, value: readUint32BE(payload, 2) };
  if (event === UserControlEvent.SetBufferLength && payload.length >= 10) out.bufferLength = readUint32BE(payload, 6);
  return out;
}
