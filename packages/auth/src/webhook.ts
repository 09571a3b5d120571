/**
 * The publish webhook, with nginx-rtmp `on_publish` semantics
 * (https://github.com/arut/nginx-rtmp-module/wiki/Directives#on_publish):
 * a form-encoded POST of `call=publish&addr=…&clientid=…&app=…&flashver=…&tcurl=…&name=…&type=…`
 * followed by the publish query arguments. 2xx allows; 3xx with `Location` renames the stream to
 * that name; any other status, a timeout or a network error refuses. Redirects are never followed
 * (`redirect: 'manual'`), and the response body is never read.
 */
import { AuthConfigError } from './errors';
import { checkOptions } from './options';

/** How long the webhook may take to answer (headers received). nginx-rtmp's default is 30 s; a publisher waits. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 5000;
const MAX_WEBHOOK_TIMEOUT_MS = 120_000;

/**
 * Form fields the webhook body sets itself. A query parameter with one of these names is refused
 * when a webhook is configured: appended after the real field, it would let a publisher send
 * e.g. a second `name` to a webhook that reads the last value.
 */
export const WEBHOOK_RESERVED_FIELDS: readonly string[] = Object.freeze([
  'call',
  'addr',
  'clientid',
  'app',
  'flashver',
  'swfurl',
  'tcurl',
  'pageurl',
  'name',
  'type',
]);

/** `webhook` configuration. */
export interface WebhookConfig {
  /** `http:` or `https:` URL POSTed to on every publish. */
  url: string | URL;
  /** Milliseconds to wait for the response headers; a timeout refuses. @default 5000 */
  timeoutMs?: number;
  /** Extra request headers (e.g. a bearer token for the webhook). */
  headers?: Readonly<Record<string, string>>;
  /** Injected fetch (tests, proxies). @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** Validated webhook settings. */
export interface ResolvedWebhook {
  readonly url: string;
  readonly timeoutMs: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly fetch: typeof fetch;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;

/** Validates the `webhook` option; throws `AuthConfigError` `ERR_AUTH_CONFIG_WEBHOOK`. */
export function resolveWebhook(config: WebhookConfig): ResolvedWebhook {
  checkOptions(config, ['url', 'timeoutMs', 'headers', 'fetch'], 'webhook');
  const fail = (why: string): never => {
    throw new AuthConfigError('ERR_AUTH_CONFIG_WEBHOOK', `webhook: ${why}`);
  };
  let url: URL | undefined;
  try {
    url = new URL(String(config.url));
  } catch {
    fail('url is not a valid URL');
  }
  if (url!.protocol !== 'http:' && url!.protocol !== 'https:') fail('url must be http: or https:');
  const timeoutMs = config.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_WEBHOOK_TIMEOUT_MS) {
    fail(`timeoutMs must be an integer in [1, ${MAX_WEBHOOK_TIMEOUT_MS}]`);
  }
  const headers: Record<string, string> = {};
  if (config.headers !== undefined) {
    if (typeof config.headers !== 'object' || config.headers === null) fail('headers must be an object');
    for (const [name, value] of Object.entries(config.headers)) {
      if (!HEADER_NAME.test(name) || typeof value !== 'string' || /[\r\n\0]/.test(value)) {
        fail(`invalid header ${JSON.stringify(name)}`);
      }
      headers[name] = value;
    }
  }
  const fetchImpl = config.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') fail('fetch must be a function (no global fetch available)');
  return Object.freeze({ url: url!.href, timeoutMs, headers: Object.freeze(headers), fetch: fetchImpl });
}

/** Fields of one webhook call; optional ones are omitted from the form when undefined. */
export interface WebhookFields {
  addr: string | undefined;
  clientid: string | undefined;
  app: string;
  flashver: string | undefined;
  tcurl: string | undefined;
  name: string;
  type: string;
}

/** Builds the form body: fixed fields in nginx-rtmp's order, then the query arguments. */
export function buildWebhookBody(fields: WebhookFields, query: Readonly<Record<string, string>>): URLSearchParams {
  const body = new URLSearchParams();
  body.append('call', 'publish');
  body.append('addr', fields.addr ?? '');
  if (fields.clientid !== undefined) body.append('clientid', fields.clientid);
  body.append('app', fields.app);
  if (fields.flashver !== undefined) body.append('flashver', fields.flashver);
  if (fields.tcurl !== undefined) body.append('tcurl', fields.tcurl);
  body.append('name', fields.name);
  body.append('type', fields.type);
  for (const [k, v] of Object.entries(query)) body.append(k, v);
  return body;
}

/** Outcome of a webhook call. */
export type WebhookOutcome =
  | { readonly kind: 'allow' }
  | { readonly kind: 'rename'; readonly location: string }
  | {
      readonly kind: 'deny';
      readonly code: 'ERR_AUTH_WEBHOOK_DENIED' | 'ERR_AUTH_WEBHOOK_ERROR' | 'ERR_AUTH_WEBHOOK_BAD_REDIRECT';
      readonly reason: string;
      readonly cause?: unknown;
    };

/**
 * POSTs the body and classifies the answer. Never throws. The deadline also races the fetch promise
 * itself, so an injected fetch that ignores its signal still cannot stall a publish.
 */
export async function callPublishWebhook(webhook: ResolvedWebhook, body: URLSearchParams): Promise<WebhookOutcome> {
  const signal = AbortSignal.timeout(webhook.timeoutMs);
  let onAbort: (() => void) | undefined;
  const deadline = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  let response: Response;
  try {
    response = await Promise.race([
      webhook.fetch(webhook.url, {
        method: 'POST',
        headers: { ...webhook.headers, 'content-type': 'application/x-www-form-urlencoded' },
        body: body.toString(),
        redirect: 'manual',
        signal,
      }),
      deadline,
    ]);
  } catch (err) {
    const timedOut = signal.aborted || (err instanceof Error && err.name === 'TimeoutError');
    return {
      kind: 'deny',
      code: 'ERR_AUTH_WEBHOOK_ERROR',
      reason: timedOut ? `publish webhook did not answer within ${webhook.timeoutMs} ms` : 'publish webhook failed',
      cause: err,
    };
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
  // The body is never needed; cancel it so the connection is released.
  response.body?.cancel().catch(() => {});
  const { status } = response;
  if (status >= 200 && status <= 299) return { kind: 'allow' };
  if (status >= 300 && status <= 399) {
    const location = response.headers.get('location');
    if (location === null || location === '') {
      return {
        kind: 'deny',
        code: 'ERR_AUTH_WEBHOOK_BAD_REDIRECT',
        reason: `publish webhook redirected (HTTP ${status}) without a Location`,
      };
    }
    return { kind: 'rename', location };
  }
  return { kind: 'deny', code: 'ERR_AUTH_WEBHOOK_DENIED', reason: `publish refused by webhook (HTTP ${status})` };
}
