/**
 * The stream manager and its streams with fake timers and fakes at the producer and directory
 * seams: one publisher per username, takeover, reconnect grace, ending and cleanup, shutdown,
 * viewers, what the registry reports, and the playlist the producer's segments build (codec
 * admission: codec-admission.test.ts).
 */
import type { FlvStreamState } from '@org/flv';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseMediaPlaylist } from '../src/hls/playlist';
import { PublishRefusal } from '../src/streams/live-stream';
import type { PublishSession } from '../src/streams/publisher-session';
import type { StreamManager, StreamManagerOptions } from '../src/streams/stream-manager';
import {
  AAC_CONFIG,
  AAC_FRAME,
  AVC_CONFIG,
  type FakeDir,
  type FakeProducer,
  FakePublisher,
  INTER,
  KEYFRAME,
  startPublish as start,
} from './helpers/fake-stream-parts';
import { type MadeStream, makeManager } from './helpers/manager-harness';

/** Per stream created: its fake producer, its fake directory and their shared call log. */
let made: MadeStream[];
let manager: StreamManager;

function make(opts: Partial<StreamManagerOptions> = {}) {
  ({ manager, made } = makeManager(opts));
  return manager;
}

const calls = (i = 0) => made[i]?.calls;

beforeEach(() => {
  vi.useFakeTimers({ now: 1_800_000_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('publishing', () => {
  it('creates nothing before the first frame, then prepares and opens the output once', async () => {
    make();
    const s = await manager.publish({ username: 'alice', app: 'test', publisher: new FakePublisher('c1') });
    expect(made).toHaveLength(1);
    expect(made[0]?.producer.dir).toBe('/srv/hls/alice');
    expect(calls(0)).toEqual([]);
    expect(manager.get('alice')).toMatchObject({ username: 'alice', app: 'test', state: 'live' });
    s.video(0, AVC_CONFIG);
    s.audio(0, AAC_CONFIG);
    expect(calls(0)).toEqual([]);
    s.video(0, KEYFRAME);
    s.video(40, INTER);
    expect(calls(0)).toEqual(['prepare', 'open']);
    expect(made[0]?.producer.written.map((w) => w.tag.payload)).toEqual([KEYFRAME, INTER]);
    // The primer handed to the output knows both sequence headers.
    const state = made[0]?.producer.opened[0] as FlvStreamState;
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
    expect(made).toHaveLength(1);
    expect(made[0]?.producer.written.at(-1)?.tag.payload).toBe(INTER);
    expect(calls(0)).toEqual(['prepare', 'open']);
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
    expect(made).toHaveLength(1);
    expect(calls(0)).toEqual(['prepare', 'open', 'open']);
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
    expect(made).toHaveLength(1);
    expect(calls(0)).toEqual(['prepare', 'open', 'open']);
    expect(made[0]?.producer.written.filter((w) => w.tag.timestamp === 999)).toEqual([]);
  });
});

describe('the stream cap (maxStreams)', () => {
  it('refuses a new username when full, counting streams in their grace; a returning publisher gets in', async () => {
    make({ maxStreams: 2 });
    const a = await manager.publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c1') });
    start(a);
    const b = await manager.publish({ username: 'bob', app: 'a', publisher: new FakePublisher('c2') });
    start(b);
    b.end('disconnect');
    await vi.advanceTimersByTimeAsync(0);
    expect(manager.get('bob')?.state).toBe('reconnecting');
    const err = await manager
      .publish({ username: 'carol', app: 'a', publisher: new FakePublisher('c3') })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'max_streams', status: 'NetStream.Publish.Rejected' });
    expect(made).toHaveLength(2);
    // bob comes back within his grace: his stream exists, so he is not a new one.
    const b2 = await manager.publish({ username: 'bob', app: 'a', publisher: new FakePublisher('c4') });
    start(b2, 1000);
    b2.end('disconnect');
    await vi.advanceTimersByTimeAsync(5000 + 2000 + 100);
    expect(manager.get('bob')).toBeUndefined();
    await manager.publish({ username: 'carol', app: 'a', publisher: new FakePublisher('c5') });
    expect(manager.get('carol')?.state).toBe('live');
  });
});

describe('usernames that differ only in case', () => {
  it('are refused while the other exists (live, in its grace), with or without takeover; HTTP stays exact', async () => {
    for (const takeover of [false, true]) {
      make({ takeover });
      const s1 = await manager.publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c1') });
      start(s1);
      const err = await manager
        .publish({ username: 'Alice', app: 'a', publisher: new FakePublisher('c2') })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'case_collision', status: 'NetStream.Publish.BadName' });
      expect((err as PublishRefusal).description).toBe('"Alice" differs only in case from the existing stream "alice"');
      expect(made).toHaveLength(1);
      expect(manager.get('Alice')).toBeUndefined();
      expect(manager.hls('ALICE')).toBeUndefined();
      expect(manager.get('alice')?.state).toBe('live');
      s1.end('disconnect');
      await vi.advanceTimersByTimeAsync(0);
      expect(manager.get('alice')?.state).toBe('reconnecting');
      await expect(
        manager.publish({ username: 'ALICE', app: 'a', publisher: new FakePublisher('c3') }),
      ).rejects.toMatchObject({ code: 'case_collision' });
      expect(manager.get('alice')?.state).toBe('reconnecting');
    }
  });

  it('are accepted once the other stream is gone, under the new case', async () => {
    make();
    const s1 = await manager.publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c1') });
    start(s1);
    s1.end('disconnect');
    await vi.advanceTimersByTimeAsync(5000 + 2000 + 100);
    expect(manager.get('alice')).toBeUndefined();
    const s2 = await manager.publish({ username: 'Alice', app: 'a', publisher: new FakePublisher('c2') });
    start(s2);
    expect(manager.get('Alice')?.state).toBe('live');
    expect(manager.get('alice')).toBeUndefined();
    expect(made.at(-1)?.producer.dir).toBe('/srv/hls/Alice');
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
    expect(calls(0)).toEqual(['prepare', 'open', 'close']);
    await vi.advanceTimersByTimeAsync(4900);
    const s2 = await manager.publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c2') });
    expect(manager.get('alice')?.state).toBe('live');
    start(s2);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(made).toHaveLength(1);
    // No second prepare (that would wipe the playlist): the producer is reopened and continues.
    expect(calls(0)).toEqual(['prepare', 'open', 'close', 'open']);
    expect(manager.get('alice')?.state).toBe('live');
  });

  it('after the grace: finish (ENDLIST), then removal after the cleanup delay', async () => {
    make();
    const s1 = await manager.publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c1') });
    start(s1);
    s1.end('disconnect');
    await vi.advanceTimersByTimeAsync(4999);
    expect(calls(0)).not.toContain('flush');
    await vi.advanceTimersByTimeAsync(1);
    expect(calls(0)?.at(-1)).toBe('flush'); // ENDLIST written and on disk
    expect(manager.hls('alice')?.playlist.hasEnded).toBe(true);
    expect(manager.get('alice')?.state).toBe('ending');
    await vi.advanceTimersByTimeAsync(1999);
    expect(calls(0)).not.toContain('remove');
    expect(manager.get('alice')).toBeDefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(calls(0)?.at(-1)).toBe('remove');
    expect(manager.get('alice')).toBeUndefined();
  });

  it('removal waits for the availability time of a segment removed just before the end', async () => {
    make({ hlsTime: 4 });
    const s1 = await manager.publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c1') });
    start(s1);
    const producer = made[0]?.producer as FakeProducer;
    for (let i = 0; i < 4; i++) producer.segment(4); // the fourth removes live_000.ts: 4 s + 12 s available
    s1.end('disconnect');
    await vi.advanceTimersByTimeAsync(5000 + 2000);
    expect(calls(0)).not.toContain('remove');
    expect(manager.hls('alice')?.playlist.lookup('live_000.ts')).toBe('retained');
    await vi.advanceTimersByTimeAsync(16_000 - 7000);
    expect(calls(0)?.at(-1)).toBe('remove');
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
    expect(calls(0)?.at(-1)).toBe('remove');
    expect(s2).toBeDefined();
    expect(made).toHaveLength(2);
    start(s2 as PublishSession);
    expect(calls(1)).toEqual(['prepare', 'open']);
  });

  it('a publish while the playlist is still being ended does not wait the cleanup delay', async () => {
    make();
    const s1 = await manager.publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c1') });
    start(s1);
    s1.end('disconnect');
    (made[0] as { producer: FakeProducer }).producer.closeDelayMs = 1000;
    await vi.advanceTimersByTimeAsync(5000);
    let s2: PublishSession | undefined;
    void manager.publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c2') }).then((s) => {
      s2 = s;
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(s2).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(calls(0)?.at(-1)).toBe('remove');
    expect(s2).toBeDefined();
  });

  it('a publisher that leaves before any media leaves nothing behind', async () => {
    make();
    const s1 = await manager.publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c1') });
    s1.video(0, AVC_CONFIG);
    s1.end('disconnect');
    expect(manager.get('alice')).toBeUndefined();
    expect(calls(0)).toEqual([]);
    // And the name is free again at once.
    await manager.publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c2') });
    expect(manager.get('alice')?.state).toBe('live');
  });

  it('an FFmpeg that keeps failing disconnects the publisher; the stream follows the grace path', async () => {
    make();
    const p = new FakePublisher('c1');
    const s1 = await manager.publish({ username: 'alice', app: 'a', publisher: p });
    start(s1);
    made[0]?.producer.events.fatal?.('ffmpeg crashed 6 times within the restart window');
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
    made[0]?.producer.events.restart?.(1, 250);
    made[0]?.producer.events.drop?.(3);
    expect(counted).toEqual({ restarts: 1, drops: 3 });
  });
});

