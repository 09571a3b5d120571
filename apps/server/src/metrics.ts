/**
 * Prometheus metrics of the ingest service, on a registry owned by the caller (never prom-client's
 * global one), so two servers in one process (tests) never share or collide on series.
 *
 * The ingest side increments the counters and the connection gauge; `streamsLive` and
 * `segmentAgeSeconds` are computed on each scrape from the `StreamRegistry` when one is given;
 * `httpRequestsTotal` is maintained by the HTTP app (`buildHttpApp`).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { StreamRegistry } from './stream-registry';

/** Names of every metric this module defines (default process metrics come on top). */
export const METRIC_NAMES = Object.freeze({
  rtmpConnectionsTotal: 'rtmp_connections_total',
  rtmpConnectionsActive: 'rtmp_connections_active',
  publishesTotal: 'rtmp_publishes_total',
  streamsLive: 'hls_streams_live',
  bytesInTotal: 'rtmp_bytes_in_total',
  ffmpegRestartsTotal: 'ffmpeg_restarts_total',
  droppedFramesTotal: 'rtmp_dropped_frames_total',
  segmentAgeSeconds: 'hls_segment_age_seconds',
  httpRequestsTotal: 'http_requests_total',
});

/** Route classes of `http_requests_total`; anything unclassified counts as `other`. */
export type HttpRouteClass = 'playlist' | 'segment' | 'page' | 'other';

/**
 * Segment files looked at per stream when computing `hls_segment_age_seconds`. FFmpeg keeps
 * `hlsListSize` (≤ 100) segments plus a few being deleted, so a directory past this is not ours
 * to scan further on a scrape.
 */
export const MAX_SEGMENT_SCAN = 512;

const SEGMENT_FILE = /^live_\d{3,20}\.ts$/;

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
   * `hls_streams_live`: streams whose state is `live`. Computed from the StreamRegistry on scrape
   * when `createMetrics` got one (then `set()` by hand is overwritten); else set by the caller.
   */
  readonly streamsLive: Gauge;
  /** `rtmp_bytes_in_total`: bytes read from RTMP publishers' sockets. */
  readonly bytesInTotal: Counter;
  /** `ffmpeg_restarts_total`: FFmpeg processes restarted after an unexpected exit. */
  readonly ffmpegRestartsTotal: Counter;
  /** `rtmp_dropped_frames_total`: media frames dropped because FFmpeg's stdin could not keep up. */
  readonly droppedFramesTotal: Counter;
  /**
   * `hls_segment_age_seconds{username}`: seconds since the newest segment file of each live stream
   * was last written (a stalled encoder shows as a growing value). Labelled by username: the label
   * set is bounded by the live streams and is rebuilt on every scrape, so ended streams disappear.
   * Only computed when `createMetrics` got a StreamRegistry.
   */
  readonly segmentAgeSeconds: Gauge<'username'>;
  /** `http_requests_total{route,status}`: HTTP responses by route class (`HttpRouteClass`) and status code. */
  readonly httpRequestsTotal: Counter<'route' | 'status'>;
}

export interface CreateMetricsOptions {
  /** Registry to register into. Default: a new `Registry`. */
  registry?: Registry;
  /** Live streams, read on each scrape for `hls_streams_live` and `hls_segment_age_seconds`. */
  streams?: StreamRegistry;
  /** Clock for segment ages (ms since epoch). Default: `Date.now`. */
  now?: () => number;
}

/** Newest mtime (ms) among the segment files of `dir`, or undefined when there is none. */
async function newestSegmentMtime(dir: string): Promise<number | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  let newest: number | undefined;
  let scanned = 0;
  for (const name of names) {
    if (!SEGMENT_FILE.test(name)) continue;
    if (++scanned > MAX_SEGMENT_SCAN) break;
    try {
      const s = await stat(join(dir, name));
      if (s.isFile() && (newest === undefined || s.mtimeMs > newest)) newest = s.mtimeMs;
    } catch {
      // Deleted by FFmpeg between readdir and stat: the rolling window moved on.
    }
  }
  return newest;
}

/**
 * Sampling period of the `nodejs_eventloop_lag_*` histogram (ms). prom-client's default, 10 ms,
 * runs a timer that wakes the event loop 100 times a second even when nothing else happens: it was
 * the whole of the idle server's CPU (0.009 cores measured on the development machine, against
 * ~0.001 at 100 ms). At 100 ms a stall still shows up whenever it overlaps a sample, which every
 * stall longer than 100 ms does.
 */
export const EVENT_LOOP_MONITORING_PRECISION_MS = 100;

/** Creates the service's metrics on `opts.registry` (default: a fresh one). */
export function createMetrics(opts: CreateMetricsOptions = {}): Metrics {
  const registry = opts.registry ?? new Registry();
  const streams = opts.streams;
  const now = opts.now ?? Date.now;
  const registers = [registry];

  // A registry handed in may already carry the default metrics; registering them twice throws.
  if (registry.getSingleMetric('process_cpu_user_seconds_total') === undefined) {
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_MONITORING_PRECISION_MS });
  }

  const streamsLive = new Gauge({
    name: METRIC_NAMES.streamsLive,
    help: 'Streams currently live',
    registers,
    collect: streams
      ? function (this: Gauge) {
          let n = 0;
          for (const s of streams.list()) if (s.state === 'live') n++;
          this.set(n);
        }
      : undefined,
  });

  const segmentAgeSeconds = new Gauge<'username'>({
    name: METRIC_NAMES.segmentAgeSeconds,
    help: 'Seconds since the newest HLS segment of each live stream was written',
    labelNames: ['username'],
    registers,
    collect: streams
      ? async function (this: Gauge<'username'>) {
          const live = streams.list().filter((s) => s.state === 'live');
          const ages = await Promise.all(live.map(async (s) => [s.username, await newestSegmentMtime(s.dir)] as const));
          this.reset();
          const t = now();
          for (const [username, mtime] of ages) {
            if (mtime !== undefined) this.set({ username }, Math.max(0, (t - mtime) / 1000));
          }
        }
      : undefined,
  });

  return {
    registry,
    rtmpConnectionsTotal: new Counter({
      name: METRIC_NAMES.rtmpConnectionsTotal,
      help: 'RTMP TCP connections accepted',
      registers,
    }),
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
    streamsLive,
    bytesInTotal: new Counter({
      name: METRIC_NAMES.bytesInTotal,
      help: 'Bytes received from RTMP publishers',
      registers,
    }),
    ffmpegRestartsTotal: new Counter({
      name: METRIC_NAMES.ffmpegRestartsTotal,
      help: 'FFmpeg processes restarted after an unexpected exit',
      registers,
    }),
    droppedFramesTotal: new Counter({
      name: METRIC_NAMES.droppedFramesTotal,
      help: 'Media frames dropped because FFmpeg could not keep up',
      registers,
    }),
    segmentAgeSeconds,
    httpRequestsTotal: new Counter<'route' | 'status'>({
      name: METRIC_NAMES.httpRequestsTotal,
      help: 'HTTP responses by route class (playlist|segment|page|other) and status code',
      labelNames: ['route', 'status'],
      registers,
    }),
  };
}
