/**
 * The publish decision: pattern match, then the optional controls (IP lists, stream keys, signed
 * URLs, webhook), all configured and validated once in `createPublishAuthorizer`.
 *
 * Order of checks on `authorize`: IP lists (cheapest, before parsing anything) → path and query
 * (`matchPublishPath`) → optional request fields → stream key → signature → webhook (the only I/O,
 * last, so it only ever sees well-formed requests that passed every local check). The first
 * failing check decides. `authorize` never throws and never allows on an unexpected error.
 */
import type { SegmentCharset } from './charset';
import {
  checkControlsFitTogether,
  type ResolvedStreamKeys,
  resolveSignedUrls,
  resolveStreamKeys,
} from './control-config';
import { type AuthDenyCode, type AuthDenyStatus, DENY_STATUS } from './errors';
import { quote } from './escape';
import { compileIpRules, type IpListConfig, type IpRules } from './ip-list';
import { KEY_CHECK_BUSY, KeyCheckGuard } from './key-check-guard';
import type { AuthLimits } from './limits';
import { checkOptions } from './options';
import { compilePatterns, type PatternSet } from './pattern';
import { matchPublishPath, type PublishPathMatch } from './publish-path';
import { redactCredentials, redactPublishPath } from './redact';
import { type SigningSecret, verifyPublishSignature } from './signed-url';
import { type StoredKeyHash, verifyStreamKey } from './stream-key';
import {
  buildWebhookBody,
  callPublishWebhook,
  type ResolvedWebhook,
  resolveWebhook,
  WEBHOOK_RESERVED_FIELDS,
  type WebhookConfig,
} from './webhook';

/** What the RTMP layer knows when a client publishes. */
export interface PublishRequest {
  /** The `app` of the RTMP connect command, as sent (may carry a query, e.g. from OBS). */
  app: string;
  /** The publish command's stream name, as sent (may carry `?key=…` etc.). */
  streamName: string;
  /** The connect command's tcUrl; only forwarded to the webhook, never routed on. */
  tcUrl?: string;
  /** The peer's IP address as the socket reports it (`1.2.3.4`, `::1`, `::ffff:1.2.3.4`). */
  clientAddress?: string;
  /** Query parameters the caller parsed itself; merged with those in app and name (conflicts refused). */
  query?: Record<string, string>;
  /** Connection id, forwarded to the webhook as `clientid`. */
  clientId?: string | number;
  /** The connect command's flashVer, forwarded to the webhook as `flashver`. */
  flashVer?: string;
  /** The publish type (`live`, `record`, `append`), forwarded as `type`. @default 'live' */
  publishType?: string;
  /**
   * The user the connection logged in as (the Adobe challenge login). It is that user's credential:
   * the stream key and signature checks are skipped for the path's username when it is this user,
   * and a path for another username is refused (`ERR_AUTH_ADOBE_USER_MISMATCH`). IP lists and the
   * webhook still apply.
   */
  authenticatedUser?: string;
}

/** The publish may go ahead. */
export interface AuthAllowed {
  readonly allowed: true;
  /** Safe as one directory name and one URL path segment (unreserved ASCII, not `.`/`..`, matched its charset). */
  readonly username: string;
  /** The pattern variables (decoded; `{key}` removed). `vars.username` is the matched name even after a rename. */
  readonly vars: Record<string, string>;
  /** Query parameters, decoded, with the credential parameters (stream key, signature) removed. */
  readonly query: Record<string, string>;
  /**
   * The stream name without query or key segment (e.g. `alice`, or `test/alice` for a client that
   * put more in the name); after a webhook rename, the new name (then also `username`).
   */
  readonly streamName: string;
}

/** The publish is refused. Send `status` with `reason` as the onStatus description, then close. */
export interface AuthDenied {
  readonly allowed: false;
  readonly code: AuthDenyCode;
  /** Printable ASCII; client input in it is quoted, escaped and truncated. Safe to send and to log. */
  readonly reason: string;
  readonly status: AuthDenyStatus;
  /** For logs only (not for the client): the underlying error of webhook/lookup/internal failures. */
  readonly cause?: unknown;
}

export type AuthDecision = AuthAllowed | AuthDenied;

