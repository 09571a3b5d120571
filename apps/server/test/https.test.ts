/**
 * The HTTPS listener of the HTTP app on 127.0.0.1 with real clients: ALPN picks HTTP/2 (node:http2
 * client) or HTTP/1.1 (https.get offering only `http/1.1`); HLS answers from memory (the raw fast
 * path) and through Fastify (Range) over HTTP/2 streams; pages, API and metrics; HSTS only when
 * configured and only on HTTPS; viewers counted over HTTP/2; the connection caps counting an HTTP/2
 * session as one connection; the certificate swapped in place.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import {
  type ClientHttp2Session,
  connect,
  type IncomingHttpHeaders,
  type SecureClientSessionOptions,
} from 'node:http2';
import { Agent, get as httpsGet, type RequestOptions } from 'node:https';
import { type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpApp, HTTP_REQUEST_TIMEOUT_MS, type HttpAppOptions } from '../src/http/app';
import type { HttpsListener } from '../src/http/https-listener';
import { createMetrics } from '../src/metrics/metrics';
import { FakeRegistry, playlistOf, streamInfo } from './helpers/streams';

const FIXTURES = join(import.meta.dirname, '../../../packages/rtmp/test/fixtures/tls');
const TLS = { cert: readFileSync(join(FIXTURES, 'cert.pem')), key: readFileSync(join(FIXTURES, 'key.pem')) };
const RENEWED = {
  cert: readFileSync(join(import.meta.dirname, 'fixtures/tls/renewed-cert.pem')),
  key: readFileSync(join(import.meta.dirname, 'fixtures/tls/renewed-key.pem')),
};
/** Both certificates, so a client trusts whichever the server presents. */
const CA = [TLS.cert, RENEWED.cert];
const SEGMENT = Buffer.alloc(188 * 50, 0x47);

let tmp: string;
let outputDir: string;
let registry: FakeRegistry;
const apps: FastifyInstance[] = [];
const sessions: ClientHttp2Session[] = [];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'https-test-'));
  outputDir = join(tmp, 'streams');
  const dir = join(outputDir, 'alice');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'live_000.ts'), SEGMENT);
  await writeFile(join(dir, 'live_001.ts'), SEGMENT);
  registry = new FakeRegistry().add(streamInfo('alice', dir), playlistOf(['live_000.ts', 'live_001.ts']));
});

afterEach(async () => {
  for (const s of sessions.splice(0)) s.destroy();
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

interface Served {
  app: FastifyInstance;
  https: HttpsListener;
  httpPort: number;
  httpsPort: number;
}

async function serve(
  over: Partial<HttpAppOptions> = {},
  https: Partial<HttpAppOptions['https']> = {},
): Promise<Served> {
  const app = buildHttpApp({
    outputDir,
    corsOrigin: '*',
    logger: pino({ level: 'silent' }),
    registry,
    metrics: createMetrics(),
    ffmpegVersion: 'test',
    https: { tls: TLS, ...https },
    ...over,
  });
  apps.push(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const listener = app.httpsListener as HttpsListener;
  const { port: httpsPort } = await listener.listen(0, '127.0.0.1');
  return { app, https: listener, httpPort: (app.server.address() as { port: number }).port, httpsPort };
}

async function h2session(port: number, localAddress = '127.0.0.1'): Promise<ClientHttp2Session> {
  // node:http2 hands the options to tls.connect, which takes net.connect's too; the types leave them out.
  const session = connect(`https://localhost:${port}`, { ca: CA, localAddress } as SecureClientSessionOptions);
  sessions.push(session);
  session.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    session.once('remoteSettings', () => resolve());
    session.once('error', reject);
  });
  return session;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function h2get(session: ClientHttp2Session, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path, 'user-agent': 'h2-test', ...headers });
    const chunks: Buffer[] = [];
    let responseHeaders: IncomingHttpHeaders = {};
    stream.on('response', (h) => {
      responseHeaders = h;
    });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () =>
      resolve({ status: Number(responseHeaders[':status']), headers: responseHeaders, body: Buffer.concat(chunks) }),
    );
    stream.on('error', reject);
  });
}

function https1get(port: number, path: string): Promise<Answer & { alpn: string | false }> {
  return new Promise((resolve, reject) => {
    const req = httpsGet({
      host: '127.0.0.1',
      servername: 'localhost',
      port,
      path,
      ca: CA,
      // Offered alone, as an HTTP/1.1-only client (curl --http1.1, older players) does.
      ALPNProtocols: ['http/1.1'],
    } as RequestOptions);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      const alpn = (res.socket as { alpnProtocol?: string | false }).alpnProtocol ?? false;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), alpn }),
      );
    });
    req.on('error', reject);
  });
}

