export {
  DEFAULT_CLIENT_CHUNK_SIZE,
  DEFAULT_CLIENT_TIMEOUT,
  DEFAULT_RTMP_PORT,
  parseRtmpUrl,
  RtmpClient,
  type RtmpClientEvents,
  type RtmpClientOptions,
  type RtmpClientTarget,
} from './rtmp-client';
