/** Shared by the auth tests: which configuration error a call throws. */
import { isAuthConfigError } from '../../src/index';

/** The `AuthConfigError` code `fn` throws, or undefined when it returns; any other error is rethrown. */
export function configCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (isAuthConfigError(err)) return err.code;
    throw err;
  }
  return undefined;
}
