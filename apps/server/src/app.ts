/**
 * The ingest service assembled: metrics, the stream manager (one FFmpeg per stream as the segment
 * producer), the RTMP listener with publish authorization, and the HTTP app. `startServer` listens on every port
 * (RTMP, HTTP, and with a certificate RTMPS and HTTPS) and returns a handle whose `close()` ends every playlist and
 * stops every FFmpeg.
 */
import { mkdir } from 'node:fs/promises';
import { createPublishAuthorizer, type PublishAuthConfig } from '@org/auth';
import type { FastifyInstance } from 'fastify';
import type { ServerConfig } from './config';
import type { ResolvedBinary } from './ffmpeg-resolve';
import { buildHttpApp } from './http/app';
import { DEFAULT_HTTPS_PORT } from './http/https-listener';
import type { Logger } from './logger';
import { childEnvironment, MemoryReclaimer, MMAP_THRESHOLD_ENV, mallocReturnsLargeBuffers } from './memory-reclaim';
import { createMetrics, type Metrics } from './metrics/metrics';
import { observeStreams } from './metrics/stream-metrics';
import { FfmpegProducer } from './output/ffmpeg-producer';
import { NativeProducer } from './output/native-producer';
import { createRtmpIngest, type RtmpIngest } from './rtmp-ingest';
import { StreamManager } from './streams/stream-manager';
import type { TlsFiles } from './tls-files';

export interface AppDeps {
  config: ServerConfig;
  logger: Logger;
  ffmpeg: ResolvedBinary;
  /** The certificate and key of RTMPS and HTTPS (read by main.ts); neither without them. */
  tls?: TlsFiles | undefined;
}

export interface RunningServer {
  http: FastifyInstance;
  rtmp: RtmpIngest;
  manager: StreamManager;
  metrics: Metrics;
  httpPort: number;
  /** The RTMP port, when plain RTMP is on. */
  rtmpPort: number | undefined;
  readonly config: ServerConfig;
  /** The RTMPS port, when RTMPS is on. */
  rtmpsPort: number | undefined;
  /** The HTTPS port, when HTTPS is on (with RTMPS: the same certificate). */
  httpsPort: number | undefined;
  /** Swaps the RTMPS and HTTPS certificate for new connections; throws, keeping the old one, when it is bad. */
  reloadTls(tls: TlsFiles): void;
  /** Stops accepting, ends every playlist, stops every FFmpeg, closes HTTP. */
  close(): Promise<void>;
  /** Synchronous last resort for process exit: SIGKILL every FFmpeg. */
  killChildren(): void;
}

/** The @org/auth configuration: the `auth` section of the config file, with the patterns option. */
export function authConfig(config: ServerConfig): PublishAuthConfig {
  return { ...(config.auth ?? {}), patterns: config.patterns } as PublishAuthConfig;
}

/** The streams, their FFmpeg producers and their counters, as the configuration says. */
function createStreamManager(deps: AppDeps, metrics: Metrics): StreamManager {
  const { config, logger } = deps;
  const ffmpegEnv = childEnvironment(process.env);
  return new StreamManager({
    outputDir: config.outputDir,
    reconnectGraceMs: config.reconnectGraceMs,
    cleanupDelayMs: config.cleanupDelayMs,
    takeover: config.takeover,
    hlsTime: config.hlsTime,
    hlsListSize: config.hlsListSize,
    ffmpegVersion: deps.ffmpeg.version,
    ingestLimit:
      config.ingestMaxKbps > 0
        ? { maxBitsPerSecond: config.ingestMaxKbps * 1000, action: config.ingestLimitAction }
        : undefined,
    maxViewersPerAddress: config.maxViewersPerAddress,
    // The open-file budget counts one stream's FFmpeg per RTMP connection: never more streams.
    maxStreams: Math.min(config.maxStreams, config.rtmpMaxConnections),
    logger,
    counters: {
      ingestLimitTrips: (n) => metrics.limitTripsTotal.inc({ limit: 'ingest_bitrate' }, n),
      viewerLimitTrips: (n) => metrics.limitTripsTotal.inc({ limit: 'viewers_per_address' }, n),
      droppedFrames: (n) => metrics.droppedFramesTotal.inc(n),
      ffmpegRestarts: (n) => metrics.ffmpegRestartsTotal.inc(n),
      ffmpegStalls: (n) => metrics.ffmpegStallsTotal.inc(n),
      segmentWriteErrors: (n) => metrics.segmentWriteErrorsTotal.inc(n),
      segmentsOverTarget: (n) => metrics.segmentsOverTargetTotal.inc(n),
    },
    createProducer: (dir, events, log) =>
      config.packager === 'native'
        ? new NativeProducer({
            dir,
            events,
            hlsTime: config.hlsTime,
            maxQueuedBytes: config.streamQueueBytes,
            logger: log,
          })
        : new FfmpegProducer({
            dir,
            events,
            ffmpegPath: deps.ffmpeg.path,
            hlsTime: config.hlsTime,
            maxQueuedBytes: config.streamQueueBytes,
            restart: { maxRestarts: config.ffmpegMaxRestarts, windowMs: config.ffmpegRestartWindowMs },
            stallTimeoutMs: config.ffmpegStallTimeoutMs,
            env: ffmpegEnv,
            logger: log,
          }),
  });
}

