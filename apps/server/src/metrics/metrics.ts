/**
 * Prometheus metrics of the ingest service, on a registry owned by the caller (never prom-client's
 * global one), so two servers in one process (tests) never share or collide on series.
 *
 * The ingest side increments the counters and the connection gauge; the HTTP app maintains
 * `httpRequestsTotal`. What is read off the live streams (`streamsLive` and the per-stream series)
 * is registered afterwards by {@link observeStreams}, so the metrics exist before the streams do
 * and neither needs the other to be built.
 */
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { replaceEventLoopLag } from './event-loop';

/** Names of every metric this module defines (default process metrics come on top). */
export const METRIC_NAMES = Object.freeze({
  rtmpConnectionsTotal: 'rtmp_connections_total',
  rtmpConnectionsActive: 'rtmp_connections_active',
  publishesTotal: 'rtmp_publishes_total',
  adobeLoginsTotal: 'rtmp_adobe_logins_total',
  bytesInTotal: 'rtmp_bytes_in_total',
  ffmpegRestartsTotal: 'ffmpeg_restarts_total',
  ffmpegStallsTotal: 'ffmpeg_stalls_total',
  segmentWriteErrorsTotal: 'hls_segment_write_errors_total',
  droppedFramesTotal: 'rtmp_dropped_frames_total',
  httpRequestsTotal: 'http_requests_total',
  segmentsOverTargetTotal: 'hls_segments_over_target_total',
  limitTripsTotal: 'limit_trips_total',
});

/** Registered by {@link observeRtmpBufferedBytes} once an RTMP listener exists to read it from. */
export const RTMP_BUFFERED_BYTES = 'rtmp_buffered_bytes';

/** Registered by {@link observeHttpConnections} once an HTTP server exists to read it from. */
export const HTTP_CONNECTIONS_ACTIVE = 'http_connections_active';

/**
 * The `limit` label of `limit_trips_total`: each protective limit that can refuse or drop something
 * a peer asked for. A bounded set, never user input.
 */
export type LimitName =
  | 'rtmp_max_connections'
  | 'rtmp_max_connections_per_address'
  | 'rtmp_max_handshakes'
  | 'rtmp_max_buffered_bytes'
  | 'rtmp_control_rate'
  | 'rtmp_publish_timeout'
  | 'rtmp_handshake_timeout'
  | 'rtmp_idle_timeout'
  | 'rtmp_write_buffer'
  | 'rtmp_message_limits'
  | 'ingest_bitrate'
  | 'max_streams'
  | 'viewers_per_address'
  | 'auth_failure_rate'
  | 'auth_check_queue'
  | 'adobe_login_failure_rate'
  | 'adobe_challenge_table'
  | 'http_max_connections'
  | 'http_max_connections_per_address';

/** Route classes of `http_requests_total`; anything unclassified counts as `other`. */
export type HttpRouteClass = 'playlist' | 'segment' | 'page' | 'other';

/** The `protocol` label of `http_requests_total`: HTTP/1.x plain, HTTP/1.x over TLS, HTTP/2 (over TLS). */
export type HttpProtocol = 'http' | 'https' | 'h2';

export interface Metrics {
  /** The registry holding every metric below plus the default process metrics; scrape this. */
  readonly registry: Registry;
  /** `rtmp_connections_total`: TCP connections accepted by the RTMP listener. */
  readonly rtmpConnectionsTotal: Counter;
  /** `rtmp_connections_active`: RTMP connections currently open (inc on accept, dec on close). */
  readonly rtmpConnectionsActive: Gauge;
  /**
   * `rtmp_publishes_total{result,reason}`: publish attempts. `result` is `accepted` or `refused`;
   * `reason` is a bounded code: `ok` when accepted, else an @org/auth deny code (`ERR_AUTH_NO_MATCH`, …),
   * `duplicate`, `codec`, … Never put user input (usernames, paths) in `reason`.
   */
  readonly publishesTotal: Counter<'result' | 'reason'>;
  /**
   * `rtmp_adobe_logins_total{result,reason}`: steps of the Adobe challenge login at connect.
   * `result` is `challenged` (reason `need_auth` or `needauth`: a refusal that starts or continues
   * the login), `accepted` (`ok`) or `refused` (an @org/auth `AdobeDenyCode`).
   */
  readonly adobeLoginsTotal: Counter<'result' | 'reason'>;
  /** `rtmp_bytes_in_total`: bytes read from RTMP publishers' sockets. */
  readonly bytesInTotal: Counter;
  /** `ffmpeg_restarts_total`: FFmpeg processes restarted after an unexpected exit. */
  readonly ffmpegRestartsTotal: Counter;
  /** `ffmpeg_stalls_total`: FFmpeg processes killed and restarted because they stopped producing segments. */
  readonly ffmpegStallsTotal: Counter;
  /**
   * `hls_segment_write_errors_total`: failed segment writes: FFmpeg's write-error lines, and segments
   * rejected (never listed) as empty, cut off or missing for reasons FFmpeg did not print.
   */
  readonly segmentWriteErrorsTotal: Counter;
  /** `rtmp_dropped_frames_total`: media frames dropped because FFmpeg's stdin could not keep up. */
  readonly droppedFramesTotal: Counter;
  /** `http_requests_total{route,status,protocol}`: HTTP responses by route class (`HttpRouteClass`), status code and `HttpProtocol`. */
  readonly httpRequestsTotal: Counter<'route' | 'status' | 'protocol'>;
  /** `hls_segments_over_target_total`: segments longer than their playlist's target duration allows. */
  readonly segmentsOverTargetTotal: Counter;
  /** `limit_trips_total{limit}`: times a protective limit refused or dropped something (see {@link LimitName}). */
  readonly limitTripsTotal: Counter<'limit'>;
}