describe('the playlist the producer builds', () => {
  it('lists each reported segment, marks the reconnect, deletes a segment only after its availability', async () => {
    make();
    const s1 = await manager.publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c1') });
    start(s1);
    const producer = made[0]?.producer as FakeProducer;
    const dir = made[0]?.dir as FakeDir;
    const hls = manager.hls('alice');
    expect(hls?.playlist.body()).toBeUndefined(); // no segment yet: no playlist
    const firstAt = Date.now();
    producer.segment(1, false, firstAt);
    producer.segment(1);
    s1.end('disconnect');
    await vi.advanceTimersByTimeAsync(1000);
    const s2 = await manager.publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c2') });
    start(s2, 5000);
    producer.segment(1, true);
    producer.segment(1);
    const p = parseMediaPlaylist(hls?.playlist.body()?.toString() ?? '');
    expect(p.segments.map((x) => [x.uri, x.discontinuity])).toEqual([
      ['live_001.ts', false],
      ['live_002.ts', true],
      ['live_003.ts', false],
    ]);
    expect(p.mediaSequence).toBe(1);
    // The playlist on disk follows the model.
    expect(dir.playlists.at(-1)).toBe(hls?.playlist.body()?.toString());
    // live_000 left the playlist now; it stays on disk for 1 s + the 3 s playlists that held it.
    expect(hls?.playlist.lookup('live_000.ts')).toBe('retained');
    await vi.advanceTimersByTimeAsync(3999);
    expect(dir.deleted).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(dir.deleted).toEqual(['live_000.ts']);
    expect(hls?.playlist.lookup('live_000.ts')).toBeUndefined();
    expect(manager.get('alice')?.lastSegmentAt).toBe(Date.now() - 4000);
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
    for (const m of made) {
      expect(m.calls).toContain('flush');
      expect(m.calls).not.toContain('remove');
      expect(manager.hls(m.producer.dir.split('/').at(-1) as string)?.playlist.hasEnded).toBe(true);
    }
    const refused = await manager
      .publish({ username: 'carol', app: 'a', publisher: new FakePublisher('c3') })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'shutdown' });
    manager.killAll();
    expect(made.every((m) => m.calls.at(-1) === 'kill')).toBe(true);
  });
});

describe('viewers', () => {
  it('counts distinct recent viewers', async () => {
    const now = { t: 0 };
    make({ now: () => now.t });
    await manager.publish({ username: 'alice', app: 'a', publisher: new FakePublisher('c1') });
    manager.hls('alice')?.noteViewer('127.0.0.1', 'v1');
    manager.hls('alice')?.noteViewer('127.0.0.1', 'v2');
    manager.hls('alice')?.noteViewer('127.0.0.1', 'v1');
    expect(manager.hls('nobody')).toBeUndefined();
    expect(manager.get('alice')?.viewers).toBe(2);
    now.t += 31_000;
    manager.hls('alice')?.noteViewer('127.0.0.1', 'v3');
    expect(manager.get('alice')?.viewers).toBe(1);
  });
});
