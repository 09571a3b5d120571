/**
 * Test media made on the spot with the FFmpeg on this machine, and checks on what the server
 * wrote: ffprobe of segments, the dominant frequency of a segment's audio, playlist parsing.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { FlvReader, type FlvReadTag } from '@org/flv';

const run = promisify(execFile);

export interface ClipOptions {
  seconds: number;
  /** Sine frequency of the audio, Hz. */
  frequency?: number;
  size?: string;
  fps?: number;
  /**
   * Strength (0-100) of temporal noise added to the picture, so that frames are as large as a
   * camera's instead of a test pattern's few hundred bytes.
   */
  noise?: number;
}

/** Encodes an H.264 (1 s GOP) + AAC FLV clip of a test pattern and a sine tone. */
export async function makeClip(path: string, o: ClipOptions): Promise<string> {
  const fps = o.fps ?? 25;
  await run(
    'ffmpeg',
    [
      ...['-v', 'error', '-y'],
      ...['-f', 'lavfi', '-i', `testsrc=size=${o.size ?? '320x240'}:rate=${fps}`],
      ...['-f', 'lavfi', '-i', `sine=frequency=${o.frequency ?? 440}:sample_rate=44100`],
      ...['-t', String(o.seconds)],
      ...(o.noise ? ['-vf', `noise=alls=${o.noise}:allf=t`] : []),
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', String(fps), '-pix_fmt', 'yuv420p'],
      ...['-c:a', 'aac', '-b:a', '64k', '-f', 'flv', path],
    ],
    { timeout: 60_000 },
  );
  return path;
}

/** The tags of an FLV file. */
export async function readFlvTags(path: string): Promise<FlvReadTag[]> {
  const reader = new FlvReader();
  const tags = reader.push(new Uint8Array(await readFile(path)));
  reader.end();
  return tags;
}

export interface ProbedStream {
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
}

/** ffprobe's view of a file's streams (throws when ffprobe cannot read it). */
export async function probeStreams(path: string): Promise<ProbedStream[]> {
  const { stdout } = await run(
    'ffprobe',
    [
      '-v',
      'error',
      '-show_entries',
      'stream=codec_type,codec_name,width,height,sample_rate,channels',
      '-of',
      'json',
      path,
    ],
    { timeout: 30_000 },
  );
  return (JSON.parse(stdout) as { streams: ProbedStream[] }).streams;
}

/** Format name per ffprobe ("mpegts" for a valid TS segment). */
export async function probeFormat(path: string): Promise<string> {
  const { stdout } = await run(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'format=format_name', '-of', 'csv=p=0', path],
    {
      timeout: 30_000,
    },
  );
  return stdout.trim();
}

/**
 * Dominant frequency of a media file's first audio stream, from zero crossings of its PCM
 * (mono, 8 kHz): a pure tone of f Hz crosses zero 2f times a second.
 */
export async function dominantFrequency(path: string): Promise<number> {
  const { stdout } = await run(
    'ffmpeg',
    ['-v', 'error', '-i', path, '-vn', '-ac', '1', '-ar', '8000', '-f', 's16le', '-'],
    { encoding: 'buffer', maxBuffer: 64 << 20, timeout: 30_000 },
  );
  const pcm = new Int16Array(stdout.buffer, stdout.byteOffset, stdout.length >> 1);
  // Skip the first 50 ms: AAC priming and the fade-in of a cut.
  const start = Math.min(400, pcm.length);
  let crossings = 0;
  for (let i = start + 1; i < pcm.length; i++) {
    const a = pcm[i - 1] as number;
    const b = pcm[i] as number;
    if ((a < 0 && b >= 0) || (a >= 0 && b < 0)) crossings++;
  }
  const seconds = (pcm.length - start) / 8000;
  return seconds > 0 ? crossings / 2 / seconds : 0;
}

export interface Playlist {
  text: string;
  mediaSequence: number | undefined;
  segments: string[];
  discontinuities: number;
  ended: boolean;
}

export function parsePlaylist(text: string): Playlist {
  const lines = text.split('\n').map((l) => l.trim());
  const seq = lines.find((l) => l.startsWith('#EXT-X-MEDIA-SEQUENCE:'));
  return {
    text,
    mediaSequence: seq === undefined ? undefined : Number(seq.split(':')[1]),
    segments: lines.filter((l) => l !== '' && !l.startsWith('#')),
    discontinuities: lines.filter((l) => l === '#EXT-X-DISCONTINUITY').length,
    ended: lines.includes('#EXT-X-ENDLIST'),
  };
}

/** Polls `check` every `everyMs` until it returns a value (not undefined), at most `timeoutMs`. */
export async function poll<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 100) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`poll: condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
