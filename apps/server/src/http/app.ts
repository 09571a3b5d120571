/**
 * The HTTP side of the server: HLS delivery (`hls-routes.ts`), the pages, API, `/metrics` and
 * `/healthz` (`page-routes.ts`), the connection caps (`connection-limit.ts`), and what applies to
 * every request: the request-target rule, `nosniff`, request counting, a deadline for a request to
 * arrive; the JSON error answers are `errors.ts`'. `buildHttpApp` builds the Fastify instance
 * without listening; the caller listens.
 *
 * With a certificate, the same instance also answers on an HTTPS listener (`https-listener.ts`,
 * HTTP/2 and HTTP/1.1): one Fastify instance, so one set of routes, hooks, error answers, segment
 * cache and counters behind both ports, under one connection table. Fastify owns the HTTP server;
 * the HTTPS one is `app.httpsListener`, which the caller listens on.
 */
import { createServer, type RequestListener } from 'node:http';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import { LogLimiter } from '../log-limiter';
import type { Logger } from '../logger';
import { type HttpRouteClass, type Metrics, observeHttpConnections } from '../metrics/metrics';
import type { StreamRegistry } from '../streams/registry';
import { HttpConnectionTable } from './connection-limit';
import { errorBody, HttpError, registerErrorAnswers } from './errors';
import { HlsResponder } from './hls-responder';
import { createFastPath, registerHlsRoutes } from './hls-routes';
import { HttpsListener, type HttpsListenerOptions, type SharedRequestListener } from './https-listener';
import { registerPageRoutes } from './page-routes';
import { RequestCounter, requestProtocol } from './request-counter';
import { DEFAULT_SEGMENT_CACHE_BYTES, SegmentCache } from './segment-cache';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Label of `http_requests_total{route}`; unset means `other`. */
    routeClass?: HttpRouteClass;
  }
  interface FastifyInstance {
    /** The HTTPS listener answering through this instance; undefined without a certificate. Not listening until told. */
    httpsListener: HttpsListener | undefined;
  }
}

export interface HttpAppOptions {
  /** The output root (segments are read under it). */
  outputDir: string;
  /** `Access-Control-Allow-Origin` of HLS responses. */
  corsOrigin: string;
  logger: Logger;
  registry: StreamRegistry;
  metrics: Metrics;
  /** Shown by `/healthz`. */
  ffmpegVersion: string;
  /** Clock for uptimes on the status page (ms since epoch). Default: `Date.now`. */
  now?: () => number;
  /** Bytes of segments kept in memory over all streams; 0 serves every segment from disk. */
  segmentCacheBytes?: number;
  /** Simultaneous connections; the longest-idle one makes room. Default `DEFAULT_HTTP_MAX_CONNECTIONS`. */
  maxConnections?: number;
  /** Simultaneous connections per address. Default `DEFAULT_HTTP_MAX_CONNECTIONS_PER_ADDRESS`. */
  maxConnectionsPerAddress?: number;
  /** An HTTPS listener too (HTTP/2 and HTTP/1.1), with this certificate and these limits. */
  https?: HttpsListenerOptions | undefined;
}

/**
 * A request must have arrived whole (headers and body) this long after it began, or it is answered
 * 408 and its connection closed: Fastify's default is no limit, and a busy connection is one the
 * connection cap cannot reclaim. Every route here is a GET, whose request is its headers.
 */
export const HTTP_REQUEST_TIMEOUT_MS = 30_000;

/** The connection caps, counted in `limit_trips_total` and logged (rate-limited). */
function connectionTable(o: HttpAppOptions): HttpConnectionTable {
  const log = o.logger.child({ component: 'http' });
  const limiter = new LogLimiter();
  const table = new HttpConnectionTable({
    maxConnections: o.maxConnections,
    maxConnectionsPerAddress: o.maxConnectionsPerAddress,
    onTrip(limit, action, remote) {
      o.metrics.limitTripsTotal.inc({ limit });
      limiter.log(log, 'warn', `${limit}:${action}`, { remote, limit }, `http connection ${action}`);
    },
  });
  observeHttpConnections(o.metrics, () => table.size);
  return table;
}

/**
 * Fastify's `serverFactory`: the HTTP server, and with `https` the HTTPS listener beside it (put in
 * `made`), both answering through the fast path, then Fastify, under one connection table.
 */
