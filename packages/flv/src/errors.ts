/**
 * Typed errors of @org/flv. Every error carries a stable string `code` (each documented in
 * README.md, "Error codes"); a brand registered with `Symbol.for` lets {@link isFlvError} work across
 * duplicate installs of the package. Parsers throw nothing but {@link FlvFormatError} on malformed
 * bytes; API misuse throws {@link FlvUsageError}. The base is the shared {@link CodedError}.
 */
import { CodedError, type CodedErrorOptions, hasErrorBrand, markError } from '@org/errors';

const kFlvError = Symbol.for('@org/flv.error');

/** Codes of malformed input: the FLV container, tag headers, codec configuration, script data. */
export type FlvFormatErrorCode =
  | 'ERR_FLV_BAD_SIGNATURE'
  | 'ERR_FLV_BAD_VERSION'
  | 'ERR_FLV_BAD_HEADER_SIZE'
  | 'ERR_FLV_BAD_PREVIOUS_TAG_SIZE'
  | 'ERR_FLV_TAG_TOO_LARGE'
  | 'ERR_FLV_ENCRYPTED_TAG'
  | 'ERR_FLV_TRUNCATED'
  | 'ERR_FLV_READER_FAILED'
  | 'ERR_FLV_TRUNCATED_TAG_HEADER'
  | 'ERR_FLV_BAD_TAG_HEADER'
  | 'ERR_FLV_TRUNCATED_CODEC_CONFIG'
  | 'ERR_FLV_BAD_CODEC_CONFIG'
  | 'ERR_FLV_BAD_SCRIPT_DATA';

/** Codes of API misuse: bad arguments or options, calls out of order, a queue limit too small. */
export type FlvUsageErrorCode =
  | 'ERR_FLV_INVALID_ARGUMENT'
  | 'ERR_FLV_INVALID_OPTION'
  | 'ERR_FLV_HEADER_NOT_WRITTEN'
  | 'ERR_FLV_HEADER_ALREADY_WRITTEN'
  | 'ERR_FLV_QUEUE_OVERFLOW';

/** Every code an {@link FlvError} can carry. */
export type FlvErrorCode = FlvFormatErrorCode | FlvUsageErrorCode;

/** Base class of every error this package throws. `code` tells which case it is. */
export class FlvError extends CodedError<FlvErrorCode> {
  constructor(code: FlvErrorCode, message: string, options?: CodedErrorOptions) {
    super(code, message, options);
    this.name = 'FlvError';
    markError(this, kFlvError);
  }
}

/**
 * The bytes are not valid FLV / codec configuration, or exceed a configured limit. A reader that
 * throws one is failed for good (every later call throws `ERR_FLV_READER_FAILED`).
 */
export class FlvFormatError extends FlvError {
  declare readonly code: FlvFormatErrorCode;
  constructor(code: FlvFormatErrorCode, message: string, options?: CodedErrorOptions) {
    super(code, message, options);
    this.name = 'FlvFormatError';
  }
}

/** The caller passed an invalid argument or option, or called methods out of order. */
export class FlvUsageError extends FlvError {
  declare readonly code: FlvUsageErrorCode;
  constructor(code: FlvUsageErrorCode, message: string, options?: CodedErrorOptions) {
    super(code, message, options);
    this.name = 'FlvUsageError';
  }
}

/** True for any error created by this package, even from another copy of it. */
export function isFlvError(err: unknown): err is FlvError {
  return hasErrorBrand(err, kFlvError);
}
