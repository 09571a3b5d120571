/**
 * Stored users of the Adobe challenge login and the response arithmetic, as the clients compute it
 * (FFmpeg libavformat/rtmpproto.c `do_adobe_auth`, GStreamer rtmp2 rtmpclient.c `do_adobe_auth`,
 * OBS's librtmp `PublisherAuth`):
 *
 *   digest   = base64(md5(user + salt + password))
 *   response = base64(md5(digest + (opaque if the server sent one, else challenge) + clientChallenge))
 *
 * base64 is the standard alphabet with padding. An entry keeps `salt` and `digest` only: enough to
 * check a response, not the password. The digest is still a credential for this scheme (whoever
 * holds it can answer any challenge), so entries are secrets like stream keys.
 */
import crypto from 'node:crypto';
import { digestsEqual } from './constant-time';
import { AuthConfigError } from './errors';

/**
 * Characters of a salt: URL-unreserved, because FFmpeg copies it out of the description raw while
 * GStreamer percent-decodes it; both must read the same bytes.
 */
const SALT_FORMAT = /^[A-Za-z0-9_~.-]{4,64}$/;
/** base64 of a 16-byte MD5: 22 characters and `==`. */
const MD5_BASE64 = /^[A-Za-z0-9+/]{22}==$/;
const ENTRY_FORMAT = /^adobe:([^:]*):([^:]*)$/;
/** Random bytes of a new salt (96 bits; 16 base64url characters keep the challenge description short). */
const SALT_BYTES = 12;
/**
 * Longest password `makeAdobeUserEntry` takes. FFmpeg keeps 49 characters of a password (a 50-byte
 * buffer), so a longer one could never log in from FFmpeg anyway.
 */
export const MAX_ADOBE_PASSWORD_LENGTH = 256;

/** A parsed entry. */
export interface AdobeUserEntry {
  readonly salt: string;
  /** The 16 MD5 bytes of `user + salt + password`. */
  readonly digest: Buffer;
}

function md5(...parts: (string | Buffer)[]): Buffer {
  const h = crypto.createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
}

/**
 * The `users` entry for `username` with `password`: `adobe:<salt>:<base64(md5(user+salt+password))>`
 * with a random salt (the salt the server sends in every challenge for that user).
 * @throws AuthConfigError `ERR_AUTH_CONFIG_ADOBE` for an empty or over-long username or password.
 * @example makeAdobeUserEntry('johndoe', 'secret') // 'adobe:q1w2…:Xb3…=='
 */
export function makeAdobeUserEntry(username: string, password: string, options: { salt?: string } = {}): string {
  if (typeof username !== 'string' || username.length === 0 || username.length > 64) {
    throw new AuthConfigError('ERR_AUTH_CONFIG_ADOBE', 'an Adobe username must be a string of 1..64 characters');
  }
  if (typeof password !== 'string' || password.length === 0 || password.length > MAX_ADOBE_PASSWORD_LENGTH) {
    throw new AuthConfigError(
      'ERR_AUTH_CONFIG_ADOBE',
      `an Adobe password must be a string of 1..${MAX_ADOBE_PASSWORD_LENGTH} characters`,
    );
  }
  const salt = options.salt ?? crypto.randomBytes(SALT_BYTES).toString('base64url');
  if (!SALT_FORMAT.test(salt)) {
    throw new AuthConfigError('ERR_AUTH_CONFIG_ADOBE', 'an Adobe salt must be 4..64 of A-Z a-z 0-9 _ ~ . -');
  }
  return `adobe:${salt}:${md5(username, salt, password).toString('base64')}`;
}

/**
 * Parses a stored entry. The message names the user, never the entry's content.
 * @throws AuthConfigError `ERR_AUTH_CONFIG_ADOBE` for anything but `adobe:<salt>:<md5 base64>`.
 */
export function parseAdobeUserEntry(username: string, entry: unknown): AdobeUserEntry {
  const m = typeof entry === 'string' ? ENTRY_FORMAT.exec(entry) : null;
  if (!m || !SALT_FORMAT.test(m[1]!) || !MD5_BASE64.test(m[2]!)) {
    throw new AuthConfigError(
      'ERR_AUTH_CONFIG_ADOBE',
      `adobeAuth.users[${JSON.stringify(username)}] is not an entry "adobe:<salt>:<base64 md5>" (make one with adobe-user)`,
    );
  }
  return Object.freeze({ salt: m[1]!, digest: Buffer.from(m[2]!, 'base64') });
}

/** True when `response` is what a client with the entry's password answers to `opaque` with `clientChallenge`. */
export function adobeResponseMatches(
  entry: AdobeUserEntry,
  opaque: string,
  clientChallenge: string,
  response: string,
): boolean {
  const expected = md5(entry.digest.toString('base64'), opaque, clientChallenge);
  // A malformed response is compared as zeros: same work, same answer (false).
  const presented = MD5_BASE64.test(response) ? Buffer.from(response, 'base64') : Buffer.alloc(16);
  return digestsEqual(expected, presented) && MD5_BASE64.test(response);
}

/** A salt for a user that does not exist: stable per user and server secret, shaped like a real one. */
export function decoySalt(secret: Buffer, username: string): string {
  return crypto.createHmac('sha256', secret).update(username).digest().subarray(0, SALT_BYTES).toString('base64url');
}
