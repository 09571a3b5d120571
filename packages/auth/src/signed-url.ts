/**
 * Signed, expiring publish URLs.
 *
 * A publisher appends `?expires=<unix seconds>&sig=<signature>` to its stream name (or to the
 * server URL, for OBS). The signature is HMAC-SHA256, keyed with the shared secret, over exactly
 *
 *     `${path}\n${expires}`
 *
 * where `path` is the canonical publish path: `"/" + segments.join("/")` of app and name together,
 * queries removed, slashes trimmed, each segment percent-decoded once (`/live/test/alice` for
 * `rtmp://host/live/test/alice`, whichever way the client splits it), and `expires` is the decimal
 * value exactly as sent (no sign, no leading zeros). The signature is sent as 64 hex digits or
 * 43 base64url characters (no padding).
 */
import crypto from 'node:crypto';
import { isSafeSegment } from './charset';
import { digestsEqual } from './constant-time';
import { AuthConfigError } from './errors';

/** Seconds a signed URL is still accepted after `expires`: covers clock drift between signer and server. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 30;
/**
 * Longest lifetime a signed URL may have by default: a week, so a leaked URL does not publish for
 * years (`expires=999999999999`). Set `maxTtlSeconds` higher to allow longer.
 */
export const DEFAULT_SIGNED_URL_MAX_TTL_SECONDS = 7 * 24 * 3600;
/** Shortest secret accepted (bytes): HMAC keys below 128 bits are guessable offline. */
export const MIN_SECRET_BYTES = 16;
const EXPIRES_FORMAT = /^(?:0|[1-9][0-9]{0,11})$/;
const HEX_SIG = /^[0-9a-fA-F]{64}$/;
const BASE64URL_SIG = /^[A-Za-z0-9_-]{43}$/;

/** An HMAC secret: a UTF-8 string or raw bytes, at least 16 bytes. */
export type SigningSecret = string | Uint8Array;

/** The exact string signed: `${path}\n${expires}`. */
export function publishSignatureInput(path: string, expires: number | string): string {
  return `${path}\n${expires}`;
}

/** Validates a secret and returns its bytes. */
export function secretBytes(secret: unknown, where: string): Buffer {
  const bytes =
    typeof secret === 'string'
      ? Buffer.from(secret, 'utf8')
      : secret instanceof Uint8Array
        ? Buffer.from(secret)
        : undefined;
  if (!bytes || bytes.length < MIN_SECRET_BYTES) {
    throw new AuthConfigError(
      'ERR_AUTH_CONFIG_SECRET',
      `${where} must be a string or bytes of at least ${MIN_SECRET_BYTES} bytes`,
    );
  }
  return bytes;
}

function hmac(secret: Buffer, input: string): Buffer {
  return crypto.createHmac('sha256', secret).update(input, 'utf8').digest();
}

/**
 * Canonicalises a path for signing: trims slashes, refuses queries, empty segments and anything
 * that is not plain unreserved segments (so no percent escapes: sign the decoded path).
 */
export function canonicalSignPath(path: string): string {
  if (typeof path !== 'string' || path.includes('?')) {
    throw new AuthConfigError(
      'ERR_AUTH_CONFIG_SIGN_PATH',
      'path must be a string without a query, e.g. "/live/test/alice"',
    );
  }
  let start = 0;
  let end = path.length;
  while (start < end && path[start] === '/') start++;
  while (end > start && path[end - 1] === '/') end--;
  const segments = path.slice(start, end).split('/');
  if (!segments.every((s) => isSafeSegment(s, 1024))) {
    throw new AuthConfigError(
      'ERR_AUTH_CONFIG_SIGN_PATH',
      'path segments must be non-empty, not "."/"..", and use only A-Z a-z 0-9 . _ ~ - (sign the decoded path)',
    );
  }
  return `/${segments.join('/')}`;
}

/** Options of `signPublishUrl`. Give `expires` or `ttlSeconds`. */
export interface SignPublishUrlOptions {
  /** The publish path, e.g. `/live/test/alice` (app and name joined, no query). */
  path: string;
  /** The HMAC secret (the first one configured on the server, when rotating). */
  secret: SigningSecret;
  /** Absolute expiry, unix seconds. */
  expires?: number;
  /** Expiry relative to `now()`, in seconds. */
  ttlSeconds?: number;
  /** Clock in milliseconds since the epoch. @default Date.now */
  now?: () => number;
  /** Signature encoding. @default 'hex' */
  encoding?: 'hex' | 'base64url';
  /** Query parameter names; must match the server's `signedUrls` settings. @default 'expires', 'sig' */
  expiresParam?: string;
  sigParam?: string;
}

