import crypto from 'node:crypto';

/**
 * Compares two digests in constant time. Only ever called with fixed-size digests (SHA-256,
 * HMAC-SHA256, scrypt output), so the length check leaks nothing; `crypto.timingSafeEqual` is
 * called through the module object so tests can observe it.
 */
export function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return crypto.timingSafeEqual(a, b);
}
