/**
 * Every server option: its type, default, flag, environment variable and description, in one
 * table that the loader (`config.ts`) and `--help` both read.
 */

import { DEFAULT_MAX_CONTROL_BYTES_PER_SECOND } from '@org/rtmp';
import { HTTPS_OPTIONS } from './config-https';
import { PEER_LIMIT_OPTIONS } from './config-limits';
import { DEFAULT_FD_RESERVE } from './fd-budget';
import { DEFAULT_HTTP_MAX_CONNECTIONS, DEFAULT_HTTP_MAX_CONNECTIONS_PER_ADDRESS } from './http/connection-limit';
import { DEFAULT_HTTP2_MAX_CONCURRENT_STREAMS, DEFAULT_HTTP2_MAX_SESSION_MEMORY_MB } from './http/https-listener';
import type { IngestLimitAction } from './streams/ingest-limit';
import { MAX_VIEWERS_PER_ADDRESS } from './streams/viewers';

/** The HLS packagers `--packager` chooses between. */
export const PACKAGERS = ['ffmpeg', 'native'] as const;
export type Packager = (typeof PACKAGERS)[number];

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface ServerConfig {
  /**
   * RTMP listen port; null = plain RTMP off (`--rtmp-port 0`, for TLS-only deployments). A config
   * object built in code may hold 0 for an ephemeral port, as `net` reads it.
   */
  rtmpPort: number | null;
  rtmpHost: string;
  /** RTMPS listen port: undefined = 1936 once a certificate is configured; null = off (`--rtmps-port 0`). */
  rtmpsPort: number | null | undefined;
  /** PEM certificate (chain allowed) of RTMPS and HTTPS. Absolute after loading. */
  tlsCert: string | undefined;
  /** PEM private key of RTMPS and HTTPS. Absolute after loading. */
  tlsKey: string | undefined;
  /** HTTP listen port (0 = ephemeral). */
  httpPort: number;
  httpHost: string;
  /** HTTPS listen port (0 = ephemeral), on `httpHost`; 8443 once a certificate is configured. */
  httpsPort: number | null | undefined;
  /** `Strict-Transport-Security` max-age of HTTPS responses, seconds (0: not sent). */
  hstsMaxAge: number;
  /** Concurrent streams per HTTP/2 session. */
  http2MaxConcurrentStreams: number;
  /** Memory one HTTP/2 session may use, MB. */
  http2MaxSessionMemoryMb: number;
  /** Root of the HLS output: `{outputDir}/{username}/live.m3u8`. Absolute after loading. */
  outputDir: string;
  /** Authorized publish URL patterns, first match wins. */
  patterns: string[];
  /** How long a dropped publisher's stream waits for the same username to come back. */
  reconnectGraceMs: number;
  /** Delay between stopping FFmpeg after the grace and removing the stream's directory. */
  cleanupDelayMs: number;
  /** A newer publisher for a live username replaces the older one instead of being refused. */
  takeover: boolean;
  /** Who makes the HLS segments: one FFmpeg per stream (the design), or @org/hls in the server. */
  packager: Packager;
  /** HLS target segment duration in seconds. */
  hlsTime: number;
  /** Segments kept in the rolling playlist window. */
  hlsListSize: number;
  /** Handshake and `connect` must complete within this many ms. */
  handshakeTimeoutMs: number;
  /** A connection that sends nothing for this many ms is dropped. */
  idleTimeoutMs: number;
  /** A connected RTMP client that does not publish within this many ms is dropped (0: never). */
  publishTimeoutMs: number;
  /** Simultaneous RTMP connections (idle and unauthenticated ones make room for new ones). */
  rtmpMaxConnections: number;
  /** Simultaneous RTMP connections from one address. */
  rtmpMaxConnectionsPerAddress: number;
  /** RTMP connections in handshake or connect at once. */
  rtmpMaxHandshakes: number;
  /** Bytes all RTMP peers together may make the server hold; past it the largest holder is dropped. */
  rtmpMaxBufferedBytes: number;
  /** What one RTMP peer's non-media messages may cost per second (@org/rtmp's control budget; 0: none). */
  rtmpMaxControlBytesPerSecond: number;
  /** Simultaneous HTTP connections (the longest-idle one makes room for a new one). */
  httpMaxConnections: number;
  /** Simultaneous HTTP connections from one address (its longest-idle one makes room). */
  httpMaxConnectionsPerAddress: number;
  /** Open files kept out of the connection caps' budget for the server's own use (see fd-budget.ts). */
  fdReserve: number;
  /** Most streams at once (live, in grace or ending); never more than `rtmpMaxConnections`. */
  maxStreams: number;
  /** Distinct viewers (address + user agent) one address counts as per stream. */
  maxViewersPerAddress: number;
  /** Each publisher's sustained ingest bitrate limit, kbit/s (0: none). */
  ingestMaxKbps: number;
  /** What a publisher over `ingestMaxKbps` gets. */
  ingestLimitAction: IngestLimitAction;
  /** Merged reads: a publishing RTMP socket is read at most once per round of this many ms (0: at once). */
  mergedReadMs: number;
  /** `Access-Control-Allow-Origin` on HLS responses. */
  corsOrigin: string;
  /** Bytes queued per stream in front of a slow FFmpeg before frames are dropped until a keyframe. */
  streamQueueBytes: number;
  /** Memory for playlists and segments served from RAM (all streams); beyond it they come from disk. */
  hlsCacheBytes: number;
  /** FFmpeg restarts allowed per stream within `ffmpegRestartWindowMs`; one more crash drops the publisher. */
  ffmpegMaxRestarts: number;
  /** Sliding window of `ffmpegMaxRestarts`, ms. */
  ffmpegRestartWindowMs: number;
  /** An FFmpeg that reports no segment this long after one was due, while fed, is restarted (0: never). */
  ffmpegStallTimeoutMs: number;
  /** Most streams that get per-stream series in `/metrics` (the longest-live ones). */
  metricsMaxStreams: number;
  /** Explicit ffmpeg binary (else PATH, else the optional npm package). */
  ffmpegPath: string | undefined;
  logLevel: LogLevel;
  /** Optional publish-authorization settings passed to @org/auth (config file only). */
  auth: Record<string, unknown> | undefined;
  /**
   * Optional Adobe challenge login (`authmod=adobe`, config file only): `users` and the limits of
   * @org/auth's `createAdobeAuthenticator`, plus `challengeEveryConnect` (see adobe-connect.ts).
   */
  adobeAuth: Record<string, unknown> | undefined;
  /** The config file that was read, if any. */
  configFile: string | undefined;
}

