/**
 * The per-publisher ingest bitrate limit: the token bucket alone, then through a stream (fakes at
 * the producer and directory seams) with both actions.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IngestRateLimit } from '../src/streams/ingest-limit';
import type { PublishSession } from '../src/streams/publisher-session';
import { FakePublisher, startPublish as start } from './helpers/fake-stream-parts';
import { makeManager } from './helpers/manager-harness';

/** An FLV AVC NAL-unit packet of `size` bytes. */
function avc(keyframe: boolean, size: number): Uint8Array {
  const p = new Uint8Array(size);
  p.set([keyframe ? 0x17 : 0x27, 0x01, 0, 0, 0, 0, 0, 0, 2, keyframe ? 0x65 : 0x41]);
  return p;
}

describe('IngestRateLimit', () => {
  it('passes a burst up to the bucket, then exactly the refill rate', () => {
    let t = 0;
    // 80 kbit/s = 10 bytes per ms; a 1 s bucket holds 10 000 bytes.
    const limit = new IngestRateLimit({ maxBitsPerSecond: 80_000, action: 'drop', burstMs: 1000 }, () => t);
    expect(limit.admit(10_000)).toBe(true);
    expect(limit.admit(1)).toBe(false);
    t = 100;
    expect(limit.admit(1001)).toBe(false); // a refused message takes nothing
    expect(limit.admit(1000)).toBe(true);
    t = 10_000;
    expect(limit.admit(10_000)).toBe(true); // refill stops at the bucket size
    expect(limit.admit(1)).toBe(false);
  });

  it('refuses a limit that is not positive', () => {
    expect(() => new IngestRateLimit({ maxBitsPerSecond: 0, action: 'drop' })).toThrow(RangeError);
  });
});

/** 4000-byte frames every 100 ms (320 kbit/s) with a keyframe every 10 frames, for 3 s. */
async function overLimit(s: PublishSession): Promise<void> {
  for (let i = 1; i <= 30; i++) {
    await vi.advanceTimersByTimeAsync(100);
    s.video(i * 100, avc(i % 10 === 0, 4000));
  }
}

describe('a publisher over its limit', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_800_000_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('with drop: frames are dropped until a keyframe fits again, one trip per episode, publisher kept', async () => {
    const trips: number[] = [];
    const { manager, made } = makeManager({
      ingestLimit: { maxBitsPerSecond: 80_000, action: 'drop', burstMs: 1000 },
      counters: { ingestLimitTrips: (n) => trips.push(n) },
    });
    const publisher = new FakePublisher('c1');
    const s = await manager.publish({ username: 'alice', app: 'a', publisher });
    start(s);
    await overLimit(s);
    const written = made[0]?.producer.written ?? [];
    const frames = written.filter((w) => w.role === 'video-keyframe' || w.role === 'video-frame');
    expect(frames.length).toBeGreaterThan(2);
    expect(frames.length).toBeLessThan(15);
    // After the first drop only keyframes open a run of frames again.
    const firstDropAt = frames.findIndex(
      (w, i) => i > 0 && w.tag.timestamp - (frames[i - 1]?.tag.timestamp ?? 0) > 100,
    );
    expect(firstDropAt).toBeGreaterThan(0);
    for (let i = firstDropAt; i < frames.length; i++) {
      const gap = (frames[i]?.tag.timestamp ?? 0) - (frames[i - 1]?.tag.timestamp ?? 0);
      if (gap > 100) expect(frames[i]?.role).toBe('video-keyframe');
    }
    expect(trips.length).toBeGreaterThanOrEqual(1);
    expect(trips.length).toBeLessThanOrEqual(3);
    expect(publisher.disconnects).toEqual([]);
    expect(manager.get('alice')?.state).toBe('live');
    // Back under the limit: every frame passes.
    const before = written.length;
    await vi.advanceTimersByTimeAsync(2000);
    s.video(5000, avc(true, 1000));
    for (let i = 1; i <= 10; i++) {
      await vi.advanceTimersByTimeAsync(200);
      s.video(5000 + i * 200, avc(false, 1000));
    }
    expect(written.length - before).toBe(11);
  });

  it('with disconnect: the publisher is told why (onStatus) and the stream goes to its grace', async () => {
    const trips: number[] = [];
    const { manager, made } = makeManager({
      ingestLimit: { maxBitsPerSecond: 80_000, action: 'disconnect', burstMs: 1000 },
      counters: { ingestLimitTrips: (n) => trips.push(n) },
    });
    const publisher = new FakePublisher('c1');
    const s = await manager.publish({ username: 'alice', app: 'a', publisher });
    start(s);
    await overLimit(s);
    expect(publisher.disconnects).toEqual([
      {
        reason: 'over the ingest bitrate limit',
        status: { code: 'NetStream.Publish.Rejected', description: 'ingest bitrate over the limit of 80 kbit/s' },
      },
    ]);
    expect(trips).toEqual([1]);
    expect(manager.get('alice')?.state).toBe('reconnecting');
    const frames = (made[0]?.producer.written ?? []).filter((w) => w.role.startsWith('video-'));
    expect(frames.length).toBeLessThan(5);
  });
});
