/**
 * The server-owned live playlist against the RFC 8216 §6.2.1/§6.2.2 server rules, with a fake
 * clock: every reload is parsed back and compared with the previous one.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LivePlaylist, type SegmentReport } from '../src/hls/live-playlist';
import { segmentName } from '../src/hls/names';
import { type MediaPlaylist, parseMediaPlaylist } from '../src/hls/playlist';

beforeEach(() => {
  vi.useFakeTimers({ now: 1_800_000_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

function report(n: number, duration: number, discontinuity = false): SegmentReport {
  return { name: segmentName(n), duration, discontinuity, programDateTime: Date.now() };
}

function reload(p: LivePlaylist): MediaPlaylist {
  const body = p.body();
  if (body === undefined) throw new Error('no playlist yet');
  return parseMediaPlaylist(body.toString());
}

/** Segment URI → its media sequence, discontinuity sequence and EXTINF in one reload. */
function identities(p: MediaPlaylist): Map<string, [number, number, number]> {
  const out = new Map<string, [number, number, number]>();
  let dsn = p.discontinuitySequence;
  p.segments.forEach((s, i) => {
    if (s.discontinuity) dsn++;
    out.set(s.uri, [p.mediaSequence + i, dsn, s.duration]);
  });
  return out;
}

describe('LivePlaylist', () => {
  it('has no playlist before the first segment, then writes every tag the server owns', () => {
    const p = new LivePlaylist({ targetSegmentSeconds: 1, windowSegments: 3 });
    expect(p.body()).toBeUndefined();
    p.append(report(0, 2.002));
    const text = p.body()?.toString() ?? '';
    expect(text).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:3',
        '#EXT-X-TARGETDURATION:2',
        '#EXT-X-MEDIA-SEQUENCE:0',
        '#EXT-X-DISCONTINUITY-SEQUENCE:0',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        `#EXT-X-PROGRAM-DATE-TIME:${new Date(Date.now()).toISOString()}`,
        '#EXTINF:2.002,',
        'live_000.ts',
        '',
      ].join('\n'),
    );
    expect(text).not.toContain('ALLOW-CACHE');
  });

  it('increments the discontinuity sequence when a discontinuity scrolls out', () => {
    const p = new LivePlaylist({ targetSegmentSeconds: 1, windowSegments: 3 });
    for (let n = 0; n < 3; n++) p.append(report(n, 1));
    p.append(report(3, 1, true)); // a reconnect
    expect(reload(p).discontinuitySequence).toBe(0);
    expect(reload(p).segments.map((s) => s.discontinuity)).toEqual([false, false, true]);
    for (let n = 4; n < 6; n++) p.append(report(n, 1));
    expect(reload(p).segments[0]).toMatchObject({ uri: 'live_003.ts', discontinuity: true });
    p.append(report(6, 1));
    const after = reload(p);
    expect(after.segments.map((s) => s.uri)).toEqual(['live_004.ts', 'live_005.ts', 'live_006.ts']);
    expect(after.discontinuitySequence).toBe(1);
    expect(after.mediaSequence).toBe(4);
  });

  it('drops a discontinuity before the very first segment', () => {
    const p = new LivePlaylist({ targetSegmentSeconds: 1, windowSegments: 3 });
    p.append(report(0, 1, true));
    expect(reload(p).segments[0]?.discontinuity).toBe(false);
  });

  it('keeps at least three target durations in the window (RFC 8216 §6.2.2)', () => {
    const p = new LivePlaylist({ targetSegmentSeconds: 1, windowSegments: 3 });
    p.append(report(0, 2)); // target duration 2: the window must last 6 s
    p.append(report(1, 2));
    p.append(report(2, 1));
    p.append(report(3, 1));
    expect(reload(p).segments).toHaveLength(4); // 2+1+1 = 4 s would be too short
    p.append(report(4, 2)); // 2+1+1+2 = 6 s: the oldest can go, the next one not yet
    expect(reload(p).segments.map((s) => s.uri)).toEqual(['live_001.ts', 'live_002.ts', 'live_003.ts', 'live_004.ts']);
  });

  it('keeps a removed segment available for its duration plus the longest playlist that held it', () => {
    const p = new LivePlaylist({ targetSegmentSeconds: 1, windowSegments: 3 });
    const expired: string[] = [];
    p.subscribe({ expired: (name) => expired.push(name) });
    for (let n = 0; n < 4; n++) {
      p.append(report(n, 1));
      vi.advanceTimersByTime(1000);
    }
    // live_000 was removed at the 4th append, 3 s after it was listed; its longest playlist was 3 s.
    expect(p.lookup('live_000.ts')).toBe('retained');
    vi.advanceTimersByTime(1000 + 3000 - 1000 - 1);
    expect(p.lookup('live_000.ts')).toBe('retained');
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(p.lookup('live_000.ts')).toBeUndefined();
    expect(expired).toEqual(['live_000.ts']);
    expect(p.lookup('live_003.ts')).toBe('listed');
  });

  it('appends ENDLIST once and nothing after it', () => {
    const p = new LivePlaylist({ targetSegmentSeconds: 1, windowSegments: 3 });
    p.append(report(0, 1));
    p.end();
    p.end();
    p.append(report(1, 1));
    const text = p.body()?.toString() ?? '';
    expect(text.match(/#EXT-X-ENDLIST/g)).toHaveLength(1);
    expect(reload(p).segments).toHaveLength(1);
  });

  it('says when a segment is longer than the fixed target duration, and never changes the target', () => {
    const p = new LivePlaylist({ targetSegmentSeconds: 1, windowSegments: 3 });
    expect(p.append(report(0, 1))).toBe(false);
    expect(p.append(report(1, 2.6))).toBe(true);
    expect(reload(p).targetDuration).toBe(1);
  });

  it('holds the §6.2.1/§6.2.2 rules on every reload, whatever the segments (property)', () => {
    const step = fc.record({
      duration: fc.integer({ min: 200, max: 1000 }).map((ms) => ms / 1000),
      discontinuity: fc.boolean(),
      waitMs: fc.integer({ min: 0, max: 3000 }),
    });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(step, { minLength: 1, maxLength: 60 }), (window, steps) => {
        const p = new LivePlaylist({ targetSegmentSeconds: 1, windowSegments: window });
        const removedAt = new Map<string, { at: number; until: number }>();
        let previous: MediaPlaylist | undefined;
        let longest = new Map<string, number>();
        steps.forEach((s, n) => {
          p.append(report(n, s.duration, s.discontinuity));
          const now = reload(p);
          expect(now.targetDuration).toBe(1);
          for (const seg of now.segments) expect(Math.round(seg.duration)).toBeLessThanOrEqual(now.targetDuration);
          const total = now.segments.reduce((a, seg) => a + seg.duration, 0);
          const next = new Map(longest);
          for (const seg of now.segments) next.set(seg.uri, Math.max(next.get(seg.uri) ?? 0, total));
          if (previous) {
            const before = identities(previous);
            const after = identities(now);
            const prevUris = previous.segments.map((x) => x.uri);
            const nowUris = now.segments.map((x) => x.uri);
            // Only the start is removed, only the end grows.
            const kept = prevUris.filter((u) => after.has(u));
            expect(nowUris.slice(0, kept.length)).toEqual(kept);
            expect(prevUris.slice(prevUris.length - kept.length)).toEqual(kept);
            for (const u of kept) expect(after.get(u)).toEqual(before.get(u));
            for (const u of prevUris.slice(0, prevUris.length - kept.length)) {
              const dur = before.get(u)?.[2] ?? 0;
              removedAt.set(u, { at: Date.now(), until: Date.now() + (dur + (longest.get(u) ?? 0)) * 1000 });
            }
          }
          longest = next;
          previous = now;
          vi.advanceTimersByTime(s.waitMs);
          for (const [u, r] of removedAt) {
            const t = Date.now();
            if (t < r.until - 1) expect(p.lookup(u), `${u} removed at ${r.at}`).toBe('retained');
            if (t > r.until + 1) expect(p.lookup(u)).toBeUndefined();
          }
        });
      }),
      { numRuns: 200 },
    );
  });
});
