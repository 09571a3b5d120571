/**
 * Typed errors of @org/auth. Every error has a stable string `code`; a brand registered with
 * `Symbol.for` lets `isAuthError` work across duplicate installs of the package.
 *
 * Only configuration problems are thrown. A refused publish is not an error: `authorize()`
 * resolves to `{ allowed: false, code, reason, status }` (see `AuthDenyCode`). The base is the shared
 * {@link CodedError}.
 */
import { CodedError, type CodedErrorOptions, hasErrorBrand, markError } from '@org/errors';

const kAuthError = Symbol.for('@org/auth.error');

/** Codes of configuration problems, thrown by `createPublishAuthorizer` and the helpers. Documented in README.md. */
export type AuthConfigErrorCode =
  | 'ERR_AUTH_CONFIG_INVALID'
  | 'ERR_AUTH_CONFIG_UNKNOWN_OPTION'
  | 'ERR_AUTH_CONFIG_LIMIT'
  | 'ERR_AUTH_PATTERN_SYNTAX'
  | 'ERR_AUTH_PATTERN_UNBALANCED_BRACES'
  | 'ERR_AUTH_PATTERN_EMPTY_SEGMENT'
  | 'ERR_AUTH_PATTERN_LITERAL'
  | 'ERR_AUTH_PATTERN_VARIABLE_NAME'
  | 'ERR_AUTH_PATTERN_DUPLICATE_VARIABLE'
  | 'ERR_AUTH_PATTERN_NO_USERNAME'
  | 'ERR_AUTH_PATTERN_USERNAME_POSITION'
  | 'ERR_AUTH_PATTERN_KEY_POSITION'
  | 'ERR_AUTH_PATTERN_KEY_UNVERIFIED'
  | 'ERR_AUTH_PATTERN_REGEX'
  | 'ERR_AUTH_CONFIG_KEY_HASH'
  | 'ERR_AUTH_CONFIG_SECRET'
  | 'ERR_AUTH_CONFIG_SIGN_PATH'
  | 'ERR_AUTH_CONFIG_WEBHOOK'
  | 'ERR_AUTH_CONFIG_CIDR'
  | 'ERR_AUTH_CONFIG_ADOBE';

/** Base class of every error this package throws. */
export class AuthError extends CodedError<AuthConfigErrorCode> {
  constructor(code: AuthConfigErrorCode, message: string, options?: CodedErrorOptions) {
    super(code, message, options);
    this.name = 'AuthError';
    markError(this, kAuthError);
  }
}

/** The configuration (patterns, keys, secrets, webhook, CIDRs, limits) is invalid. Thrown once, at load. */
export class AuthConfigError extends AuthError {
  declare readonly code: AuthConfigErrorCode;
  constructor(code: AuthConfigErrorCode, message: string, options?: CodedErrorOptions) {
    super(code, message, options);
    this.name = 'AuthConfigError';
  }
}

/** True for any error created by this package, even from another copy of it. */
export function isAuthError(err: unknown): err is AuthError {
  return hasErrorBrand(err, kAuthError);
}

/** True for an `AuthConfigError`, even from another copy of this package. */
export function isAuthConfigError(err: unknown): err is AuthConfigError {
  return isAuthError(err) && err.name === 'AuthConfigError';
}

/**
 * Why a publish was refused. `ERR_AUTH_BAD_NAME`, `ERR_AUTH_BAD_QUERY`, `ERR_AUTH_NO_MATCH` and
 * `ERR_AUTH_USERNAME_MISMATCH` map to `NetStream.Publish.BadName`; every other code to
 * `NetStream.Publish.Unauthorized` (see `DENY_STATUS`).
 */
