/**
 * Event-loop lag that means lag. Node's `monitorEventLoopDelay` records the time between two
 * ticks of its sampling timer, so every sample includes the timer's own period: prom-client's
 * `nodejs_eventloop_lag_{min,max,mean,p50,p90,p99}_seconds` read about 0.100 s on an idle server
 * sampled every 100 ms. Here the same series are computed from a histogram of our own with the
 * resolution subtracted, and `nodejs_eventloop_utilization` (the share of the time since the last
 * scrape the loop was busy, `performance.eventLoopUtilization`) is added beside them.
 */
import { type EventLoopUtilization, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

/**
 * Sampling period of the lag histogram (ms). A 10 ms timer wakes the event loop 100 times a second
 * even when nothing else happens: it was the whole of the idle server's CPU (0.009 cores measured
 * on the development machine, against ~0.001 at 100 ms). Any stall still shows: a tick that comes
 * late by the stall's length.
 */
export const EVENT_LOOP_RESOLUTION_MS = 100;

const HISTOGRAM_SERIES = {
  min: 'nodejs_eventloop_lag_min_seconds',
  max: 'nodejs_eventloop_lag_max_seconds',
  mean: 'nodejs_eventloop_lag_mean_seconds',
  stddev: 'nodejs_eventloop_lag_stddev_seconds',
  p50: 'nodejs_eventloop_lag_p50_seconds',
  p90: 'nodejs_eventloop_lag_p90_seconds',
  p99: 'nodejs_eventloop_lag_p99_seconds',
} as const;

type Stat = keyof typeof HISTOGRAM_SERIES;

/**
 * Swaps prom-client's resolution-inflated lag series on `registry` for corrected ones. Call right
 * after `collectDefaultMetrics({ register: registry })`.
 */
export function replaceEventLoopLag(registry: Registry): void {
  const histogram = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  histogram.enable();
  const resolutionNs = EVENT_LOOP_RESOLUTION_MS * 1e6;
  const values = new Map<Stat, number>();
  const read = () => {
    if (histogram.count === 0) return;
    const lag = (ns: number) => Math.max(0, ns - resolutionNs) / 1e9;
    values.set('min', lag(histogram.min));
    values.set('max', lag(histogram.max));
    values.set('mean', lag(histogram.mean));
    values.set('stddev', histogram.stddev / 1e9);
    values.set('p50', lag(histogram.percentile(50)));
    values.set('p90', lag(histogram.percentile(90)));
    values.set('p99', lag(histogram.percentile(99)));
    histogram.reset();
  };
  for (const [stat, name] of Object.entries(HISTOGRAM_SERIES) as [Stat, string][]) {
    registry.removeSingleMetric(name);
    new Gauge({
      name,
      help: `The ${stat} of the event loop's delays since the last scrape, sampling period excluded, in seconds.`,
      registers: [registry],
      collect(this: Gauge) {
        // The first series collected reads (and resets) the histogram for all of them.
        if (stat === 'min') read();
        const v = values.get(stat);
        if (v !== undefined) this.set(v);
      },
    });
  }
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  new Gauge({
    name: 'nodejs_eventloop_utilization',
    help: 'Share of the time since the last scrape the event loop was busy (0..1).',
    registers: [registry],
    collect(this: Gauge) {
      const now = performance.eventLoopUtilization();
      this.set(performance.eventLoopUtilization(now, last).utilization);
      last = now;
    },
  });
}
