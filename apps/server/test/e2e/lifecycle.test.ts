/**
 * End to end, a stream's life with real ffmpeg publishers against the built server: bad URLs
 * refused with nothing on disk; a duplicate publisher refused while the first continues; a
 * publisher reconnecting within the grace continues the same playlist (never a 404, media
 * sequence monotonic, a discontinuity where it rejoined); after the grace ENDLIST, then 404 and
 * the directory removed.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Playlist } from '../helpers/media';
import {
  ffmpegPublisher,
  getPlaylist,
  killAll,
  type Server,
  sleep,
  startServer,
  stop,
  waitForPlaylist,
} from './helpers/ingest';

const GRACE_MS = 4000;
const CLEANUP_MS = 1500;
let tmp: string;
let server: Server;
let rtmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'e2e-lifecycle-'));
  server = await startServer(join(tmp, 'out'), [
    ...['--reconnect-grace-ms', String(GRACE_MS), '--cleanup-delay-ms', String(CLEANUP_MS)],
  ]);
  rtmp = `rtmp://127.0.0.1:${server.rtmpPort}`;
});

afterAll(async () => {
  await killAll();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const outputEntries = () => (existsSync(server.outputDir) ? readdirSync(server.outputDir) : []);

describe('refused publishes', () => {
  it.each([
    ['/live/test/../x', 'ERR_AUTH_BAD_NAME'],
    ['/other/a/b', 'ERR_AUTH_NO_MATCH'],
    ['/live/test/%2e%2e', 'ERR_AUTH_BAD_NAME'],
    ['/live/test/a/b', 'ERR_AUTH_NO_MATCH'],
    ['/live/test', 'ERR_AUTH_NO_MATCH'],
  ])('%s is refused (%s) and nothing is created', async (path, code) => {
    const before = server.logs().length;
    const p = ffmpegPublisher(`${rtmp}${path}`, { seconds: 2 });
    const { code: exit } = await p.exited;
    expect(exit).not.toBe(0);
    expect(p.output()).toMatch(/Server error: /);
    const refusal = server
      .logs()
      .slice(before)
      .find((l) => l.msg === 'publish refused');
    expect(refusal).toMatchObject({ code, status: 'NetStream.Publish.BadName' });
    expect(outputEntries()).toEqual([]);
  });
});

describe('one publisher per username, reconnect grace, end of stream', () => {
  it('refuses a duplicate while the first continues; a reconnect within the grace continues the playlist', async () => {
    const first = ffmpegPublisher(`${rtmp}/live/test/johndoe`, { seconds: 6 });
    const seen: Playlist[] = [];
    const statuses: number[] = [];
    let polling = true;
    // Poll every 200 ms from the first playlist on: never a 404, media sequence never backwards.
    await waitForPlaylist(server, 'johndoe');
    const poller = (async () => {
      while (polling) {
        const p = await getPlaylist(server, 'johndoe');
        if (typeof p === 'number') statuses.push(p);
        else seen.push(p);
        await sleep(200);
      }
    })();

    const dup = ffmpegPublisher(`${rtmp}/live/test/johndoe`, { seconds: 3 });
    expect((await dup.exited).code).not.toBe(0);
    expect(dup.output()).toMatch(/already publishing/);
    const seqBeforeDup = seen.at(-1)?.mediaSequence ?? 0;

    expect((await first.exited).code).toBe(0);
    const seqAtDrop = seen.at(-1)?.mediaSequence ?? 0;
    expect(seqAtDrop).toBeGreaterThan(seqBeforeDup); // the first kept streaming after the refusal
    await sleep(1500); // well within the grace
    const again = ffmpegPublisher(`${rtmp}/live/test/johndoe`, { seconds: 5 });
    expect((await again.exited).code).toBe(0);
    polling = false;
    await poller;

    expect(statuses).toEqual([]);
    const seqs = seen.map((p) => p.mediaSequence ?? -1);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThanOrEqual(seqs[i - 1] as number);
    expect(seen.some((p) => p.discontinuities > 0)).toBe(true);
    expect(seqs.at(-1)).toBeGreaterThan(seqAtDrop);
    expect(seen.some((p) => p.ended)).toBe(false);
    const log = server.logs();
    expect(log.some((l) => l.msg === 'duplicate publisher refused' && l.stream === 'johndoe')).toBe(true);
    expect(log.some((l) => l.msg === 'publisher back within the reconnect grace')).toBe(true);
  }, 60_000);

  it('after the grace: ENDLIST, then 404 and the directory removed', async () => {
    const dir = join(server.outputDir, 'johndoe');
    const t0 = Date.now();
    let endedAt: number | undefined;
    let goneAt: number | undefined;
    const deadline = t0 + GRACE_MS + CLEANUP_MS + 8000;
    while (Date.now() < deadline && goneAt === undefined) {
      const p = await getPlaylist(server, 'johndoe');
      if (typeof p !== 'number' && p.ended) endedAt ??= Date.now();
      if (p === 404) goneAt = Date.now();
      await sleep(200);
    }
    expect(endedAt).toBeDefined();
    expect(goneAt).toBeDefined();
    expect((goneAt as number) - (endedAt as number)).toBeGreaterThanOrEqual(CLEANUP_MS - 400);
    expect(existsSync(dir)).toBe(false);
    await stop(server);
  }, 30_000);
});
