import { collectDefaultMetrics, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics, METRIC_NAMES } from '../src/metrics/metrics';
import { observeStreams, STREAM_METRIC_NAMES } from '../src/metrics/stream-metrics';
import { FakeRegistry, streamInfo } from './helpers/streams';

describe('createMetrics', () => {
  it('registers every metric on its own registry, so two instances never collide', async () => {
    const a = createMetrics();
    const b = createMetrics();
    expect(a.registry).not.toBe(b.registry);
    a.rtmpConnectionsTotal.inc();
    a.publishesTotal.inc({ result: 'refused', reason: 'ERR_AUTH_NO_MATCH' });
    a.bytesInTotal.inc(1000);
    const textA = await a.registry.metrics();
    const textB = await b.registry.metrics();
    for (const name of Object.values(METRIC_NAMES)) {
      expect(textA).toContain(`# HELP ${name} `);
      expect(textB).toContain(`# HELP ${name} `);
    }
    expect(textA).toMatch(/^rtmp_connections_total 1$/m);
    expect(textB).toMatch(/^rtmp_connections_total 0$/m);
    expect(textA).toMatch(/^rtmp_publishes_total\{result="refused",reason="ERR_AUTH_NO_MATCH"\} 1$/m);
    expect(textA).toMatch(/^rtmp_bytes_in_total 1000$/m);
    expect(textA).toContain('process_resident_memory_bytes');
  });

  it('accepts a registry that already has the default metrics', async () => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const metrics = createMetrics({ registry });
    expect(metrics.registry).toBe(registry);
    expect(await registry.metrics()).toContain('# TYPE rtmp_connections_active gauge');
  });

  it('reports event-loop lag without the sampling period (an idle loop lags far less than 10 ms)', async () => {
    const m = createMetrics();
    await new Promise((r) => setTimeout(r, 1200)); // a dozen samples of the 100 ms histogram
    const text = await m.registry.metrics();
    for (const stat of ['min', 'mean', 'p50', 'p90', 'p99', 'max']) {
      const v = Number(new RegExp(`^nodejs_eventloop_lag_${stat}_seconds (\\S+)$`, 'm').exec(text)?.[1]);
      expect(v, stat).toBeGreaterThanOrEqual(0);
      expect(v, stat).toBeLessThan(0.01);
    }
    const elu = Number(/^nodejs_eventloop_utilization (\S+)$/m.exec(text)?.[1]);
    expect(elu).toBeGreaterThanOrEqual(0);
    expect(elu).toBeLessThanOrEqual(1);
  });
});

describe('observeStreams', () => {
  it('gives each stream its series on scrape, removes them with the stream, and caps how many streams get them', async () => {
    const now = Date.parse('2024-06-01T12:00:00Z');
    const registry = new FakeRegistry()
      .add(streamInfo('a', '/x/a', { since: 1, bytesIn: 5000, bitrate: 64000, viewers: 2, lastSegmentAt: now - 4000 }))
      .add(streamInfo('b', '/x/b', { since: 2, ffmpegRestarts: 1, droppedFrames: 7 }))
      .add(streamInfo('c', '/x/c', { since: 3, state: 'reconnecting' }));
    const m = createMetrics();
    observeStreams(m.registry, registry, { now: () => now, maxStreams: 2 });
    let text = await m.registry.metrics();
    expect(text).toMatch(/^hls_streams_live 2$/m);
    expect(text).toMatch(/^hls_segment_age_seconds\{username="a"\} 4$/m);
    expect(text).toMatch(/^stream_bytes_in_total\{username="a"\} 5000$/m);
    expect(text).toMatch(/^stream_bitrate_bits_per_second\{username="a"\} 64000$/m);
    expect(text).toMatch(/^stream_viewers\{username="a"\} 2$/m);
    expect(text).toMatch(/^stream_ffmpeg_restarts_total\{username="b"\} 1$/m);
    expect(text).toMatch(/^stream_dropped_frames_total\{username="b"\} 7$/m);
    expect(text).not.toMatch(/hls_segment_age_seconds\{username="b"\}/); // no segment yet
    expect(text).not.toMatch(/username="c"/); // over the cap: the two live longest get series
    for (const name of Object.values(STREAM_METRIC_NAMES)) expect(text).toContain(`# TYPE ${name} `);
    registry.delete('a');
    text = await m.registry.metrics();
    expect(text).toMatch(/^hls_streams_live 1$/m);
    expect(text).not.toMatch(/username="a"/);
    expect(text).toMatch(/^stream_viewers\{username="c"\} 0$/m);
  });
});
