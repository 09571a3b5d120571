export {
  compileCharset,
  DEFAULT_SEGMENT_CHARSET,
  DEFAULT_USERNAME_CHARSET,
  defaultUsernameCharset,
  isSafeSegment,
  isSafeUsername,
  type SegmentCharset,
} from './charset';
export {
  AuthConfigError,
  type AuthConfigErrorCode,
  type AuthDenyCode,
  type AuthDenyStatus,
  AuthError,
  DENY_STATUS,
  isAuthConfigError,
  isAuthError,
} from './errors';
export { type CidrRange, compileIpRules, type IpListConfig, type IpRules, parseCidr, parseIpAddress } from './ip-list';
export {
  type AuthLimits,
  DEFAULT_MAX_INPUT_LENGTH,
  DEFAULT_MAX_QUERY_PARAMS,
  DEFAULT_MAX_QUERY_VALUE_LENGTH,
  DEFAULT_MAX_SEGMENT_LENGTH,
  DEFAULT_MAX_SEGMENTS,
  MAX_REGEX_SOURCE_LENGTH,
} from './limits';
export {
  type CompiledPattern,
  compilePattern,
  compilePatterns,
  KEY_VARIABLE,
  type LiteralSegment,
  type PatternSegment,
  type PatternSet,
  USERNAME_VARIABLE,
  type VariableSegment,
} from './pattern';
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
export {
  DEFAULT_CLOCK_SKEW_SECONDS,
  publishSignatureInput,
  type SignedPublishUrl,
  type SigningSecret,
  type SignPublishUrlOptions,
  signPublishUrl,
} from './signed-url';
export { hashStreamKey, SCRYPT_PARAMS } from './stream-key';
export { DEFAULT_WEBHOOK_TIMEOUT_MS, WEBHOOK_RESERVED_FIELDS, type WebhookConfig } from './webhook';
