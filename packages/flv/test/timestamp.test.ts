import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isFlvError, serialDelta, TimestampRebaser } from '../src/index';

const WRAP = 2 ** 32;

describe('serialDelta', () => {
  const rows: [number, number, number][] = [
    [0, 1, 1],
    [1, 0, -1],
    [0xffffffff, 0, 1], // across the wrap: forward
    [0, 0xffffffff, -1], // back across the wrap
    [100, 5, -95], // librtmp's shared-csid jitter
    [0, 2 ** 31 - 1, 2 ** 31 - 1], // the largest forward step
    [0, 2 ** 31, -(2 ** 31)], // a step of exactly 2^31 counts as backwards
    [5, 5 + WRAP, 0], // inputs are taken modulo 2^32
  ];
  for (const [from, to, d] of rows) it(`${from} → ${to} = ${d}`, () => expect(serialDelta(from, to)).toBe(d));
});

describe('TimestampRebaser', () => {
  it('starts the first sample at 0 and keeps the tracks’ relative timing', () => {
    const r = new TimestampRebaser();
    expect(r.rebase('video', 5000)).toBe(0);
    expect(r.rebase('audio', 5023)).toBe(23);
    expect(r.rebase('video', 5040)).toBe(40);
    expect(r.rebase('audio', 4990)).toBe(23); // a new track's sample may not go back: clamped per track
    expect(r.lastOutput).toBe(40);
  });

  it('a track that starts earlier than the base is clamped to 0, then runs on', () => {
    const r = new TimestampRebaser();
    expect(r.rebase('video', 1000)).toBe(0);
    expect(r.rebase('audio', 990)).toBe(0);
    expect(r.rebase('audio', 1013)).toBe(13);
  });

  it('continues upwards across the 2^32 wrap (49.7 days)', () => {
    const r = new TimestampRebaser();
    expect(r.rebase('v', WRAP - 100)).toBe(0);
    expect(r.rebase('v', WRAP - 50)).toBe(50);
    expect(r.rebase('v', 10)).toBe(110);
    expect(r.rebase('a', 20)).toBe(120); // a new track after the wrap lands on the same timeline
    expect(r.rebase('v', 60)).toBe(160);
    expect(r.rebase('a', WRAP - 30)).toBe(120); // a straggler from before the wrap: backwards, clamped
  });

  it('clamps small backward steps (librtmp −95 ms) to the previous value', () => {
    const r = new TimestampRebaser();
    expect([1000, 1040, 945, 1080, 1120].map((t) => r.rebase('v', t))).toEqual([0, 40, 40, 80, 120]);
  });

  it('treats a backward jump beyond maxBackwardJumpMs as a clock restart of that track', () => {
    const r = new TimestampRebaser({ maxBackwardJumpMs: 1000 });
    expect(r.rebase('v', 3_600_000)).toBe(0);
    expect(r.rebase('v', 3_600_040)).toBe(40);
    expect(r.rebase('v', 0)).toBe(41); // encoder restarted its clock: continue 1 ms later
    expect(r.rebase('v', 40)).toBe(81);
    expect(r.rebase('v', -500 + WRAP)).toBe(81); // within the jitter limit again: clamped
  });

  it('continueAfter: a reconnected publisher continues where the output was, never before', () => {
    const r = new TimestampRebaser();
    r.rebase('v', 70_000);
    r.rebase('a', 70_010);
    r.rebase('v', 75_000);
    expect(r.lastOutput).toBe(5000);
    r.continueAfter(r.lastOutput + 40);
    expect(r.rebase('a', 123)).toBe(5040); // the new publisher's clock starts anywhere
    expect(r.rebase('v', 100)).toBe(5040); // …its tracks keep their relative timing (clamped ≥ 5040)
    expect(r.rebase('v', 163)).toBe(5080);
    r.continueAfter(10); // behind the output: raised to the highest output so far
    expect(r.rebase('v', 9_999_999)).toBe(5080);
  });

  it('honours startAt', () => {
    const r = new TimestampRebaser({ startAt: 1000 });
    expect(r.rebase('v', 77)).toBe(1000);
    expect(r.rebase('v', 117)).toBe(1040);
  });

  it('validates options and arguments with typed errors', () => {
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(isFlvError(e)).toBe(true);
        return (e as { code: string }).code;
      }
      return 'none';
    };
    expect(codeOf(() => new TimestampRebaser({ maxBackwardJumpMs: -1 }))).toBe('ERR_FLV_INVALID_OPTION');
    expect(codeOf(() => new TimestampRebaser({ startAt: 1.5 }))).toBe('ERR_FLV_INVALID_OPTION');
    expect(codeOf(() => new TimestampRebaser().rebase('v', Number.NaN))).toBe('ERR_FLV_INVALID_ARGUMENT');
    expect(codeOf(() => new TimestampRebaser().continueAfter(-1))).toBe('ERR_FLV_INVALID_ARGUMENT');
  });
});

