/** Which HlsError a call throws. */
import { expect } from 'vitest';
import { isHlsError } from '../../src/index';

/** The code of the HlsError `fn` throws (anything else fails the test), or 'no error'. */
export function hlsErrorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isHlsError(err), String(err)).toBe(true);
    return (err as { code: string }).code;
  }
  return 'no error';
}
