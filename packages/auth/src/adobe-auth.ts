/**
 * The server side of RTMP's Adobe challenge login (`authmod=adobe`), as FFmpeg, GStreamer rtmp2sink
 * and OBS ("Use authentication") drive it over three connects, each refused but the last:
 *
 * 1. `connect(app)`                                → `… [ code=403 need auth; authmod=adobe ] …`
 * 2. `app?authmod=adobe&user=U`                    → `… ?reason=needauth&user=U&salt=S&challenge=C&opaque=O`
 * 3. `app?authmod=adobe&user=U&challenge=CC&response=R&opaque=O` → accepted, or `?reason=authfailed`
 *
 * Step 1 is the caller's choice (it knows whether an unauthenticated connect may go on), so
 * {@link AdobeAuthenticator.connect} answers `anonymous` and {@link ADOBE_NEED_AUTH_DESCRIPTION}
 * is the refusal to send. The challenge token goes out as both `challenge` and `opaque`: every
 * client hashes the opaque when there is one, and one that only read the challenge would get the
 * same bytes. No I/O; state is the bounded table of outstanding challenges and the failure counts.
 */
import crypto from 'node:crypto';
import { ChallengeStore } from './adobe-challenges';
import { type AdobeUserEntry, adobeResponseMatches, decoySalt, parseAdobeUserEntry } from './adobe-entry';
import { parseAdobeAuthQuery } from './adobe-query';
import { defaultUsernameCharset } from './charset';
import { type AdobeDenyCode, AuthConfigError } from './errors';
import { KeyCheckGuard } from './key-check-guard';
import type { AuthLimits } from './limits';
import { checkOptions } from './options';

/** Defaults of the Adobe login's limits (`adobeAuth` options). */
export const DEFAULT_ADOBE_AUTH_LIMITS = Object.freeze({
  /** Seconds a challenge may be answered in; clients answer within a round trip. */
  challengeTtlSeconds: 30,
  /** Challenges outstanding at once, all addresses together (the oldest makes room). */
  maxOutstandingChallenges: 1024,
  /** Challenges outstanding for one address (its oldest makes room). */
  maxChallengesPerAddress: 8,
  /** Failed logins from one address per window before it is refused unchecked. */
  maxFailuresPerAddress: 5,
  /** Failed logins for one user per window before addresses that failed too are refused. */
  maxFailuresPerUsername: 20,
  /** The failure-counting window, seconds. */
  failureWindowSeconds: 60,
});

type AdobeLimitName = keyof typeof DEFAULT_ADOBE_AUTH_LIMITS;

const LIMIT_RANGES: Readonly<Record<AdobeLimitName, [number, number]>> = {
  challengeTtlSeconds: [1, 600],
  maxOutstandingChallenges: [1, 1_000_000],
  maxChallengesPerAddress: [1, 1024],
  maxFailuresPerAddress: [1, 1_000_000],
  maxFailuresPerUsername: [1, 1_000_000],
  failureWindowSeconds: [1, 86_400],
};

/** `adobeAuth` configuration. Only `users` is required. */
export type AdobeAuthConfig = { [K in AdobeLimitName]?: number } & {
  /** username → entry from `makeAdobeUserEntry` (`adobe:<salt>:<base64 md5>`). */
  users: Readonly<Record<string, string>>;
  /** Request size limits, as for publishes (`maxInputLength`, `maxQueryParams`, `maxQueryValueLength`). */
  limits?: AuthLimits;
  /** Clock, ms since the epoch. @default Date.now */
  now?: () => number;
  /** Source of challenge tokens and of the decoy-salt secret. @default crypto.randomBytes */
  randomBytes?: (size: number) => Buffer;
};

/** The `_error` description that starts the login (step 1). */
export const ADOBE_NEED_AUTH_DESCRIPTION = '[ AccessManager.Reject ] : [ code=403 need auth; authmod=adobe ] : ';

const REJECT = '[ AccessManager.Reject ] : [ authmod=adobe ] : ';

/** What the client is told per refusal (`reason=` as Wowza / nginx-rtmp modules word it). */
const CLIENT_REASON: Readonly<Record<AdobeDenyCode, string>> = {
  ERR_AUTH_ADOBE_BAD_QUERY: 'badquery',
  // Unknown users read as a wrong password: `nosuchuser` would let anyone list the users.
  ERR_AUTH_ADOBE_NO_SUCH_USER: 'authfailed',
  ERR_AUTH_ADOBE_BAD_RESPONSE: 'authfailed',
  ERR_AUTH_ADOBE_STALE_CHALLENGE: 'expired',
  ERR_AUTH_ADOBE_RATE_LIMITED: 'ratelimited',
};

export type AdobeConnectDecision =
  /** No auth query in the app: the caller decides (refuse with {@link ADOBE_NEED_AUTH_DESCRIPTION}, or go on). */
  | { readonly kind: 'anonymous' }
  /** Step 2: refuse with `description`, which carries the challenge. */
  | { readonly kind: 'challenge'; readonly username: string; readonly description: string; readonly evicted: number }
  /** Step 3 passed: accept the connect; `app` is the app without the auth query. */
  | { readonly kind: 'authenticated'; readonly username: string; readonly app: string }
  /**
   * Refuse with `description` (for the client; it carries no secret). `reason` is for logs: it
   * never holds the response, challenge, salt or opaque.
   */
  | {
      readonly kind: 'denied';
      readonly code: AdobeDenyCode;
      readonly reason: string;
      readonly description: string;
      readonly username?: string;
    };

export interface AdobeAuthenticator {
  /** Decides one connect from its `app` (the tcUrl carries the same query; it is not needed). */
  connect(app: string, address: string | undefined): AdobeConnectDecision;
  /** Challenges remembered now. */
  readonly outstandingChallenges: number;
}

