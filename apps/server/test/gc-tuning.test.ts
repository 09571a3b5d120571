import { beforeEach, describe, expect, it, vi } from 'vitest';

const setFlagsFromString = vi.fn();
vi.mock('node:v8', () => ({ setFlagsFromString }));

const { HEAP_GROWING_PERCENT, heapGrowingFlag, tuneHeap } = await import('../src/gc-tuning');

describe('heap tuning', () => {
  beforeEach(() => setFlagsFromString.mockClear());

  it('sets a fixed heap growing factor when node was started without one', () => {
    expect(heapGrowingFlag([])).toBe(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    expect(heapGrowingFlag(['--enable-source-maps', '--max-semi-space-size=4'])).toBe(
      `--heap-growing-percent=${HEAP_GROWING_PERCENT}`,
    );
    expect(tuneHeap([])).toBe(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    expect(setFlagsFromString).toHaveBeenCalledWith(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  });

  it("leaves the factor alone when node's command line sets it, in either spelling", () => {
    for (const argv of [
      ['--heap-growing-percent=0'],
      ['--heap_growing_percent=50'],
      ['--heap-growing-percent', '300'],
    ]) {
      expect(heapGrowingFlag(argv)).toBeUndefined();
      expect(tuneHeap(argv)).toBeUndefined();
    }
    expect(setFlagsFromString).not.toHaveBeenCalled();
  });

  it('does not mistake a longer flag for its own', () => {
    expect(heapGrowingFlag(['--heap-growing-percentage=5'])).toBe(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  });
});
