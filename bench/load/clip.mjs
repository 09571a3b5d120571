/**
 * The publishers' input: a 720p30 H.264 + AAC FLV clip, keyframe every 2 s, ~2.5 Mb/s, 20 s long.
 * Made once with FFmpeg's synthetic sources and cached; a `.json` beside it records how.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProcess } from './proc.mjs';

/** Seconds between keyframes of the clip (the GOP every server's segments are cut on). */
export const CLIP_GOP_SECONDS = 2;

export function clipArgs(out) {
  return [
    ...['-hide_banner', '-loglevel', 'error', '-y'],
    ...['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '2500k', '-maxrate', '2500k', '-bufsize', '5000k'],
    ...['-g', '60', '-keyint_min', '60', '-sc_threshold', '0', '-pix_fmt', 'yuv420p'],
    ...['-c:a', 'aac', '-b:a', '128k', '-t', '20', '-f', 'flv', out],
  ];
}

/** Returns the path of the cached clip, making it first when absent. */
export async function ensureClip(dir, ffmpeg) {
  mkdirSync(dir, { recursive: true });
  const clip = join(dir, 'clip.flv');
  const meta = join(dir, 'clip.json');
  const args = clipArgs(clip);
  if (existsSync(clip) && existsSync(meta)) {
    const recorded = JSON.parse(readFileSync(meta, 'utf8'));
    if (JSON.stringify(recorded.args) === JSON.stringify(args)) return clip;
  }
  const tmp = join(dir, 'clip.tmp.flv');
  const tmpArgs = clipArgs(tmp);
  await new Promise((resolve, reject) => {
    const child = spawn(ffmpeg, tmpArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg clip: exit ${code}: ${err}`))));
  });
  renameSync(tmp, clip);
  writeFileSync(meta, `${JSON.stringify({ args, bytes: statSync(clip).size, made: new Date().toISOString() })}\n`);
  return clip;
}

/** A publisher of the clip to `url` at its own pace, looping (`ffmpeg -re -stream_loop -1 -c copy`). */
export function startClipPublisher(clip, url, logFile) {
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', clip];
  return startProcess('ffmpeg', [...args, '-c', 'copy', '-f', 'flv', url], { logFile });
}