/** Where stream keys come from: a static map or a lookup you provide (e.g. a database query). */
export type StreamKeyLookup = (
  username: string,
) => string | readonly string[] | undefined | Promise<string | readonly string[] | undefined>;

/** `streamKeys` configuration: every publish must present a key matching one of the user's hashes. */
export interface StreamKeysConfig {
  /**
   * username → hashed key(s) from `hashStreamKey` (`sha256:…` or `scrypt:…`); several for rotation.
   * A static map is validated at load; a function's results are validated per call.
   */
  keys: Readonly<Record<string, string | readonly string[]>> | StreamKeyLookup;
  /** Query parameter carrying the key when the pattern has no `{key}` segment. @default 'key' */
  queryParam?: string;
  /** Key checks running at once (each `scrypt:` check holds a thread-pool thread ~50 ms). @default 1 */
  maxConcurrentChecks?: number;
  /** Checks waiting for a slot; one more is refused at once (`ERR_AUTH_BUSY`). @default 32 */
  maxQueuedChecks?: number;
  /** Failed keys from one address per window before it is refused unchecked (`ERR_AUTH_RATE_LIMITED`). @default 5 */
  maxFailuresPerAddress?: number;
  /** Failed keys for one username per window before addresses that failed too are refused. @default 20 */
  maxFailuresPerUsername?: number;
  /** The failure-counting window, seconds. @default 60 */
  failureWindowSeconds?: number;
}

/** `signedUrls` configuration. */
export interface SignedUrlsConfig {
  /** HMAC-SHA256 secret(s), ≥ 16 bytes; several are all accepted (rotation). */
  secret: SigningSecret | readonly SigningSecret[];
  /** Seconds accepted past `expires`. @default 30 */
  clockSkewSeconds?: number;
  /** Refuse URLs expiring further than this in the future (limits leaked long-lived URLs). @default 604800 (7 days) */
  maxTtlSeconds?: number;
  /** Clock, ms since the epoch. @default Date.now */
  now?: () => number;
  /** @default 'expires' */
  expiresParam?: string;
  /** @default 'sig' */
  sigParam?: string;
}

/** Configuration of `createPublishAuthorizer`. Only `patterns` is required; every control is off unless given. */
export interface PublishAuthConfig {
  /** Publish-path patterns, tried in order; the first match wins. E.g. `['/live/{app}/{username}']`. */
  patterns: readonly string[];
  /** Request size limits. */
  limits?: AuthLimits;
  /** Per-user stream keys. */
  streamKeys?: StreamKeysConfig;
  /** Signed, expiring publish URLs. */
  signedUrls?: SignedUrlsConfig;
  /** nginx-rtmp-style `on_publish` webhook. */
  webhook?: WebhookConfig;
  /** IP allow/deny lists. */
  ip?: IpListConfig;
}

/** A validated configuration, ready to decide. */
export interface PublishAuthorizer {
  /** Decides one publish. Never throws; fails closed. */
  authorize(request: PublishRequest): Promise<AuthDecision>;
  /**
   * True when `value` passes the `{username}` rule of at least one configured pattern: the check for
   * an HTTP `:username` route param (no decoding here; pass the router's decoded value).
   */
  isValidUsername(value: unknown): value is string;
  /** The compiled patterns, for `matchPublishPath`. */
  readonly patterns: PatternSet;
  /**
   * `text` (a tcUrl, an app, a stream name) with every credential in its query redacted: the
   * configured key and signature parameters and {@link ALWAYS_REDACTED_PARAMS}. For logs.
   */
  redact(text: string): string;
  /**
   * A publish's app and stream name for a log line: {@link redact} applied to both and, when a
   * pattern ends in `{key}`, the key's segment replaced too.
   */
  redactPublish(app: string, streamName: string): { app: string; name: string };
}

function deny(code: AuthDenyCode, reason: string, cause?: unknown): AuthDenied {
  const decision: { allowed: false; code: AuthDenyCode; reason: string; status: AuthDenyStatus; cause?: unknown } = {
    allowed: false,
    code,
    reason,
    status: DENY_STATUS[code],
  };
  if (cause !== undefined) decision.cause = cause;
  return decision;
}

/** Optional string fields of the request: absent, or a string within the input limit. */
function optionalField(value: unknown, max: number): string | undefined | false {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value !== 'string' || value.length > max) return false;
  return value;
}