export type Kind = 'port' | 'int' | 'number' | 'string' | 'bool' | 'list' | 'choice' | 'path' | 'object';

export interface OptionSpec {
  key: keyof ServerConfig;
  flag?: string;
  env?: string;
  kind: Kind;
  /** Inclusive bounds for numbers. */
  min?: number;
  max?: number;
  /** The accepted values of a `choice`. */
  choices?: readonly string[];
  description: string;
}

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const DEFAULT_CONFIG: Readonly<ServerConfig> = Object.freeze({
  rtmpPort: 1935,
  rtmpHost: '0.0.0.0',
  rtmpsPort: undefined,
  tlsCert: undefined,
  tlsKey: undefined,
  httpPort: 8080,
  httpHost: '0.0.0.0',
  httpsPort: undefined,
  hstsMaxAge: 0,
  http2MaxConcurrentStreams: DEFAULT_HTTP2_MAX_CONCURRENT_STREAMS,
  http2MaxSessionMemoryMb: DEFAULT_HTTP2_MAX_SESSION_MEMORY_MB,
  outputDir: './streams',
  patterns: ['/live/{app}/{username}'],
  reconnectGraceMs: 5000,
  cleanupDelayMs: 2000,
  takeover: false,
  packager: 'ffmpeg',
  hlsTime: 1,
  hlsListSize: 3,
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 30_000,
  publishTimeoutMs: 10_000,
  rtmpMaxConnections: 1000,
  rtmpMaxConnectionsPerAddress: 32,
  rtmpMaxHandshakes: 100,
  rtmpMaxBufferedBytes: 256 * 1024 * 1024,
  rtmpMaxControlBytesPerSecond: DEFAULT_MAX_CONTROL_BYTES_PER_SECOND,
  httpMaxConnections: DEFAULT_HTTP_MAX_CONNECTIONS,
  httpMaxConnectionsPerAddress: DEFAULT_HTTP_MAX_CONNECTIONS_PER_ADDRESS,
  fdReserve: DEFAULT_FD_RESERVE,
  // Above what any platform asks of a publisher (4K60 HDR at 51 Mbit/s is the top of YouTube's table).
  maxStreams: 1000,
  maxViewersPerAddress: MAX_VIEWERS_PER_ADDRESS,
  ingestMaxKbps: 60_000,
  ingestLimitAction: 'disconnect',
  mergedReadMs: 0,
  corsOrigin: '*',
  streamQueueBytes: 8 * 1024 * 1024,
  hlsCacheBytes: 256 * 1024 * 1024,
  ffmpegMaxRestarts: 5,
  ffmpegRestartWindowMs: 60_000,
  // A few 1 s segments; FFmpeg lists a segment about a millisecond after the keyframe that cuts it.
  ffmpegStallTimeoutMs: 5000,
  metricsMaxStreams: 100,
  ffmpegPath: undefined,
  logLevel: 'info',
  auth: undefined,
  adobeAuth: undefined,
  configFile: undefined,
});

