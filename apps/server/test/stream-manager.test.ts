/**
 * The stream manager's state machine with fake timers and a fake output: one publisher per
 * username, takeover, reconnect grace, ending and cleanup, codec admission, shutdown, and what
 * the registry reports.
 */
import type { FlvStreamState, FlvTag } from '@org/flv';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HlsOutputEvents, StreamOutput } from '../src/hls-output';
import {
  displayLevel,
  ffmpegVersionNumber,
  type PublisherHandle,
  PublishRefusal,
  type PublishSession,
  StreamManager,
  type StreamManagerOptions,
} from '../src/stream-manager';

const logger = pino({ level: 'silent' });

class FakeOutput implements StreamOutput {
  calls: string[] = [];
  written: FlvTag[] = [];
  opened: FlvStreamState[] = [];
  restarts = 0;
  droppedFrames = 0;
  pid: number | undefined;
  finishDelayMs = 0;
  constructor(
    readonly username: string,
    readonly dir: string,
    readonly events: HlsOutputEvents,
  ) {}
  async prepare() {
    this.calls.push('prepare');
  }
  open(state: FlvStreamState) {
    this.calls.push('open');
    this.opened.push(state);
    this.pid = 1000 + this.opened.length;
  }
  write(tag: FlvTag) {
    this.written.push(tag);
  }
  async close() {
    this.calls.push('close');
    this.pid = undefined;
  }
  async finish() {
    this.calls.push('finish');
    if (this.finishDelayMs) await new Promise((r) => setTimeout(r, this.finishDelayMs));
  }
  async remove() {
    this.calls.push('remove');
  }
  killNow() {
    this.calls.push('kill');
  }
}

class FakePublisher implements PublisherHandle {
  disconnects: { reason: string; status?: { code: string; description: string } }[] = [];
  constructor(readonly id: string) {}
  disconnect(reason: string, status?: { code: string; description: string }) {
    this.disconnects.push(status ? { reason, status } : { reason });
  }
}

// Legacy FLV AVC: the sequence header x264 wrote for a 320x240 clip (Constrained Baseline 1.3), a
// keyframe, an inter frame.
const AVC_CONFIG = Uint8Array.from([
  0x17, 0x00, 0x00, 0x00, 0x00, 0x01, 0x42, 0xc0, 0x0d, 0xff, 0xe1, 0x00, 0x16, 0x67, 0x42, 0xc0, 0x0d, 0xda, 0x05,
  0x07, 0xec, 0x04, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x0c, 0xa3, 0xc5, 0x0a, 0xa8, 0x01, 0x00, 0x04,
  0x68, 0xce, 0x0f, 0xc8,
]);
const KEYFRAME = Uint8Array.from([0x17, 0x01, 0, 0, 0, 0, 0, 0, 2, 0x65, 0x88]);
const INTER = Uint8Array.from([0x27, 0x01, 0, 0, 0, 0, 0, 0, 2, 0x41, 0x9a]);
// AAC LC 44.1 kHz stereo AudioSpecificConfig, then a raw frame.
const AAC_CONFIG = Uint8Array.from([0xaf, 0x00, 0x12, 0x10]);
const AAC_FRAME = Uint8Array.from([0xaf, 0x01, 0x21, 0x00, 0x49, 0x90]);
// Enhanced RTMP: ExHeader | keyframe | SequenceStart, FourCC "hvc1", a (truncated) hvcC.
const HEVC_CONFIG = Uint8Array.from([0x90, 0x68, 0x76, 0x63, 0x31, 0x01, 0x01, 0x60]);
// Enhanced RTMP AV1 sequence start, FourCC "av01".
const AV1_CONFIG = Uint8Array.from([0x90, 0x61, 0x76, 0x30, 0x31, 0x81, 0x08, 0x0c, 0x00]);

let outputs: FakeOutput[];
let manager: StreamManager;