/** A signed publish URL's parts. Append `?${query}` to the stream name (or `&${query}` after an existing query). */
export interface SignedPublishUrl {
  readonly path: string;
  readonly expires: number;
  readonly sig: string;
  readonly query: string;
}

/**
 * Signs a publish path.
 * @example
 * const { query } = signPublishUrl({ path: '/live/test/alice', secret, ttlSeconds: 3600 });
 * // ffmpeg -re -i in.mp4 -c copy -f flv "rtmp://host/live/test/alice?${query}"
 */
export function signPublishUrl(options: SignPublishUrlOptions): SignedPublishUrl {
  const path = canonicalSignPath(options.path);
  const secret = secretBytes(options.secret, 'secret');
  let expires: number;
  if (options.expires !== undefined && options.ttlSeconds === undefined) expires = options.expires;
  else if (options.ttlSeconds !== undefined && options.expires === undefined) {
    if (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds < 0) {
      throw new AuthConfigError('ERR_AUTH_CONFIG_INVALID', 'ttlSeconds must be a non-negative integer');
    }
    expires = Math.floor((options.now ?? Date.now)() / 1000) + options.ttlSeconds;
  } else {
    throw new AuthConfigError('ERR_AUTH_CONFIG_INVALID', 'give exactly one of expires and ttlSeconds');
  }
  if (!Number.isSafeInteger(expires) || !EXPIRES_FORMAT.test(String(expires))) {
    throw new AuthConfigError('ERR_AUTH_CONFIG_INVALID', 'expires must be a non-negative integer of at most 12 digits');
  }
  const digest = hmac(secret, publishSignatureInput(path, expires));
  const sig = digest.toString(options.encoding === 'base64url' ? 'base64url' : 'hex');
  const query = new URLSearchParams([
    [options.expiresParam ?? 'expires', String(expires)],
    [options.sigParam ?? 'sig', sig],
  ]).toString();
  return { path, expires, sig, query };
}

/** Verifier settings, already validated. */
export interface SignatureVerifier {
  readonly secrets: readonly Buffer[];
  readonly clockSkewSeconds: number;
  readonly maxTtlSeconds: number | undefined;
  readonly now: () => number;
  readonly expiresParam: string;
  readonly sigParam: string;
}

/** A failed signature check. */
export interface SignatureFailure {
  readonly code: 'ERR_AUTH_SIGNATURE' | 'ERR_AUTH_EXPIRED';
  readonly reason: string;
}

function decodeSignature(sig: string): Buffer | undefined {
  if (HEX_SIG.test(sig)) return Buffer.from(sig, 'hex');
  if (BASE64URL_SIG.test(sig)) {
    const bytes = Buffer.from(sig, 'base64url');
    return bytes.length === 32 ? bytes : undefined;
  }
  return undefined;
}

/**
 * Checks the signature first (against every configured secret, constant time, no early exit), then
 * the expiry, so an attacker learns nothing about expiry handling without a valid signature.
 * @returns undefined when valid.
 */
export function verifyPublishSignature(
  verifier: SignatureVerifier,
  path: string,
  query: Readonly<Record<string, string>>,
): SignatureFailure | undefined {
  const expiresRaw = Object.hasOwn(query, verifier.expiresParam) ? query[verifier.expiresParam] : undefined;
  const sigRaw = Object.hasOwn(query, verifier.sigParam) ? query[verifier.sigParam] : undefined;
  if (expiresRaw === undefined || sigRaw === undefined) {
    return { code: 'ERR_AUTH_SIGNATURE', reason: 'a signed publish URL is required' };
  }
  if (!EXPIRES_FORMAT.test(expiresRaw)) return { code: 'ERR_AUTH_SIGNATURE', reason: 'malformed expiry' };
  const sig = decodeSignature(sigRaw);
  if (!sig) return { code: 'ERR_AUTH_SIGNATURE', reason: 'malformed signature' };
  const input = publishSignatureInput(path, expiresRaw);
  let ok = false;
  for (const secret of verifier.secrets) ok = digestsEqual(hmac(secret, input), sig) || ok;
  if (!ok) return { code: 'ERR_AUTH_SIGNATURE', reason: 'invalid signature' };
  const expires = Number(expiresRaw);
  const nowSeconds = Math.floor(verifier.now() / 1000);
  if (nowSeconds > expires + verifier.clockSkewSeconds) {
    return { code: 'ERR_AUTH_EXPIRED', reason: 'the signed publish URL has expired' };
  }
  if (
    verifier.maxTtlSeconds !== undefined &&
    expires - nowSeconds > verifier.maxTtlSeconds + verifier.clockSkewSeconds
  ) {
    return { code: 'ERR_AUTH_SIGNATURE', reason: 'the signed publish URL expires too far in the future' };
  }
  return undefined;
}
