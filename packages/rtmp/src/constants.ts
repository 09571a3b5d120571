/**
 * RTMP wire constants.
 * Spec: Adobe RTMP Specification 1.0 (December 2012), §5.4 (protocol control), §6.2 (user control),
 * §7.1 (RTMP message types).
 */

/** RTMP message type ids (the `type` of an {@link RtmpMessage}). */
export const MessageType = {
  /** Protocol control: the sender's new maximum chunk size (4 bytes, top bit 0). */
  SetChunkSize: 1,
  /** Protocol control: discard the partial message on a chunk stream (4-byte csid). */
  Abort: 2,
  /** Protocol control: sequence number = bytes received so far, mod 2^32. */
  Acknowledgement: 3,
  /** User control event (2-byte event type + data). */
  UserControl: 4,
  /** Protocol control: window acknowledgement size. */
  WindowAckSize: 5,
  /** Protocol control: set peer bandwidth (4-byte window + 1-byte limit type). */
  SetPeerBandwidth: 6,
  Audio: 8,
  Video: 9,
  /** Data message, AMF3 (format byte then AMF0/AMF3 values). */
  DataAmf3: 15,
  SharedObjectAmf3: 16,
  /** Command message, AMF3 (format byte then AMF0/AMF3 values). */
  CommandAmf3: 17,
  DataAmf0: 18,
  SharedObjectAmf0: 19,
  CommandAmf0: 20,
  Aggregate: 22,
} as const;
export type MessageTypeId = (typeof MessageType)[keyof typeof MessageType];

/** User control event types (spec §6.2 / §7.1.7). */
export const UserControlEvent = {
  StreamBegin: 0,
  StreamEOF: 1,
  StreamDry: 2,
  SetBufferLength: 3,
  StreamIsRecorded: 4,
  PingRequest: 6,
  PingResponse: 7,
} as const;
export type UserControlEventId = (typeof UserControlEvent)[keyof typeof UserControlEvent];

/** Limit types of Set Peer Bandwidth. */
export const PeerBandwidthLimit = { Hard: 0, Soft: 1, Dynamic: 2 } as const;

/** The only RTMP version accepted in C0/S0 (6, 8 and 9 are RTMPE, 0x47 'G' is HTTP). */
export const RTMP_VERSION = 3;
/** Size of C1/S1/C2/S2. */
export const HANDSHAKE_SIZE = 1536;
/** Chunk size every connection starts with in both directions (spec §5.4.1). */
export const DEFAULT_CHUNK_SIZE = 128;
/** Largest chunk size the wire can express: the top bit of the 32-bit field must be 0. */
export const MAX_WIRE_CHUNK_SIZE = 0x7fffffff;
/** Largest chunk stream id: 3-byte basic header, 64 + 255 + 255 * 256. */
export const MAX_CHUNK_STREAM_ID = 65599;
/** 24-bit timestamp fields holding this value mean "the real value is in the extended timestamp". */
export const EXTENDED_TIMESTAMP_MARKER = 0xffffff;

/** One complete RTMP message, as the chunk stream delivers it. */
export interface RtmpMessage {
  /** Chunk stream id it travelled on (2..65599). */
  chunkStreamId: number;
  /** Message type id, see {@link MessageType}. */
  type: number;
  /** Message stream id (0 for control and NetConnection commands). */
  streamId: number;
  /** Absolute timestamp in milliseconds, modulo 2^32. */
  timestamp: number;
  /** The message body. */
  payload: Uint8Array;
}
