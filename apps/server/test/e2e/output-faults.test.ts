/**
 * End to end, faults on the output side of the built server: a stream's FFmpeg stopped with
 * SIGSTOP (detected as a stall, killed, reaped, restarted; the playlist goes on after a
 * discontinuity), and the output directory on a tmpfs that fills up (no empty or cut-off segment is
 * ever listed, the failure is logged and counted, the stream recovers by itself once space is
 * back), and the server's own playlist write on that full file system (the old playlist stays
 * whole, the failure is reported once per interval).
 */
import { execFile } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamDir } from '../../src/storage/stream-dir';
import {
  ffmpegOf,
  ffmpegPublisher,
  getPlaylist,
  killAll,
  procState,
  type Server,
  sleep,
  startServer,
  stop,
  waitForPlaylist,
} from './helpers/ingest';
import { metric, watchPlaylist } from './helpers/rtmp-attack';

const run = promisify(execFile);
let tmp: string;
/** The tmpfs for the disk-full tests, or why there is none. */
let small: string | undefined;
let noMount = '';

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'e2e-output-faults-'));
  const dir = join(tmp, 'small');
  mkdirSync(dir);
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir]);
    small = dir;
  } catch (err) {
    noMount = `cannot mount a 4 MiB tmpfs (${(err as Error).message.split('\n')[0]}): needs root`;
  }
});

afterAll(async () => {
  await killAll();
  if (small) await run('umount', ['-l', small]).catch(() => {});
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Polls `check` until it returns a value, failing with `what` after `ms`. */
async function until<T>(ms: number, what: string, check: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(100);
  }
}

/** The playlist's segments in order, each with whether a discontinuity precedes it. */
async function segments(server: Server, username: string): Promise<{ name: string; disc: boolean; n: number }[]> {
  const p = await getPlaylist(server, username);
  if (typeof p === 'number') throw new Error(`playlist: HTTP ${p}`);
  const out: { name: string; disc: boolean; n: number }[] = [];
  let disc = false;
  for (const line of p.text.split('\n')) {
    if (line === '#EXT-X-DISCONTINUITY') disc = true;
    else if (line !== '' && !line.startsWith('#')) {
      out.push({ name: line, disc, n: Number(/\d+/.exec(line)?.[0]) });
      disc = false;
    }
  }
  return out;
}

const warns = (server: Server, msg: RegExp) => server.logs().filter((l) => l.level === 40 && msg.test(String(l.msg)));

/** Fetches a listed segment over HTTP; it must be whole MPEG-TS that ffprobe reads. */
async function checkSegment(server: Server, username: string, name: string): Promise<number> {
  const r = await fetch(server.url(`/stream/${username}/${name}`), { signal: AbortSignal.timeout(5000) });
  expect(r.status, name).toBe(200);
  const body = Buffer.from(await r.arrayBuffer());
  expect(body.length, name).toBeGreaterThan(0);
  expect(body.length % 188, `${name}: ${body.length} bytes`).toBe(0);
  const copy = join(tmp, `probe-${username}-${name}`);
  await writeFile(copy, body);
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'json', copy]);
  const streams = (JSON.parse(stdout) as { streams: { codec_name: string }[] }).streams;
  expect(streams.map((x) => x.codec_name).sort(), name).toEqual(['aac', 'h264']);
  return body.length;
}

