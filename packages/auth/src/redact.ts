/**
 * Credentials out of text that is about to be logged or shown: the value of every query parameter
 * that carries a secret (a stream key, a signature, a password, a token) becomes `[redacted]`,
 * wherever the query sits (a tcUrl, an OBS-style `app` with the query in it, a stream name).
 */

/** Query parameters redacted whatever the configuration (compared case-insensitively). */
export const ALWAYS_REDACTED_PARAMS: readonly string[] = Object.freeze([
  'key',
  'streamkey',
  'stream_key',
  'sig',
  'signature',
  'token',
  'auth',
  'password',
  'passwd',
  'pass',
  'secret',
  // The Adobe challenge login (`authmod=adobe`) in a connect's app and tcUrl.
  'response',
  'challenge',
  'opaque',
  'salt',
]);

/** What a redacted value reads as. */
export const REDACTED = '[redacted]';

/** A parameter: `name=value` at the start of the text or after `?`, `&` or `;`. */
const PARAM = /(^|[?&;])([^=&#?;\s]{1,64})=([^&#;\s]*)/g;

/**
 * `text` with the values of the credential parameters replaced by {@link REDACTED}.
 * @param params more parameter names to redact (a configured key or signature parameter)
 */
export function redactCredentials(text: string, params: Iterable<string> = []): string {
  const names = new Set(ALWAYS_REDACTED_PARAMS);
  for (const p of params) names.add(p.toLowerCase());
  return text.replace(PARAM, (whole, sep: string, name: string) =>
    names.has(safeDecode(name).toLowerCase()) ? `${sep}${name}=${REDACTED}` : whole,
  );
}

function safeDecode(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

/**
 * The app and stream name of a publish with their credentials redacted: query credentials as in
 * {@link redactCredentials}, and, when `pathKey` (a pattern ends in `{key}`), the last path segment
 * of the two together, where such a key always sits.
 */
export function redactPublishPath(
  app: string,
  name: string,
  options: { params?: Iterable<string>; pathKey?: boolean } = {},
): { app: string; name: string } {
  const params = [...(options.params ?? [])];
  let a = redactCredentials(app, params);
  let n = redactCredentials(name, params);
  if (options.pathKey) {
    if (n.split('?', 1)[0]!.replace(/\/+$/, '') !== '') n = redactLastSegment(n);
    else a = redactLastSegment(a);
  }
  return { app: a, name: n };
}

function redactLastSegment(text: string): string {
  const q = text.indexOf('?');
  const path = (q < 0 ? text : text.slice(0, q)).replace(/\/+$/, '');
  const query = q < 0 ? '' : text.slice(q);
  const slash = path.lastIndexOf('/');
  return `${path.slice(0, slash + 1)}${REDACTED}${query}`;
}
