import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPublishAuthorizer, isAuthConfigError, type PublishAuthorizer } from '../src/index';

interface Received {
  method: string | undefined;
  path: string | undefined;
  contentType: string | undefined;
  token: string | undefined;
  body: string;
}

/** A real webhook on 127.0.0.1: the request path picks the answer. */
let server: http.Server;
let base: string;
let received: Received[] = [];
/** A port on which nothing listens. */
let deadPort: number;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method,
        path: req.url,
        contentType: req.headers['content-type'],
        token: req.headers['x-token'] as string | undefined,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      switch (req.url) {
        case '/allow':
          res.writeHead(200).end('ok');
          break;
        case '/allow204':
          res.writeHead(204).end();
          break;
        case '/deny403':
          res.writeHead(403).end('no');
          break;
        case '/deny500':
          res.writeHead(500).end('boom');
          break;
        case '/deny404':
          res.writeHead(404).end();
          break;
        case '/redirect':
          res.writeHead(302, { Location: 'renamed_user' }).end();
          break;
        case '/redirect-traversal':
          res.writeHead(302, { Location: '../etc' }).end();
          break;
        case '/redirect-rtmp':
          res.writeHead(302, { Location: 'rtmp://evil.example/live/x' }).end();
          break;
        case '/redirect-none':
          res.writeHead(302).end();
          break;
        case '/hang':
          // Never answers: the authorizer must give up on its own.
          break;
        default:
          res.writeHead(400).end();
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const dead = http.createServer();
  dead.listen(0, '127.0.0.1');
  await once(dead, 'listening');
  deadPort = (dead.address() as AddressInfo).port;
  await new Promise<void>((resolve) => dead.close(() => resolve()));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  received = [];
});

function hook(path: string, extra: Record<string, unknown> = {}): PublishAuthorizer {
  return createPublishAuthorizer({
    patterns: ['/live/{app}/{username}'],
    webhook: { url: `${base}${path}`, timeoutMs: 2000, ...extra },
  });
}

const request = {
  app: 'live/test',
  streamName: 'alice?token=t0k&lang=en',
  tcUrl: 'rtmp://127.0.0.1:1935/live/test',
  clientAddress: '10.0.0.7',
  clientId: 42,
  flashVer: 'FMLE/3.0 (compatible; FMSc/1.0)',
};

describe('webhook against a real HTTP server', () => {
  it('200 allows; the body is form-encoded with the nginx-rtmp fields, in order, then the query', async () => {
    const d = await hook('/allow', { headers: { 'x-token': 'secret-header' } }).authorize(request);
    expect(d).toEqual({
      allowed: true,
      username: 'alice',
      vars: { app: 'test', username: 'alice' },
      query: { token: 't0k', lang: 'en' },
      streamName: 'alice',
    });
    expect(received).toHaveLength(1);
    const got = received[0]!;
    expect(got.method).toBe('POST');
    expect(got.contentType).toBe('application/x-www-form-urlencoded');
    expect(got.token).toBe('secret-header');
    expect([...new URLSearchParams(got.body)]).toEqual([
      ['call', 'publish'],
      ['addr', '10.0.0.7'],
      ['clientid', '42'],
      ['app', 'live/test'],
      ['flashver', 'FMLE/3.0 (compatible; FMSc/1.0)'],
      ['tcurl', 'rtmp://127.0.0.1:1935/live/test'],
      ['name', 'alice'],
      ['type', 'live'],
      ['token', 't0k'],
      ['lang', 'en'],
    ]);
  });

  it('optional fields are left out when unknown; OBS split sends its own app and name', async () => {
    expect(
      await hook('/allow204').authorize({ app: 'live', streamName: 'test/alice', publishType: 'record' }),
    ).toMatchObject({
      allowed: true,
      streamName: 'test/alice',
    });
    expect(Object.fromEntries(new URLSearchParams(received[0]!.body))).toEqual({
      call: 'publish',
      addr: '',
      app: 'live',
      name: 'test/alice',
      type: 'record',
    });
  });

  it.each([
    ['/deny403', 403],
    ['/deny404', 404],
    ['/deny500', 500],
  ])('%s denies with ERR_AUTH_WEBHOOK_DENIED', async (path, status) => {
    const d = await hook(path).authorize(request);
    expect(d).toEqual({
      allowed: false,
      code: 'ERR_AUTH_WEBHOOK_DENIED',
      reason: `publish refused by webhook (HTTP ${status})`,
      status: 'NetStream.Publish.Unauthorized',
    });
  });

  it('302 with Location renames the stream (username and streamName)', async () => {
    const d = await hook('/redirect').authorize(request);
    expect(d).toMatchObject({
      allowed: true,
      username: 'renamed_user',
      streamName: 'renamed_user',
      vars: { app: 'test', username: 'alice' },
    });
  });

  it.each([
    ['/redirect-traversal', '../etc'],
    ['/redirect-rtmp', 'rtmp://'],
    ['/redirect-none', 'without a Location'],
  ])('%s: a redirect to an invalid name is refused', async (path, inReason) => {
    const d = await hook(path).authorize(request);
    expect(d).toMatchObject({ allowed: false, code: 'ERR_AUTH_WEBHOOK_BAD_REDIRECT' });
    if (!d.allowed) expect(d.reason).toContain(inReason);
  });

  it('a rename must pass the matched pattern’s own username charset', async () => {
    const strict = createPublishAuthorizer({
      patterns: ['/live/{app}/{username:[a-z]{3,8}}'],
      webhook: { url: `${base}/redirect`, timeoutMs: 2000 },
    });
    expect(await strict.authorize(request)).toMatchObject({ code: 'ERR_AUTH_WEBHOOK_BAD_REDIRECT' });
  });

  it('a server that never answers is denied within the timeout', async () => {
    const start = performance.now();
    const d = await hook('/hang', { timeoutMs: 200 }).authorize(request);
    const elapsed = performance.now() - start;
    expect(d).toMatchObject({
      allowed: false,
      code: 'ERR_AUTH_WEBHOOK_ERROR',
      reason: 'publish webhook did not answer within 200 ms',
    });
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(1500);
    expect(received).toHaveLength(1);
  });

  it('an unreachable server is denied', async () => {
    const auth = createPublishAuthorizer({
      patterns: ['/live/{app}/{username}'],
      webhook: { url: `http://127.0.0.1:${deadPort}/hook`, timeoutMs: 2000 },
    });
    const d = await auth.authorize(request);
    expect(d).toMatchObject({ allowed: false, code: 'ERR_AUTH_WEBHOOK_ERROR', reason: 'publish webhook failed' });
    if (!d.allowed) expect(d.cause).toBeInstanceOf(Error);
  });

  it('is not called when a local check already refused', async () => {
    expect(await hook('/allow').authorize({ ...request, streamName: '..' })).toMatchObject({
      code: 'ERR_AUTH_BAD_NAME',
    });
    expect(received).toHaveLength(0);
  });

  it('refuses query parameters that would shadow webhook fields, without calling it', async () => {
    for (const streamName of ['alice?name=admin', 'alice?call=play', 'alice?addr=127.0.0.1']) {
      expect(await hook('/allow').authorize({ ...request, streamName })).toMatchObject({
        code: 'ERR_AUTH_BAD_QUERY',
        status: 'NetStream.Publish.BadName',
      });
    }
    expect(received).toHaveLength(0);
  });

  it('over-long tcUrl is refused before the call', async () => {
    expect(await hook('/allow').authorize({ ...request, tcUrl: `rtmp://${'x'.repeat(2000)}` })).toMatchObject({
      code: 'ERR_AUTH_BAD_NAME',
    });
    expect(received).toHaveLength(0);
  });
});

