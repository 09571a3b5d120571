export { type ConnectionLimits, RtmpConnection, type RtmpConnectionEvents } from './rtmp-connection';
export {
  createRtmpServer,
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_HANDSHAKE_TIMEOUT,
  DEFAULT_IDLE_TIMEOUT,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_PENDING_WRITE_BYTES,
  DEFAULT_MERGED_READ_INTERVAL,
  MAX_MERGED_READ_INTERVAL,
  RtmpServer,
  type RtmpServerEvents,
  type RtmpServerOptions,
} from './rtmp-server';
