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
  type MatchPublishPathOptions,
  matchPublishPath,
  type PathDenyCode,
  type PublishPathMatch,
  type PublishPathRefusal,
  type PublishPathResult,
} from './publish-path';
