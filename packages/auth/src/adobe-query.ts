/**
 * The Adobe auth query out of a connect's `app` (or tcUrl). Clients append it to whatever the app
 * already is: FFmpeg and GStreamer `live/test?authmod=adobe&user=U…`, OBS's librtmp the same even
 * after a query of the server URL (`live?x=1?authmod=…`). So the auth query starts at the first
 * `?authmod=` or `&authmod=` and runs to the end; what comes before is the app.
 *
 * Values are taken raw, not percent-decoded: the clients send them raw (a response is standard
 * base64 with `+`, `/`, `=`), and every value that matters is checked against a strict charset.
 */
import { defaultUsernameCharset } from './charset';
import type { AdobeDenyCode } from './errors';
import { type AuthLimits, resolveLimits } from './limits';

/** The parameters of one step of the login. */
export interface AdobeAuthQuery {
  /** The app (or tcUrl) without the auth query. */
  readonly app: string;
  readonly user: string;
  /** Step 3 only: the client's own challenge (`%08x` in FFmpeg and GStreamer). */
  readonly clientChallenge?: string;
  /** Step 3 only: base64(md5(…)). */
  readonly response?: string;
  /** Step 3 only: the opaque the server sent, echoed. */
  readonly opaque?: string;
}

export type AdobeQueryResult =
  | { readonly kind: 'none' }
  | { readonly kind: 'query'; readonly query: AdobeAuthQuery }
  | { readonly kind: 'invalid'; readonly code: AdobeDenyCode; readonly reason: string };

const START = /[?&]authmod=/;
/** Printable ASCII without space, `&`, `?` or `#`: anything else is not something a client sent. */
const VALUE = /^[!-~]*$/;
const FORBIDDEN = /[&?#]/;
const KNOWN = new Set(['authmod', 'user', 'challenge', 'response', 'opaque']);

/** Where the auth query starts in `text`, or -1. */
export function adobeQueryStart(text: string): number {
  return text.search(START);
}

/** `text` without its auth query (everything from `?authmod=` / `&authmod=` on). */
export function withoutAdobeQuery(text: string): string {
  const at = adobeQueryStart(text);
  return at < 0 ? text : text.slice(0, at);
}

function invalid(reason: string): AdobeQueryResult {
  return { kind: 'invalid', code: 'ERR_AUTH_ADOBE_BAD_QUERY', reason };
}

/**
 * The Adobe auth query in `app`: `none` when there is none, `invalid` (with a reason safe to log:
 * no value is quoted) when it breaks a limit or a rule, else its parameters.
 * Limits: `maxInputLength` for the whole app, `maxQueryParams`, `maxQueryValueLength`.
 */
export function parseAdobeAuthQuery(app: string, limits?: AuthLimits): AdobeQueryResult {
  const { maxInputLength, maxQueryParams, maxQueryValueLength } = resolveLimits(limits);
  if (typeof app !== 'string') return invalid('app is not a string');
  const at = adobeQueryStart(app);
  if (at < 0) return { kind: 'none' };
  if (app.length > maxInputLength) return invalid(`app longer than ${maxInputLength} characters`);
  const pairs = app.slice(at + 1).split('&');
  if (pairs.length > maxQueryParams) return invalid(`more than ${maxQueryParams} query parameters`);
  const params = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return invalid('a query parameter without a name or a value');
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (value.length > maxQueryValueLength) return invalid(`a query value longer than ${maxQueryValueLength}`);
    if (!VALUE.test(value) || FORBIDDEN.test(value))
      return invalid('a query value with a character clients never send');
    if (!KNOWN.has(name)) continue; // other parameters are the app's business, not the login's
    if (params.has(name)) return invalid(`query parameter ${name} given twice`);
    params.set(name, value);
  }
  if (params.get('authmod') !== 'adobe') return invalid('authmod is not adobe (the only one supported)');
  const user = params.get('user');
  if (user === undefined || !defaultUsernameCharset.test(user)) return invalid('user missing or not a valid username');
  const base = { app: app.slice(0, at), user };
  const response = params.get('response');
  if (response === undefined) {
    return params.has('challenge') || params.has('opaque')
      ? invalid('challenge or opaque without a response')
      : { kind: 'query', query: base };
  }
  const clientChallenge = params.get('challenge');
  const opaque = params.get('opaque');
  if (clientChallenge === undefined || opaque === undefined) return invalid('a response without challenge or opaque');
  return { kind: 'query', query: { ...base, clientChallenge, response, opaque } };
}
