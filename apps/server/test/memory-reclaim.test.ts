import { describe, expect, it } from 'vitest';
import { childEnvironment, MemoryReclaimer, mallocReturnsLargeBuffers } from '../src/memory-reclaim';

const MIB = 1024 * 1024;

describe('MemoryReclaimer', () => {
  it('collects once the bytes held for peers fell by the threshold from their peak, at most once per interval', () => {
    let held = 0;
    let t = 0;
    let collections = 0;
    const reports: number[] = [];
    const r = new MemoryReclaimer({
      held: () => held,
      collect: () => collections++,
      minBytes: 32 * MIB,
      intervalMs: 10_000,
      now: () => t,
      onReclaim: (released) => reports.push(released),
    });
    held = 200 * MIB;
    expect(r.sample()).toBe(false); // growing: nothing to give back
    held = 180 * MIB;
    expect(r.sample()).toBe(false); // 20 MiB released: below the threshold
    held = 10 * MIB;
    expect(r.sample()).toBe(true);
    expect(reports).toEqual([190 * MIB]);
    held = 100 * MIB;
    r.sample();
    held = 0;
    t = 5000;
    expect(r.sample()).toBe(false); // within the interval
    t = 10_000;
    expect(r.sample()).toBe(true);
    expect(collections).toBe(2);
    expect(reports.at(-1)).toBe(100 * MIB);
  });

  it("runs V8's full collection by default, which frees dead ArrayBuffers", () => {
    const r = new MemoryReclaimer({ held: () => 0, minBytes: 0, intervalMs: 0 });
    let finalized = false;
    const registry = new FinalizationRegistry(() => {
      finalized = true;
    });
    (() => {
      registry.register(new ArrayBuffer(64 * MIB), 'big');
    })();
    expect(r.sample()).toBe(true);
    return new Promise<void>((resolve) =>
      setTimeout(() => {
        expect(finalized).toBe(true);
        resolve();
      }, 50),
    );
  });
});

describe('the malloc setting', () => {
  it('is recognised when set, and kept from child processes', () => {
    const env = { PATH: '/usr/bin', MALLOC_MMAP_THRESHOLD_: '131072' };
    expect(mallocReturnsLargeBuffers(env)).toBe(true);
    expect(mallocReturnsLargeBuffers({ PATH: '/usr/bin' })).toBe(false);
    expect(childEnvironment(env)).toEqual({ PATH: '/usr/bin' });
  });
});