/** Registers `rtmp_buffered_bytes`: what RTMP peers make the server hold now (read at scrape time). */
export function observeRtmpBufferedBytes(metrics: Metrics, read: () => number): void {
  new Gauge({
    name: RTMP_BUFFERED_BYTES,
    help: 'Bytes RTMP peers make the server hold: partial and queued messages, unsent output',
    registers: [metrics.registry],
    collect() {
      this.set(read());
    },
  });
}

/**
 * Registers `http_connections_active`: HTTP connections open now (read at scrape time). A second
 * HTTP app on the same registry replaces the first one's reader.
 */
export function observeHttpConnections(metrics: Metrics, read: () => number): void {
  metrics.registry.removeSingleMetric(HTTP_CONNECTIONS_ACTIVE);
  new Gauge({
    name: HTTP_CONNECTIONS_ACTIVE,
    help: 'HTTP connections currently open (idle keep-alive ones included)',
    registers: [metrics.registry],
    collect() {
      this.set(read());
    },
  });
}

export interface CreateMetricsOptions {
  /** Registry to register into. Default: a new `Registry`. */
  registry?: Registry;
}

/** Creates the service's metrics on `opts.registry` (default: a fresh one). */
export function createMetrics(opts: CreateMetricsOptions = {}): Metrics {
  const registry = opts.registry ?? new Registry();
  const registers = [registry];
  // A registry handed in may already carry the default metrics; registering them twice throws.
  if (registry.getSingleMetric('process_cpu_user_seconds_total') === undefined) {
    // Its lag histogram is replaced (see event-loop.ts); at 1 s it costs one wake-up a second.
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 1000 });
    replaceEventLoopLag(registry);
  }
  const counter = (name: string, help: string) => new Counter({ name, help, registers });
  return {
    registry,
    rtmpConnectionsTotal: counter(METRIC_NAMES.rtmpConnectionsTotal, 'RTMP TCP connections accepted'),
    rtmpConnectionsActive: new Gauge({
      name: METRIC_NAMES.rtmpConnectionsActive,
      help: 'RTMP connections currently open',
      registers,
    }),
    publishesTotal: new Counter<'result' | 'reason'>({
      name: METRIC_NAMES.publishesTotal,
      help: 'RTMP publish attempts by result (accepted|refused) and bounded reason code',
      labelNames: ['result', 'reason'],
      registers,
    }),
    adobeLoginsTotal: new Counter<'result' | 'reason'>({
      name: METRIC_NAMES.adobeLoginsTotal,
      help: 'Adobe challenge login steps at RTMP connect by result (challenged|accepted|refused) and bounded reason code',
      labelNames: ['result', 'reason'],
      registers,
    }),
    bytesInTotal: counter(METRIC_NAMES.bytesInTotal, 'Bytes received from RTMP publishers'),
    ffmpegRestartsTotal: counter(
      METRIC_NAMES.ffmpegRestartsTotal,
      'FFmpeg processes restarted after an unexpected exit',
    ),
    ffmpegStallsTotal: counter(
      METRIC_NAMES.ffmpegStallsTotal,
      'FFmpeg processes killed and restarted because they stopped producing segments while fed',
    ),
    segmentWriteErrorsTotal: counter(
      METRIC_NAMES.segmentWriteErrorsTotal,
      'HLS segment writes that failed (FFmpeg write errors, segments rejected as incomplete)',
    ),
    droppedFramesTotal: counter(
      METRIC_NAMES.droppedFramesTotal,
      'Media frames dropped because FFmpeg could not keep up',
    ),
    httpRequestsTotal: new Counter<'route' | 'status' | 'protocol'>({
      name: METRIC_NAMES.httpRequestsTotal,
      help: 'HTTP responses by route class (playlist|segment|page|other), status code and protocol (http|https|h2)',
      labelNames: ['route', 'status', 'protocol'],
      registers,
    }),
    segmentsOverTargetTotal: counter(
      METRIC_NAMES.segmentsOverTargetTotal,
      "HLS segments longer than their playlist's target duration (the publisher's keyframe interval grew)",
    ),
    limitTripsTotal: new Counter<'limit'>({
      name: METRIC_NAMES.limitTripsTotal,
      help: 'Times a protective limit refused or dropped something a peer asked for, by limit',
      labelNames: ['limit'],
      registers,
    }),
  };
}
