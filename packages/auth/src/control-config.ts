/**
 * Configuration of the optional publish controls: each validated once on its own (stream keys,
 * signed URLs), then checked against the others (credential parameters must not collide, a {key}
 * pattern needs stream keys). Used by `createPublishAuthorizer`; everything here throws
 * `AuthConfigError`.
 */
import { isSafeSegment } from './charset';
import { AuthConfigError } from './errors';
import { quote } from './escape';
import { DEFAULT_KEY_CHECK_LIMITS, type KeyCheckLimits } from './key-check-guard';
import { checkOptions } from './options';
import type { PatternSet } from './pattern';
import type { SignedUrlsConfig, StreamKeysConfig } from './publish-authorizer';
import {
  DEFAULT_CLOCK_SKEW_SECONDS,
  DEFAULT_SIGNED_URL_MAX_TTL_SECONDS,
  type SignatureVerifier,
  secretBytes,
} from './signed-url';
import { parseStoredKeyHash, type StoredKeyHash } from './stream-key';
import { type ResolvedWebhook, WEBHOOK_RESERVED_FIELDS } from './webhook';

const QUERY_PARAM_NAME = /^[A-Za-z0-9_.~-]{1,64}$/;

function paramName(value: unknown, fallback: string, where: string): string {
  const name = value ?? fallback;
  if (typeof name !== 'string' || !QUERY_PARAM_NAME.test(name)) {
    throw new AuthConfigError('ERR_AUTH_CONFIG_INVALID', `${where} must match [A-Za-z0-9_.~-]{1,64}`);
  }
  return name;
}

/** Stream-key settings with defaults filled in. */
export interface ResolvedStreamKeys {
  readonly queryParam: string;
  readonly checkLimits: KeyCheckLimits;
  lookup(username: string): Promise<readonly StoredKeyHash[]>;
}

const LIMIT_NAMES = Object.keys(DEFAULT_KEY_CHECK_LIMITS) as (keyof KeyCheckLimits)[];
const LIMIT_MAX: Readonly<Record<keyof KeyCheckLimits, number>> = {
  maxConcurrentChecks: 64,
  maxQueuedChecks: 100_000,
  maxFailuresPerAddress: 1_000_000,
  maxFailuresPerUsername: 1_000_000,
  failureWindowSeconds: 86_400,
};

function resolveCheckLimits(config: StreamKeysConfig): KeyCheckLimits {
  const out = { ...DEFAULT_KEY_CHECK_LIMITS } as KeyCheckLimits;
  for (const name of LIMIT_NAMES) {
    const value = config[name] ?? DEFAULT_KEY_CHECK_LIMITS[name];
    const min = name === 'maxQueuedChecks' ? 0 : 1;
    if (!Number.isInteger(value) || value < min || value > LIMIT_MAX[name]) {
      throw new AuthConfigError(
        'ERR_AUTH_CONFIG_LIMIT',
        `streamKeys.${name} must be an integer in [${min}, ${LIMIT_MAX[name]}]`,
      );
    }
    out[name] = value;
  }
  return out;
}

function toList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

export function resolveStreamKeys(config: StreamKeysConfig): ResolvedStreamKeys {
  checkOptions(config, ['keys', 'queryParam', ...LIMIT_NAMES], 'streamKeys');
  const queryParam = paramName(config.queryParam, 'key', 'streamKeys.queryParam');
  const checkLimits = resolveCheckLimits(config);
  const { keys } = config;
  if (typeof keys === 'function') {
    return {
      queryParam,
      checkLimits,
      async lookup(username) {
        const found = await keys(username);
        if (found === undefined) return [];
        return toList(found).map((h, i) => parseStoredKeyHash(h, `stream key lookup result ${i}`));
      },
    };
  }
  if (typeof keys !== 'object' || keys === null || Array.isArray(keys)) {
    throw new AuthConfigError('ERR_AUTH_CONFIG_INVALID', 'streamKeys.keys must be an object or a function');
  }
  // A Map, so usernames such as "constructor" or "__proto__" never reach Object.prototype.
  const table = new Map<string, readonly StoredKeyHash[]>();
  for (const [username, hashes] of Object.entries(keys)) {
    if (!isSafeSegment(username)) {
      throw new AuthConfigError(
        'ERR_AUTH_CONFIG_INVALID',
        `streamKeys.keys: ${quote(username)} is not a valid username`,
      );
    }
    const list = toList(hashes);
    if (list.length === 0) {
      throw new AuthConfigError('ERR_AUTH_CONFIG_KEY_HASH', `streamKeys.keys[${quote(username)}] has no hash`);
    }
    table.set(
      username,
      Object.freeze(list.map((h, i) => parseStoredKeyHash(h, `streamKeys.keys[${quote(username)}][${i}]`))),
    );
  }
  return { queryParam, checkLimits, lookup: async (username) => table.get(username) ?? [] };
}

