/**
 * @org/auth public API: publish authorization for an RTMP ingest (URL patterns, stream keys, signed
 * URLs, webhook, IP lists), the Adobe challenge login at connect, and the username rule HTTP routes share with it. Every name here is
 * deliberate and listed in README.md ("API"); `test/public-api.txt` pins the runtime names.
 *
 * Internals stay out: IP/CIDR parsing, single-pattern compilation, the signed string, scrypt
 * parameters, the webhook's reserved fields, option checking.
 */

// ---- the Adobe challenge login (authmod=adobe) -------------------------------------------------
export {
  ADOBE_NEED_AUTH_DESCRIPTION,
  type AdobeAuthConfig,
  type AdobeAuthenticator,
  type AdobeConnectDecision,
  createAdobeAuthenticator,
  DEFAULT_ADOBE_AUTH_LIMITS,
} from './adobe-auth';
export { makeAdobeUserEntry } from './adobe-entry';
export { type AdobeAuthQuery, type AdobeQueryResult, parseAdobeAuthQuery, withoutAdobeQuery } from './adobe-query';
// ---- usernames and path segments ---------------------------------------------------------------
export {
  compileCharset,
  DEFAULT_USERNAME_CHARSET,
  defaultUsernameCharset,
  isSafeSegment,
  isSafeUsername,
  type SegmentCharset,
} from './charset';
// ---- errors and deny codes ---------------------------------------------------------------------
export {
  type AdobeDenyCode,
  AuthConfigError,
  type AuthConfigErrorCode,
  type AuthDenyCode,
  type AuthDenyStatus,
  AuthError,
  DENY_STATUS,
  isAuthConfigError,
  isAuthError,
} from './errors';
export type { IpListConfig } from './ip-list';
export { DEFAULT_KEY_CHECK_LIMITS } from './key-check-guard';
export {
  type AuthLimits,
  DEFAULT_MAX_INPUT_LENGTH,
  DEFAULT_MAX_QUERY_PARAMS,
  DEFAULT_MAX_QUERY_VALUE_LENGTH,
  DEFAULT_MAX_SEGMENT_LENGTH,
  DEFAULT_MAX_SEGMENTS,
} from './limits';
// ---- the pattern step alone --------------------------------------------------------------------
export {
  type CompiledPattern,
  compilePatterns,
  type LiteralSegment,
  type PatternSegment,
  type PatternSet,
  type VariableSegment,
} from './pattern';
// ---- the authorizer ----------------------------------------------------------------------------
export {
  type AuthAllowed,
  type AuthDecision,
  type AuthDenied,
  createPublishAuthorizer,
  type PublishAuthConfig,
  type PublishAuthorizer,
  type PublishRequest,
  type SignedUrlsConfig,
  type StreamKeyLookup,
  type StreamKeysConfig,
} from './publish-authorizer';
export {
  type MatchPublishPathOptions,
  matchPublishPath,
  type PathDenyCode,
  type PublishPathMatch,
  type PublishPathRefusal,
  type PublishPathResult,
} from './publish-path';
// ---- making credentials: stored key hashes, signed URLs ----------------------------------------
export { ALWAYS_REDACTED_PARAMS, REDACTED, redactCredentials, redactPublishPath } from './redact';
export {
  DEFAULT_CLOCK_SKEW_SECONDS,
  DEFAULT_SIGNED_URL_MAX_TTL_SECONDS,
  type SignedPublishUrl,
  type SigningSecret,
  type SignPublishUrlOptions,
  signPublishUrl,
} from './signed-url';
export { hashStreamKey } from './stream-key';
export { DEFAULT_WEBHOOK_TIMEOUT_MS, type WebhookConfig } from './webhook';