function make(opts: Partial<StreamManagerOptions> = {}) {
  outputs = [];
  manager = new StreamManager({
    outputDir: '/srv/hls',
    reconnectGraceMs: 5000,
    cleanupDelayMs: 2000,
    takeover: false,
    ffmpegVersion: 'ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg developers',
    logger,
    createOutput: (username, dir, events) => {
      const o = new FakeOutput(username, dir, events);
      outputs.push(o);
      return o;
    },
    ...opts,
  });
  return manager;
}

/** Sends the usual start of a publish: sequence headers, then a keyframe and a frame of audio. */
function start(s: PublishSession, t = 0) {
  s.metadata({ width: 320, height: 240, videocodecid: 7, audiocodecid: 10 });
  s.video(t, AVC_CONFIG);
  s.audio(t, AAC_CONFIG);
  s.video(t, KEYFRAME);
  s.audio(t + 10, AAC_FRAME);
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('publishing', () => {
  it('creates nothing before the first frame, then prepares and opens the output once', async () => {
    make();
    const s = await manager.publish({ username: 'alice', app: 'test', publisher: new FakePublisher('c1') });
    expect(outputs).toHaveLength(1);
    expect(outputs[0]?.dir).toBe('/srv/hls/alice');
    expect(outputs[0]?.calls).toEqual([]);
    expect(manager.get('alice')).toMatchObject({ username: 'alice', app: 'test', state: 'live' });
    s.video(0, AVC_CONFIG);
    s.audio(0, AAC_CONFIG);
    expect(outputs[0]?.calls).toEqual([]);
    s.video(0, KEYFRAME);
    s.video(40, INTER);
    expect(outputs[0]?.calls).toEqual(['prepare', 'open']);
    expect(outputs[0]?.written.map((t) => t.payload)).toEqual([KEYFRAME, INTER]);
    // The primer handed to the output knows both sequence headers.
    const state = outputs[0]?.opened[0] as FlvStreamState;
    expect(state.videoConfig?.payload).toBe(AVC_CONFIG);
    expect(state.audioConfig?.payload).toBe(AAC_CONFIG);
  });

  it('reports codecs, bytes and bitrate through the registry', async () => {
    const now = { t: 1_000_000 };
    make({ now: () => now.t });
    const s = await manager.publish({ username: 'alice', app: undefined, publisher: new FakePublisher('c1') });
    start(s);
    for (let i = 0; i < 40; i++) {
      now.t += 100;
      s.video(i * 100, new Uint8Array(1000).fill(0x27));
    }
    const info = manager.get('alice');
    expect(info?.codecs).toEqual({
      video: { codec: 'h264', width: 320, height: 240, profile: 'Constrained Baseline', level: '1.3' },
      audio: { codec: 'aac', sampleRate: 44100, channels: 2 },
    });
    const mediaBytes = AVC_CONFIG.length + AAC_CONFIG.length + KEYFRAME.length + AAC_FRAME.length + 40_000;
    expect(info?.bytesIn).toBe(mediaBytes);
    // 1000 bytes every 100 ms = 80 kb/s.
    expect(info?.bitrate).toBeGreaterThan(70_000);
    expect(info?.bitrate).toBeLessThan(90_000);
    expect(manager.list().map((i) => i.username)).toEqual(['alice']);
  });

  it('refuses a second publisher for a live username; the first keeps streaming', async () => {
    make();
    const first = await manager.publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c1') });
    start(first);
    const err = await manager
      .publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c2') })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PublishRefusal);
    expect(err).toMatchObject({ code: 'duplicate', status: 'NetStream.Publish.BadName' });
    expect((err as PublishRefusal).description).toMatch(/already publishing/);
    first.video(80, INTER);
    expect(outputs).toHaveLength(1);
    expect(outputs[0]?.written.at(-1)?.payload).toBe(INTER);
    expect(outputs[0]?.calls).toEqual(['prepare', 'open']);
  });

  it('a publisher silent for 5 s is presumed gone: the newcomer replaces it (dropped link, socket not yet timed out)', async () => {
    make();
    const p1 = new FakePublisher('c1');
    const first = await manager.publish({ username: 'alice', app: 'a', publisher: p1 });
    start(first);
    await vi.advanceTimersByTimeAsync(4000);
    first.video(4000, INTER);
    await vi.advanceTimersByTimeAsync(4999);
    await expect(
      manager.publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c2') }),
    ).rejects.toMatchObject({ code: 'duplicate' });
    await vi.advanceTimersByTimeAsync(1);
    const second = await manager.publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c3') });
    expect(p1.disconnects).toHaveLength(1);
    start(second, 9000);
    expect(outputs).toHaveLength(1);
    expect(outputs[0]?.calls).toEqual(['prepare', 'open', 'open']);
  });

  it('with takeover, the newer publisher replaces the older on the same output', async () => {
    make({ takeover: true });
    const p1 = new FakePublisher('c1');
    const first = await manager.publish({ username: 'alice', app: 'a', publisher: p1 });
    start(first);
    const second = await manager.publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c2') });
    expect(p1.disconnects).toHaveLength(1);
    expect(p1.disconnects[0]?.status?.code).toBe('NetStream.Publish.Rejected');
    // The old connection's late messages and its end are ignored.
    first.video(999, INTER);
    first.end('disconnect');
    expect(manager.get('alice')?.state).toBe('live');
    start(second, 5000);
    expect(outputs).toHaveLength(1);
    expect(outputs[0]?.calls).toEqual(['prepare', 'open', 'open']);
    expect(outputs[0]?.written.filter((t) => t.timestamp === 999)).toEqual([]);
  });
});

describe('reconnect grace and ending', () => {
  it('keeps the stream through the grace; a returning publisher continues the same output', async () => {
    make();
    const s1 = await manager.publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c1') });
    start(s1);
    s1.end('disconnect');
    await vi.advanceTimersByTimeAsync(0);
    expect(manager.get('alice')?.state).toBe('reconnecting');
    expect(outputs[0]?.calls).toEqual(['prepare', 'open', 'close']);
    await vi.advanceTimersByTimeAsync(4900);
    const s2 = await manager.publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c2') });
    expect(manager.get('alice')?.state).toBe('live');
    start(s2);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(outputs).toHaveLength(1);
    // No second prepare (that would wipe the playlist): the output is reopened and continues.
    expect(outputs[0]?.calls).toEqual(['prepare', 'open', 'close', 'open']);
    expect(manager.get('alice')?.state).toBe('live');
  });

  it('after the grace: finish (ENDLIST), then removal after the cleanup delay', async () => {
    make();
    const s1 = await manager.publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c1') });
    start(s1);
    s1.end('disconnect');
    await vi.advanceTimersByTimeAsync(4999);
    expect(outputs[0]?.calls).not.toContain('finish');
    await vi.advanceTimersByTimeAsync(1);
    expect(outputs[0]?.calls.at(-1)).toBe('finish');
    expect(manager.get('alice')?.state).toBe('ending');
    await vi.advanceTimersByTimeAsync(1999);
    expect(outputs[0]?.calls).not.toContain('remove');
    expect(manager.get('alice')).toBeDefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(outputs[0]?.calls.at(-1)).toBe('remove');
    expect(manager.get('alice')).toBeUndefined();
  });

  it('a publish while the stream is ending waits for its removal, then starts afresh', async () => {
    make();
    const s1 = await manager.publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c1') });
    start(s1);
    s1.end('disconnect');
    await vi.advanceTimersByTimeAsync(5000);
    expect(manager.get('alice')?.state).toBe('ending');
    let s2: PublishSession | undefined;
    void manager.publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c2') }).then((s) => {
      s2 = s;
    });
    await vi.advanceTimersByTimeAsync(0);
    // The cleanup delay is cut short rather than keeping the publisher waiting.
    expect(outputs[0]?.calls.at(-1)).toBe('remove');
    expect(s2).toBeDefined();
    expect(outputs).toHaveLength(2);
    start(s2 as PublishSession);
    expect(outputs[1]?.calls).toEqual(['prepare', 'open']);
  });

  it('a publish while the playlist is still being ended does not wait the cleanup delay', async () => {
    make();
    const s1 = await manager.publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c1') });
    start(s1);
    s1.end('disconnect');
    (outputs[0] as FakeOutput).finishDelayMs = 1000;
    await vi.advanceTimersByTimeAsync(5000);
    let s2: PublishSession | undefined;
    void manager.publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c2') }).then((s) => {
      s2 = s;
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(s2).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(outputs[0]?.calls.at(-1)).toBe('remove');
    expect(s2).toBeDefined();
  });

  it('a publisher that leaves before any media leaves nothing behind', async () => {
    make();
    const s1 = await manager.publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c1') });
    s1.video(0, AVC_CONFIG);
    s1.end('disconnect');
    expect(manager.get('alice')).toBeUndefined();
    expect(outputs[0]?.calls).toEqual([]);
    // And the name is free again at once.
    await manager.publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c2') });
    expect(manager.get('alice')?.state).toBe('live');
  });

  it('an FFmpeg that keeps failing disconnects the publisher; the stream follows the grace path', async () => {
    make();
    const p = new FakePublisher('c1');
    const s1 = await manager.publish({ username: 'alice', app: 'a', publisher: p });
    start(s1);
    outputs[0]?.events.onFatal?.('ffmpeg crashed 6 times within the restart window');
    expect(p.disconnects).toEqual([
      {
        reason: 'ffmpeg crashed 6 times within the restart window',
        status: {
          code: 'NetStream.Publish.Rejected',
          description: 'stream failed: ffmpeg crashed 6 times within the restart window',
        },
      },
    ]);
    s1.end('closed'); // what the connection does after disconnect()
    expect(manager.get('alice')?.state).toBe('reconnecting');
  });

  it('counts restarts and drops reported by the output', async () => {
    const counted = { restarts: 0, drops: 0 };
    make({
      counters: { ffmpegRestarts: (n) => (counted.restarts += n), droppedFrames: (n) => (counted.drops += n) },
    });
    const s1 = await manager.publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c1') });
    start(s1);
    outputs[0]?.events.onRestart?.(1, 250);
    outputs[0]?.events.onDrop?.(3);
    expect(counted).toEqual({ restarts: 1, drops: 3 });
  });
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
    expect(outputs[0]?.calls).toEqual([]);
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

describe('shutdown', () => {
  it('disconnects publishers, ends every playlist and keeps the files', async () => {
    make();
    const p1 = new FakePublisher('c1');
    const s1 = await manager.publish({ username: 'alice', app: 'a', publisher: p1 });
    start(s1);
    const s2 = await manager.publish({ username: 'bob', app: 'a', publisher: new FakePublisher('c2') });
    start(s2);
    s2.end('disconnect'); // bob is in his grace period
    const done = manager.shutdown();
    await vi.advanceTimersByTimeAsync(0);
    await done;
    expect(p1.disconnects.map((d) => d.reason)).toEqual(['server shutting down']);
    for (const o of outputs) {
      expect(o.calls).toContain('finish');
      expect(o.calls).not.toContain('remove');
    }
    const refused = await manager
      .publish({ username: 'carol', app: 'a', publisher: new FakePublisher('c3') })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'shutdown' });
    manager.killAll();
    expect(outputs.every((o) => o.calls.at(-1) === 'kill')).toBe(true);
  });
});

describe('viewers', () => {
  it('counts distinct recent viewers', async () => {
    const now = { t: 0 };
    make({ now: () => now.t });
    await manager.publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c1') });
    manager.noteViewer('alice', 'v1');
    manager.noteViewer('alice', 'v2');
    manager.noteViewer('alice', 'v1');
    manager.noteViewer('nobody', 'v3');
    expect(manager.get('alice')?.viewers).toBe(2);
    now.t += 31_000;
    manager.noteViewer('alice', 'v3');
    expect(manager.get('alice')?.viewers).toBe(1);
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