export function resolveSignedUrls(config: SignedUrlsConfig): SignatureVerifier {
  checkOptions(
    config,
    ['secret', 'clockSkewSeconds', 'maxTtlSeconds', 'now', 'expiresParam', 'sigParam'],
    'signedUrls',
  );
  const list = Array.isArray(config.secret) ? config.secret : [config.secret];
  if (list.length === 0) throw new AuthConfigError('ERR_AUTH_CONFIG_SECRET', 'signedUrls.secret: no secret given');
  const secrets = list.map((s, i) => secretBytes(s, `signedUrls.secret[${i}]`));
  const clockSkewSeconds = config.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  if (!Number.isInteger(clockSkewSeconds) || clockSkewSeconds < 0 || clockSkewSeconds > 3600) {
    throw new AuthConfigError('ERR_AUTH_CONFIG_INVALID', 'signedUrls.clockSkewSeconds must be an integer in [0, 3600]');
  }
  const maxTtlSeconds = config.maxTtlSeconds ?? DEFAULT_SIGNED_URL_MAX_TTL_SECONDS;
  if (!Number.isInteger(maxTtlSeconds) || maxTtlSeconds < 1) {
    throw new AuthConfigError('ERR_AUTH_CONFIG_INVALID', 'signedUrls.maxTtlSeconds must be a positive integer');
  }
  const now = config.now ?? Date.now;
  if (typeof now !== 'function')
    throw new AuthConfigError('ERR_AUTH_CONFIG_INVALID', 'signedUrls.now must be a function');
  const expiresParam = paramName(config.expiresParam, 'expires', 'signedUrls.expiresParam');
  const sigParam = paramName(config.sigParam, 'sig', 'signedUrls.sigParam');
  if (expiresParam === sigParam) {
    throw new AuthConfigError('ERR_AUTH_CONFIG_INVALID', 'signedUrls.expiresParam and sigParam must differ');
  }
  return Object.freeze({ secrets, clockSkewSeconds, maxTtlSeconds, now, expiresParam, sigParam });
}

/**
 * Config cross-checks once each control is valid on its own: a {key} pattern needs streamKeys, and
 * credential parameters must not collide with each other or with webhook fields.
 */
export function checkControlsFitTogether(
  set: PatternSet,
  streamKeys: ResolvedStreamKeys | undefined,
  signed: SignatureVerifier | undefined,
  webhook: ResolvedWebhook | undefined,
): void {
  const keyPattern = set.patterns.find((p) => p.hasKeySegment);
  if (keyPattern && !streamKeys) {
    throw new AuthConfigError(
      'ERR_AUTH_PATTERN_KEY_UNVERIFIED',
      `pattern ${quote(keyPattern.source, 120)} has a {key} segment but streamKeys is not configured`,
    );
  }
  if (
    streamKeys &&
    signed &&
    (streamKeys.queryParam === signed.sigParam || streamKeys.queryParam === signed.expiresParam)
  ) {
    throw new AuthConfigError('ERR_AUTH_CONFIG_INVALID', 'streamKeys.queryParam collides with a signedUrls parameter');
  }
  if (webhook) {
    for (const name of [streamKeys?.queryParam, signed?.expiresParam, signed?.sigParam]) {
      if (name !== undefined && WEBHOOK_RESERVED_FIELDS.includes(name)) {
        throw new AuthConfigError(
          'ERR_AUTH_CONFIG_INVALID',
          `query parameter ${quote(name)} collides with a webhook field`,
        );
      }
    }
  }
}
