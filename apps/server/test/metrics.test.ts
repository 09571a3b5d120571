import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics, METRIC_NAMES } from '../src/metrics';
import type { StreamInfo, StreamRegistry } from '../src/stream-registry';
import { streamInfo } from './helpers/streams';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'metrics-test-'));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

function info(username: string, dir: string, state: StreamInfo['state']): StreamInfo {
  return streamInfo(username, dir, { app: undefined, state });
}

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

  it('collects live streams and the age of each live stream newest segment on scrape', async () => {
    const now = Date.parse('2024-06-01T12:00:00Z');
    const dirA = join(tmp, 'a');
    const dirB = join(tmp, 'b');
    await mkdir(dirA);
    await mkdir(dirB);
    for (const [name, secondsAgo] of [
      ['live_000.ts', 9],
      ['live_001.ts', 4],
      ['live.m3u8', 1], // not a segment: ignored
    ] as const) {
      await writeFile(join(dirA, name), 'x');
      const t = new Date(now - secondsAgo * 1000);
      await utimes(join(dirA, name), t, t);
    }
    const streams = new Map<string, StreamInfo>([
      ['a', info('a', dirA, 'live')],
      ['b', info('b', dirB, 'live')], // no segment yet: no sample
      ['c', info('c', join(tmp, 'missing'), 'reconnecting')],
    ]);
    const registry: StreamRegistry = { list: () => [...streams.values()], get: (u) => streams.get(u) };
    const m = createMetrics({ streams: registry, now: () => now });
    let text = await m.registry.metrics();
    expect(text).toMatch(/^hls_streams_live 2$/m);
    expect(text).toMatch(/^hls_segment_age_seconds\{username="a"\} 4$/m);
    expect(text).not.toMatch(/username="b"/);
    expect(text).not.toMatch(/username="c"/);
    streams.delete('a');
    text = await m.registry.metrics();
    expect(text).toMatch(/^hls_streams_live 1$/m);
    expect(text).not.toMatch(/hls_segment_age_seconds\{/);
  });
});
