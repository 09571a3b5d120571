/**
 * HlsOutput with the real FFmpeg: FLV in, rolling HLS out; a second run continues the playlist
 * (append_list, discontinuity, monotonic media sequence); a killed FFmpeg is reaped and restarted;
 * finish() ends the playlist; a stalled FFmpeg makes frames drop within the queue bound.
 */

import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { FlvStreamState, type FlvTag, isVideoKeyframe, tagWireSize } from '@org/flv';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endPlaylist, HlsOutput, mediaSequence, playlistSegments } from '../src/hls-output';
import { makeClip, parsePlaylist, poll, probeFormat, probeStreams, readFlvTags } from './helpers/media';

const root = mkdtempSync(join(tmpdir(), 'hls-output-test-'));
const logger = pino({ level: process.env.TEST_LOG ?? 'silent' });
let clip: FlvTag[];
const outputs: HlsOutput[] = [];

beforeAll(async () => {
  clip = await readFlvTags(await makeClip(join(root, 'clip.flv'), { seconds: 4 }));
}, 60_000);

afterAll(async () => {
  await Promise.all(outputs.map((o) => o.remove()));
});

function output(name: string, extra: Partial<ConstructorParameters<typeof HlsOutput>[0]> = {}) {
  const o = new HlsOutput({
    dir: join(root, name),
    ffmpegPath: 'ffmpeg',
    hlsTime: 1,
    hlsListSize: 3,
    maxQueuedBytes: 8 << 20,
    logger,
    ...extra,
  });
  outputs.push(o);
  return o;
}

/** Plays the clip into the output like a publisher: state observes everything, output gets media. */
function publish(o: HlsOutput, tags: FlvTag[]) {
  const state = new FlvStreamState();
  let opened = false;
  for (const tag of tags) {
    const role = state.observe(tag);
    if (role === 'metadata') continue;
    if (!opened && role !== 'video-config' && role !== 'audio-config') {
      o.open(state);
      opened = true;
    }
    if (opened) o.write(tag);
  }
  return state;
}

const read = (dir: string) => readFile(join(root, dir, 'live.m3u8'), 'utf8').then(parsePlaylist);

describe('playlist helpers', () => {
  it('reads the media sequence and segments, and appends ENDLIST once, atomically', async () => {
    const p = join(root, 'helpers.m3u8');
    const text = '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:7\n#EXTINF:1.0,\nlive_007.ts\n#EXTINF:1.0,\nlive_008.ts\n';
    writeFileSync(p, text);
    expect(mediaSequence(text)).toBe(7);
    expect(playlistSegments(text)).toEqual(['live_007.ts', 'live_008.ts']);
    expect(await endPlaylist(p)).toBe(true);
    expect(await endPlaylist(p)).toBe(true);
    expect(await readFile(p, 'utf8')).toBe(`${text}#EXT-X-ENDLIST\n`);
    expect(await endPlaylist(join(root, 'missing.m3u8'))).toBe(false);
  });
});

