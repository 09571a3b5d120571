/**
 * Acceptance of the server-owned playlist against RFC 8216 §6.2.1/§6.2.2, on the built server with
 * its real FFmpeg, while one stream lives through everything that restarts its timeline: a
 * reconnect within the grace, `kill -9` of its FFmpeg (restarted), a takeover by a second publisher
 * and the server's shutdown. The playlist is reloaded every 150 ms as a player would, and every
 * reload is checked by {@link PlaylistRules}; every segment that leaves it is fetched right away
 * (200), just before its availability time (200) and after it (404); every program date-time is
 * compared with the moment the publisher sent the keyframe that starts the segment.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlvReadTag } from '@org/flv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClip, poll, readFlvTags } from '../helpers/media';
import { ffmpegOf, killAll, type Server, sleep, startServer, stop } from './helpers/ingest';
import { PacedPublisher } from './helpers/paced-publisher';
import { PlaylistRules, type RemovedSegment } from './helpers/playlist-rules';

const NAME = 'rules';
const RELOAD_MS = 150;
/** Allowed distance between a segment's program date-time and its first keyframe's arrival. */
const PDT_TOLERANCE_MS = 100;

let tmp: string;
let server: Server;
let clip: FlvReadTag[];
let serverUp = false;
const publishers: PacedPublisher[] = [];
const probeFailures: string[] = [];
const probes: Promise<void>[] = [];
let probesCompleted = 0;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'e2e-rules-'));
  clip = await readFlvTags(await makeClip(join(tmp, 'clip.flv'), { seconds: 4 }));
  server = await startServer(join(tmp, 'out'), ['--takeover']);
  serverUp = true;
}, 60_000);

afterAll(async () => {
  for (const p of publishers) await p.stop().catch(() => {});
  await killAll();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function status(uri: string): Promise<number | undefined> {
  try {
    const r = await fetch(server.url(`/stream/${NAME}/${uri}`), { signal: AbortSignal.timeout(5000) });
    await r.body?.cancel();
    return r.status;
  } catch {
    return undefined; // the server went away (shutdown): nothing to judge
  }
}

async function sleepUntil(t: number): Promise<void> {
  const wait = t - Date.now();
  if (wait > 0) await sleep(wait);
}

/** 200 at once and until just before its availability time, 404 once that has passed. */
async function probeRemoved(s: RemovedSegment, rules: PlaylistRules): Promise<void> {
  const judge = async (when: string, want: number) => {
    const got = await status(s.uri);
    if (!serverUp || got === undefined) return false;
    if (got !== want) probeFailures.push(`${s.uri} (MSN ${s.mediaSequence}) ${when}: ${got}, want ${want}`);
    return true;
  };
  if (!(await judge('right after removal', 200))) return;
  await sleepUntil(s.removedSeenAt + (s.duration + s.longestPlaylist) * 1000 - 1000);
  if (!(await judge('1 s before its availability time', 200))) return;
  await sleepUntil(s.removedSeenAt + (s.duration + rules.longestPlaylist) * 1000 + 1500);
  if (await judge('1.5 s after its availability time', 404)) probesCompleted++;
}

/** Reloads the playlist every RELOAD_MS until `running()` is false. */
async function watch(rules: PlaylistRules, running: () => boolean): Promise<void> {
  while (running()) {
    try {
      const r = await fetch(server.url(`/stream/${NAME}/live.m3u8`), { signal: AbortSignal.timeout(5000) });
      const at = Date.now();
      const text = await r.text();
      if (r.status === 200) rules.observe(text, at);
    } catch {
      // Shutdown under way; the final playlist is read from disk.
    }
    await sleep(RELOAD_MS);
  }
}

const publish = async () => {
  const p = await PacedPublisher.start(server.rtmpPort, 'live/test', NAME, clip);
  publishers.push(p);
  return p;
};

describe('the live playlist across reconnect, FFmpeg restart, takeover and shutdown', () => {
  it('follows RFC 8216 §6.2.1/§6.2.2 on every reload, and its program date-times are the arrival times', async () => {
    const rules = new PlaylistRules((s) => probes.push(probeRemoved(s, rules)));
    let watching = true;
    const watcher = watch(rules, () => watching);
    const segmentsAtLeast = (n: number) => poll(() => (rules.segments.size >= n ? true : undefined), 20_000);

    const first = await publish();
    await segmentsAtLeast(5);
    // Reconnect within the 5 s grace.
    await first.stop();
    await sleep(1000);
    const second = await publish();
    await segmentsAtLeast(rules.segments.size + 4);
    // FFmpeg dies; the server restarts it.
    const ffmpeg = ffmpegOf(server.pid, NAME);
    expect(ffmpeg, 'the stream has an FFmpeg').toBeDefined();
    process.kill(ffmpeg?.pid as number, 'SIGKILL');
    await segmentsAtLeast(rules.segments.size + 4);
    // Takeover: a second publisher replaces the live one.
    const third = await publish();
    await poll(() => (second.isClosed ? true : undefined), 5000);
    await segmentsAtLeast(rules.segments.size + 4);
    // Let the first removals run through their availability time while the stream is still live.
    await poll(() => (probesCompleted >= 3 ? true : undefined), 20_000);

    // Shutdown: the playlist is ended with ENDLIST and kept on disk.
    serverUp = false;
    await stop(server);
    watching = false;
    await watcher;
    expect(third.isClosed).toBe(true);
    const final = rules.observe(await readFile(join(server.outputDir, NAME, 'live.m3u8'), 'utf8'));
    expect(final.endList).toBe(true);
    await Promise.all(probes);

    expect(rules.violations).toEqual([]);
    expect(probeFailures).toEqual([]);
    expect(probesCompleted).toBeGreaterThanOrEqual(3);
    // Reconnect, restart and takeover each began a new discontinuity, and discontinuities left the
    // window (the header's EXT-X-DISCONTINUITY-SEQUENCE moved).
    const segments = [...rules.segments.values()].sort((a, b) => a.mediaSequence - b.mediaSequence);
    expect(segments.at(-1)?.discontinuitySequence).toBeGreaterThanOrEqual(3);
    expect(rules.highestDiscontinuitySequence).toBeGreaterThanOrEqual(1);

    const sentAt = publishers.flatMap((p) => p.keyframesSentAt).sort((a, b) => a - b);
    let previous = -1;
    for (const s of segments) {
      const pdt = s.programDateTime as number;
      let nearest = 0;
      for (let i = 1; i < sentAt.length; i++) {
        if (Math.abs((sentAt[i] as number) - pdt) < Math.abs((sentAt[nearest] as number) - pdt)) nearest = i;
      }
      const off = pdt - (sentAt[nearest] as number);
      expect(Math.abs(off), `${s.uri}: program date-time ${off} ms from its keyframe's arrival`).toBeLessThanOrEqual(
        PDT_TOLERANCE_MS,
      );
      expect(nearest, `${s.uri} starts at a later keyframe than the segment before it`).toBeGreaterThan(previous);
      previous = nearest;
    }
  }, 120_000);
});
