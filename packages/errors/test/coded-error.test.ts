import { describe, expect, it } from 'vitest';
import { CodedError, hasErrorBrand, isCodedError, markError } from '../src/index';

class DemoError extends CodedError<'ERR_DEMO_A' | 'ERR_DEMO_B'> {
  constructor(code: 'ERR_DEMO_A' | 'ERR_DEMO_B', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'DemoError';
  }
}

describe('CodedError', () => {
  it('carries code, message, name, cause and details', () => {
    const cause = new Error('low level');
    const err = new CodedError('ERR_X', 'went wrong', { cause, details: { limit: 3 } });
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('ERR_X');
    expect(err.message).toBe('went wrong');
    expect(err.name).toBe('CodedError');
    expect(err.cause).toBe(cause);
    expect(err.details).toEqual({ limit: 3 });
  });

  it('sets no cause or details when none are given', () => {
    const err = new CodedError('ERR_X', 'm');
    expect('cause' in err).toBe(false);
    expect('details' in err).toBe(false);
  });

  it('lets a subclass narrow the code and name itself', () => {
    const err = new DemoError('ERR_DEMO_B', 'm');
    expect(err).toBeInstanceOf(CodedError);
    expect(err.name).toBe('DemoError');
    expect(err.code).toBe('ERR_DEMO_B');
  });
});

describe('isCodedError / brands', () => {
  it('recognises coded errors by brand, not by prototype', () => {
    expect(isCodedError(new DemoError('ERR_DEMO_A', 'm'))).toBe(true);
    // A copy from another install: same brand (Symbol.for), different class.
    const foreign = Object.defineProperty(new Error('m'), Symbol.for('@org/errors.coded'), { value: true });
    expect(isCodedError(foreign)).toBe(true);
  });

  it('rejects plain errors and non-objects', () => {
    for (const v of [new Error('m'), { code: 'ERR_X' }, null, undefined, 'ERR_X', 42]) {
      expect(isCodedError(v)).toBe(false);
    }
  });

  it('markError adds a hidden brand that hasErrorBrand finds', () => {
    const brand = Symbol.for('@org/errors.test');
    const err = new Error('m');
    expect(hasErrorBrand(err, brand)).toBe(false);
    markError(err, brand);
    expect(hasErrorBrand(err, brand)).toBe(true);
    expect(Object.keys(err)).not.toContain(brand);
    expect(JSON.stringify(err)).toBe('{}');
  });
});