function serverFactory(
  fastServe: ReturnType<typeof createFastPath>,
  connections: HttpConnectionTable,
  https: HttpsListenerOptions | undefined,
  made: { https?: HttpsListener },
) {
  return (handler: RequestListener, opts: Record<string, unknown>) => {
    // Fastify answers HTTP/2 compatibility requests as it does HTTP/1 ones (it checks per request).
    const serve: SharedRequestListener = (req, res) => {
      if (!fastServe(req, res)) (handler as SharedRequestListener)(req, res);
    };
    const server = createServer(serve);
    // What Fastify itself sets on the servers it creates.
    const keepAliveTimeoutMs = Number(opts.keepAliveTimeout ?? 72_000);
    const requestTimeoutMs = Number(opts.requestTimeout ?? 0);
    server.keepAliveTimeout = keepAliveTimeoutMs;
    server.requestTimeout = requestTimeoutMs;
    server.setTimeout(Number(opts.connectionTimeout ?? 0));
    connections.attach(server);
    if (https) made.https = new HttpsListener(https, serve, connections, { keepAliveTimeoutMs, requestTimeoutMs });
    return server;
  };
}

/** Builds the HTTP app; does not listen. Throws when an option is unusable (hls.js missing, bad CORS origin). */
export function buildHttpApp(o: HttpAppOptions): FastifyInstance {
  if (!o.outputDir) throw new TypeError('buildHttpApp: outputDir is required');
  if (!o.corsOrigin || /[\r\n]/.test(o.corsOrigin)) {
    throw new TypeError('buildHttpApp: corsOrigin must be a non-empty single-line string');
  }
  const cacheBytes = o.segmentCacheBytes ?? DEFAULT_SEGMENT_CACHE_BYTES;
  const cache = cacheBytes > 0 ? new SegmentCache({ root: o.outputDir, maxBytes: cacheBytes }) : undefined;
  const responder = new HlsResponder({ registry: o.registry, outputDir: o.outputDir, corsOrigin: o.corsOrigin, cache });
  const counter = new RequestCounter(o.metrics.httpRequestsTotal);
  const fastState = { closing: false };
  const fastServe = createFastPath(responder, counter, fastState);
  const connections = connectionTable(o);
  const listeners: { https?: HttpsListener } = {};

  const app = Fastify({
    serverFactory: serverFactory(fastServe, connections, o.https, listeners),
    requestTimeout: HTTP_REQUEST_TIMEOUT_MS,
    loggerInstance: o.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // Players poll playlists every second: per-request logs would drown everything else.
    logController: new LogController({ disableRequestLogging: true }),
    // Undecodable URLs (`%c0%ae`, stray `%`) and over-long parameters never reach a handler.
    frameworkErrors(err, _req, reply) {
      (reply as FastifyReply).code(400).send(errorBody('ERR_HTTP_BAD_URL', err.message.replace(/'.*'/, 'the URL')));
    },
  });

  // Only for reply.sendFile on segments. The output root may not exist before the first publish.
  app.register(fastifyStatic, {
    serve: false,
    root: o.outputDir,
    suppressWarning: true,
    dotfiles: 'deny',
    index: false,
  });

  // Only origin-form (`/path`) and absolute-form (`http://host/path`) targets name a resource here;
  // Fastify would otherwise route the asterisk-form `*` as `/`.
  app.addHook('onRequest', async (req) => {
    const target = req.raw.url ?? '';
    if (!target.startsWith('/') && !/^https?:\/\//i.test(target)) {
      throw new HttpError('ERR_HTTP_BAD_URL', 'request target must be a path');
    }
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    return payload;
  });
  app.addHook('onResponse', async (req, reply) => {
    counter.count(req.routeOptions.config.routeClass ?? 'other', reply.statusCode, requestProtocol(req.raw));
  });
  const httpsListener = listeners.https;
  app.decorate('httpsListener', httpsListener);
  let httpsClosed: Promise<void> | undefined;
  app.addHook('preClose', async () => {
    fastState.closing = true;
    httpsClosed = httpsListener?.close();
    // Fastify closes the HTTP server's idle connections; the table has the HTTPS listener's too.
    connections.closeIdle();
  });
  app.addHook('onClose', async () => {
    await httpsClosed;
    cache?.close();
  });

  registerErrorAnswers(app);
  registerPageRoutes(app, {
    registry: o.registry,
    metrics: o.metrics,
    ffmpegVersion: o.ffmpegVersion,
    now: o.now ?? Date.now,
  });
  registerHlsRoutes(app, responder);
  return app;
}
