export { AcknowledgementWindow } from './acknowledgement-window';
export {
  COMMAND_CHUNK_STREAM_ID,
  commandMessage,
  dataMessage,
  type MessageRoute,
  STREAM_STATUS_CHUNK_STREAM_ID,
} from './command';
export {
  CONTROL_CHUNK_STREAM_ID,
  decodeSetPeerBandwidth,
  decodeU32Control,
  decodeUserControl,
  encodeAcknowledgement,
  encodeSetBufferLength,
  encodeSetChunkSize,
  encodeSetPeerBandwidth,
  encodeUserControl,
  encodeWindowAckSize,
  type PeerBandwidth,
  type UserControl,
} from './control';
export { type AggregatePart, type MediaMessage, splitAggregate } from './media';
export {
  connectResultMessage,
  errorMessage,
  NetStatusCode,
  onStatusMessage,
  resultMessage,
  type StatusLevel,
  safeDescription,
  statusObject,
} from './status';
