/**
 * Typed errors of @org/rtmp, on the shared {@link CodedError} base. Every error has a stable string
 * `code` (each documented in README.md, "Error codes"); a brand registered with `Symbol.for` lets
 * `isRtmpError` work across duplicate installs of the package.
 */
import { CodedError, type CodedErrorOptions, hasErrorBrand, markError } from '@org/errors';

const kRtmpError = Symbol.for('@org/rtmp.error');

/** Codes of protocol violations (the peer sent something we refuse). Documented in README.md. */
export type RtmpProtocolErrorCode =
  | 'ERR_RTMP_BAD_VERSION'
  | 'ERR_RTMP_HANDSHAKE'
  | 'ERR_RTMP_HANDSHAKE_TIMEOUT'
  | 'ERR_RTMP_CHUNK_STREAM_NOT_OPEN'
  | 'ERR_RTMP_TOO_MANY_CHUNK_STREAMS'
  | 'ERR_RTMP_HEADER_MID_MESSAGE'
  | 'ERR_RTMP_MESSAGE_TOO_LARGE'
  | 'ERR_RTMP_PENDING_BYTES'
  | 'ERR_RTMP_BAD_CHUNK_SIZE'
  | 'ERR_RTMP_CHUNK_SIZE_TOO_LARGE'
  | 'ERR_RTMP_BAD_CONTROL_MESSAGE'
  | 'ERR_RTMP_BAD_COMMAND'
  | 'ERR_RTMP_UNEXPECTED_COMMAND'
  | 'ERR_RTMP_IDLE_TIMEOUT'
  | 'ERR_RTMP_QUEUE_FULL'
  | 'ERR_RTMP_WRITE_BUFFER_FULL'
  | 'ERR_RTMP_PUBLISH_TIMEOUT'
  | 'ERR_RTMP_MEMORY_BUDGET'
  | 'ERR_AMF_TRUNCATED'
  | 'ERR_AMF_UNKNOWN_MARKER'
  | 'ERR_AMF_DEPTH'
  | 'ERR_AMF_TOO_LARGE'
  | 'ERR_AMF_BAD_REFERENCE'
  | 'ERR_AMF_UNSUPPORTED';

/**
 * Codes of everything else: a refusal, a failed hook or socket, the client's state and timeouts,
 * misuse of the API (bad options, unencodable messages).
 */
export type RtmpUsageErrorCode =
  | 'ERR_RTMP_REJECTED'
  | 'ERR_RTMP_HOOK_FAILED'
  | 'ERR_RTMP_INTERNAL'
  | 'ERR_RTMP_SOCKET'
  | 'ERR_RTMP_EVICTED'
  | 'ERR_RTMP_CLOSED'
  | 'ERR_RTMP_TIMEOUT'
  | 'ERR_RTMP_INVALID_STATE'
  | 'ERR_RTMP_INVALID_OPTION'
  | 'ERR_RTMP_INVALID_MESSAGE';

/** Every code an {@link RtmpError} can carry. */
export type RtmpErrorCode = RtmpProtocolErrorCode | RtmpUsageErrorCode;

/** Base class of every error this package throws or emits. */
export class RtmpError extends CodedError<RtmpErrorCode> {
  constructor(code: RtmpErrorCode, message: string, options?: CodedErrorOptions) {
    super(code, message, options);
    this.name = 'RtmpError';
    markError(this, kRtmpError);
  }
}

/** The peer violated the protocol or a configured limit. The connection cannot continue. */
export class RtmpProtocolError extends RtmpError {
  declare readonly code: RtmpProtocolErrorCode;
  constructor(code: RtmpProtocolErrorCode, message: string, options?: CodedErrorOptions) {
    super(code, message, options);
    this.name = 'RtmpProtocolError';
  }
}

/**
 * Thrown by an application hook (`onConnect`, `onPublish`) to refuse a client. The session sends
 * `_error` (connect) or an onStatus with level "error" (publish) carrying `status` and
 * `description`, flushes it, then closes.
 */
export class RtmpRejection extends RtmpError {
  /** onStatus / _error code sent to the client, e.g. "NetStream.Publish.BadName". */
  readonly status: string;
  /** Human-readable reason, safe to send to the client. */
  readonly description: string;
  /**
   * The description is an authentication challenge for the client to parse (Adobe's
   * `[ AccessManager.Reject ] : [ authmod=adobe ] : ?reason=needauth&…`): its `authmod=` is sent
   * as is instead of defused, and the error's message leaves the description out (it carries a
   * salt and a one-time token, which do not belong in logs).
   */
  readonly authChallenge: boolean;
  constructor(status: string, description: string, options: { authChallenge?: boolean } = {}) {
    const authChallenge = options.authChallenge === true;
    super('ERR_RTMP_REJECTED', `${status}: ${authChallenge ? 'authentication challenge' : description}`);
    this.name = 'RtmpRejection';
    this.status = status;
    this.description = description;
    this.authChallenge = authChallenge;
  }
}

/** True for any error created by this package, even from another copy of it. */
export function isRtmpError(err: unknown): err is RtmpError {
  return hasErrorBrand(err, kRtmpError);
}

/** Reads an {@link RtmpRejection}, also one created by another copy of this package. Internal. */
export function asRejection(err: unknown): RtmpRejection | null {
  if (err instanceof RtmpRejection) return err;
  if (isRtmpError(err) && err.code === 'ERR_RTMP_REJECTED') {
    const { status, description, authChallenge } = err as unknown as Record<string, unknown>;
    if (typeof status === 'string' && typeof description === 'string') {
      return new RtmpRejection(status, description, { authChallenge: authChallenge === true });
    }
  }
  return null;
}

/** The message of anything thrown, for wrapping it in an error of ours. Internal. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
