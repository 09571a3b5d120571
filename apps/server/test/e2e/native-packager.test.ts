/**
 * `--packager native` on the built server: a real ffmpeg publisher's stream is packaged by
 * @org/hls inside the server (no FFmpeg child is started), the playlist advances with 1 s
 * segments, and a served segment is H.264 + AAC that FFmpeg decodes without an error.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeStreams } from '../helpers/media';
import { ffmpegPublisher, killAll, type Server, startServer, waitForPlaylist } from './helpers/ingest';

const run = promisify(execFile);
let tmp: string;
let server: Server;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'e2e-native-'));
  server = await startServer(join(tmp, 'out'), ['--packager', 'native']);
}, 30_000);

afterAll(async () => {
  await killAll();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('--packager native', () => {
  it('packages a real publisher in the server: playlist advances, segments decode clean', async () => {
    ffmpegPublisher(`rtmp://127.0.0.1:${server.rtmpPort}/live/test/nat`, { seconds: 8 });
    const pl = await waitForPlaylist(server, 'nat', 3, 20_000);
    expect(pl.text).toMatch(/#EXT-X-TARGETDURATION:1\n/);
    for (const name of pl.segments) {
      const r = await fetch(server.url(`/stream/nat/${name}`));
      expect(r.status, name).toBe(200);
      const file = join(tmp, name);
      await writeFile(file, new Uint8Array(await r.arrayBuffer()));
      const streams = await probeStreams(file);
      expect(streams.map((s) => s.codec_name).sort(), name).toEqual(['aac', 'h264']);
      const { stderr } = await run('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-']);
      expect(stderr, name).toBe('');
    }
    expect(server.logs().filter((l) => l.msg === 'ffmpeg started')).toEqual([]);
    expect(server.logs().filter((l) => (l.level as number) >= 50)).toEqual([]);
  }, 60_000);
});