describe('output faults', () => {
  it('a SIGSTOPped FFmpeg is detected as a stall, killed, reaped and restarted; the playlist goes on', async () => {
    const server = await startServer(join(tmp, 'out-stall'));
    const publisher = ffmpegPublisher(`rtmp://127.0.0.1:${server.rtmpPort}/live/test/stally`, { seconds: 50 });
    // Another stream alongside: the stalled FFmpeg and its restart must not hold it up.
    const neighbour = ffmpegPublisher(`rtmp://127.0.0.1:${server.rtmpPort}/live/test/steady`, { seconds: 50 });
    try {
      await until(20_000, 'first segments', async () =>
        (await segments(server, 'stally').catch(() => [])).length >= 2 ? true : undefined,
      );
      await waitForPlaylist(server, 'steady', 2);
      const steady = watchPlaylist(server, 'steady');
      const ff = ffmpegOf(server.pid, 'stally');
      expect(ff).toBeDefined();
      const pid = ff?.pid as number;
      const lastBefore = (await segments(server, 'stally')).at(-1)?.n as number;
      process.kill(pid, 'SIGSTOP');
      const t0 = Date.now();
      // 1 s keyframe interval + the 5 s default timeout: well within 20 s even on a loaded machine.
      const line = await until(20_000, 'stall warning', () => warns(server, /^ffmpeg stalled/)[0]);
      const detectedMs = Date.now() - t0;
      expect(line.pid).toBe(pid);
      expect(line.stalledMs).toBeGreaterThanOrEqual(5000);
      expect(String(line.msg)).toMatch(/restarting$/);
      expect(detectedMs).toBeGreaterThanOrEqual(4000);
      expect(await metric(server, 'ffmpeg_stalls_total')).toBeGreaterThanOrEqual(1);
      expect(await metric(server, 'ffmpeg_restarts_total')).toBeGreaterThanOrEqual(1);
      const newPid = await until(10_000, 'a new ffmpeg', () => {
        const p = ffmpegOf(server.pid, 'stally')?.pid;
        return p !== undefined && p !== pid ? p : undefined;
      });
      expect(newPid).not.toBe(pid);
      await until(5000, 'the stopped ffmpeg reaped', () => (procState(pid) === undefined ? true : undefined));
      // Listed again, after a discontinuity, numbered on.
      const after = await until(20_000, 'the playlist advancing again', async () => {
        const s = await segments(server, 'stally');
        return s.filter((x) => x.n > lastBefore).length >= 2 ? s : undefined;
      });
      const resumed = after.filter((x) => x.n > lastBefore);
      expect(resumed.some((x) => x.disc)).toBe(true);
      expect(await steady.stop(), "longest standstill of the other stream's playlist").toBeLessThan(3000);
      await checkSegment(server, 'stally', resumed.at(-1)?.name as string);
      console.log(`stall detected ${detectedMs} ms after SIGSTOP (stalledMs ${line.stalledMs}), new pid ${newPid}`);
    } finally {
      await stop(publisher);
      await stop(neighbour);
      await stop(server);
    }
  }, 60_000);

  it('a full disk: bad segments are never listed, the failure is logged and counted, the stream recovers', async (ctx) => {
    if (!small) {
      console.warn(`skipped: ${noMount}`);
      ctx.skip();
      return;
    }
    const out = join(small, 'out');
    const server = await startServer(out);
    const publisher = ffmpegPublisher(`rtmp://127.0.0.1:${server.rtmpPort}/live/test/fully`, {
      seconds: 50,
      size: '160x120',
    });
    const filler = join(small, 'filler');
    try {
      await until(20_000, 'first segments', async () =>
        (await segments(server, 'fully').catch(() => [])).length >= 2 ? true : undefined,
      );
      const lastBefore = (await segments(server, 'fully')).at(-1)?.n as number;
      const filled = fill(filler);
      // While full: FFmpeg goes on reporting segments (empty or cut off); none may be listed.
      const checked = new Set<string>();
      const fullUntil = Date.now() + 5000;
      while (Date.now() < fullUntil) {
        for (const s of await segments(server, 'fully')) {
          if (checked.has(s.name)) continue;
          checked.add(s.name);
          await checkSegment(server, 'fully', s.name);
        }
        await sleep(250);
      }
      const warning = await until(5000, 'write warning', () => warns(server, /^segment not fully written/)[0]);
      expect(['empty', 'truncated']).toContain(warning.reason);
      const errors = await metric(server, 'hls_segment_write_errors_total');
      expect(errors).toBeGreaterThanOrEqual(1);
      // Bounded: one warning line per kind and 10 s, however many segments failed.
      expect(warns(server, /^segment not fully written/).length).toBeLessThanOrEqual(2);
      const files = await readdir(join(out, 'fully'));
      const playlistOnDisk = await readFile(join(out, 'fully', 'live.m3u8'), 'utf8');
      expect(playlistOnDisk.startsWith('#EXTM3U\n') && playlistOnDisk.endsWith('\n')).toBe(true);

      await rm(filler);
      const after = await until(20_000, 'good segments again', async () => {
        const s = await segments(server, 'fully');
        return s.filter((x) => x.n > lastBefore).length >= 2 ? s : undefined;
      });
      const resumed = after.filter((x) => x.n > lastBefore);
      expect(resumed[0]?.disc).toBe(true); // the media time in between is gone
      for (const s of resumed) await checkSegment(server, 'fully', s.name);
      expect(server.logs().some((l) => l.msg === 'segments complete again')).toBe(true);
      console.log(
        `filled ${filled} bytes; ${errors} write errors counted; files while full: ${files.length}; ` +
          `resumed at ${resumed[0]?.name}`,
      );
    } finally {
      if (existsSync(filler)) await rm(filler);
      await stop(publisher);
      await stop(server);
    }
  }, 60_000);

  it("the server's playlist write on a full disk keeps the old playlist whole and reports once per interval", async (ctx) => {
    if (!small) {
      console.warn(`skipped: ${noMount}`);
      ctx.skip();
      return;
    }
    const errors: { what: string; code: string | undefined }[] = [];
    const dir = new StreamDir(join(small, 'dir-test'), (what, err) =>
      errors.push({ what, code: (err as NodeJS.ErrnoException).code }),
    );
    await dir.prepare();
    const v1 = Buffer.from('#EXTM3U\n#EXT-X-VERSION:3\n');
    await dir.writePlaylist(v1);
    const filler = join(small, 'filler2');
    try {
      fill(filler);
      const big = Buffer.from(`#EXTM3U\n${'#EXT-X-X:padding\n'.repeat(2000)}`); // 32 KB: more than is left
      for (let i = 0; i < 5; i++) await dir.writePlaylist(big);
      expect(errors).toEqual([{ what: 'cannot write the playlist', code: 'ENOSPC' }]); // once per 10 s
      expect(await readFile(join(dir.path, 'live.m3u8'))).toEqual(v1); // whole, the old version
      expect(await readdir(dir.path)).toEqual(['live.m3u8']); // no cut-off temporary left
    } finally {
      await rm(filler, { force: true });
    }
    await dir.writePlaylist(Buffer.from('#EXTM3U\n#EXT-X-VERSION:7\n'));
    expect(await readFile(join(dir.path, 'live.m3u8'), 'utf8')).toContain('VERSION:7');
    await dir.remove();
  });
});

/** Writes zeros to `path` until the file system is full; returns the bytes written. */
function fill(path: string): number {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  let total = 0;
  try {
    for (;;) total += writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  // Whatever is left below one chunk.
  const fd2 = openSync(path, 'a');
  try {
    for (;;) total += writeSync(fd2, chunk, 0, 4096);
  } catch {
    // full
  } finally {
    closeSync(fd2);
  }
  return total;
}
