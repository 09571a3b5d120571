import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { concatBytes, encodeAmf0 } from '@org/rtmp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FlvMuxer,
  FlvReader,
  FlvStreamState,
  type FlvTag,
  KeyframeGate,
  TagType,
  TimestampRebaser,
  tagRole,
} from '../src/index';
import { encodeFlv, ffprobe, H264, run, sine, tempDir, testsrc } from './helpers/media';

let tmp: { dir: string; remove: () => Promise<void> };
let avTags: FlvTag[];
let audioTags: FlvTag[];

async function encode(name: string, args: string[]): Promise<FlvTag[]> {
  return (await encodeFlv(join(tmp.dir, `${name}.flv`), args)).tags;
}

beforeAll(async () => {
  tmp = await tempDir();
  [avTags, audioTags] = await Promise.all([
    encode('av', [
      ...testsrc('320x240'),
      ...sine(48000),
      ...['-t', '3', ...H264, '-g', '25', '-bf', '2', '-c:a', 'aac'],
    ]),
    encode('a', [...sine(44100), '-t', '2', '-ac', '2', '-c:a', 'aac']),
  ]);
}, 60_000);

afterAll(async () => {
  await tmp?.remove();
});

/** Decodes a whole file with FFmpeg; returns its error output (empty = clean). */
async function decodeErrors(path: string): Promise<string> {
  const r = await run('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-i', path, '-f', 'null', '-'], 30_000);
  return `${r.code === 0 ? '' : `exit ${r.code}\n`}${r.stderr}`;
}

/**
 * Cuts `tags` at the `cutVideoFrame`-th coded video frame, then builds a new FLV the way a server
 * re-primes a restarted FFmpeg: primer from the state, then live tags through the gate with a
 * fresh rebaser.
 */
function reprime(
  tags: FlvTag[],
  cutAt: number,
): { file: Uint8Array; firstLive: FlvTag | undefined; gate: KeyframeGate } {
  const state = new FlvStreamState();
  for (const t of tags.slice(0, cutAt)) state.observe(t);
  const muxer = new FlvMuxer();
  const pieces = state.primer({ muxer });
  const gate = state.createGate();
  const rebaser = new TimestampRebaser();
  let firstLive: FlvTag | undefined;
  for (const t of tags.slice(cutAt)) {
    state.observe(t);
    if (!gate.admit(t)) continue;
    const role = tagRole(t);
    const track = t.type === TagType.Video ? 'video' : 'audio';
    if (role === 'metadata') {
      pieces.push(...muxer.tag({ ...t, timestamp: 0 }));
      continue;
    }
    if (role.endsWith('config')) {
      // Configuration before the first frame goes out at 0 like the primer; later on the timeline.
      pieces.push(...muxer.tag({ ...t, timestamp: firstLive ? rebaser.rebase(track, t.timestamp) : 0 }));
      continue;
    }
    firstLive ??= t;
    pieces.push(...muxer.tag({ ...t, timestamp: rebaser.rebase(track, t.timestamp) }));
  }
  return { file: concatBytes(pieces), firstLive, gate };
}

describe('re-priming a fresh FLV stream', () => {
  it('cut mid-GOP: primer + frames from the next keyframe decode without any FFmpeg error', async () => {
    // The 30th video tag is an inter frame in the middle of the second GOP (keyframes every 25).
    let videoFrames = 0;
    const cut = avTags.findIndex(
      (t) => t.type === TagType.Video && tagRole(t) === 'video-frame' && ++videoFrames === 30,
    );
    expect(tagRole(avTags[cut]!)).toBe('video-frame');
    const { file, firstLive, gate } = reprime(avTags, cut);
    expect(gate.open).toBe(true);
    expect(tagRole(firstLive!)).toBe('video-keyframe');
    const path = join(tmp.dir, 'reprimed.flv');
    await writeFile(path, file);
    expect(await decodeErrors(path)).toBe('');
    const p = await ffprobe(path, ['-show_streams', '-count_frames', '-show_packets']);
    const video = p.streams!.find((s) => s.codec_type === 'video')!;
    expect([video.codec_name, video.width, video.height]).toEqual(['h264', 320, 240]);
    expect(video.nb_read_frames).toBe(String(75 - 50)); // the third GOP: frames 50–74
    const firstPacket = p.packets!.find((k) => k.codec_type === 'video')!;
    expect(firstPacket.flags.startsWith('K')).toBe(true);
    expect(firstPacket.dts).toBeLessThan(100); // the new stream starts near 0
    expect(p.streams!.find((s) => s.codec_type === 'audio')!.sample_rate).toBe('48000');
  }, 30_000);

  it('control: the same cut without the primer does not decode cleanly', async () => {
    let videoFrames = 0;
    const cut = avTags.findIndex(
      (t) => t.type === TagType.Video && tagRole(t) === 'video-frame' && ++videoFrames === 30,
    );
    const muxer = new FlvMuxer();
    const pieces = [muxer.header({ audio: true, video: true })];
    for (const t of avTags.slice(cut)) if (tagRole(t) !== 'video-end') pieces.push(...muxer.tag(t));
    const path = join(tmp.dir, 'unprimed.flv');
    await writeFile(path, concatBytes(pieces));
    expect(await decodeErrors(path)).not.toBe('');
  }, 30_000);

  it('audio-only: the gate is open at once and the primed stream decodes cleanly', async () => {
    const cut = 40;
    const { file, gate } = reprime(audioTags, cut);
    expect(gate.open).toBe(true);
    const path = join(tmp.dir, 'audio-reprimed.flv');
    await writeFile(path, file);
    expect(await decodeErrors(path)).toBe('');
    const reader = new FlvReader();
    reader.push(file);
    expect(reader.header).toMatchObject({ hasAudio: true, hasVideo: false });
  }, 30_000);

  it('metadata set as an object reaches FFmpeg as format tags', async () => {
    const state = new FlvStreamState();
    for (const t of avTags) if (t.type !== TagType.Script) state.observe(t);
    state.setMetadata({ encoder: 'obs-test 1.0', width: 320, height: 240, videocodecid: 7, audiocodecid: 10 });
    const muxer = new FlvMuxer();
    const pieces = state.primer({ muxer });
    for (const t of avTags)
      if (tagRole(t) !== 'metadata' && !tagRole(t).endsWith('config')) pieces.push(...muxer.tag(t));
    const path = join(tmp.dir, 'meta.flv');
    await writeFile(path, concatBytes(pieces));
    const p = (await ffprobe(path, ['-show_format'])) as { format?: { tags?: Record<string, string> } };
    expect(p.format!.tags!.encoder).toBe('obs-test 1.0');
  }, 30_000);
});

