/**
 * @org/errors: the one shape of error the @org packages throw. Internal: each package bundles it
 * (tsup `noExternal`), so it is never a runtime dependency of a published package.
 *
 * Shape (after undici `lib/core/errors.js`): a base class with a stable, literal-typed string `code`,
 * a subclass per family in each package, and `Symbol.for` brands, so that a check still works when
 * two copies of a package (or of this base) are loaded — `instanceof` does not.
 */

/** Brand every {@link CodedError} carries, whichever copy of this module created it. */
const kCodedError = Symbol.for('@org/errors.coded');

/** Second argument of {@link CodedError}'s constructor, after the message. */
export interface CodedErrorOptions {
  /** The error that caused this one (standard `Error.cause`). */
  cause?: unknown;
  /** Machine-readable context, e.g. the limit that was exceeded. Not for secrets: it may be logged. */
  details?: Readonly<Record<string, unknown>>;
}

/**
 * An error with a stable string `code` (the thing to branch on; messages are for people and may
 * change). Packages extend it once per family and narrow `Code` to their documented codes.
 */
export class CodedError<Code extends string = string> extends Error {
  /** Stable identifier of the case, e.g. `ERR_RTMP_MESSAGE_TOO_LARGE`. */
  readonly code: Code;
  /** Machine-readable context given at creation, if any. */
  declare readonly details?: Readonly<Record<string, unknown>>;

  constructor(code: Code, message: string, options?: CodedErrorOptions) {
    super(message, options !== undefined && 'cause' in options ? { cause: options.cause } : undefined);
    this.name = 'CodedError';
    this.code = code;
    if (options?.details !== undefined) this.details = options.details;
    markError(this, kCodedError);
  }
}

/** True for any {@link CodedError}, also one made by another copy of this module. */
export function isCodedError(err: unknown): err is CodedError {
  return hasErrorBrand(err, kCodedError);
}

/**
 * Marks `err` with `brand` (a non-enumerable, read-only `true` property), for a package's own
 * `isXxxError` guard that must survive duplicate installs.
 */
export function markError(err: Error, brand: symbol): void {
  Object.defineProperty(err, brand, { value: true });
}

/** True when `err` is an object marked with `brand` by {@link markError}. */
export function hasErrorBrand(err: unknown, brand: symbol): boolean {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[brand] === true;
}