describe('webhook with an injected fetch', () => {
  it('uses it with POST and redirect: "manual"', async () => {
    const calls: [string, RequestInit][] = [];
    const fakeFetch = (async (url: string, init: RequestInit) => {
      calls.push([url, init]);
      return new Response(null, { status: 200 });
    }) as typeof fetch;
    const auth = createPublishAuthorizer({
      patterns: ['/live/{app}/{username}'],
      webhook: { url: 'http://hooks.invalid/on_publish', fetch: fakeFetch },
    });
    expect(await auth.authorize(request)).toMatchObject({ allowed: true });
    expect(calls).toHaveLength(1);
    expect(calls[0]![0]).toBe('http://hooks.invalid/on_publish');
    expect(calls[0]![1]).toMatchObject({ method: 'POST', redirect: 'manual' });
    expect(calls[0]![1].signal).toBeInstanceOf(AbortSignal);
  });

  it('still times out when the fetch ignores its abort signal', async () => {
    const stuck = (() => new Promise<Response>(() => {})) as typeof fetch;
    const auth = createPublishAuthorizer({
      patterns: ['/live/{app}/{username}'],
      webhook: { url: 'http://hooks.invalid/', fetch: stuck, timeoutMs: 50 },
    });
    expect(await auth.authorize(request)).toMatchObject({ code: 'ERR_AUTH_WEBHOOK_ERROR' });
  });

  it('a throwing fetch is denied', async () => {
    const broken = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    const auth = createPublishAuthorizer({
      patterns: ['/live/{app}/{username}'],
      webhook: { url: 'http://hooks.invalid/', fetch: broken },
    });
    expect(await auth.authorize(request)).toMatchObject({ code: 'ERR_AUTH_WEBHOOK_ERROR' });
  });
});

describe('webhook configuration', () => {
  it.each([
    [{ url: 'not a url' }, 'ERR_AUTH_CONFIG_WEBHOOK'],
    [{ url: 'ftp://x/' }, 'ERR_AUTH_CONFIG_WEBHOOK'],
    [{ url: 'file:///etc/passwd' }, 'ERR_AUTH_CONFIG_WEBHOOK'],
    [{ url: 'http://x/', timeoutMs: 0 }, 'ERR_AUTH_CONFIG_WEBHOOK'],
    [{ url: 'http://x/', timeoutMs: 1e9 }, 'ERR_AUTH_CONFIG_WEBHOOK'],
    [{ url: 'http://x/', headers: { 'bad header': 'v' } }, 'ERR_AUTH_CONFIG_WEBHOOK'],
    [{ url: 'http://x/', headers: { ok: 'a\r\nb' } }, 'ERR_AUTH_CONFIG_WEBHOOK'],
    [{ url: 'http://x/', fetch: 'nope' }, 'ERR_AUTH_CONFIG_WEBHOOK'],
    [{ url: 'http://x/', retries: 3 }, 'ERR_AUTH_CONFIG_UNKNOWN_OPTION'],
  ])('%j → %s', (webhook, code) => {
    let caught: unknown;
    try {
      createPublishAuthorizer({ patterns: ['/live/{username}'], webhook: webhook as never });
    } catch (err) {
      caught = err;
    }
    expect(isAuthConfigError(caught) && caught.code).toBe(code);
  });

  it('a stream-key parameter named like a webhook field is a configuration error', () => {
    expect(() =>
      createPublishAuthorizer({
        patterns: ['/live/{username}'],
        streamKeys: { keys: {}, queryParam: 'name' },
        webhook: { url: 'http://x/' },
      }),
    ).toThrow(/collides/);
  });
});
