import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BufferedFlvWriter,
  FlvDropQueue,
  FlvReader,
  FlvStreamWriter,
  type FlvTag,
  isEssentialRole,
  isFlvError,
  MIN_MAX_QUEUED_BYTES,
  muxFlv,
  type TagRole,
  TagType,
  tagRole,
  tagWireSize,
} from '../src/index';
import { frameId, METADATA_PAYLOAD, syntheticStream } from './helpers/synthetic';

/** A destination that takes `delayMs` per write (callback), small highWaterMark, and records bytes. */
function slowSink(highWaterMark: number, delayMs: number, copy = false) {
  const chunks: Uint8Array[] = [];
  const source: ArrayBufferLike[] = [];
  let writev = 0;
  // `copy`: keep a copy of each chunk, as a socket or a pipe does (the kernel takes the bytes).
  const take = (c: Uint8Array) => {
    source.push(c.buffer);
    chunks.push(copy ? Uint8Array.from(c) : c);
  };
  const sink = new Writable({
    highWaterMark,
    write(chunk: Uint8Array, _enc, cb) {
      take(chunk);
      setTimeout(cb, delayMs);
    },
    writev(list, cb) {
      writev++;
      for (const { chunk } of list) take(chunk as Uint8Array);
      setTimeout(cb, delayMs);
    },
  });
  return {
    sink,
    chunks,
    source,
    writevCalls: () => writev,
    bytes: () => Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength))),
  };
}

