/**
 * What a peer can make the assembled server write and count: refused publishes log bounded,
 * redacted lines (no stream key or signature in clear, however the client splits its URL), at a
 * bounded rate; the RTMP admission limits are options that count in `/metrics` when they trip.
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { hashStreamKey } from '@org/auth';
import { RtmpClient } from '@org/rtmp';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../src/app';
import { loadConfig } from '../src/config';
import { resolveBinary } from '../src/ffmpeg-resolve';

const root = mkdtempSync(join(tmpdir(), 'ingest-limits-test-'));
const SECRET_KEY = 'alice-real-key-0001';
let server: RunningServer;
const lines: Record<string, unknown>[] = [];
let logText = '';
const clients: RtmpClient[] = [];

beforeAll(async () => {
  const { config } = loadConfig({
    argv: [
      ...['--http-port', '0', '--rtmp-host', '127.0.0.1', '--http-host', '127.0.0.1'],
      ...['--output-dir', join(root, 'out'), '--publish-timeout-ms', '300'],
      ...['--rtmp-max-connections-per-address', '20'],
    ],
  });
  config.auth = { streamKeys: { keys: { alice: await hashStreamKey(SECRET_KEY) } } };
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      const text = chunk.toString();
      logText += text;
      for (const l of text.split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  // In code, port 0 is net's ephemeral port (from the command line it turns RTMP off).
  server = await startServer({ config: { ...config, rtmpPort: 0 }, logger, ffmpeg: await resolveBinary('ffmpeg') });
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.destroy();
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

async function attempt(app: string, name: string): Promise<void> {
  const c = await RtmpClient.connect({ host: '127.0.0.1', port: server.rtmpPort, app });
  clients.push(c);
  await c.publish(name).then(
    () => {
      throw new Error(`${app} + ${name} was accepted`);
    },
    () => undefined,
  );
  c.destroy();
}

const refusedLines = () => lines.filter((l) => l.msg === 'publish refused');

async function metric(name: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${server.httpPort}/metrics`);
  return (await res.text())
    .split('\n')
    .filter((l) => l.startsWith(name))
    .join('\n');
}

describe('log lines a peer causes', () => {
  it('never carry a stream key, wherever the client put it, nor a name beyond 256 characters', async () => {
    const wrong = 'wrong-key-9f8e7d';
    await attempt(`live/test?key=${wrong}`, 'alice'); // OBS-style: the query in the server URL
    await attempt('live/test', `alice?key=${wrong}&sig=abcdef0123`);
    await attempt('live/test', `${'n'.repeat(100_000)}?key=${wrong}`);
    const refused = refusedLines();
    expect(refused.length).toBe(3);
    expect(logText).not.toContain(wrong);
    expect(logText).not.toContain('abcdef0123');
    expect(logText).toContain('[redacted]');
    for (const l of refused) {
      expect(String(l.app).length).toBeLessThanOrEqual(300);
      expect(String(l.name ?? '').length).toBeLessThanOrEqual(300);
    }
    expect(logText.length).toBeLessThan(20_000);
  });

  it('a refusal flood logs a bounded burst (the rest are counted, not written)', async () => {
    const before = refusedLines().length;
    for (let i = 0; i < 25; i++) await attempt('live/test', 'alice?key=nope');
    const during = refusedLines().slice(before);
    expect(during.length).toBeGreaterThan(0);
    // At most a burst of 10 per kind of refusal in 10 s (wrong key, then rate-limited).
    const perCode = new Map<unknown, number>();
    for (const l of during) perCode.set(l.code, (perCode.get(l.code) ?? 0) + 1);
    for (const n of perCode.values()) expect(n).toBeLessThanOrEqual(10);
    expect(during.length).toBeLessThan(25);
  });
});

describe('stream-key attempts', () => {
  it('an address that keeps failing is refused unchecked (limit_trips_total{limit="auth_failure_rate"})', async () => {
    // The earlier tests' wrong keys came from 127.0.0.1 too: it is past its 5 failures a minute.
    const c = await RtmpClient.connect({ host: '127.0.0.1', port: server.rtmpPort, app: 'live/test' });
    clients.push(c);
    const err = await c.publish(`alice?key=${SECRET_KEY}`).then(
      () => undefined,
      (e: { status?: string; description?: string }) => e,
    );
    expect(err?.status).toBe('NetStream.Publish.Unauthorized');
    expect(err?.description).toMatch(/too many failed stream keys; retry in \d+ s/);
    expect(await metric('limit_trips_total{limit="auth_failure_rate"}')).toMatch(/ [1-9]\d*$/);
    expect(logText).not.toContain(SECRET_KEY);
  });
});

describe('admission limits in /metrics', () => {
  it('counts a connection that connects and never publishes (publishTimeout)', async () => {
    const c = await RtmpClient.connect({ host: '127.0.0.1', port: server.rtmpPort, app: 'live/test' });
    clients.push(c);
    await new Promise<void>((resolve) => c.once('close', () => resolve()));
    expect(await metric('limit_trips_total{limit="rtmp_publish_timeout"}')).toMatch(/ 1$/);
    expect(await metric('rtmp_buffered_bytes')).toMatch(/^rtmp_buffered_bytes \d+$/m);
  });
});
