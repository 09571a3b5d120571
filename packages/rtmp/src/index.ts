/**
 * @org/rtmp public API. Every name here is deliberate and listed in README.md ("API");
 * `test/public-api.txt` pins the runtime names, so adding or removing one is a reviewed change.
 *
 * Internals stay out: option resolvers (`integerOption`, `resolve*Options`), handshake crypto
 * (`hmacSha256`, digest helpers, the Genuine FMS/FP keys), byte readers, the read merger.
 * The layer barrels (`./amf`, `./chunk`, …) are internal interfaces between layers, not entry points.
 *
 * Spec: Adobe RTMP Specification 1.0 (December 2012); Adobe AMF0 Specification; Enhanced RTMP v1/v2.
 */

export {
  AMF_CLASS_NAME,
  Amf0Marker,
  AmfEcmaArray,
  type AmfObject,
  type AmfValue,
  amfClassName,
  amfTypedObject,
  decodeAmf0,
  decodeCommand,
  decodeData,
  encodeAmf0,
  encodeCommand,
  encodeData,
  type RtmpCommand,
} from './amf';
/** Concatenates byte arrays into one new array (one allocation, one copy per piece). @org/flv uses it. */
export { concatBytes } from './bytes';
export { ChunkDecoder, ChunkEncoder, PayloadSlabPool } from './chunk';
// ---- client: a publisher -----------------------------------------------------------------------
export {
  DEFAULT_CLIENT_CHUNK_SIZE,
  DEFAULT_CLIENT_TIMEOUT,
  DEFAULT_RTMP_PORT,
  parseRtmpUrl,
  RtmpClient,
  type RtmpClientEvents,
  type RtmpClientOptions,
  type RtmpClientTarget,
} from './client';
export {
  DEFAULT_CHUNK_SIZE,
  HANDSHAKE_SIZE,
  MAX_CHUNK_STREAM_ID,
  MAX_WIRE_CHUNK_SIZE,
  MessageType,
  type MessageTypeId,
  PeerBandwidthLimit,
  RTMP_VERSION,
  type RtmpMessage,
  UserControlEvent,
  type UserControlEventId,
} from './constants';
// ---- errors ------------------------------------------------------------------------------------
export {
  isRtmpError,
  RtmpError,
  type RtmpErrorCode,
  RtmpProtocolError,
  type RtmpProtocolErrorCode,
  RtmpRejection,
  type RtmpUsageErrorCode,
} from './errors';
// ---- low-level building blocks: handshake, chunk stream, AMF, protocol messages ----------------
export { ClientHandshake, type ClientHandshakeOptions } from './handshake/client-handshake';
export { type HandshakeOptions, type HandshakeStep, ServerHandshake } from './handshake/server-handshake';
// ---- server: a `net` server, its connections, and the transport-agnostic session ----------------
export {
  type ConnectionLimits,
  createRtmpServer,
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_HANDSHAKE_TIMEOUT,
  DEFAULT_IDLE_TIMEOUT,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  DEFAULT_MAX_CONTROL_BYTES_PER_SECOND,
  DEFAULT_MAX_HANDSHAKES,
  DEFAULT_MAX_PENDING_WRITE_BYTES,
  DEFAULT_MERGED_READ_INTERVAL,
  DEFAULT_PUBLISH_TIMEOUT,
  type DropReason,
  type EvictReason,
  MAX_MERGED_READ_INTERVAL,
  RtmpConnection,
  type RtmpConnectionEvents,
  RtmpServer,
  type RtmpServerEvents,
  type RtmpServerOptions,
} from './net';
export {
  type Amf0DecodeOptions,
  type ChunkDecoderOptions,
  type ChunkEncoderOptions,
  DEFAULT_AMF_MAX_DEPTH,
  DEFAULT_AMF_MAX_INPUT_BYTES,
  DEFAULT_AMF_MAX_ITEMS,
  DEFAULT_MAX_CHUNK_SIZE,
  DEFAULT_MAX_CHUNK_STREAMS,
  DEFAULT_MAX_MESSAGE_SIZE,
  DEFAULT_MAX_PENDING_BYTES,
  DEFAULT_PAYLOAD_SLAB_SIZE,
} from './options';
export {
  type AggregatePart,
  COMMAND_CHUNK_STREAM_ID,
  CONTROL_CHUNK_STREAM_ID,
  commandMessage,
  connectResultMessage,
  dataMessage,
  decodeSetPeerBandwidth,
  decodeU32Control,
  decodeUserControl,
  encodeAcknowledgement,
  encodeSetBufferLength,
  encodeSetChunkSize,
  encodeSetPeerBandwidth,
  encodeUserControl,
  encodeWindowAckSize,
  errorMessage,
  type MediaMessage,
  type MessageRoute,
  NetStatusCode,
  onStatusMessage,
  type PeerBandwidth,
  resultMessage,
  STREAM_STATUS_CHUNK_STREAM_ID,
  type StatusLevel,
  splitAggregate,
  statusObject,
  type UserControl,
} from './protocol';
export {
  type ConnectInfo,
  type DataMessage,
  DEFAULT_MAX_QUEUED_BYTES,
  DEFAULT_MAX_STREAMS,
  DEFAULT_SESSION_CHUNK_SIZE,
  DEFAULT_WINDOW_ACK_SIZE,
  type PublishInfo,
  RtmpSession,
  type RtmpSessionEvents,
  type RtmpSessionOptions,
  type RtmpSessionState,
} from './session';
