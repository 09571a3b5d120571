/**
 * Per-user stream keys, stored hashed.
 *
 * Stored formats:
 * - `sha256:<64 hex>`: SHA-256 of the key's UTF-8 bytes. Fine for random keys (≥ 128 bits, e.g.
 *   `crypto.randomBytes(32).toString('base64url')`), which cannot be brute-forced anyway.
 * - `scrypt:<salt>:<hash>` (base64url, salt ≥ 16 bytes, hash 32 bytes; N=16384, r=8, p=1): for
 *   keys people choose. About 50 ms per check.
 * Presented keys are hashed the same way and compared with `crypto.timingSafeEqual` on the
 * equal-length digests, against every stored hash of the user without stopping early.
 */
import crypto from 'node:crypto';
import { digestsEqual } from './constant-time';
import { AuthConfigError } from './errors';

/** scrypt cost parameters of `scrypt:` hashes (OWASP's minimum for scrypt). Fixed: they are not stored. */
export const SCRYPT_PARAMS = Object.freeze({ N: 16384, r: 8, p: 1, keyLength: 32 });
const SCRYPT_SALT_BYTES = 16;
/** Longest key accepted for hashing and verification; query values are capped lower by default anyway. */
export const MAX_STREAM_KEY_LENGTH = 1024;

/** A parsed stored hash. */
export type StoredKeyHash =
  | { readonly kind: 'sha256'; readonly digest: Buffer }
  | { readonly kind: 'scrypt'; readonly salt: Buffer; readonly digest: Buffer };

const SHA256_FORMAT = /^sha256:([0-9a-fA-F]{64})$/;
const SCRYPT_FORMAT = /^scrypt:([A-Za-z0-9_-]{22,128}):([A-Za-z0-9_-]{43})$/;

/**
 * Hashes a stream key for the `streamKeys.keys` configuration.
 * @param options.algorithm `scrypt` (default, salted, slow: for human-chosen keys) or `sha256` (for random keys).
 * @returns `scrypt:<salt>:<hash>` or `sha256:<hex>`.
 * @example hashStreamKey(crypto.randomBytes(32).toString('base64url'), { algorithm: 'sha256' })
 */
export function hashStreamKey(key: string, options: { algorithm?: 'scrypt' | 'sha256' } = {}): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_STREAM_KEY_LENGTH) {
    throw new AuthConfigError(
      'ERR_AUTH_CONFIG_INVALID',
      `a stream key must be a string of 1..${MAX_STREAM_KEY_LENGTH} characters`,
    );
  }
  const algorithm = options.algorithm ?? 'scrypt';
  if (algorithm === 'sha256') {
    return `sha256:${crypto.createHash('sha256').update(key, 'utf8').digest('hex')}`;
  }
  if (algorithm !== 'scrypt') {
    throw new AuthConfigError(
      'ERR_AUTH_CONFIG_INVALID',
      `unknown stream key hash algorithm ${JSON.stringify(algorithm)}`,
    );
  }
  const salt = crypto.randomBytes(SCRYPT_SALT_BYTES);
  const { N, r, p, keyLength } = SCRYPT_PARAMS;
  const digest = crypto.scryptSync(key, salt, keyLength, { N, r, p });
  return `scrypt:${salt.toString('base64url')}:${digest.toString('base64url')}`;
}

/**
 * Parses a stored hash; throws `AuthConfigError` `ERR_AUTH_CONFIG_KEY_HASH` for anything else
 * (never includes the value in the message: it may be a plaintext key pasted by mistake).
 */
export function parseStoredKeyHash(value: unknown, where: string): StoredKeyHash {
  if (typeof value === 'string') {
    const sha = SHA256_FORMAT.exec(value);
    if (sha) return { kind: 'sha256', digest: Buffer.from(sha[1]!, 'hex') };
    const scrypt = SCRYPT_FORMAT.exec(value);
    if (scrypt) {
      const salt = Buffer.from(scrypt[1]!, 'base64url');
      const digest = Buffer.from(scrypt[2]!, 'base64url');
      if (salt.length >= SCRYPT_SALT_BYTES && digest.length === SCRYPT_PARAMS.keyLength) {
        return { kind: 'scrypt', salt, digest };
      }
    }
  }
  throw new AuthConfigError(
    'ERR_AUTH_CONFIG_KEY_HASH',
    `${where}: not a stream key hash (expected "sha256:<64 hex>" or "scrypt:<salt>:<hash>", see hashStreamKey)`,
  );
}

function scryptAsync(key: string, salt: Buffer): Promise<Buffer> {
  const { N, r, p, keyLength } = SCRYPT_PARAMS;
  return new Promise((resolve, reject) => {
    crypto.scrypt(key, salt, keyLength, { N, r, p }, (err, derived) => (err ? reject(err) : resolve(derived)));
  });
}

/** A SHA-256 digest compared when the user has no stored key, so unknown users cost the same comparison. */
const NO_KEY_DIGEST = Buffer.alloc(32);

/**
 * True when `presented` matches any of `stored`. Every stored hash is checked (no early exit) and
 * each comparison is `crypto.timingSafeEqual` over 32-byte digests.
 */
export async function verifyStreamKey(presented: string, stored: readonly StoredKeyHash[]): Promise<boolean> {
  if (presented.length === 0 || presented.length > MAX_STREAM_KEY_LENGTH) return false;
  const sha = crypto.createHash('sha256').update(presented, 'utf8').digest();
  if (stored.length === 0) {
    digestsEqual(sha, NO_KEY_DIGEST);
    return false;
  }
  let ok = false;
  for (const hash of stored) {
    const digest = hash.kind === 'sha256' ? sha : await scryptAsync(presented, hash.salt);
    // `digestsEqual` first, so it runs even once `ok` is already true.
    ok = digestsEqual(digest, hash.digest) || ok;
  }
  return ok;
}
