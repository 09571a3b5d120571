import { type FlvTag, tagRole } from '@org/flv';
import { describe, expect, it } from 'vitest';
import { FeedBatch } from '../src/output/feed-batch';

/** Adds with the role the pipeline would have computed for the tag. */
const add = (b: FeedBatch, tag: FlvTag) => b.add(tag, tagRole(tag));

const key = (ts: number, size = 9000): FlvTag => ({ type: 9, timestamp: ts, payload: pay([0x17, 1], size) });
const inter = (ts: number, size = 900): FlvTag => ({ type: 9, timestamp: ts, payload: pay([0x27, 1], size) });
const vconf = (ts: number): FlvTag => ({ type: 9, timestamp: ts, payload: pay([0x17, 0], 40) });
const audio = (ts: number): FlvTag => ({ type: 8, timestamp: ts, payload: pay([0xaf, 1], 300) });
const aconf = (ts: number): FlvTag => ({ type: 8, timestamp: ts, payload: pay([0xaf, 0], 4) });

function pay(head: number[], size: number): Uint8Array {
  const p = new Uint8Array(size);
  p.set(head);
  return p;
}

const opts = { hasVideo: true, hasAudio: true, maxBytes: 64 * 1024, maxSpanMs: 250 };

describe('FeedBatch: when held tags go to FFmpeg', () => {
  it('holds inter frames and audio, flushes on a keyframe', () => {
    const b = new FeedBatch(opts);
    expect(add(b, inter(0))).toBe(false);
    expect(add(b, audio(10))).toBe(false);
    expect(add(b, inter(33))).toBe(false);
    expect(b.bytes).toBeGreaterThan(2000);
    expect(add(b, key(66))).toBe(true);
    expect(b.bytes).toBe(0);
  });

  it('after a keyframe, flushes every audio frame until one reaches the keyframe timestamp', () => {
    const b = new FeedBatch(opts);
    expect(add(b, key(2000))).toBe(true);
    expect(add(b, audio(1990))).toBe(true); // earlier: FFmpeg outputs it and still holds the keyframe
    expect(add(b, inter(2033))).toBe(false);
    expect(add(b, audio(2013))).toBe(true); // releases the keyframe
    expect(add(b, audio(2035))).toBe(false); // back to batching
  });

  it('flushes decoder configuration and metadata at once', () => {
    const b = new FeedBatch(opts);
    expect(add(b, vconf(0))).toBe(true);
    expect(add(b, aconf(0))).toBe(true);
    expect(add(b, { type: 18, timestamp: 0, payload: new Uint8Array(30) })).toBe(true);
  });

  it('flushes at maxBytes and at maxSpanMs of media time, and when time goes backwards', () => {
    const b = new FeedBatch({ ...opts, maxBytes: 5000 });
    let flushedAt = -1;
    for (let i = 0; i < 20 && flushedAt < 0; i++) if (add(b, inter(i * 33))) flushedAt = i;
    expect(flushedAt).toBe(5); // 6 × ~915 wire bytes ≥ 5000
    const c = new FeedBatch(opts);
    expect(add(c, audio(1000))).toBe(false);
    expect(add(c, audio(1200))).toBe(false);
    expect(add(c, audio(1250))).toBe(true);
    expect(add(c, audio(1300))).toBe(false);
    expect(add(c, audio(900))).toBe(true);
  });

  it('writes straight through without video, or with batching off', () => {
    const noVideo = new FeedBatch({ ...opts, hasVideo: false });
    expect(add(noVideo, audio(0))).toBe(true);
    expect(add(noVideo, audio(23))).toBe(true);
    const off = new FeedBatch({ ...opts, maxBytes: 0 });
    expect(add(off, inter(0))).toBe(true);
  });

  it('without audio, a keyframe does not make later video flush', () => {
    const b = new FeedBatch({ ...opts, hasAudio: false });
    expect(add(b, key(0))).toBe(true);
    expect(add(b, inter(33))).toBe(false);
  });
});
