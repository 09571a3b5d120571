/**
 * Which codecs a stream may carry: Enhanced RTMP HEVC/AV1 refused on an FFmpeg that cannot demux
 * them from FLV (an onStatus error naming the codec, nothing created), admitted on a newer one;
 * MP3 passed through; and how versions and levels are read and shown.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { displayLevel, ffmpegVersionNumber } from '../src/streams/codec-admission';
import type { StreamManager, StreamManagerOptions } from '../src/streams/stream-manager';
import { AV1_CONFIG, FakePublisher, HEVC_CONFIG } from './helpers/fake-stream-parts';
import { type MadeStream, makeManager } from './helpers/manager-harness';

let made: MadeStream[];
let manager: StreamManager;

function make(opts: Partial<StreamManagerOptions> = {}) {
  ({ manager, made } = makeManager(opts));
}

const calls = (i = 0) => made[i]?.calls;

beforeEach(() => {
  vi.useFakeTimers({ now: 1_800_000_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('codec admission', () => {
  it.each([
    ['HEVC', HEVC_CONFIG, 'hvc1'],
    ['AV1', AV1_CONFIG, 'av01'],
  ])('refuses Enhanced RTMP %s on FFmpeg 5.1 with a status naming the codec', async (_name, config, fourCc) => {
    make();
    const p = new FakePublisher('c1');
    const s = await manager.publish({ username: 'alice', app: 'a', publisher: p });
    s.video(0, config);
    s.video(0, config);
    expect(p.disconnects).toHaveLength(1);
    const status = p.disconnects[0]?.status;
    expect(status?.code).toBe('NetStream.Publish.Rejected');
    expect(status?.description).toContain(fourCc);
    expect(status?.description).toMatch(/FFmpeg ≥ 6\.1.*5\.1\.9/);
    s.end('NetStream.Publish.Rejected');
    expect(calls(0)).toEqual([]);
    expect(manager.get('alice')).toBeUndefined();
  });

  it('admits HEVC when the FFmpeg in use is new enough', async () => {
    make({ ffmpegVersion: 'ffmpeg version 7.1 Copyright (c) 2000-2024' });
    const p = new FakePublisher('c1');
    const s = await manager.publish({ username: 'alice', app: 'a', publisher: p });
    s.video(0, HEVC_CONFIG);
    expect(p.disconnects).toEqual([]);
  });

  it('passes MP3 audio through', async () => {
    make();
    const p = new FakePublisher('c1');
    const s = await manager.publish({ username: 'alice', app: 'a', publisher: p });
    // SoundFormat 2 (MP3), 44 kHz, 16 bit, stereo; an MPEG-1 Layer III header at 128 kb/s.
    s.audio(0, Uint8Array.from([0x2f, 0xff, 0xfb, 0x90, 0x64, 0, 0, 0]));
    expect(p.disconnects).toEqual([]);
    expect(manager.get('alice')?.codecs.audio).toEqual({ codec: 'mp3', sampleRate: 44100, channels: 2 });
  });

  it('reads the version number from the -version line', () => {
    expect(ffmpegVersionNumber('ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026')).toBe('5.1.9-0+deb12u1');
    expect(ffmpegVersionNumber('ffmpeg version n7.1 Copyright')).toBe('n7.1');
  });
});

describe('displayLevel', () => {
  it('writes H.264 and HEVC levels as people read them', () => {
    expect(displayLevel('h264', 13)).toBe('1.3');
    expect(displayLevel('h264', 30)).toBe('3.0');
    expect(displayLevel('h264', 51)).toBe('5.1');
    expect(displayLevel('hevc', 93)).toBe('3.1');
    expect(displayLevel('hevc', 120)).toBe('4.0');
    expect(displayLevel('av1', 8)).toBe('8');
  });
});