function resolveUsers(users: unknown): Map<string, AdobeUserEntry> {
  if (typeof users !== 'object' || users === null || Array.isArray(users)) {
    throw new AuthConfigError('ERR_AUTH_CONFIG_ADOBE', 'adobeAuth.users must be an object of username → entry');
  }
  const out = new Map<string, AdobeUserEntry>();
  for (const [name, entry] of Object.entries(users)) {
    if (!defaultUsernameCharset.test(name)) {
      throw new AuthConfigError(
        'ERR_AUTH_CONFIG_ADOBE',
        `adobeAuth.users: ${JSON.stringify(name)} is not a valid username`,
      );
    }
    out.set(name, parseAdobeUserEntry(name, entry));
  }
  if (out.size === 0) throw new AuthConfigError('ERR_AUTH_CONFIG_ADOBE', 'adobeAuth.users names no user');
  return out;
}

function resolveAdobeLimits(config: AdobeAuthConfig): Record<AdobeLimitName, number> {
  const out: Record<AdobeLimitName, number> = { ...DEFAULT_ADOBE_AUTH_LIMITS };
  for (const [name, [min, max]] of Object.entries(LIMIT_RANGES) as [AdobeLimitName, [number, number]][]) {
    const value = config[name] ?? out[name];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new AuthConfigError('ERR_AUTH_CONFIG_LIMIT', `adobeAuth.${name} must be an integer in [${min}, ${max}]`);
    }
    out[name] = value;
  }
  return out;
}

function denied(code: AdobeDenyCode, reason: string, username?: string, extra = ''): AdobeConnectDecision {
  const description = `${REJECT}?reason=${CLIENT_REASON[code]}${extra}`;
  return username === undefined
    ? { kind: 'denied', code, reason, description }
    : { kind: 'denied', code, reason, description, username };
}

/**
 * Validates `config` once and returns the authenticator.
 * @throws AuthConfigError `ERR_AUTH_CONFIG_ADOBE` for a bad user or entry, `ERR_AUTH_CONFIG_LIMIT`
 *   for a limit out of range, `ERR_AUTH_CONFIG_UNKNOWN_OPTION` for a typo.
 */
export function createAdobeAuthenticator(config: AdobeAuthConfig): AdobeAuthenticator {
  checkOptions(config, ['users', 'limits', 'now', 'randomBytes', ...Object.keys(LIMIT_RANGES)], 'adobeAuth');
  const users = resolveUsers(config.users);
  const limits = resolveAdobeLimits(config);
  parseAdobeAuthQuery('', config.limits); // throws now for bad limits, not at the first connect
  const now = config.now ?? Date.now;
  const random = config.randomBytes ?? crypto.randomBytes;
  const decoySecret = random(32);
  const challenges = new ChallengeStore(
    {
      ttlMs: limits.challengeTtlSeconds * 1000,
      maxOutstanding: limits.maxOutstandingChallenges,
      maxPerAddress: limits.maxChallengesPerAddress,
    },
    now,
  );
  const failures = new KeyCheckGuard(
    {
      maxConcurrentChecks: 1,
      maxQueuedChecks: 0,
      maxFailuresPerAddress: limits.maxFailuresPerAddress,
      maxFailuresPerUsername: limits.maxFailuresPerUsername,
      failureWindowSeconds: limits.failureWindowSeconds,
    },
    now,
  );

  function fail(code: AdobeDenyCode, reason: string, user: string, address: string | undefined) {
    failures.recordFailure(address, user);
    return denied(code, reason, user);
  }

  function connect(app: string, address: string | undefined): AdobeConnectDecision {
    const parsed = parseAdobeAuthQuery(app, config.limits);
    if (parsed.kind === 'none') return { kind: 'anonymous' };
    if (parsed.kind === 'invalid') return denied(parsed.code, parsed.reason);
    const q = parsed.query;
    const limited = failures.refusal(address, q.user);
    if (limited) {
      const retry = limited.retryAfterSeconds;
      return denied(
        'ERR_AUTH_ADOBE_RATE_LIMITED',
        `too many failed logins; retry in ${retry} s`,
        q.user,
        `&retry_after=${retry}`,
      );
    }
    const entry = users.get(q.user);
    if (q.response === undefined) {
      const token = random(12).toString('base64url');
      const evicted = challenges.issue(token, q.user, address ?? '', entry !== undefined);
      const salt = entry?.salt ?? decoySalt(decoySecret, q.user);
      const description = `${REJECT}?reason=needauth&user=${q.user}&salt=${salt}&challenge=${token}&opaque=${token}`;
      return { kind: 'challenge', username: q.user, description, evicted };
    }
    const issued = challenges.take(q.opaque!);
    if (issued === undefined || issued.username !== q.user || issued.address !== (address ?? '')) {
      return fail(
        'ERR_AUTH_ADOBE_STALE_CHALLENGE',
        'no such challenge (expired, used, or not issued to this user and address)',
        q.user,
        address,
      );
    }
    if (!issued.known || entry === undefined) {
      return fail('ERR_AUTH_ADOBE_NO_SUCH_USER', 'no such user', q.user, address);
    }
    if (!adobeResponseMatches(entry, q.opaque!, q.clientChallenge!, q.response)) {
      return fail('ERR_AUTH_ADOBE_BAD_RESPONSE', 'wrong response (wrong password)', q.user, address);
    }
    return { kind: 'authenticated', username: q.user, app: q.app };
  }

  return Object.freeze({
    connect,
    get outstandingChallenges() {
      return challenges.size;
    },
  });
}