describe('FlvStreamState', () => {
  it('keeps the latest metadata and configuration, and summarises codecs', () => {
    const s = new FlvStreamState();
    expect(s.headerFlags()).toEqual({ audio: false, video: false });
    for (const t of avTags) s.observe(t);
    expect(s.videoCodec).toMatchObject({ codec: 'h264', width: 320, height: 240, profile: 77 }); // B-frames, no 8x8dct: Main
    expect(s.audioCodec).toMatchObject({ codec: 'aac', sampleRate: 48000, channels: 1 });
    expect(s.headerFlags()).toEqual({ audio: true, video: true });
    expect(s.metadata?.type).toBe(TagType.Script);
    const primer = s.primerTags(500);
    expect(primer.map((t) => [tagRole(t), t.timestamp])).toEqual([
      ['metadata', 0], // metadata always at 0 (FFmpeg ignores it as metadata otherwise)
      ['video-config', 500],
      ['audio-config', 500],
    ]);
    s.reset();
    expect(s.primerTags()).toEqual([]);
    expect(s.hasVideo).toBe(false);
  });

  it('strips @setDataFrame and reads the announced tracks from onMetaData', () => {
    const s = new FlvStreamState();
    const payload = encodeAmf0('@setDataFrame', 'onMetaData', { audiocodecid: 10, audiosamplerate: 44100 });
    s.observe({ type: TagType.Script, timestamp: 1234, payload });
    expect(s.metadata!.timestamp).toBe(0);
    expect(Buffer.from(s.metadata!.payload.subarray(0, 13)).toString('latin1')).toBe('\u0002\u0000\nonMetaData');
    expect(s.headerFlags()).toEqual({ audio: true, video: false });
    expect(s.createGate().open).toBe(true); // nothing says video: do not wait for a keyframe
  });

  it('ignores other script data and records codec errors without throwing', () => {
    const s = new FlvStreamState();
    s.observe({ type: TagType.Script, timestamp: 0, payload: encodeAmf0('onTextData', { text: 'hi' }) });
    expect(s.metadata).toBeUndefined();
    s.observe({ type: TagType.Video, timestamp: 0, payload: new Uint8Array([0x17, 0, 0, 0, 0, 1, 100]) });
    expect(s.codecError?.code).toBe('ERR_FLV_TRUNCATED_CODEC_CONFIG');
    expect(s.videoConfig).toBeDefined(); // kept anyway: FFmpeg may still cope
    expect(s.observe({ type: TagType.Audio, timestamp: 0, payload: new Uint8Array(0) })).toBe('malformed');
  });

  it('keeps one configuration per track and packet type (E-RTMP multitrack)', () => {
    const s = new FlvStreamState();
    const mt = (track: number, marker: number) =>
      new Uint8Array([0x96, 0x00, 0x61, 0x76, 0x30, 0x31, track, 0x81, marker, 0x0c, 0x00]); // av01 one-track
    s.observe({ type: TagType.Video, timestamp: 0, payload: mt(0, 1) });
    s.observe({ type: TagType.Video, timestamp: 0, payload: mt(1, 2) });
    s.observe({ type: TagType.Video, timestamp: 0, payload: mt(0, 3) }); // replaces track 0's
    expect(s.primerTags().map((t) => t.payload[8])).toEqual([3, 2]);
    expect(s.videoCodec).toMatchObject({ codec: 'av1', multitrack: true });
  });
});

describe('KeyframeGate', () => {
  const key = { type: 9, timestamp: 0, payload: new Uint8Array([0x17, 1, 0, 0, 0]) };
  const inter = { type: 9, timestamp: 40, payload: new Uint8Array([0x27, 1, 0, 0, 0]) };
  const audio = { type: 8, timestamp: 23, payload: new Uint8Array([0xaf, 1, 0]) };
  const config = { type: 9, timestamp: 0, payload: new Uint8Array([0x17, 0, 0, 0, 0]) };

  it('holds media until a video keyframe, lets configuration through, then stays open', () => {
    const g = new KeyframeGate({ waitForVideoKeyframe: true });
    expect([inter, audio, config].map((t) => g.admit(t))).toEqual([false, false, true]);
    expect(g.open).toBe(false);
    expect(g.admit(key)).toBe(true);
    expect(g.open).toBe(true);
    expect([inter, audio].map((t) => g.admit(t))).toEqual([true, true]);
  });

  it('starts open for audio-only streams', () => {
    expect(new KeyframeGate({ waitForVideoKeyframe: false }).admit(audio)).toBe(true);
  });
});
