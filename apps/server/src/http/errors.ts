/**
 * HTTP error catalogue. Every error response is JSON `{ error, message }` where `error` is one of
 * these stable codes (or a Fastify `FST_*` code for framework-level failures):
 *
 * | code                        | status | meaning                                                               |
 * | --------------------------- | ------ | --------------------------------------------------------------------- |
 * | `ERR_HTTP_BAD_URL`          | 400    | the URL could not be decoded (invalid percent-encoding, overlong UTF-8), a parameter is too long, or the target is not a path (`*`) |
 * | `ERR_HTTP_BAD_USERNAME`     | 400    | `:username` fails the @org/auth username rule                         |
 * | `ERR_HTTP_BAD_FILE_NAME`    | 400    | the file name is not one safe path segment (`/`, `\`, `%`, NUL, dots…) |
 * | `ERR_HTTP_NOT_FOUND`        | 404    | no such route, or a well-formed name that is neither `live.m3u8` nor `live_NNN.ts`, or a file that does not exist |
 * | `ERR_HTTP_STREAM_NOT_FOUND` | 404    | the username has no stream right now                                  |
 * | `ERR_HTTP_PATH_ESCAPE`      | 403    | the file resolves (through a symlink) outside the output root         |
 * | `ERR_HTTP_INTERNAL`         | 500    | anything unexpected; details are logged, not sent                     |
 */
import type { FastifyInstance } from 'fastify';
import { clip } from '../log-text';

export type HttpErrorCode =
  | 'ERR_HTTP_BAD_URL'
  | 'ERR_HTTP_BAD_USERNAME'
  | 'ERR_HTTP_BAD_FILE_NAME'
  | 'ERR_HTTP_NOT_FOUND'
  | 'ERR_HTTP_STREAM_NOT_FOUND'
  | 'ERR_HTTP_PATH_ESCAPE'
  | 'ERR_HTTP_INTERNAL';

/** HTTP status of each code. */
export const HTTP_ERROR_STATUS: Readonly<Record<HttpErrorCode, number>> = Object.freeze({
  ERR_HTTP_BAD_URL: 400,
  ERR_HTTP_BAD_USERNAME: 400,
  ERR_HTTP_BAD_FILE_NAME: 400,
  ERR_HTTP_NOT_FOUND: 404,
  ERR_HTTP_STREAM_NOT_FOUND: 404,
  ERR_HTTP_PATH_ESCAPE: 403,
  ERR_HTTP_INTERNAL: 500,
});

const BRAND = Symbol.for('@org/server.HttpError');

/** An error the HTTP layer answers with `{ error: code, message }` and `statusCode`. */
export class HttpError extends Error {
  readonly code: HttpErrorCode;
  readonly statusCode: number;
  readonly [BRAND] = true;

  constructor(code: HttpErrorCode, message: string) {
    super(message);
    this.name = 'HttpError';
    this.code = code;
    this.statusCode = HTTP_ERROR_STATUS[code];
  }
}

/** True for an HttpError, even one from a duplicate install of this module. */
export function isHttpError(value: unknown): value is HttpError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/** The JSON body of an error response. */
export interface ErrorBody {
  error: string;
  message: string;
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: code, message };
}

/**
 * Every error answer of the app: an HttpError as its code and status, a Fastify error as its own
 * 4xx, anything else as a logged 500 whose details stay in the log.
 */
export function registerErrorAnswers(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    if (isHttpError(err)) {
      // Validation already refused every malformed name, so an escape means a planted symlink.
      if (err.code === 'ERR_HTTP_PATH_ESCAPE') req.log.warn({ url: clip(req.url) }, err.message);
      return reply.code(err.statusCode).send(errorBody(err.code, err.message));
    }
    const e = err as { statusCode?: number; code?: string; message?: string };
    // A viewer closed the connection mid-segment: nothing to answer, nothing to log.
    if (e.code === 'ERR_STREAM_PREMATURE_CLOSE') {
      req.raw.destroy();
      return;
    }
    const status = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500;
    if (status >= 500) {
      req.log.error({ err, url: clip(req.url) }, 'request failed');
      return reply.code(status).send(errorBody('ERR_HTTP_INTERNAL', 'internal error'));
    }
    return reply.code(status).send(errorBody(e.code ?? 'ERR_HTTP', e.message ?? 'request failed'));
  });
  app.setNotFoundHandler((_req, reply) => {
    reply.code(404).send(errorBody('ERR_HTTP_NOT_FOUND', 'not found'));
  });
}
