/**
 * The server's own FFmpeg (scripts/build-ffmpeg.sh, with scripts/ffmpeg-patches/) against Debian's
 * ffmpeg, both run with the argv the server uses: the patched HLS muxer lists a segment as soon as
 * the keyframe that closes it arrives, writes a segment to its file while muxing it, and otherwise
 * writes the very same files.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isVideoKeyframe, muxFlv, TagType } from '@org/flv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFfmpegArgs } from '../src/output/ffmpeg-args';
import { makeClip, readFlvTags } from './helpers/media';

const LEAN = join(import.meta.dirname, '../../../.ffmpeg/bin/ffmpeg');
const DEBIAN = '/usr/bin/ffmpeg';

const tmp = mkdtempSync(join(tmpdir(), 'lean-ffmpeg-'));
const clip = join(tmp, 'clip.flv');
const children: ChildProcess[] = [];

beforeAll(async () => {
  // 1 s GOP at 25 fps, AAC at 44.1 kHz: one segment per keyframe with -hls_time 1. The noise makes
  // segments of several hundred KB, like a camera's, more than the patched muxer's 64 KiB chunks.
  await makeClip(clip, { seconds: 3, noise: 20 });
}, 60_000);

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

function hlsArgs(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  return buildFfmpegArgs({ dir, hlsTime: 1, startNumber: 0 });
}

/** Everything a child wrote to its stdout so far: the playlists FFmpeg wrote at its cuts. */
const stdoutOf = new WeakMap<ChildProcess, string[]>();
/** Exit code of a child once its stdio is closed too (its stdout is then all read). */
const closedOf = new WeakMap<ChildProcess, Promise<number | null>>();

function exited(child: ChildProcess): Promise<number | null> {
  return closedOf.get(child) as Promise<number | null>;
}

function spawnFfmpeg(bin: string, args: string[], stdin: 'pipe' | 'ignore'): ChildProcess {
  const child = spawn(bin, args, { stdio: [stdin, 'pipe', 'pipe'] });
  children.push(child);
  const out: string[] = [];
  stdoutOf.set(child, out);
  child.stdout?.on('data', (d: Buffer) => out.push(d.toString('latin1')));
  closedOf.set(child, new Promise((resolve) => child.once('close', (code) => resolve(code))));
  return child;
}

function playlistOf(child: ChildProcess): string {
  return (stdoutOf.get(child) ?? []).join('');
}

/** The clip's tags and the indexes of its video keyframes (at least two). */
async function clipTags() {
  const tags = await readFlvTags(clip);
  const keyframes = tags.flatMap((t, i) => (isVideoKeyframe(t) ? [i] : []));
  expect(keyframes.length).toBeGreaterThanOrEqual(2);
  return { tags, keyframes };
}

/**
 * The clip's FLV up to and including its second video keyframe, without any audio frame timed at
 * or after it: what a live publisher has sent when the keyframe that closes segment 0 arrives.
 */
async function upToSecondKeyframe(): Promise<Buffer> {
  const { tags, keyframes } = await clipTags();
  const k = keyframes[1] as number;
  const kf = tags[k] as (typeof tags)[number];
  expect(kf.timestamp).toBeGreaterThan(900);
  const before = tags.slice(0, k).filter((t) => t.type !== TagType.Audio || t.timestamp < kf.timestamp);
  return Buffer.from(muxFlv({ audio: true, video: true }, [...before, kf]));
}

/**
 * The clip's FLV cut just before its second video keyframe (segment 0 muxed but not closed), and
 * the rest of its bytes.
 */
async function splitBeforeSecondKeyframe(): Promise<[Buffer, Buffer]> {
  const { tags, keyframes } = await clipTags();
  const all = Buffer.from(muxFlv({ audio: true, video: true }, tags));
  const head = Buffer.from(muxFlv({ audio: true, video: true }, tags.slice(0, keyframes[1])));
  expect(all.subarray(0, head.length).equals(head)).toBe(true);
  return [head, all.subarray(head.length)];
}