/** The request's optional fields, checked against the input limit; null when one is malformed. */
function requestFields(request: PublishRequest, max: number): WebhookRequestFields | null {
  const tcurl = optionalField(request.tcUrl, max);
  const flashver = optionalField(request.flashVer, max);
  const clientid = optionalField(request.clientId, max);
  const type = optionalField(request.publishType, 64);
  const addr = optionalField(request.clientAddress, 64);
  if (tcurl === false || flashver === false || clientid === false || type === false || addr === false) return null;
  return { tcurl, flashver, clientid, type, addr };
}

/** The optional request fields the webhook receives. */
interface WebhookRequestFields {
  tcurl: string | undefined;
  flashver: string | undefined;
  clientid: string | undefined;
  type: string | undefined;
  addr: string | undefined;
}

/** The stream-key step: exactly one key (path or query), checked against the stored hashes. */
async function checkStreamKey(
  streamKeys: ResolvedStreamKeys,
  guard: KeyCheckGuard,
  match: PublishPathMatch,
  address: string | undefined,
): Promise<AuthDenied | null> {
  const refusal = guard.refusal(address, match.username);
  if (refusal) {
    return deny('ERR_AUTH_RATE_LIMITED', `too many failed stream keys; retry in ${refusal.retryAfterSeconds} s`);
  }
  const denied = await checkKey(streamKeys, guard, match, address);
  if (denied?.code === 'ERR_AUTH_BAD_KEY' || denied?.code === 'ERR_AUTH_MISSING_KEY') {
    guard.recordFailure(address, match.username);
  }
  return denied;
}

async function checkKey(
  streamKeys: ResolvedStreamKeys,
  guard: KeyCheckGuard,
  match: PublishPathMatch,
  address: string | undefined,
): Promise<AuthDenied | null> {
  const queryKey = Object.hasOwn(match.query, streamKeys.queryParam) ? match.query[streamKeys.queryParam] : undefined;
  if (match.pathKey !== undefined && queryKey !== undefined) {
    return deny('ERR_AUTH_BAD_KEY', 'the stream key is given twice (path and query)');
  }
  const key = match.pathKey ?? queryKey;
  if (key === undefined || key === '') return deny('ERR_AUTH_MISSING_KEY', 'a stream key is required');
  let stored: readonly StoredKeyHash[];
  try {
    stored = await streamKeys.lookup(match.username);
  } catch (err) {
    return deny('ERR_AUTH_KEY_LOOKUP_FAILED', 'the stream key could not be checked', err);
  }
  const verdict = await guard.run(address, () => verifyStreamKey(key, stored));
  if (verdict === KEY_CHECK_BUSY) {
    return deny('ERR_AUTH_BUSY', 'too many stream key checks in progress; retry in a few seconds');
  }
  if (!verdict) return deny('ERR_AUTH_BAD_KEY', 'invalid stream key');
  return null;
}

/**
 * The webhook step: undefined when it allows the publish as matched, the new name when it renames
 * the stream (which must satisfy the matched pattern's username rule), or the refusal.
 */
async function askWebhook(
  webhook: ResolvedWebhook,
  match: PublishPathMatch,
  fields: WebhookRequestFields,
  usernameCharset: SegmentCharset,
): Promise<string | undefined | AuthDenied> {
  const reserved = Object.keys(match.query).find((k) => WEBHOOK_RESERVED_FIELDS.includes(k));
  if (reserved !== undefined) {
    return deny('ERR_AUTH_BAD_QUERY', `query parameter ${quote(reserved)} is reserved for the publish webhook`);
  }
  const { addr, clientid, flashver, tcurl, type } = fields;
  const body = buildWebhookBody(
    { addr, clientid, app: match.rawApp, flashver, tcurl, name: match.rawName, type: type ?? 'live' },
    match.query,
  );
  const outcome = await callPublishWebhook(webhook, body);
  if (outcome.kind === 'deny') return deny(outcome.code, outcome.reason, outcome.cause);
  if (outcome.kind !== 'rename') return undefined;
  if (!usernameCharset.test(outcome.location)) {
    return deny(
      'ERR_AUTH_WEBHOOK_BAD_REDIRECT',
      `publish webhook renamed the stream to ${quote(outcome.location)}, which is not a valid username`,
    );
  }
  return outcome.location;
}