/**
 * A publisher: one wall clock `t` (unbounded), per-sample jitter, RTMP timestamps = (t + jitter)
 * mod 2^32. Starting close to 2^32 makes most runs cross the wrap.
 */
const publisher = fc.record({
  start: fc.integer({ min: 0, max: WRAP - 1 }),
  samples: fc.array(
    fc.record({
      track: fc.constantFrom('audio', 'video', 'data'),
      step: fc.integer({ min: 0, max: 3000 }),
      jitter: fc.integer({ min: -150, max: 150 }),
    }),
    { minLength: 1, maxLength: 300 },
  ),
});

describe('TimestampRebaser properties', () => {
  it('per-track output is monotonic, integral, ≥ 0, and tracks the input within the jitter', () => {
    fc.assert(
      fc.property(publisher, fc.integer({ min: 0, max: 200_000 }), ({ start, samples }, nearWrap) => {
        const r = new TimestampRebaser();
        const last = new Map<string, number>();
        let t = nearWrap % 2 === 0 ? WRAP - nearWrap : start; // half the runs start within 200 s of the wrap
        let base: number | undefined;
        for (const s of samples) {
          t += s.step;
          const input = t + s.jitter;
          const out = r.rebase(s.track, ((input % WRAP) + WRAP) % WRAP);
          base ??= input;
          expect(Number.isInteger(out)).toBe(true);
          expect(out).toBeGreaterThanOrEqual(last.get(s.track) ?? 0);
          last.set(s.track, out);
          // Only clamping holds a track back, and only by what jitter took away (≤ 2 × 150 ms).
          expect(Math.abs(out - (input - base))).toBeLessThanOrEqual(300);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('reconnects (continueAfter with any offset) never make any track go backwards', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(publisher, fc.integer({ min: 0, max: 2 ** 40 })), { minLength: 1, maxLength: 5 }),
        (sessions) => {
          const r = new TimestampRebaser();
          const last = new Map<string, number>();
          let highest = -1;
          for (const [{ start, samples }, offset] of sessions) {
            if (highest >= 0) r.continueAfter(offset);
            const floor = highest >= 0 ? Math.max(offset, highest) : 0;
            let t = start;
            let first = true;
            for (const s of samples) {
              t += s.step;
              const out = r.rebase(s.track, (t + s.jitter + WRAP) % WRAP);
              if (first) expect(out).toBe(floor); // the new timeline starts exactly at the floor
              first = false;
              expect(out).toBeGreaterThanOrEqual(floor);
              expect(out).toBeGreaterThanOrEqual(last.get(s.track) ?? 0);
              last.set(s.track, out);
              highest = Math.max(highest, out);
            }
            expect(r.lastOutput).toBe(highest);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('arbitrary 32-bit inputs (any order) still give monotonic integer outputs per track', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(0, 1), fc.integer({ min: 0, max: WRAP - 1 })), { maxLength: 200 }),
        (seq) => {
          const r = new TimestampRebaser();
          const last = [0, 0];
          for (const [track, ts] of seq) {
            const out = r.rebase(track, ts);
            expect(Number.isSafeInteger(out)).toBe(true);
            expect(out).toBeGreaterThanOrEqual(last[track]!);
            last[track] = out;
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
