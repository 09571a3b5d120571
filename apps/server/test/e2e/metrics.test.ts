/**
 * `/metrics` of the built server: on an idle server the event-loop lag series read under 10 ms (the
 * 100 ms sampling period is not lag); a real ffmpeg publisher's stream gets its per-stream series
 * (label `username`), which grow while it publishes and disappear once the stream is gone.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poll } from '../helpers/media';
import { ffmpegPublisher, killAll, type Server, sleep, startServer, waitForPlaylist } from './helpers/ingest';

let tmp: string;
let server: Server;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'e2e-metrics-'));
  server = await startServer(join(tmp, 'out'), ['--reconnect-grace-ms', '500', '--cleanup-delay-ms', '200']);
});

afterAll(async () => {
  await killAll();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function scrape(): Promise<string> {
  const r = await fetch(server.url('/metrics'), { signal: AbortSignal.timeout(5000) });
  expect(r.status).toBe(200);
  return r.text();
}

/** The value of one series line (`name{labels} value`), or undefined when it is not there. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('/metrics', () => {
  it('reports event-loop lag under 10 ms on an idle server', async () => {
    await scrape(); // starts a fresh interval for the lag histogram
    await sleep(1500);
    const text = await scrape();
    for (const stat of ['min', 'mean', 'p50', 'p90', 'p99', 'max']) {
      const v = value(text, `nodejs_eventloop_lag_${stat}_seconds`);
      expect(v, stat).toBeGreaterThanOrEqual(0);
      expect(v, stat).toBeLessThan(0.01);
    }
  });

  it('gives a stream its own series while it lives and removes them when it is gone', async () => {
    const series = (name: string) => `${name}{username="metered"}`;
    expect(await scrape()).not.toContain('username="metered"');
    const publisher = ffmpegPublisher(`rtmp://127.0.0.1:${server.rtmpPort}/live/test/metered`, { seconds: 5 });
    await waitForPlaylist(server, 'metered', 2);
    await fetch(server.url('/stream/metered/live.m3u8')).then((r) => r.text()); // one viewer
    const live = await scrape();
    expect(value(live, 'hls_streams_live')).toBe(1);
    expect(value(live, series('stream_bytes_in_total'))).toBeGreaterThan(10_000);
    expect(value(live, series('stream_bitrate_bits_per_second'))).toBeGreaterThan(10_000);
    expect(value(live, series('stream_viewers'))).toBeGreaterThanOrEqual(1);
    expect(value(live, series('hls_segment_age_seconds'))).toBeLessThan(5);
    expect(value(live, series('stream_ffmpeg_restarts_total'))).toBe(0);
    expect(value(live, series('stream_dropped_frames_total'))).toBe(0);
    await sleep(1000);
    const later = await scrape();
    expect(value(later, series('stream_bytes_in_total'))).toBeGreaterThan(
      value(live, series('stream_bytes_in_total')) as number,
    );

    await publisher.exited;
    const gone = await poll(async () => {
      const text = await scrape();
      return text.includes('username="metered"') ? undefined : text;
    }, 10_000);
    expect(value(gone, 'hls_streams_live')).toBe(0);
  }, 40_000);
});
