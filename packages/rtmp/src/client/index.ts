export { RtmpClient } from './rtmp-client';
export { DEFAULT_RTMP_PORT, parseRtmpUrl, type RtmpClientTarget } from './rtmp-url';
export {
  DEFAULT_CLIENT_CHUNK_SIZE,
  DEFAULT_CLIENT_TIMEOUT,
  type RtmpClientEvents,
  type RtmpClientOptions,
} from './types';