export async function startServer(deps: AppDeps): Promise<RunningServer> {
  const { config, logger } = deps;
  const authorizer = createPublishAuthorizer(authConfig(config));
  const metrics = createMetrics();
  const manager = createStreamManager(deps, metrics);
  observeStreams(metrics.registry, manager, { maxStreams: config.metricsMaxStreams });
  await mkdir(config.outputDir, { recursive: true });
  const http = buildHttpApp({
    outputDir: config.outputDir,
    corsOrigin: config.corsOrigin,
    logger,
    registry: manager,
    metrics,
    ffmpegVersion: deps.ffmpeg.version,
    segmentCacheBytes: config.hlsCacheBytes,
    maxConnections: config.httpMaxConnections,
    maxConnectionsPerAddress: config.httpMaxConnectionsPerAddress,
    https:
      deps.tls && config.httpsPort !== null
        ? {
            tls: deps.tls,
            hstsMaxAge: config.hstsMaxAge,
            maxConcurrentStreams: config.http2MaxConcurrentStreams,
            maxSessionMemoryMb: config.http2MaxSessionMemoryMb,
          }
        : undefined,
  });
  const rtmp = createRtmpIngest({ config, logger: logger.child({ component: 'rtmp' }), manager, authorizer, metrics });
  const reclaimer = new MemoryReclaimer({
    held: () => rtmp.server.bufferedBytes,
    onReclaim: (released, ms) =>
      logger.info({ releasedBytes: released, gcMs: Math.round(ms) }, 'collected the memory RTMP peers had held'),
  }).start();
  if (!mallocReturnsLargeBuffers(process.env)) {
    logger.info(
      `${MMAP_THRESHOLD_ENV} is not set: memory freed after an attack may stay resident (pnpm start sets it)`,
    );
  }
  let rtmpPort: number | undefined;
  let rtmpsPort: number | undefined;
  let httpsPort: number | undefined;
  try {
    if (config.rtmpPort !== null) rtmpPort = (await rtmp.listen()).port;
    if (deps.tls && config.rtmpsPort !== null) rtmpsPort = (await rtmp.listenTls(deps.tls)).port;
    await http.listen({ port: config.httpPort, host: config.httpHost });
    httpsPort = (await http.httpsListener?.listen(config.httpsPort ?? DEFAULT_HTTPS_PORT, config.httpHost))?.port;
  } catch (err) {
    await Promise.all([rtmp.close(), http.close()]);
    throw err;
  }
  const httpAddr = http.server.address();
  const httpPort = typeof httpAddr === 'object' && httpAddr ? httpAddr.port : config.httpPort;
  logger.info(
    {
      ...(rtmpPort !== undefined ? { rtmpPort } : {}),
      ...(rtmpsPort !== undefined ? { rtmpsPort } : {}),
      httpPort,
      ...(httpsPort !== undefined ? { httpsPort } : {}),
      outputDir: config.outputDir,
    },
    'listening',
  );
  let closing: Promise<void> | undefined;
  return {
    http,
    rtmp,
    manager,
    metrics,
    httpPort,
    rtmpPort,
    config,
    rtmpsPort,
    httpsPort,
    // Both or neither: readTlsFiles checked the pair, so the first cannot fail where the second would not.
    reloadTls: (tls) => {
      rtmp.server.setSecureContext(tls);
      http.httpsListener?.setSecureContext(tls);
    },
    close() {
      closing ??= (async () => {
        reclaimer.stop();
        await Promise.all([manager.shutdown(), rtmp.close()]);
        await http.close();
      })();
      return closing;
    },
    killChildren: () => manager.killAll(),
  };
}