export type AuthDenyCode =
  | 'ERR_AUTH_BAD_NAME'
  | 'ERR_AUTH_BAD_QUERY'
  | 'ERR_AUTH_NO_MATCH'
  | 'ERR_AUTH_USERNAME_MISMATCH'
  | 'ERR_AUTH_MISSING_KEY'
  | 'ERR_AUTH_BAD_KEY'
  | 'ERR_AUTH_KEY_LOOKUP_FAILED'
  | 'ERR_AUTH_RATE_LIMITED'
  | 'ERR_AUTH_BUSY'
  | 'ERR_AUTH_SIGNATURE'
  | 'ERR_AUTH_EXPIRED'
  | 'ERR_AUTH_IP_DENIED'
  | 'ERR_AUTH_WEBHOOK_DENIED'
  | 'ERR_AUTH_WEBHOOK_ERROR'
  | 'ERR_AUTH_WEBHOOK_BAD_REDIRECT'
  | 'ERR_AUTH_ADOBE_USER_MISMATCH'
  | 'ERR_AUTH_INTERNAL';

/** The onStatus code the RTMP layer sends with a refusal. */
export type AuthDenyStatus = 'NetStream.Publish.BadName' | 'NetStream.Publish.Unauthorized';

/** The onStatus code for each deny code: malformed or unknown names are BadName, failed credentials Unauthorized. */
export const DENY_STATUS: Readonly<Record<AuthDenyCode, AuthDenyStatus>> = Object.freeze({
  ERR_AUTH_BAD_NAME: 'NetStream.Publish.BadName',
  ERR_AUTH_BAD_QUERY: 'NetStream.Publish.BadName',
  ERR_AUTH_NO_MATCH: 'NetStream.Publish.BadName',
  ERR_AUTH_USERNAME_MISMATCH: 'NetStream.Publish.BadName',
  ERR_AUTH_MISSING_KEY: 'NetStream.Publish.Unauthorized',
  ERR_AUTH_BAD_KEY: 'NetStream.Publish.Unauthorized',
  ERR_AUTH_KEY_LOOKUP_FAILED: 'NetStream.Publish.Unauthorized',
  ERR_AUTH_RATE_LIMITED: 'NetStream.Publish.Unauthorized',
  ERR_AUTH_BUSY: 'NetStream.Publish.Unauthorized',
  ERR_AUTH_SIGNATURE: 'NetStream.Publish.Unauthorized',
  ERR_AUTH_EXPIRED: 'NetStream.Publish.Unauthorized',
  ERR_AUTH_IP_DENIED: 'NetStream.Publish.Unauthorized',
  ERR_AUTH_WEBHOOK_DENIED: 'NetStream.Publish.Unauthorized',
  ERR_AUTH_WEBHOOK_ERROR: 'NetStream.Publish.Unauthorized',
  ERR_AUTH_WEBHOOK_BAD_REDIRECT: 'NetStream.Publish.Unauthorized',
  ERR_AUTH_ADOBE_USER_MISMATCH: 'NetStream.Publish.Unauthorized',
  ERR_AUTH_INTERNAL: 'NetStream.Publish.Unauthorized',
});

/**
 * Why an Adobe challenge login (`authmod=adobe`) was refused at connect. Each is answered with
 * NetConnection.Connect.Rejected and an `[ AccessManager.Reject ]` description the clients parse
 * (see README "Adobe challenge login").
 */
export type AdobeDenyCode =
  /** The auth query is malformed, over a limit, not `authmod=adobe`, or lacks `user`. */
  | 'ERR_AUTH_ADOBE_BAD_QUERY'
  /** The user is not configured (the client is told `authfailed`, as for a wrong password). */
  | 'ERR_AUTH_ADOBE_NO_SUCH_USER'
  /** The response does not match: a wrong password. */
  | 'ERR_AUTH_ADOBE_BAD_RESPONSE'
  /** The opaque is unknown, used, expired, or was issued to another user or address. */
  | 'ERR_AUTH_ADOBE_STALE_CHALLENGE'
  /** Too many failed logins from this address (or for this user from a failing address). */
  | 'ERR_AUTH_ADOBE_RATE_LIMITED';