describe('HlsOutput with FFmpeg', () => {
  it('writes valid segments, continues the playlist on the next run, and ends it', async () => {
    const o = output('u1');
    await o.prepare();
    publish(o, clip);
    await o.close();
    const first = await read('u1');
    expect(first.ended).toBe(false); // omit_endlist: the publisher may come back
    expect(first.segments.length).toBe(3);
    const seg = join(root, 'u1', first.segments.at(-1) as string);
    expect(await probeFormat(seg)).toBe('mpegts');
    const streams = await probeStreams(seg);
    expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({
      codec_name: 'h264',
      width: 320,
      height: 240,
    });
    expect(streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac', sample_rate: '44100' });

    // A second publisher, its timestamps starting at 0 again; short, so that the window still
    // shows where it joined.
    publish(
      o,
      clip.filter((t) => t.timestamp < 1500),
    );
    await o.close();
    const second = await read('u1');
    expect(second.mediaSequence).toBeGreaterThan(first.mediaSequence as number);
    expect(second.discontinuities).toBe(1);
    const numbers = second.segments.map((s) => Number(/\d+/.exec(s)?.[0]));
    const firstLast = Number(/\d+/.exec(first.segments.at(-1) as string)?.[0]);
    expect(Math.max(...numbers)).toBeGreaterThan(firstLast);

    await o.finish();
    const ended = await read('u1');
    expect(ended.ended).toBe(true);
    expect(ended.segments).toEqual(second.segments);
    // Only what the playlist lists (FFmpeg's deletion covers its own run; the sweep the rest).
    const files = (await readdir(join(root, 'u1'))).filter((f) => f.endsWith('.ts') || f.endsWith('.tmp'));
    expect(files.sort()).toEqual([...ended.segments].sort());

    await o.remove();
    expect(existsSync(join(root, 'u1'))).toBe(false);
  }, 60_000);

  it('restarts a killed FFmpeg (reaped, append_list, discontinuity) and keeps going', async () => {
    const restarts: number[] = [];
    const o = output('u2', { restart: { initialDelayMs: 50 }, onRestart: (n) => restarts.push(n) });
    await o.prepare();
    const half = Math.floor(clip.length / 2);
    const state = publish(o, clip.slice(0, half));
    const pid = await poll(() => o.pid, 5000, 20);
    await poll(async () => ((await read('u2').catch(() => undefined))?.segments.length ? true : undefined), 10_000);
    process.kill(pid, 'SIGKILL');
    const newPid = await poll(() => (o.pid !== undefined && o.pid !== pid ? o.pid : undefined), 5000, 20);
    expect(existsSync(`/proc/${pid}`)).toBe(false); // reaped, no zombie
    expect(newPid).not.toBe(pid);
    expect(restarts).toEqual([1]);
    expect(o.restarts).toBe(1);
    // The restarted FFmpeg gets the primer from the cached state, then media from a keyframe.
    for (const tag of clip.slice(half)) {
      state.observe(tag);
      o.write(tag);
    }
    await o.close();
    const pl = await read('u2');
    expect(pl.discontinuities).toBeGreaterThanOrEqual(1);
    const seg = join(root, 'u2', pl.segments.at(-1) as string);
    expect((await probeStreams(seg)).map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
  }, 60_000);

  it('reports a fatal failure once FFmpeg crashed more often than the restart limit', async () => {
    const crashing = join(root, 'crashing-ffmpeg.sh');
    writeFileSync(crashing, '#!/bin/sh\necho "Invalid data found when processing input" >&2\nexit 1\n');
    chmodSync(crashing, 0o755);
    const restarts: number[] = [];
    const fatal = new Promise<string>((resolve) => {
      const o = output('u4', {
        ffmpegPath: crashing,
        restart: { maxRestarts: 2, initialDelayMs: 20, maxDelayMs: 40 },
        onRestart: (n) => restarts.push(n),
        onFatal: resolve,
      });
      void o.prepare().then(() => publish(o, clip.slice(0, 20)));
    });
    expect(await fatal).toMatch(/crashed 3 times/);
    expect(restarts).toEqual([1, 2]);
  }, 30_000);

  it('hands FFmpeg held tags in few writes, and everything up to a keyframe at once', async () => {
    // The child is `cat` (spawn seam) and its stdin is spied on: every write that reaches the pipe.
    let written = 0;
    let writes = 0;
    const o = output('u4', {
      stop: { stdinGraceMs: 500, termGraceMs: 500 },
      spawn: (_cmd, _args, opts) => {
        const child = spawn('cat', [], opts);
        type WriteFn = (chunk: Uint8Array, enc: BufferEncoding, cb: () => void) => void;
        type WritevFn = (chunks: { chunk: Uint8Array }[], cb: () => void) => void;
        const stdin = child.stdin as Writable & { _write: WriteFn; _writev: WritevFn };
        const w = stdin._write.bind(stdin);
        const wv = stdin._writev.bind(stdin);
        stdin._write = (chunk: Uint8Array, enc: BufferEncoding, cb: () => void) => {
          writes++;
          written += chunk.length;
          return w(chunk, enc, cb);
        };
        stdin._writev = (chunks: { chunk: Uint8Array }[], cb: () => void) => {
          writes++;
          for (const c of chunks) written += c.chunk.length;
          return wv(chunks, cb);
        };
        return child;
      },
    });
    await o.prepare();
    const state = new FlvStreamState();
    const media: FlvTag[] = [];
    for (const tag of clip) {
      const role = state.observe(tag);
      if (role !== 'metadata' && role !== 'video-config' && role !== 'audio-config') media.push(tag);
    }
    o.open(state);
    await poll(() => (written > 0 ? true : undefined), 5000, 10); // header and primer
    const keyframes = media.flatMap((t, i) => (isVideoKeyframe(t) ? [i] : []));
    expect(keyframes.length).toBeGreaterThanOrEqual(2);
    const [first, second] = keyframes as [number, number];
    const tick = () => new Promise((r) => setImmediate(r));
    const primer = written;
    const wire = (tags: FlvTag[]) => tags.reduce((n, t) => n + tagWireSize(t), 0);

    for (const tag of media.slice(0, second + 1)) o.write(tag);
    await tick();
    // Everything up to and including the keyframe went out in that same tick (before the first
    // keyframe, FFmpeg gets nothing: it could not decode it).
    expect(written - primer).toBe(wire(media.slice(first, second + 1)));
    expect(writes).toBeLessThan((second + 1) / 4);
    // The next inter frame is held (the audio frame releasing the keyframe would go at once).
    const next = media.slice(second + 1).find((t) => t.type === 9) as FlvTag;
    const before = written;
    o.write(next);
    await tick();
    expect(written).toBe(before);
    await o.close(); // flushes what is held
    expect(written - primer).toBe(wire(media.slice(first, second + 1)) + tagWireSize(next));
  }, 30_000);

  it('drops frames until a keyframe when FFmpeg does not read, within the queue bound', async () => {
    const stalled = join(root, 'stalled-ffmpeg.sh');
    writeFileSync(stalled, '#!/bin/sh\nexec sleep 30\n');
    chmodSync(stalled, 0o755);
    let drops = 0;
    const o = output('u3', {
      ffmpegPath: stalled,
      maxQueuedBytes: 64 * 1024,
      stop: { stdinGraceMs: 100, termGraceMs: 500 },
      onDrop: (n) => {
        drops += n;
      },
    });
    await o.prepare();
    const start = Date.now();
    // Four times the clip (~600 kB) into a pipe (64 kB) + stdin buffer + a 64 kB queue.
    for (let i = 0; i < 4; i++) publish(o, clip);
    expect(Date.now() - start).toBeLessThan(2000); // never blocks the caller
    expect(drops).toBeGreaterThan(0);
    expect(o.droppedFrames).toBe(drops);
    const pid = o.pid as number;
    await o.close();
    expect(existsSync(`/proc/${pid}`)).toBe(false);
  }, 30_000);
});
