/** Shared by the codec tests: which FlvError a call throws. */
import { expect } from 'vitest';
import { isFlvError } from '../../src/index';

/** The code of the FlvError `fn` throws (anything else fails the test), or 'no error'. */
export function flvErrorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isFlvError(err)).toBe(true);
    return (err as { code: string }).code;
  }
  return 'no error';
}