function finish(w: Writable): Promise<void> {
  return new Promise((resolve, reject) => w.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

function parse(bytes: Uint8Array): FlvTag[] {
  const r = new FlvReader();
  const tags = r.push(bytes);
  r.end();
  return tags;
}

/** Video frames that reached the output form, per GOP, a prefix starting at its keyframe. */
function expectUnbrokenChains(sent: FlvTag[], received: FlvTag[]): void {
  const frames = (tags: FlvTag[]) =>
    tags.filter((t) => t.type === TagType.Video && tagRole(t).startsWith('video-') && tagRole(t) !== 'video-config');
  const got = new Set(frames(received).map(frameId));
  for (const t of frames(sent)) {
    const id = frameId(t);
    if (got.has(id) && tagRole(t) === 'video-frame')
      expect(got.has(id - 1), `frame ${id} without ${id - 1}`).toBe(true);
  }
}

function frameIdOrRole(t: FlvTag): string {
  const role = tagRole(t);
  return role.endsWith('frame') || role.endsWith('keyframe') ? `${role}:${frameId(t)}` : role;
}

describe('FlvStreamWriter backpressure', () => {
  it('reports a full destination (false / needDrain) and resumes after drained()', async () => {
    const { sink, bytes, writevCalls } = slowSink(4096, 2);
    const w = new FlvStreamWriter(sink);
    w.writeHeader({ audio: true, video: true });
    const tags = [...syntheticStream(60)];
    let fullAt = -1;
    let waits = 0;
    for (let i = 0; i < tags.length; i++) {
      const ok = w.writeTag(tags[i]!);
      expect(ok).toBe(!w.needDrain);
      if (!ok) {
        if (fullAt < 0) fullAt = i;
        waits++;
        await w.drained();
        expect(w.needDrain).toBe(false);
      }
    }
    await finish(sink);
    expect(fullAt).toBeGreaterThanOrEqual(0);
    expect(fullAt).toBeLessThan(5); // the 5 kB keyframe overflows a 4 kB highWaterMark at once
    expect(waits).toBeGreaterThan(10);
    expect(writevCalls()).toBeGreaterThan(0); // the three pieces of a tag go out as one writev
    expect(parse(bytes()).map((t) => [t.type, t.timestamp, t.payload.length])).toEqual(
      tags.map((t) => [t.type, t.timestamp, t.payload.length]),
    );
  });

  it('drained() rejects when the destination closes first', async () => {
    const { sink } = slowSink(16, 50);
    const w = new FlvStreamWriter(sink);
    w.writeHeader({ audio: false, video: true });
    w.writeTag({ type: 9, timestamp: 0, payload: new Uint8Array(100) });
    const p = w.drained();
    sink.destroy();
    await expect(p).rejects.toThrow(/closed/);
  });
});

describe('BufferedFlvWriter (bounded queue, drop until keyframe)', () => {
  it('keeps queued bytes under the limit, drops frames until a keyframe, never drops configuration', async () => {
    const { sink, bytes } = slowSink(8 * 1024, 3);
    const max = MIN_MAX_QUEUED_BYTES;
    const dropped: TagRole[] = [];
    const w = new BufferedFlvWriter(sink, { maxQueuedBytes: max, onDrop: (_t, role) => dropped.push(role) });
    w.writeHeader({ audio: true, video: true });
    const sent = [...syntheticStream(600, { gop: 30, repeatConfig: true, metadataEvery: 45 })];
    const results = { written: 0, queued: 0, dropped: 0 };
    let maxQueued = 0;
    for (let i = 0; i < sent.length; i++) {
      results[w.write(sent[i]!)]++;
      maxQueued = Math.max(maxQueued, w.queuedBytes);
      expect(w.queuedBytes).toBeLessThanOrEqual(max);
      // A producer far faster than the sink: yield to the event loop only now and then.
      if (i % 40 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(results.dropped).toBeGreaterThan(50);
    expect(results.queued).toBeGreaterThan(0);
    expect(maxQueued).toBeGreaterThan(max / 2); // the queue was really used up to near its limit
    expect(w.droppedFrames).toBe(dropped.length);
    expect(w.droppedBytes).toBeGreaterThan(0);
    expect(dropped.every((r) => !isEssentialRole(r))).toBe(true);

    // Let the sink drain everything that was queued.
    for (let i = 0; i < 2000 && w.queuedTags > 0; i++) await new Promise((r) => setTimeout(r, 2));
    expect(w.queuedTags).toBe(0);
    await finish(sink);
    const received = parse(bytes());
    // Every essential tag arrived, in order.
    const essentials = (tags: FlvTag[]) =>
      tags.filter((t) => isEssentialRole(tagRole(t))).map((t) => [t.type, t.timestamp]);
    expect(essentials(received)).toEqual(essentials(sent));
    expect(received.length + w.droppedFrames).toBe(sent.length);
    expectUnbrokenChains(sent, received);
    w.close();
  });

  it('end() flushes the queue through a slow destination, then finishes it', async () => {
    const { sink, bytes } = slowSink(2048, 1);
    const w = new BufferedFlvWriter(sink, { maxQueuedBytes: 1 << 20 });
    w.writeHeader({ audio: true, video: true });
    const sent = [...syntheticStream(90)];
    for (const t of sent) w.write(t);
    expect(w.queuedTags).toBeGreaterThan(50);
    expect(w.droppedFrames).toBe(0);
    await w.end();
    expect(sink.writableFinished).toBe(true);
    expect(parse(bytes()).map(frameIdOrRole)).toEqual(sent.map(frameIdOrRole));
    await expect(new FlvStreamWriter(sink).drained()).rejects.toThrow(/ended/);
  });

  it('writes straight through while the destination keeps up', async () => {
    const { sink, bytes } = slowSink(1 << 20, 0);
    const w = new BufferedFlvWriter(sink);
    w.writeHeader({ audio: true, video: true });
    const sent = [...syntheticStream(30)];
    expect(sent.map((t) => w.write(t)).every((r) => r === 'written')).toBe(true);
    await finish(sink);
    expect(parse(bytes())).toHaveLength(sent.length);
  });

  it('hold() queues without writing; flush() sends the held tags as one vectored write', async () => {
    const { sink, bytes, writevCalls } = slowSink(1 << 20, 0);
    const w = new BufferedFlvWriter(sink);
    w.writeHeader({ audio: true, video: true });
    await new Promise((r) => setImmediate(r)); // the header's own write
    const before = writevCalls();
    const sent = [...syntheticStream(12)];
    expect(sent.map((t) => w.hold(t)).every((r) => r === 'queued')).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(w.queuedTags).toBe(sent.length);
    expect(w.streamWriter.tagsWritten).toBe(0);
    w.flush();
    expect(w.queuedTags).toBe(0);
    await finish(sink);
    expect(writevCalls() - before).toBe(1);
    expect(parse(bytes()).map(frameIdOrRole)).toEqual(sent.map(frameIdOrRole));
  });

  it('hold() keeps the bound: past maxQueuedBytes frames are dropped until a keyframe', () => {
    const { sink } = slowSink(1 << 20, 0);
    const w = new BufferedFlvWriter(sink, { maxQueuedBytes: MIN_MAX_QUEUED_BYTES });
    w.writeHeader({ audio: true, video: true });
    const results = [...syntheticStream(300)].map((t) => w.hold(t));
    expect(results).toContain('dropped');
    expect(w.queuedBytes).toBeLessThanOrEqual(MIN_MAX_QUEUED_BYTES);
    w.close();
    expect(w.hold({ type: 8, timestamp: 0, payload: new Uint8Array([0xaf, 1]) })).toBe('dropped');
  });

  it('holdBufferBytes: held tags are copied into one reused buffer, same bytes out', async () => {
    const fast = slowSink(1 << 20, 0, true);
    const plainSink = slowSink(1 << 20, 0);
    const w = new BufferedFlvWriter(fast.sink, { holdBufferBytes: 16 * 1024 });
    const plainW = new BufferedFlvWriter(plainSink.sink);
    w.writeHeader({ audio: true, video: true });
    plainW.writeHeader({ audio: true, video: true });
    const sent = [...syntheticStream(300)];
    const large = sent.filter((t) => tagWireSize(t) > 16 * 1024).length;
    for (let i = 0; i < sent.length; i++) {
      const t = sent[i]!;
      // Copies: changing the caller's payload afterwards does not change what is written.
      const own = { ...t, payload: Uint8Array.from(t.payload) };
      expect(w.hold(own)).toBe('queued');
      own.payload.fill(0xee);
      plainW.write(t);
      if (i % 10 === 9) {
        w.flush();
        await new Promise((r) => setTimeout(r, 2)); // the sink takes the batch, the buffer comes back
      }
    }
    w.flush();
    await w.end();
    await finish(plainSink.sink);
    expect(fast.bytes().equals(plainSink.bytes())).toBe(true);
    expect(w.streamWriter.tagsWritten).toBe(sent.length);
    // Batches (and the tags too large for the buffer) went out as few buffers, mostly one reused one.
    const buffers = new Set(fast.source.filter((b) => b.byteLength >= 16 * 1024));
    expect(buffers.size).toBeLessThan(large + 6);
  });

  it('holdBufferBytes: two buffers take turns when a batch starts before the last one came back', async () => {
    const fast = slowSink(1 << 20, 1, true);
    const w = new BufferedFlvWriter(fast.sink, { holdBufferBytes: 1 << 20 });
    w.writeHeader({ audio: true, video: true });
    const sent = [...syntheticStream(300)];
    for (let i = 0; i < sent.length; i++) {
      expect(w.hold(sent[i]!)).toBe('queued');
      if (i % 10 === 9) {
        w.flush();
        // The next tag is held in the same tick, as when one socket read holds several messages:
        // the destination has not called back for the batch just written.
        expect(w.hold(sent[++i]!)).toBe('queued');
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    await w.end();
    expect(w.streamWriter.tagsWritten).toBe(sent.length);
    expect(fast.bytes().length).toBeGreaterThan(0);
    const buffers = new Set(fast.source.filter((b) => b.byteLength === 1 << 20));
    expect(buffers.size).toBe(2);
  });

  it('holdBufferBytes: one buffer serves every batch when a real pipe takes the bytes during the write', async () => {
    // `cat` copies its stdin to a file: a real pipe, as FFmpeg's stdin is.
    const dir = mkdtempSync(join(tmpdir(), 'flv-hold-'));
    const out = join(dir, 'out.flv');
    const child = spawn('sh', ['-c', 'exec cat > "$0"', out], { stdio: ['pipe', 'ignore', 'inherit'] });
    const stdin = child.stdin;
    const seen = new Set<ArrayBufferLike>();
    const write = stdin.write.bind(stdin) as (chunk: Uint8Array, cb?: () => void) => boolean;
    (stdin as unknown as { write: typeof write }).write = (chunk, cb) => {
      if (chunk.byteLength >= 1024) seen.add(chunk.buffer);
      return write(chunk, cb);
    };
    const w = new BufferedFlvWriter(stdin, { holdBufferBytes: 64 * 1024 });
    w.writeHeader({ audio: true, video: true });
    await new Promise((r) => setImmediate(r)); // the header's tick (its write is corked) is over
    const sent = [...syntheticStream(300)].filter((t) => tagWireSize(t) <= 64 * 1024);
    for (let i = 0; i < sent.length; i++) {
      expect(w.hold(sent[i]!)).toBe('queued');
      if (i % 10 === 9) {
        w.flush();
        expect(w.hold(sent[++i]!)).toBe('queued'); // same tick, before any callback
        // Let cat drain the pipe, so every write finds room.
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    await w.end();
    await new Promise((r) => child.on('close', r));
    const expected = muxFlv({ audio: true, video: true }, sent);
    expect(readFileSync(out).equals(expected)).toBe(true);
    rmSync(dir, { recursive: true, force: true });
    expect(seen.size).toBe(1);
  });

  it('holdBufferBytes: a buffer reused at once is not handed out again while a later write of it is pending', async () => {
    // Like a pipe: a write it has room for is taken during the call; one it has no room for is
    // taken later, its bytes read from the chunk only then (as the kernel does).
    const out: Buffer[] = [];
    let takeNow = true;
    const sink = new Writable({
      highWaterMark: 1 << 20,
      write(chunk: Buffer, _enc, cb) {
        if (takeNow) {
          out.push(Buffer.from(chunk));
          cb();
        } else {
          setTimeout(() => {
            out.push(Buffer.from(chunk));
            cb();
          }, 5);
        }
      },
    });
    const w = new BufferedFlvWriter(sink, { holdBufferBytes: 1 << 20 });
    w.writeHeader({ audio: true, video: true });
    await new Promise((r) => setImmediate(r));
    const sent = [...syntheticStream(240)];
    const batch = (from: number) => {
      for (let j = from; j < from + 4 && j < sent.length; j++) w.hold(sent[j]!);
      w.flush();
    };
    for (let i = 0; i < sent.length; i += 12) {
      takeNow = true;
      batch(i); // taken during the write: the buffer is reused at once
      takeNow = false;
      batch(i + 4); // the same buffer again, this time still pending
      await new Promise((r) => setImmediate(r)); // the first write's callback runs
      batch(i + 8); // must not get the buffer the pending write still reads
      await new Promise((r) => setTimeout(r, 20));
    }
    await w.end();
    const expected = muxFlv({ audio: true, video: true }, sent);
    expect(Buffer.concat(out).equals(expected)).toBe(true);
  });

  it('holdBufferBytes: a full destination sends held tags to the queue and its drop policy', async () => {
    const { sink, bytes } = slowSink(8 * 1024, 3, true);
    const dropped: TagRole[] = [];
    const w = new BufferedFlvWriter(sink, {
      holdBufferBytes: 32 * 1024,
      maxQueuedBytes: MIN_MAX_QUEUED_BYTES,
      onDrop: (_t, role) => dropped.push(role),
    });
    w.writeHeader({ audio: true, video: true });
    const sent = [...syntheticStream(600, { gop: 30, repeatConfig: true })];
    for (let i = 0; i < sent.length; i++) {
      w.hold(sent[i]!);
      if (i % 5 === 4) w.flush();
      expect(w.queuedBytes).toBeLessThanOrEqual(MIN_MAX_QUEUED_BYTES + 32 * 1024);
      if (i % 40 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(dropped.length).toBeGreaterThan(0);
    expect(dropped.every((r) => !isEssentialRole(r))).toBe(true);
    await w.end();
    const received = parse(bytes());
    expect(received.length + w.droppedFrames).toBe(sent.length);
    expectUnbrokenChains(sent, received);
    expect(() => new BufferedFlvWriter(sink, { holdBufferBytes: -1 })).toThrow(/holdBufferBytes/);
  });

  it('refuses tags before the header, and drops everything after close()', () => {
    const { sink } = slowSink(1024, 0);
    const w = new BufferedFlvWriter(sink);
    expect(() => w.write({ type: 8, timestamp: 0, payload: new Uint8Array(2) })).toThrow(/header first/);
    expect(() => w.hold({ type: 8, timestamp: 0, payload: new Uint8Array(2) })).toThrow(/header first/);
    w.writeHeader({ audio: true, video: false });
    w.close();
    expect(w.write({ type: 8, timestamp: 0, payload: new Uint8Array([0xaf, 1]) })).toBe('dropped');
    expect(sink.listenerCount('drain')).toBe(0);
  });
});

/** Tags of known roles and sizes for the queue model. */
const tagArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant<'meta'>('meta') },
  { weight: 1, arbitrary: fc.constant<'vconf'>('vconf') },
  { weight: 1, arbitrary: fc.constant<'aconf'>('aconf') },
  { weight: 3, arbitrary: fc.constant<'key'>('key') },
  { weight: 20, arbitrary: fc.constant<'inter'>('inter') },
  { weight: 15, arbitrary: fc.constant<'audio'>('audio') },
);

function makeTag(kind: string, id: number, size: number): FlvTag {
  const p = new Uint8Array(Math.max(size, 9));
  const head: Record<string, number[]> = {
    vconf: [0x17, 0],
    aconf: [0xaf, 0],
    key: [0x17, 1],
    inter: [0x27, 1],
    audio: [0xaf, 1],
  };
  if (kind === 'meta') return { type: TagType.Script, timestamp: 0, payload: METADATA_PAYLOAD };
  p.set(head[kind]!);
  const o = kind === 'audio' || kind === 'aconf' ? 2 : 5;
  p[o] = id >>> 24;
  p[o + 1] = id >>> 16;
  p[o + 2] = id >>> 8;
  p[o + 3] = id;
  return { type: kind === 'audio' || kind === 'aconf' ? TagType.Audio : TagType.Video, timestamp: id, payload: p };
}

describe('FlvDropQueue properties', () => {
  it('bytes ≤ limit, FIFO, essential tags never dropped, no frame after a gap before a keyframe', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant<'push'>('push'), kind: tagArb, size: fc.integer({ min: 9, max: 30_000 }) }),
            fc.record({ op: fc.constant<'shift'>('shift'), n: fc.integer({ min: 1, max: 5 }) }),
          ),
          { maxLength: 400 },
        ),
        (ops) => {
          const droppedRoles: TagRole[] = [];
          const q = new FlvDropQueue({ maxQueuedBytes: MIN_MAX_QUEUED_BYTES, onDrop: (_t, r) => droppedRoles.push(r) });
          const pushed: FlvTag[] = [];
          const out: FlvTag[] = [];
          let lastVideoId = -1; // id chain of video frames pushed (a GOP = key then inters)
          const prevInChain = new Map<FlvTag, FlvTag | undefined>();
          let prevVideo: FlvTag | undefined;
          for (const o of ops) {
            if (o.op === 'push') {
              const t = makeTag(o.kind, ++lastVideoId, o.size);
              if (o.kind === 'inter') prevInChain.set(t, prevVideo);
              if (o.kind === 'key' || o.kind === 'inter') prevVideo = t;
              pushed.push(t);
              q.push(t);
            } else {
              for (let i = 0; i < o.n; i++) {
                const t = q.shift();
                if (t) out.push(t);
              }
            }
            expect(q.bytes).toBeLessThanOrEqual(MIN_MAX_QUEUED_BYTES);
            expect(q.bytes).toBeGreaterThanOrEqual(0);
          }
          for (let t = q.shift(); t; t = q.shift()) out.push(t);
          expect(q.bytes).toBe(0);
          // FIFO: output is a subsequence of the input in order.
          let k = 0;
          for (const t of out) {
            while (k < pushed.length && pushed[k] !== t) k++;
            expect(k).toBeLessThan(pushed.length);
            k++;
          }
          expect(droppedRoles.every((r) => !isEssentialRole(r))).toBe(true);
          const outSet = new Set(out);
          for (const t of pushed) if (isEssentialRole(tagRole(t))) expect(outSet.has(t)).toBe(true);
          for (const t of out) {
            const prev = prevInChain.get(t);
            if (prev) expect(outSet.has(prev)).toBe(true);
          }
          expect(q.droppedFrames).toBe(pushed.length - out.length);
          expect(q.droppedBytes).toBe(pushed.filter((t) => !outSet.has(t)).reduce((s, t) => s + tagWireSize(t), 0));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('an audio-only stream resumes on the next audio frame that fits', () => {
    const q = new FlvDropQueue({ maxQueuedBytes: MIN_MAX_QUEUED_BYTES });
    expect(q.push(makeTag('aconf', 0, 9))).toBe('queued');
    let i = 1;
    while (q.push(makeTag('audio', i++, 10_000)) === 'queued' && i < 100) {}
    expect(q.dropping).toBe(true);
    expect(q.push(makeTag('audio', i++, 10_000))).toBe('dropped'); // still full
    q.shift();
    q.shift();
    expect(q.push(makeTag('audio', i++, 10_000))).toBe('queued'); // room again: resumes at once
    expect(q.dropping).toBe(false);
  });

  it('with video, even a fitting audio frame waits for the keyframe', () => {
    const q = new FlvDropQueue({ maxQueuedBytes: MIN_MAX_QUEUED_BYTES });
    q.push(makeTag('key', 0, 40_000));
    expect(q.push(makeTag('inter', 1, 30_000))).toBe('dropped');
    q.shift();
    expect(q.push(makeTag('audio', 2, 100))).toBe('dropped');
    expect(q.push(makeTag('inter', 3, 100))).toBe('dropped');
    expect(q.push(makeTag('key', 4, 100))).toBe('queued');
    expect(q.push(makeTag('audio', 5, 100))).toBe('queued');
  });

  it('makes room for configuration by evicting the newest frames, then superseding old configuration', () => {
    const q = new FlvDropQueue({ maxQueuedBytes: MIN_MAX_QUEUED_BYTES });
    q.push(makeTag('key', 0, 30_000));
    q.push(makeTag('inter', 1, 30_000));
    expect(q.push(makeTag('vconf', 2, 20_000))).toBe('queued');
    expect(q.droppedFrames).toBe(1); // the inter frame went; the keyframe stays
    expect(q.dropping).toBe(true);
    expect(q.push(makeTag('vconf', 3, 40_000))).toBe('queued'); // evicts the keyframe…
    expect(q.push(makeTag('vconf', 4, 40_000))).toBe('queued'); // …then supersedes config 3
    expect(q.bytes).toBeLessThanOrEqual(MIN_MAX_QUEUED_BYTES);
    let caught: unknown;
    try {
      q.push(makeTag('aconf', 5, MIN_MAX_QUEUED_BYTES)); // cannot fit beside the video config
    } catch (e) {
      caught = e;
    }
    expect(isFlvError(caught) && caught.code).toBe('ERR_FLV_QUEUE_OVERFLOW');
  });

  it('validates maxQueuedBytes', () => {
    expect(() => new FlvDropQueue({ maxQueuedBytes: 1000 })).toThrow(/maxQueuedBytes/);
  });
});
