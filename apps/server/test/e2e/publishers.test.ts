/**
 * End to end with real publishers against the built server: ffmpeg (app `live/test` + name
 * `johndoe`), GStreamer rtmp2sink (app `live` + name `test/…`, the OBS-style split) and GStreamer
 * rtmpsink (librtmp), concurrently, each with its own sine tone. Each stream's playlist appears,
 * its segments are MPEG-TS with the publisher's codecs and size, the window holds 3 segments, old
 * segments leave the disk, each stream carries its own audio, and the HLS decodes over HTTP.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMediaPlaylist } from '../../src/hls/playlist';
import { dominantFrequency, probeFormat, probeStreams } from '../helpers/media';
import {
  ffmpegPublisher,
  getPlaylist,
  gstPublisher,
  killAll,
  type Proc,
  type Server,
  startServer,
  stop,
  waitForPlaylist,
} from './helpers/ingest';

const run = promisify(execFile);
const SECONDS = 9;

let tmp: string;
let server: Server;
const publishers = new Map<string, { proc: Proc; frequency: number; startedAt: number }>();

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'e2e-publishers-'));
  server = await startServer(join(tmp, 'out'));
  const base = `rtmp://127.0.0.1:${server.rtmpPort}`;
  const now = Date.now();
  publishers.set('johndoe', {
    proc: ffmpegPublisher(`${base}/live/test/johndoe`, { seconds: SECONDS, frequency: 440 }),
    frequency: 440,
    startedAt: now,
  });
  publishers.set('gstobs', {
    proc: gstPublisher(
      ['rtmp2sink', 'host=127.0.0.1', `port=${server.rtmpPort}`, 'application=live', 'stream=test/gstobs'],
      { seconds: SECONDS, frequency: 1000 },
    ),
    frequency: 1000,
    startedAt: now,
  });
  publishers.set('librtmp', {
    proc: gstPublisher(['rtmpsink', `location=${base}/live/test/librtmp live=1`], {
      seconds: SECONDS,
      frequency: 2500,
    }),
    frequency: 2500,
    startedAt: now,
  });
});

afterAll(async () => {
  await killAll();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('real publishers', () => {
  it('each stream: playlist, valid segments with its codecs and size, its own tone', async () => {
    const firstPlaylistMs: Record<string, number> = {};
    await Promise.all(
      [...publishers].map(async ([username, p]) => {
        await waitForPlaylist(server, username, 1, 20_000);
        firstPlaylistMs[username] = Date.now() - p.startedAt;
      }),
    );
    // Publisher start (process spawn, encoder start-up included) → first playlist served.
    console.log('first playlist after publisher start (ms):', firstPlaylistMs);
    for (const [username, p] of publishers) {
      const pl = await waitForPlaylist(server, username, 2);
      const name = pl.segments.at(-1) as string;
      const r = await fetch(server.url(`/stream/${username}/${name}`));
      expect(r.status, `${username} ${name}`).toBe(200);
      const file = join(tmp, `${username}-${name}`);
      await writeFile(file, new Uint8Array(await r.arrayBuffer()));
      expect(await probeFormat(file)).toBe('mpegts');
      const streams = await probeStreams(file);
      expect(
        streams.find((s) => s.codec_type === 'video'),
        username,
      ).toMatchObject({
        codec_name: 'h264',
        width: 320,
        height: 240,
      });
      expect(
        streams.find((s) => s.codec_type === 'audio'),
        username,
      ).toMatchObject({
        codec_name: 'aac',
        sample_rate: '44100',
      });
      const f = await dominantFrequency(file);
      expect(Math.abs(f - p.frequency) / p.frequency, `${username}: ${f} Hz, expected ${p.frequency}`).toBeLessThan(
        0.05,
      );
      expect(server.logs().some((l) => l.msg === 'publishing' && l.stream === username)).toBe(true);
    }
    const api = (await (await fetch(server.url('/api/streams'))).json()) as unknown;
    expect(JSON.stringify(api)).toContain('gstobs');
  }, 60_000);

  it('the window holds 3 segments and old segments leave the disk after their availability', async () => {
    const check = async (username: string) => {
      const pl = await waitForPlaylist(server, username, 3);
      // Wait until the window has moved past the first segment.
      const deadline = Date.now() + 20_000;
      let cur = pl;
      while ((cur.mediaSequence ?? 0) < 1 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        const next = await getPlaylist(server, username);
        if (typeof next !== 'number') cur = next;
      }
      expect(cur.segments).toHaveLength(3);
      expect(cur.mediaSequence).toBeGreaterThanOrEqual(1);
      // RFC 8216 §6.2.2: the removed segment stays for its duration plus the longest playlist that
      // held it, then it leaves the disk.
      const dir = join(server.outputDir, username);
      const listed = (await readdir(dir)).filter((f) => f.endsWith('.ts'));
      expect(listed, username).toContain('live_000.ts');
      const model = parseMediaPlaylist(cur.text);
      const window = model.segments.reduce((sum, s) => sum + s.duration, 0);
      const goneBy = Date.now() + (model.targetDuration * 2 + window + 2) * 1000;
      let files = listed;
      while (files.includes('live_000.ts') && Date.now() < goneBy) {
        await new Promise((r) => setTimeout(r, 100));
        files = (await readdir(dir)).filter((f) => f.endsWith('.ts'));
      }
      expect(files, username).not.toContain('live_000.ts');
      // The window, the removed segments still within their availability and the one in progress.
      expect(files.length).toBeLessThanOrEqual(9);
    };
    await Promise.all([...publishers.keys()].map(check));
  }, 60_000);

  it('the HLS decodes over HTTP without errors', async () => {
    const { stderr } = await run(
      'ffmpeg',
      ['-v', 'error', '-i', server.url('/stream/johndoe/live.m3u8'), '-t', '2', '-f', 'null', '-'],
      { timeout: 30_000 },
    );
    expect(stderr.trim()).toBe('');
  }, 40_000);

  it('publishers finish cleanly and their streams end after the grace', async () => {
    for (const [username, p] of publishers) {
      const { code } = await p.proc.exited;
      expect(code, `${username}: ${p.proc.proc.spawnfile} ${p.proc.output()}`).toBe(0);
    }
    // Grace (5 s) + cleanup delay (2 s): ENDLIST, then the directory goes.
    const deadline = Date.now() + 15_000;
    let sawEnd = false;
    while (Date.now() < deadline) {
      const pl = await getPlaylist(server, 'johndoe');
      if (typeof pl !== 'number' && pl.ended) sawEnd = true;
      if (pl === 404 && !existsSync(join(server.outputDir, 'johndoe'))) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(sawEnd).toBe(true);
    expect(await getPlaylist(server, 'johndoe')).toBe(404);
    expect(existsSync(join(server.outputDir, 'johndoe'))).toBe(false);
    await stop(server);
  }, 40_000);
});
