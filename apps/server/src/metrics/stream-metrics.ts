/**
 * Series read off the live streams on each scrape: how many are live, and per stream (label
 * `username`) bytes in, bitrate, viewers, segment age, FFmpeg restarts and dropped frames. The
 * label set is rebuilt on every scrape, so a stream's series disappear with it, and at most
 * `maxStreams` streams get series (the ones live longest), so cardinality stays bounded whatever
 * publishers do.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { StreamInfo, StreamRegistry } from '../streams/registry';

/** Streams that get per-stream series by default. */
export const DEFAULT_MAX_STREAM_SERIES = 100;

export const STREAM_METRIC_NAMES = Object.freeze({
  streamsLive: 'hls_streams_live',
  bytesIn: 'stream_bytes_in_total',
  bitrate: 'stream_bitrate_bits_per_second',
  viewers: 'stream_viewers',
  segmentAge: 'hls_segment_age_seconds',
  ffmpegRestarts: 'stream_ffmpeg_restarts_total',
  droppedFrames: 'stream_dropped_frames_total',
});

export interface ObserveStreamsOptions {
  /** Most streams with per-stream series. Default {@link DEFAULT_MAX_STREAM_SERIES}. */
  maxStreams?: number;
  /** Clock for segment ages (ms since epoch). Default `Date.now`. */
  now?: () => number;
}

type PerStream = {
  name: string;
  help: string;
  kind: 'counter' | 'gauge';
  value(s: StreamInfo, now: number): number | undefined;
};

const PER_STREAM: readonly PerStream[] = [
  { name: STREAM_METRIC_NAMES.bytesIn, kind: 'counter', help: 'Media bytes received', value: (s) => s.bytesIn },
  {
    name: STREAM_METRIC_NAMES.bitrate,
    kind: 'gauge',
    help: 'Inbound media bitrate over the last few seconds',
    value: (s) => s.bitrate,
  },
  { name: STREAM_METRIC_NAMES.viewers, kind: 'gauge', help: 'Distinct viewers seen recently', value: (s) => s.viewers },
  {
    name: STREAM_METRIC_NAMES.segmentAge,
    kind: 'gauge',
    help: 'Seconds since the newest HLS segment of the stream was listed (grows while a live stream stalls)',
    value: (s, now) => (s.lastSegmentAt === undefined ? undefined : Math.max(0, (now - s.lastSegmentAt) / 1000)),
  },
  {
    name: STREAM_METRIC_NAMES.ffmpegRestarts,
    kind: 'counter',
    help: "Restarts of the stream's FFmpeg after a crash",
    value: (s) => s.ffmpegRestarts,
  },
  {
    name: STREAM_METRIC_NAMES.droppedFrames,
    kind: 'counter',
    help: 'Frames dropped because FFmpeg could not keep up',
    value: (s) => s.droppedFrames,
  },
];

/** Registers the stream series on `registry`, read from `streams` on each scrape. */
export function observeStreams(registry: Registry, streams: StreamRegistry, options: ObserveStreamsOptions = {}): void {
  const max = options.maxStreams ?? DEFAULT_MAX_STREAM_SERIES;
  const now = options.now ?? Date.now;
  const registers = [registry];
  // One snapshot per scrape, shared by every series (collects run one after another, in order).
  let snapshot: StreamInfo[] = [];
  new Gauge({
    name: STREAM_METRIC_NAMES.streamsLive,
    help: 'Streams currently live',
    registers,
    collect(this: Gauge) {
      snapshot = streams.list();
      this.set(snapshot.filter((s) => s.state === 'live').length);
    },
  });
  for (const spec of PER_STREAM) {
    const collect = function (this: Gauge<'username'> | Counter<'username'>) {
      this.reset();
      const t = now();
      const chosen = [...snapshot].sort((a, b) => a.since - b.since).slice(0, max);
      for (const s of chosen) {
        const v = spec.value(s, t);
        if (v === undefined) continue;
        if (this instanceof Gauge) this.set({ username: s.username }, v);
        else this.inc({ username: s.username }, v);
      }
    };
    const common = { name: spec.name, help: spec.help, labelNames: ['username'] as const, registers, collect };
    if (spec.kind === 'gauge') new Gauge(common);
    else new Counter(common);
  }
}