/** Every option: its flag, environment variable, type and description. `--help` prints this. */
export const OPTIONS: readonly OptionSpec[] = [
  { key: 'configFile', flag: '--config', env: 'CONFIG_FILE', kind: 'path', description: 'JSON config file' },
  {
    key: 'rtmpPort',
    flag: '--rtmp-port',
    env: 'RTMP_PORT',
    kind: 'port',
    description: 'RTMP listen port (0: plain RTMP off, RTMPS only)',
  },
  { key: 'rtmpHost', flag: '--rtmp-host', env: 'RTMP_HOST', kind: 'string', description: 'RTMP listen address' },
  {
    key: 'rtmpsPort',
    flag: '--rtmps-port',
    env: 'RTMPS_PORT',
    kind: 'port',
    description: 'RTMPS listen port (needs --tls-cert and --tls-key; 1936 when they are given; 0: off)',
  },
  {
    key: 'tlsCert',
    flag: '--tls-cert',
    env: 'TLS_CERT',
    kind: 'path',
    description: 'PEM certificate (chain allowed) for RTMPS and HTTPS, reread on SIGHUP',
  },
  {
    key: 'tlsKey',
    flag: '--tls-key',
    env: 'TLS_KEY',
    kind: 'path',
    description: 'PEM private key for RTMPS and HTTPS, reread on SIGHUP',
  },
  { key: 'httpPort', flag: '--http-port', env: 'HTTP_PORT', kind: 'port', description: 'HTTP listen port' },
  { key: 'httpHost', flag: '--http-host', env: 'HTTP_HOST', kind: 'string', description: 'HTTP listen address' },
  ...HTTPS_OPTIONS,
  { key: 'outputDir', flag: '--output-dir', env: 'OUTPUT_DIR', kind: 'path', description: 'HLS output root' },
  {
    key: 'patterns',
    flag: '--pattern',
    env: 'PUBLISH_PATTERNS',
    kind: 'list',
    description: 'authorized publish path pattern (repeat the flag, or comma-separate in the env var)',
  },
  {
    key: 'reconnectGraceMs',
    flag: '--reconnect-grace-ms',
    env: 'RECONNECT_GRACE_MS',
    kind: 'int',
    min: 0,
    max: 3_600_000,
    description: 'keep a dropped stream this long for the publisher to come back',
  },
  {
    key: 'cleanupDelayMs',
    flag: '--cleanup-delay-ms',
    env: 'CLEANUP_DELAY_MS',
    kind: 'int',
    min: 0,
    max: 3_600_000,
    description: 'after FFmpeg stops, remove the stream directory this much later',
  },
  {
    key: 'takeover',
    flag: '--takeover',
    env: 'TAKEOVER',
    kind: 'bool',
    description: 'a second publisher for a live username replaces the first (else it is refused)',
  },
  {
    key: 'packager',
    flag: '--packager',
    env: 'PACKAGER',
    kind: 'choice',
    choices: PACKAGERS,
    description: 'HLS packager: ffmpeg (one FFmpeg per stream) or native (@org/hls, in the server)',
  },
  {
    key: 'hlsTime',
    flag: '--hls-time',
    env: 'HLS_TIME',
    kind: 'number',
    min: 0.1,
    max: 60,
    description: 'HLS target segment duration in seconds',
  },
  {
    key: 'hlsListSize',
    flag: '--hls-list-size',
    env: 'HLS_LIST_SIZE',
    kind: 'int',
    min: 1,
    max: 100,
    description: 'segments in the rolling playlist window',
  },
  ...PEER_LIMIT_OPTIONS,
  {
    key: 'mergedReadMs',
    flag: '--merged-read-ms',
    env: 'MERGED_READ_MS',
    kind: 'int',
    min: 0,
    max: 1000,
    description:
      'read each publishing RTMP socket at most once per this many ms (less CPU, that much more latency); 0 reads at once',
  },
  {
    key: 'corsOrigin',
    flag: '--cors-origin',
    env: 'CORS_ORIGIN',
    kind: 'string',
    description: 'Access-Control-Allow-Origin for HLS responses',
  },
  {
    key: 'streamQueueBytes',
    flag: '--stream-queue-bytes',
    env: 'STREAM_QUEUE_BYTES',
    kind: 'int',
    min: 64 * 1024,
    max: 1024 * 1024 * 1024,
    description: 'per-stream queue in front of a slow ffmpeg; beyond it frames are dropped until a keyframe',
  },
  {
    key: 'hlsCacheBytes',
    flag: '--hls-cache-bytes',
    env: 'HLS_CACHE_BYTES',
    kind: 'int',
    min: 0,
    max: 64 * 1024 * 1024 * 1024,
    description: 'memory for HLS files served from RAM across all streams (0: always from disk)',
  },
  {
    key: 'ffmpegMaxRestarts',
    flag: '--ffmpeg-max-restarts',
    env: 'FFMPEG_MAX_RESTARTS',
    kind: 'int',
    min: 0,
    max: 1000,
    description: 'ffmpeg restarts allowed per stream within the restart window, then the publisher is dropped',
  },
  {
    key: 'ffmpegRestartWindowMs',
    flag: '--ffmpeg-restart-window-ms',
    env: 'FFMPEG_RESTART_WINDOW_MS',
    kind: 'int',
    min: 1000,
    max: 3_600_000,
    description: 'sliding window for --ffmpeg-max-restarts',
  },
  {
    key: 'ffmpegStallTimeoutMs',
    flag: '--ffmpeg-stall-timeout-ms',
    env: 'FFMPEG_STALL_TIMEOUT_MS',
    kind: 'int',
    min: 0,
    max: 600_000,
    description:
      'restart an ffmpeg that lists no segment this long after one was due while the publisher sends (0: never)',
  },
  {
    key: 'metricsMaxStreams',
    flag: '--metrics-max-streams',
    env: 'METRICS_MAX_STREAMS',
    kind: 'int',
    min: 0,
    max: 100_000,
    description: 'most streams with per-stream series in /metrics (bounds their cardinality)',
  },
  { key: 'ffmpegPath', flag: '--ffmpeg', env: 'FFMPEG_PATH', kind: 'path', description: 'ffmpeg binary to use' },
  {
    key: 'logLevel',
    flag: '--log-level',
    env: 'LOG_LEVEL',
    kind: 'choice',
    choices: LOG_LEVELS,
    description: `log level (${LOG_LEVELS.join(', ')})`,
  },
  { key: 'auth', kind: 'object', description: 'publish authorization settings for @org/auth (config file only)' },
  {
    key: 'adobeAuth',
    kind: 'object',
    description: 'Adobe challenge login (authmod=adobe): users and limits (config file only)',
  },
];
