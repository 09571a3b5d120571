/**
 * The assembled server in-process (RTMP listener + auth + stream manager + FFmpeg + HTTP) driven
 * by @org/rtmp's RtmpClient: which publishes are refused and how (status, reason, nothing on
 * disk), duplicate publishers, codec refusal after the publish started, and a stream whose
 * playlist and segments are served over HTTP.
 */
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlvTag } from '@org/flv';
import { type AmfObject, RtmpClient, type RtmpRejection } from '@org/rtmp';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../src/app';
import { loadConfig } from '../src/config';
import { resolveBinary } from '../src/ffmpeg-resolve';
import { makeClip, parsePlaylist, poll, readFlvTags } from './helpers/media';

const root = mkdtempSync(join(tmpdir(), 'ingest-test-'));
const outputDir = join(root, 'out');
let server: RunningServer;
let clip: FlvTag[];
const clients: RtmpClient[] = [];

beforeAll(async () => {
  const { config } = loadConfig({
    argv: [
      ...['--http-port', '0', '--rtmp-host', '127.0.0.1', '--http-host', '127.0.0.1'],
      ...['--output-dir', outputDir, '--reconnect-grace-ms', '300', '--cleanup-delay-ms', '100'],
    ],
  });
  const ffmpeg = await resolveBinary('ffmpeg');
  // In code, port 0 is net's ephemeral port (from the command line it turns RTMP off).
  server = await startServer({
    config: { ...config, rtmpPort: 0 },
    logger: pino({ level: process.env.TEST_LOG ?? 'silent' }),
    ffmpeg,
  });
  clip = await readFlvTags(await makeClip(join(root, 'clip.flv'), { seconds: 3 }));
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.destroy();
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

async function connect(app: string): Promise<RtmpClient> {
  const c = await RtmpClient.connect({ host: '127.0.0.1', port: server.rtmpPort, app });
  clients.push(c);
  return c;
}

async function refusal(app: string, name: string): Promise<RtmpRejection> {
  const c = await connect(app);
  const err = await c.publish(name).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err === undefined) throw new Error(`${app} + ${name} was accepted`);
  return err as RtmpRejection;
}

/** Sends the clip's tags (all, at once, with their own timestamps). */
function sendClip(c: RtmpClient, tags: FlvTag[] = clip) {
  for (const t of tags) {
    if (t.type === 9) c.sendVideo(t.timestamp, t.payload);
    else if (t.type === 8) c.sendAudio(t.timestamp, t.payload);
  }
}

describe('publish authorization', () => {
  it.each([
    ['live/test', '../x', 'NetStream.Publish.BadName'],
    ['live/test/..', 'x', 'NetStream.Publish.BadName'],
    ['other/a', 'b', 'NetStream.Publish.BadName'],
    ['live', 'test/%2e%2e', 'NetStream.Publish.BadName'],
    ['live/test', 'a b', 'NetStream.Publish.BadName'],
    ['live/test/extra', 'bob', 'NetStream.Publish.BadName'],
  ])('refuses app %j + name %j with %s, creating nothing', async (app, name, status) => {
    const err = await refusal(app, name);
    expect(err.status).toBe(status);
    expect(err.description.length).toBeGreaterThan(0);
    expect(existsSync(outputDir) ? readdirSync(outputDir) : []).toEqual([]);
  });

  it('accepts both client splits of /live/test/johndoe', async () => {
    const ffmpegStyle = await connect('live/test');
    await ffmpegStyle.publish('johndoe');
    expect(server.manager.get('johndoe')?.state).toBe('live');
    await ffmpegStyle.close();
    await poll(() => (server.manager.get('johndoe') === undefined ? true : undefined), 5000, 20);
    const obsStyle = await connect('live');
    await obsStyle.publish('test/janedoe');
    expect(server.manager.get('janedoe')).toMatchObject({ state: 'live', app: 'test' });
    await obsStyle.close();
  });
});

describe('publishing', () => {
  it('serves the playlist and refuses a duplicate publisher while the first keeps streaming', async () => {
    const first = await connect('live/test');
    await first.publish('alice');
    sendClip(first);
    const base = `http://127.0.0.1:${server.httpPort}/stream/alice`;
    const pl = await poll(
      async () => {
        const r = await fetch(`${base}/live.m3u8`);
        if (r.status !== 200) return undefined;
        const p = parsePlaylist(await r.text());
        return p.segments.length >= 2 ? p : undefined;
      },
      15_000,
      100,
    );
    const seg = await fetch(`${base}/${pl.segments[0]}`);
    expect(seg.status).toBe(200);
    expect(seg.headers.get('content-type')).toBe('video/mp2t');
    expect(new Uint8Array(await seg.arrayBuffer())[0]).toBe(0x47); // MPEG-TS sync byte

    const err = await refusal('live/test', 'alice');
    expect(err.status).toBe('NetStream.Publish.BadName');
    expect(err.description).toMatch(/already publishing/);
    expect(server.manager.get('alice')?.state).toBe('live');
    expect(server.manager.get('alice')?.codecs.video).toMatchObject({ codec: 'h264', width: 320, height: 240 });
    const metrics = await (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/rtmp_publishes_total\{result="refused",reason="duplicate"\} 1/);
    expect(metrics).toMatch(/rtmp_bytes_in_total [1-9]/);
    await first.close();
  }, 30_000);

  it('refuses Enhanced RTMP HEVC after the publish started, with an onStatus naming the codec', async () => {
    const c = await connect('live/test');
    await c.publish('hevcuser');
    const status = new Promise<AmfObject>((resolve) => c.on('status', resolve));
    const closed = new Promise<void>((resolve) => c.on('close', () => resolve()));
    // ExHeader | keyframe | SequenceStart, FourCC "hvc1", then an hvcC (here a truncated one).
    c.sendVideo(0, Uint8Array.from([0x90, 0x68, 0x76, 0x63, 0x31, 0x01, 0x01, 0x60]));
    const info = await status;
    expect(info.level).toBe('error');
    expect(info.code).toBe('NetStream.Publish.Rejected');
    expect(String(info.description)).toMatch(/hvc1.*FFmpeg ≥ 6\.1/);
    await closed;
    expect(existsSync(join(outputDir, 'hevcuser'))).toBe(false);
    expect(server.manager.get('hevcuser')).toBeUndefined();
  });
});
