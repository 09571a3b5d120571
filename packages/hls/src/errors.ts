/**
 * Typed errors of @org/hls. Every error carries a stable string `code` (each documented in
 * README.md, "Error codes"); a brand registered with `Symbol.for` lets {@link isHlsError} work across
 * duplicate installs of the package. Malformed media (configuration records, length-prefixed NAL
 * units, frames over a limit) throws {@link HlsFormatError}; API misuse throws {@link HlsUsageError}.
 */
import { CodedError, type CodedErrorOptions, hasErrorBrand, markError } from '@org/errors';

const kHlsError = Symbol.for('@org/hls.error');

/** Codes of malformed or unsupported media. */
export type HlsFormatErrorCode =
  | 'ERR_HLS_TRUNCATED_CONFIG'
  | 'ERR_HLS_BAD_CONFIG'
  | 'ERR_HLS_UNSUPPORTED_CONFIG'
  | 'ERR_HLS_BAD_NAL_LENGTH'
  | 'ERR_HLS_FRAME_TOO_LARGE'
  | 'ERR_HLS_EMPTY_FRAME';

/** Codes of API misuse: bad options or arguments, calls out of order. */
export type HlsUsageErrorCode =
  | 'ERR_HLS_INVALID_OPTION'
  | 'ERR_HLS_INVALID_ARGUMENT'
  | 'ERR_HLS_NO_SUCH_TRACK'
  | 'ERR_HLS_NOT_CONFIGURED'
  | 'ERR_HLS_ENDED';

/** Every code an {@link HlsError} can carry. */
export type HlsErrorCode = HlsFormatErrorCode | HlsUsageErrorCode;

/** Base class of every error this package throws. `code` tells which case it is. */
export class HlsError extends CodedError<HlsErrorCode> {
  constructor(code: HlsErrorCode, message: string, options?: CodedErrorOptions) {
    super(code, message, options);
    this.name = 'HlsError';
    markError(this, kHlsError);
  }
}

/**
 * The media is malformed, unsupported in MPEG-TS, or over a configured limit. The muxer state is
 * unchanged by the call that threw: the frame is not written, later frames may be.
 */
export class HlsFormatError extends HlsError {
  declare readonly code: HlsFormatErrorCode;
  constructor(code: HlsFormatErrorCode, message: string, options?: CodedErrorOptions) {
    super(code, message, options);
    this.name = 'HlsFormatError';
  }
}

/** The caller passed an invalid option or argument, or called methods out of order. */
export class HlsUsageError extends HlsError {
  declare readonly code: HlsUsageErrorCode;
  constructor(code: HlsUsageErrorCode, message: string, options?: CodedErrorOptions) {
    super(code, message, options);
    this.name = 'HlsUsageError';
  }
}

/** True for any error created by this package, even from another copy of it. */
export function isHlsError(err: unknown): err is HlsError {
  return hasErrorBrand(err, kHlsError);
}