/**
 * Validates `config` once and returns the authorizer.
 * @throws AuthConfigError for any invalid pattern, limit, key hash, secret, webhook setting or CIDR.
 */
export function createPublishAuthorizer(config: PublishAuthConfig): PublishAuthorizer {
  checkOptions(config, ['patterns', 'limits', 'streamKeys', 'signedUrls', 'webhook', 'ip'], 'config');
  const set = compilePatterns(config.patterns, config.limits);
  const streamKeys = config.streamKeys === undefined ? undefined : resolveStreamKeys(config.streamKeys);
  const signed = config.signedUrls === undefined ? undefined : resolveSignedUrls(config.signedUrls);
  const webhook: ResolvedWebhook | undefined =
    config.webhook === undefined ? undefined : resolveWebhook(config.webhook);
  const ipRules: IpRules | undefined =
    config.ip === undefined ? undefined : compileIpRules(checkOptions(config.ip, ['allow', 'deny'], 'ip'));

  checkControlsFitTogether(set, streamKeys, signed, webhook);
  const credentialParams = new Set<string>();
  if (streamKeys) credentialParams.add(streamKeys.queryParam);
  if (signed) credentialParams.add(signed.sigParam);
  const pathKey = set.patterns.some((p) => p.hasKeySegment);
  const keyGuard = streamKeys ? new KeyCheckGuard(streamKeys.checkLimits) : undefined;
  const usernameCharsets: readonly SegmentCharset[] = [...new Set(set.patterns.map((p) => p.usernameCharset))];

  async function decide(request: PublishRequest): Promise<AuthDecision> {
    if (typeof request !== 'object' || request === null) return deny('ERR_AUTH_BAD_NAME', 'no publish request');
    if (ipRules) {
      const problem = ipRules.check(request.clientAddress);
      if (problem) return deny('ERR_AUTH_IP_DENIED', problem);
    }

    const match = matchPublishPath(set, request.app, request.streamName, { query: request.query });
    if (!match.matched) return deny(match.code, match.reason);
    const pattern = set.patterns[match.patternIndex]!;

    const fields = requestFields(request, set.limits.maxInputLength);
    if (fields === null) {
      return deny(
        'ERR_AUTH_BAD_NAME',
        'malformed or over-long tcUrl, flashVer, clientId, publishType or clientAddress',
      );
    }

    const loggedIn = request.authenticatedUser;
    if (loggedIn !== undefined && loggedIn !== match.username) {
      return deny(
        'ERR_AUTH_ADOBE_USER_MISMATCH',
        `logged in as ${quote(loggedIn)}, which may not publish as ${quote(match.username)}`,
      );
    }

    if (streamKeys && loggedIn === undefined) {
      const refusal = await checkStreamKey(streamKeys, keyGuard!, match, fields.addr);
      if (refusal) return refusal;
    }

    if (signed && loggedIn === undefined) {
      const failure = verifyPublishSignature(signed, match.path, match.query);
      if (failure) return deny(failure.code, failure.reason);
    }

    let username = match.username;
    let streamName = match.name;
    if (webhook) {
      const outcome = await askWebhook(webhook, match, fields, pattern.usernameCharset);
      if (typeof outcome === 'object') return outcome;
      if (outcome !== undefined) {
        username = outcome;
        streamName = outcome;
      }
    }

    const query = Object.fromEntries(Object.entries(match.query).filter(([k]) => !credentialParams.has(k)));
    return { allowed: true, username, vars: match.vars, query, streamName };
  }

  return Object.freeze({
    patterns: set,
    async authorize(request: PublishRequest): Promise<AuthDecision> {
      try {
        return await decide(request);
      } catch (err) {
        return deny('ERR_AUTH_INTERNAL', 'internal authorization error', err);
      }
    },
    isValidUsername(value: unknown): value is string {
      return usernameCharsets.some((c) => c.test(value));
    },
    redact(text: string): string {
      return redactCredentials(text, credentialParams);
    },
    redactPublish(app: string, streamName: string) {
      return redactPublishPath(app, streamName, { params: credentialParams, pathKey });
    },
  });
}