/** Polls `get` every 20 ms until `ok` holds or `ms` have passed; returns the last value. */
async function within<T>(get: () => T, ok: (v: T) => boolean, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (ok(v) || Date.now() >= end) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The file's size once it is at least `atLeast` bytes, or its size (-1: missing) after `ms`. */
function fileSizeWithin(path: string, atLeast: number, ms: number): Promise<number> {
  return within(
    () => (existsSync(path) ? statSync(path).size : -1),
    (size) => size >= atLeast,
    ms,
  );
}

/** Feeds `flv` on stdin and keeps stdin open, as a publisher that has not sent the next frame yet. */
function feedAndHold(bin: string, dir: string, flv: Buffer): ChildProcess {
  const child = spawnFfmpeg(bin, hlsArgs(dir), 'pipe');
  child.stdin?.write(flv);
  return child;
}

function listedWithin(child: ChildProcess, ms: number): Promise<boolean> {
  return within(
    () => playlistOf(child).includes('live_000.ts'),
    (listed) => listed,
    ms,
  );
}

describe("the server's lean FFmpeg", () => {
  it('is built (bash scripts/build-ffmpeg.sh, run by scripts/setup.sh)', () => {
    expect(existsSync(LEAN), `${LEAN} is missing: run bash scripts/build-ffmpeg.sh`).toBe(true);
  });

  it('lists a segment when the keyframe closing it arrives; Debian ffmpeg waits for the next audio frame', async () => {
    const flv = await upToSecondKeyframe();
    const leanDir = join(tmp, 'held-lean');
    const debianDir = join(tmp, 'held-debian');
    const lean = feedAndHold(LEAN, leanDir, flv);
    const debian = feedAndHold(DEBIAN, debianDir, flv);
    try {
      expect(await listedWithin(lean, 10_000), 'lean: segment 0 listed with stdin still open').toBe(true);
      // Debian's interleaver holds the keyframe until an audio packet at or after it is queued:
      // 1.5 s later it still has not listed the segment.
      expect(await listedWithin(debian, 1500), 'Debian: segment 0 held back').toBe(false);
    } finally {
      lean.stdin?.end();
      debian.stdin?.end();
    }
    expect(await exited(lean)).toBe(0);
    expect(await exited(debian)).toBe(0);
    // At the end of input both have the segment.
    expect(playlistOf(debian)).toContain('live_000.ts');
  }, 30_000);

  it('writes a segment to its file while muxing it; Debian ffmpeg holds it in memory until the cut', async () => {
    const [head, rest] = await splitBeforeSecondKeyframe();
    const leanDir = join(tmp, 'stream-lean');
    const debianDir = join(tmp, 'stream-debian');
    const lean = feedAndHold(LEAN, leanDir, head);
    const debian = feedAndHold(DEBIAN, debianDir, head);
    try {
      // Segment 0 is far larger than one 64 KiB chunk; the lean build writes it out in whole
      // multiples of 32 M2TS packets (6144 bytes) before the keyframe that ends it.
      const size = await fileSizeWithin(join(leanDir, 'live_000.ts.tmp'), 64 * 1024, 10_000);
      expect(size, 'lean: live_000.ts.tmp written before the cut').toBeGreaterThanOrEqual(64 * 1024);
      expect(size % 6144).toBe(0);
      expect(playlistOf(lean)).toBe('');
      expect(await fileSizeWithin(join(debianDir, 'live_000.ts.tmp'), 1, 1000), 'Debian: nothing on disk yet').toBe(-1);
    } finally {
      lean.stdin?.end(rest);
      debian.stdin?.end(rest);
    }
    expect(await exited(lean)).toBe(0);
    expect(await exited(debian)).toBe(0);
    // Fed in two parts, the files are still byte for byte Debian's.
    const lf = readdirSync(leanDir).sort();
    expect(lf).toEqual(['live_000.ts', 'live_001.ts', 'live_002.ts']);
    expect(readdirSync(debianDir).sort()).toEqual(lf);
    for (const f of lf) expect(readFileSync(join(leanDir, f)).equals(readFileSync(join(debianDir, f))), f).toBe(true);
    expect(playlistOf(lean)).toBe(playlistOf(debian));
  }, 30_000);

  it('writes byte-identical segments and playlist to Debian ffmpeg for an interleaved FLV', async () => {
    const outputs: Record<string, Buffer>[] = [];
    for (const [name, bin] of [
      ['lean', LEAN],
      ['debian', DEBIAN],
    ] as const) {
      const dir = join(tmp, `same-${name}`);
      const child = spawnFfmpeg(
        bin,
        hlsArgs(dir).map((a) => (a === 'pipe:0' ? clip : a)),
        'ignore',
      );
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      expect(await exited(child), stderr).toBe(0);
      const files: Record<string, Buffer> = {};
      for (const f of readdirSync(dir).sort()) files[f] = readFileSync(join(dir, f));
      files['(stdout)'] = Buffer.from(playlistOf(child), 'latin1');
      outputs.push(files);
    }
    const [lean, debian] = outputs as [Record<string, Buffer>, Record<string, Buffer>];
    expect(Object.keys(lean)).toEqual(['live_000.ts', 'live_001.ts', 'live_002.ts', '(stdout)']);
    expect(lean['(stdout)']?.toString()).toContain('live_002.ts');
    expect(Object.keys(debian)).toEqual(Object.keys(lean));
    for (const f of Object.keys(lean)) expect(lean[f]?.equals(debian[f] as Buffer), f).toBe(true);
  }, 60_000);
});
