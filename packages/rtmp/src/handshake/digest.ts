/**
 * The Flash "digest" (complex) handshake: HMAC-SHA256 signatures hidden in C1/S1 and appended to
 * C2/S2. Not in the published RTMP specification; this follows the behaviour of Flash Player and Flash
 * Media Server as implemented by ffmpeg, librtmp and nginx-rtmp.
 *
 * C1/S1 block (1536 bytes, after C0/S0):
 *   bytes 0–3   time (u32 BE)
 *   bytes 4–7   version (non-zero marks a digest block; zero means the plain handshake)
 *   the 32-byte digest sits at one of two places ("schemes"):
 *     scheme 0: offset = (b[8] + b[9] + b[10] + b[11]) % 728 + 12
 *     scheme 1: offset = (b[772] + b[773] + b[774] + b[775]) % 728 + 776
 *   digest = HMAC-SHA256(key, block without its 32 digest bytes)
 *     key: C1 → first 30 bytes of GENUINE_FP_KEY, S1 → first 36 bytes of GENUINE_FMS_KEY
 *
 * C2/S2 block: 1504 bytes of anything, then HMAC-SHA256(k, those 1504 bytes) where
 *   k = HMAC-SHA256(full GENUINE_FMS_KEY, C1 digest) for S2,
 *   k = HMAC-SHA256(full GENUINE_FP_KEY, S1 digest)  for C2.
 */
import { createHmac } from 'node:crypto';
import { bytesEqual } from '../bytes';
import { HANDSHAKE_SIZE } from '../constants';

const DIGEST_SIZE = 32;
/** Shared 32-byte tail of both keys. */
const KEY_TAIL = [
  0xf0, 0xee, 0xc2, 0x4a, 0x80, 0x68, 0xbe, 0xe8, 0x2e, 0x00, 0xd0, 0xd1, 0x02, 0x9e, 0x7e, 0x57, 0x6e, 0xec, 0x5d,
  0x2d, 0x29, 0x80, 0x6f, 0xab, 0x93, 0xb8, 0xe6, 0x36, 0xcf, 0xeb, 0x31, 0xae,
];

function makeKey(text: string): Uint8Array {
  const out = new Uint8Array(text.length + KEY_TAIL.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  out.set(KEY_TAIL, text.length);
  return out;
}

/** Flash Player key (62 bytes); its first 30 bytes ("Genuine Adobe Flash Player 001") sign C1. */
export const GENUINE_FP_KEY: Uint8Array = makeKey('Genuine Adobe Flash Player 001');
/** Flash Media Server key (68 bytes); its first 36 bytes ("Genuine Adobe Flash Media Server 001") sign S1. */
export const GENUINE_FMS_KEY: Uint8Array = makeKey('Genuine Adobe Flash Media Server 001');
/** Length of the text part of each key, used to sign C1 and S1. */
export const FP_KEY_TEXT_LENGTH = 30;
export const FMS_KEY_TEXT_LENGTH = 36;

/** Where the digest of a C1/S1 block sits: scheme 0 (offset from bytes 8–11) or 1 (from bytes 772–775). */
export type DigestScheme = 0 | 1;

/** HMAC-SHA256 of the concatenation of `data` under `key`. */
export function hmacSha256(key: Uint8Array, ...data: Uint8Array[]): Uint8Array {
  const h = createHmac('sha256', key);
  for (const d of data) h.update(d);
  return new Uint8Array(h.digest());
}

/** Offset of the 32-byte digest within a 1536-byte C1/S1 block for `scheme`. */
export function digestOffset(block: Uint8Array, scheme: DigestScheme): number {
  const base = scheme === 0 ? 8 : 772;
  return ((block[base]! + block[base + 1]! + block[base + 2]! + block[base + 3]!) % 728) + base + 4;
}

/** The digest a C1/S1 block should carry at `offset`, signed with `key`. */
export function blockDigest(block: Uint8Array, offset: number, key: Uint8Array): Uint8Array {
  return hmacSha256(key, block.subarray(0, offset), block.subarray(offset + DIGEST_SIZE, HANDSHAKE_SIZE));
}

/**
 * Looks for a valid digest in a 1536-byte C1/S1 block signed with `key` (the 30-byte Flash Player text
 * key for C1, the 36-byte FMS text key for S1), trying scheme 0 then 1.
 * @returns the scheme and the digest, or null when neither place holds a valid one.
 */
export function findDigest(
  block: Uint8Array,
  key: Uint8Array,
): { scheme: DigestScheme; offset: number; digest: Uint8Array } | null {
  if (block.length !== HANDSHAKE_SIZE) return null;
  for (const scheme of [0, 1] as const) {
    const offset = digestOffset(block, scheme);
    const digest = block.subarray(offset, offset + DIGEST_SIZE);
    if (bytesEqual(blockDigest(block, offset, key), digest)) return { scheme, offset, digest: digest.slice() };
  }
  return null;
}

/**
 * Builds a signed 1536-byte C1/S1 block: `time`, the 4 `version` bytes, `random` filling the rest, and
 * the digest at `scheme`'s offset signed with `key`.
 * @returns the block and its digest (the peer's C2/S2 signature derives from it).
 */
export function makeDigestHandshakeBlock(options: {
  time: number;
  version: readonly [number, number, number, number];
  key: Uint8Array;
  scheme: DigestScheme;
  random: Uint8Array;
}): { block: Uint8Array; digest: Uint8Array } {
  const block = new Uint8Array(HANDSHAKE_SIZE);
  block.set(options.random.subarray(0, HANDSHAKE_SIZE - 8), 8);
  const t = options.time >>> 0;
  block[0] = t >>> 24;
  block[1] = t >>> 16;
  block[2] = t >>> 8;
  block[3] = t;
  block.set(options.version, 4);
  const offset = digestOffset(block, options.scheme);
  const digest = blockDigest(block, offset, options.key);
  block.set(digest, offset);
  return { block, digest };
}

/**
 * Builds a signed 1536-byte C2/S2 block answering the peer's C1/S1 `peerDigest`: `random` (1504 bytes
 * used) then HMAC-SHA256(HMAC-SHA256(fullKey, peerDigest), those bytes). `fullKey` is the whole
 * GENUINE_FMS_KEY for S2 and the whole GENUINE_FP_KEY for C2.
 */
export function makeS2Digest(peerDigest: Uint8Array, fullKey: Uint8Array, random: Uint8Array): Uint8Array {
  const block = new Uint8Array(HANDSHAKE_SIZE);
  block.set(random.subarray(0, HANDSHAKE_SIZE - DIGEST_SIZE), 0);
  const key = hmacSha256(fullKey, peerDigest);
  block.set(hmacSha256(key, block.subarray(0, HANDSHAKE_SIZE - DIGEST_SIZE)), HANDSHAKE_SIZE - DIGEST_SIZE);
  return block;
}

/** True when a C2/S2 block carries the signature `makeS2Digest` would give for `ourDigest`. */
export function verifyS2Digest(block: Uint8Array, ourDigest: Uint8Array, fullKey: Uint8Array): boolean {
  if (block.length !== HANDSHAKE_SIZE) return false;
  const key = hmacSha256(fullKey, ourDigest);
  const expected = hmacSha256(key, block.subarray(0, HANDSHAKE_SIZE - DIGEST_SIZE));
  return bytesEqual(expected, block.subarray(HANDSHAKE_SIZE - DIGEST_SIZE));
}