function http1get(port: number, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    httpGet({ host: '127.0.0.1', port, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

async function until(what: string, ok: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('HTTPS with HTTP/2', () => {
  it('negotiates h2 and serves the playlist and segments, from memory and with Range', async () => {
    const { httpsPort } = await serve();
    const session = await h2session(httpsPort);
    expect(session.alpnProtocol).toBe('h2');
    const viewersBefore = registry.viewers.length;
    const playlist = await h2get(session, '/stream/alice/live.m3u8');
    expect(playlist.status).toBe(200);
    expect(playlist.headers['content-type']).toMatch(/mpegurl/i);
    expect(playlist.body.toString()).toContain('live_001.ts');
    // First one through Fastify (the cache warms), the second from memory on the fast path.
    for (let i = 0; i < 2; i++) {
      const segment = await h2get(session, '/stream/alice/live_000.ts');
      expect(segment.status).toBe(200);
      expect(segment.body.equals(SEGMENT)).toBe(true);
    }
    const range = await h2get(session, '/stream/alice/live_001.ts', { range: 'bytes=188-375' });
    expect(range.status).toBe(206);
    expect(range.headers['content-range']).toBe(`bytes 188-375/${SEGMENT.length}`);
    expect(range.body.equals(SEGMENT.subarray(188, 376))).toBe(true);
    expect(range.headers['access-control-allow-origin']).toBe('*');
    expect(registry.viewers.length - viewersBefore).toBe(4);
    expect(new Set(registry.viewers.slice(viewersBefore).map(([, key]) => key)).size).toBe(1);
  });

  it('serves pages, the API, /metrics and /healthz, counting requests by protocol', async () => {
    const { httpsPort, httpPort } = await serve();
    const session = await h2session(httpsPort);
    expect((await h2get(session, '/')).status).toBe(200);
    expect((await h2get(session, '/healthz')).status).toBe(200);
    expect((await h2get(session, '/api/streams', { accept: 'application/json' })).status).toBe(200);
    expect((await h2get(session, '/stream/alice/live.m3u8')).status).toBe(200);
    expect((await h2get(session, '/stream/nobody/live.m3u8')).status).toBe(404);
    expect((await https1get(httpsPort, '/stream/alice/live.m3u8')).status).toBe(200);
    expect((await http1get(httpPort, '/stream/alice/live.m3u8')).status).toBe(200);
    const metrics = (await h2get(session, '/metrics')).body.toString();
    expect(metrics).toMatch(/^http_requests_total\{route="playlist",status="200",protocol="h2"\} 1$/m);
    expect(metrics).toMatch(/^http_requests_total\{route="playlist",status="404",protocol="h2"\} 1$/m);
    expect(metrics).toMatch(/^http_requests_total\{route="page",status="200",protocol="h2"\} [1-9]/m);
    expect(metrics).toMatch(/^http_requests_total\{route="playlist",status="200",protocol="https"\} 1$/m);
    expect(metrics).toMatch(/^http_requests_total\{route="playlist",status="200",protocol="http"\} 1$/m);
  });

  it('falls back to HTTP/1.1 for a client that offers only http/1.1', async () => {
    const { httpsPort } = await serve();
    const playlist = await https1get(httpsPort, '/stream/alice/live.m3u8');
    expect(playlist.alpn).toBe('http/1.1');
    expect(playlist.status).toBe(200);
    expect(playlist.body.toString()).toContain('#EXTM3U');
    const segment = await https1get(httpsPort, '/stream/alice/live_000.ts');
    expect(segment.body.equals(SEGMENT)).toBe(true);
    expect((await https1get(httpsPort, '/healthz')).status).toBe(200);
  });

  it('announces its stream limit and applies the HTTP/1.1 request deadline', async () => {
    const { httpsPort, https } = await serve({}, { maxConcurrentStreams: 7 });
    const session = await h2session(httpsPort);
    expect(session.remoteSettings.maxConcurrentStreams).toBe(7);
    expect(session.remoteSettings.enablePush).toBe(false);
    expect((https.server as unknown as { requestTimeout: number }).requestTimeout).toBe(HTTP_REQUEST_TIMEOUT_MS);
  });
});

describe('HSTS', () => {
  it('is not sent by default', async () => {
    const { httpsPort } = await serve();
    const session = await h2session(httpsPort);
    expect((await h2get(session, '/stream/alice/live.m3u8')).headers['strict-transport-security']).toBeUndefined();
    expect((await https1get(httpsPort, '/healthz')).headers['strict-transport-security']).toBeUndefined();
  });

  it('is sent on every HTTPS answer with --hsts-max-age, never on plain HTTP', async () => {
    const { httpsPort, httpPort } = await serve({}, { hstsMaxAge: 31_536_000 });
    const session = await h2session(httpsPort);
    const hsts = 'max-age=31536000';
    for (const path of ['/stream/alice/live.m3u8', '/stream/alice/live_000.ts', '/stream/nobody/live.m3u8', '/']) {
      expect((await h2get(session, path)).headers['strict-transport-security'], path).toBe(hsts);
    }
    expect((await https1get(httpsPort, '/stream/alice/live.m3u8')).headers['strict-transport-security']).toBe(hsts);
    expect((await https1get(httpsPort, '/nothing')).headers['strict-transport-security']).toBe(hsts);
    expect((await http1get(httpPort, '/stream/alice/live.m3u8')).headers['strict-transport-security']).toBeUndefined();
    expect((await http1get(httpPort, '/healthz')).headers['strict-transport-security']).toBeUndefined();
  });
});

describe('connection caps on the HTTPS listener', () => {
  it('count an HTTP/2 session as one connection, and evict the longest-idle one', async () => {
    const { httpsPort, httpPort } = await serve({ maxConnections: 3, maxConnectionsPerAddress: 2 });
    const first = await h2session(httpsPort, '127.0.0.2');
    // Many streams at once on one session are still one connection.
    const answers = await Promise.all(Array.from({ length: 10 }, () => h2get(first, '/stream/alice/live.m3u8')));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const second = await h2session(httpsPort, '127.0.0.2');
    await h2get(second, '/healthz');
    let firstClosed = false;
    first.once('close', () => {
      firstClosed = true;
    });
    // A third from .2 makes room by closing .2's longest-idle connection: the first session.
    const third = await h2session(httpsPort, '127.0.0.2');
    expect((await h2get(third, '/healthz')).status).toBe(200);
    await until('first session evicted', () => firstClosed);
    expect(second.closed || second.destroyed).toBe(false);
    // The table is shared with the HTTP port: 2 HTTPS sessions + the scraper.
    const metrics = (await http1get(httpPort, '/metrics')).body.toString();
    expect(metrics).toMatch(/^limit_trips_total\{limit="http_max_connections_per_address"\} 1$/m);
    expect(metrics).toMatch(/^http_connections_active 3$/m);
  });

  it('counts a connection still in its TLS handshake, which an idle-eviction can close', async () => {
    const { httpsPort, app } = await serve({ maxConnections: 1, maxConnectionsPerAddress: 1 });
    const silent = tcpConnect({ host: '127.0.0.1', port: httpsPort });
    let silentClosed = false;
    silent.on('close', () => {
      silentClosed = true;
    });
    silent.on('error', () => {});
    await new Promise((r) => silent.once('connect', r));
    const session = await h2session(httpsPort);
    expect((await h2get(session, '/healthz')).status).toBe(200);
    await until('handshake-less socket evicted', () => silentClosed);
    expect(app.httpsListener).toBeDefined();
  });
});

describe('the certificate', () => {
  const fingerprintOf = (port: number) =>
    new Promise<string>((resolve, reject) => {
      const socket = tlsConnect(
        { host: '127.0.0.1', servername: 'localhost', port, ca: CA, ALPNProtocols: ['h2'] },
        () => {
          resolve(socket.getPeerX509Certificate()?.fingerprint256 ?? '');
          socket.destroy();
        },
      );
      socket.on('error', reject);
    });

  it('is swapped for new connections; a bad one is refused and the one in use kept', async () => {
    const { httpsPort, https } = await serve();
    const old = new X509Certificate(TLS.cert).fingerprint256;
    const renewed = new X509Certificate(RENEWED.cert).fingerprint256;
    expect(await fingerprintOf(httpsPort)).toBe(old);
    const open = await h2session(httpsPort);
    https.setSecureContext(RENEWED);
    expect(await fingerprintOf(httpsPort)).toBe(renewed);
    // A session opened before the swap goes on with the old certificate.
    expect((await h2get(open, '/stream/alice/live.m3u8')).status).toBe(200);
    expect(() => https.setSecureContext({ cert: RENEWED.cert, key: TLS.key })).toThrow();
    expect(await fingerprintOf(httpsPort)).toBe(renewed);
  });
});

describe('closing', () => {
  it('ends open HTTP/2 sessions and HTTP/1.1 keep-alive connections promptly', async () => {
    const { app, httpsPort } = await serve();
    const session = await h2session(httpsPort);
    await h2get(session, '/healthz');
    const agent = new Agent({ keepAlive: true });
    const keptAlive = await new Promise<Socket>((resolve, reject) => {
      const options = { host: '127.0.0.1', servername: 'localhost', port: httpsPort, path: '/healthz', ca: CA, agent };
      const req = httpsGet({ ...options, ALPNProtocols: ['http/1.1'] } as RequestOptions, (res) => {
        res.resume();
        // Released to the agent, open: the socket is the request's, not the ended response's.
        res.on('end', () => resolve(req.socket as Socket));
      });
      req.on('error', reject);
    });
    let keptAliveClosed = false;
    keptAlive.once('close', () => {
      keptAliveClosed = true;
    });
    expect(keptAlive.destroyed).toBe(false);
    const started = Date.now();
    await app.close();
    apps.splice(apps.indexOf(app), 1);
    expect(Date.now() - started).toBeLessThan(1500);
    await until('session closed', () => session.closed || session.destroyed);
    await until('keep-alive connection closed', () => keptAliveClosed);
    agent.destroy();
  });
});
