export { RtmpSession } from './rtmp-session';
export {
  DEFAULT_MAX_QUEUED_BYTES,
  DEFAULT_MAX_STREAMS,
  DEFAULT_SESSION_CHUNK_SIZE,
  DEFAULT_WINDOW_ACK_SIZE,
} from './session-options';
export type {
  ConnectInfo,
  DataMessage,
  PublishInfo,
  RtmpSessionEvents,
  RtmpSessionOptions,
  RtmpSessionState,
} from './types';
