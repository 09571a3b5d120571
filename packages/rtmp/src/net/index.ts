export type { DropReason, EvictReason } from './connection-table';
export { DEFAULT_MAX_CONTROL_BYTES_PER_SECOND } from './control-budget';
export { type ConnectionLimits, RtmpConnection, type RtmpConnectionEvents } from './rtmp-connection';
export {
  createRtmpServer,
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_HANDSHAKE_TIMEOUT,
  DEFAULT_IDLE_TIMEOUT,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  DEFAULT_MAX_HANDSHAKES,
  DEFAULT_MAX_PENDING_WRITE_BYTES,
  DEFAULT_MERGED_READ_INTERVAL,
  DEFAULT_PUBLISH_TIMEOUT,
  MAX_MERGED_READ_INTERVAL,
  RtmpServer,
  type RtmpServerEvents,
  type RtmpServerOptions,
} from './rtmp-server';
