/**
 * The HTTP side of the server: HLS delivery (`/stream/:username/live.m3u8` and `live_NNN.ts`),
 * the status page (`/`, `/api/streams`), the player (`/watch/:username`), `/metrics` and
 * `/healthz`. `buildHttpApp` builds the Fastify instance without listening; the caller listens.
 *
 * Every `/stream/...` request is classified from its route parameters first (see
 * `classifyStreamFile`); only a known stream's playlist or segment name ever reaches the
 * filesystem, and its real path must stay inside the output root's real path.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import { isSafeUsername } from '@org/auth';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { ServerConfig } from '../config';
import type { Logger } from '../logger';
import type { HttpRouteClass, Metrics } from '../metrics';
import type { StreamRegistry } from '../stream-registry';
import { ASSET_MAX_AGE_SECONDS, type Asset, loadHlsJs, PLAYER_JS, STYLE_CSS } from './assets';
import { type ErrorBody, HttpError, isHttpError } from './errors';
import { type CachedFile, DEFAULT_HLS_CACHE_BYTES, HlsCache } from './hls-cache';
import { renderErrorPage, renderStatusPage, renderWatchPage } from './pages';
import { readSmallFile, resolveInsideRoot } from './safe-file';
import { classifyStreamFile, PLAYLIST_FILE, type StreamFileKind } from './stream-path';
import { listPublicStreams } from './stream-view';

export { type ErrorBody, HTTP_ERROR_STATUS, HttpError, type HttpErrorCode, isHttpError } from './errors';
export { classifyStreamFile, PLAYLIST_FILE, SEGMENT_FILE_PATTERN, type StreamFileRequest } from './stream-path';
export { type PublicStream, toPublicStream } from './stream-view';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Label of `http_requests_total{route}`; unset means `other`. */
    routeClass?: HttpRouteClass;
  }
}

export interface HttpAppDeps {
  config: ServerConfig;
  logger: Logger;
  registry: StreamRegistry;
  metrics: Metrics;
  /** Shown by `/healthz`. */
  ffmpegVersion: string;
  /** Clock for uptimes on the status page (ms since epoch). Default: `Date.now`. */
  now?: () => number;
  /**
   * Bytes of playlists and segments kept in memory over all streams (see `HlsCache`); past it,
   * files are served from disk. 0 turns the cache off. Default `DEFAULT_HLS_CACHE_BYTES` (256 MiB).
   */
  hlsCacheBytes?: number;
}

/** `Cache-Control` of playlists: they change every segment, so always revalidate. */
export const PLAYLIST_CACHE_CONTROL = 'no-cache';
/**
 * `Cache-Control` of segments: a segment never changes once listed, but FFmpeg reuses names after a
 * restart, so caches may keep one only for about a playlist window.
 */
export const SEGMENT_CACHE_CONTROL = 'public, max-age=10';

const CONTENT_TYPE: Readonly<Record<StreamFileKind, string>> = {
  playlist: 'application/vnd.apple.mpegurl',
  segment: 'video/mp2t',
};

/** Headers of a playlist answered from memory (the disk path sets the same). */
const PLAYLIST_HEADERS = Object.freeze({
  'content-type': 'application/vnd.apple.mpegurl',
  'cache-control': PLAYLIST_CACHE_CONTROL,
});
/** Headers of a segment answered from memory; @fastify/send sets the same plus ETag and Last-Modified. */
const SEGMENT_HEADERS = Object.freeze({
  'content-type': 'video/mp2t',
  'cache-control': SEGMENT_CACHE_CONTROL,
  'accept-ranges': 'bytes',
});

/**
 * CSP of the HTML pages: scripts, styles and fetches from this origin only; media also from
 * `blob:` (hls.js feeds the <video> through MediaSource object URLs) and its worker from `blob:`.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Largest playlist served. A live window of 100 segments is ~5 KiB; anything near this is not
 * FFmpeg's playlist, and refusing it keeps one request from reading an arbitrarily big file.
 */
export const MAX_PLAYLIST_BYTES = 1 << 20;
/** Preflight answers may be cached this long by browsers. */
const CORS_MAX_AGE_SECONDS = 600;
/** Viewer keys are a truncated hash: enough to tell viewers apart, useless to identify one. */
const VIEWER_KEY_HEX_LENGTH = 16;

/** Last viewer key per connection: a keep-alive player sends the same address and agent every time. */
const socketViewerKeys = new WeakMap<Socket, { ip: string; ua: string; key: string }>();

function viewerKeyOf(socket: Socket | undefined, ip: string, ua: string): string {
  const memo = socket === undefined ? undefined : socketViewerKeys.get(socket);
  if (memo !== undefined && memo.ip === ip && memo.ua === ua) return memo.key;
  const key = createHash('sha256').update(`${ip}\n${ua}`).digest('hex').slice(0, VIEWER_KEY_HEX_LENGTH);
  if (socket !== undefined) socketViewerKeys.set(socket, { ip, ua, key });
  return key;
}

function viewerKey(req: FastifyRequest): string {
  return viewerKeyOf(req.raw.socket, req.ip, req.headers['user-agent'] ?? '');
}

/**
 * The hot HLS URLs the raw fast path answers: exactly the shapes `classifyStreamFile` accepts, with
 * nothing to decode (no `%`, no query). Anything else goes through Fastify and its full rules.
 */
const FAST_STREAM_URL = /^\/stream\/([A-Za-z0-9_-]{1,64})\/(live\.m3u8|live_\d{3,20}\.ts)$/;

/** True when the Accept header ranks application/json above text/html (ties go to HTML). */
export function prefersJson(accept: string | undefined): boolean {
  if (!accept) return false;
  let json = 0;
  let html = 0;
  for (const part of accept.split(',', 32)) {
    const [type = '', ...params] = part.trim().toLowerCase().split(';');
    let q = 1;
    for (const p of params) {
      const [k, v] = p.trim().split('=');
      if (k === 'q' && v !== undefined) q = Number.isFinite(Number(v)) ? Number(v) : 0;
    }
    const t = type.trim();
    if (t === 'application/json') json = Math.max(json, q);
    else if (t === 'text/html') html = Math.max(html, q);
    else if (t === '*/*' || t === 'text/*') html = Math.max(html, t === '*/*' ? Math.min(q, 0.01) : q);
  }
  return json > html;
}

function sendPage(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', PAGE_CSP)
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .send(html);
}

function setCors(reply: FastifyReply, origin: string): void {
  reply.header('access-control-allow-origin', origin);
  reply.header('access-control-expose-headers', 'Content-Length, Content-Range, Accept-Ranges');
  if (origin !== '*') reply.header('vary', 'Origin');
}

function errorBody(code: string, message: string): ErrorBody {
  return { error: code, message };
}

/**
 * The raw-request fast path: answers a GET/HEAD of a live stream's playlist, or of a listed segment
 * without Range or validators, from `cache` with precomputed headers (the same ones the Fastify
 * routes send). Returns false, having written nothing, for everything else.
 */
function createFastStreamPath(
  corsOrigin: string,
  registry: StreamRegistry,
  metrics: Metrics,
  cache: HlsCache,
  state: { readonly closing: boolean },
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const common = [
    'access-control-allow-origin',
    corsOrigin,
    'access-control-expose-headers',
    'Content-Length, Content-Range, Accept-Ranges',
    ...(corsOrigin === '*' ? [] : ['vary', 'Origin']),
    'x-content-type-options',
    'nosniff',
  ];
  const headerCache = new WeakMap<CachedFile, string[]>();
  const headersOf = (file: CachedFile, isPlaylist: boolean): string[] => {
    let h = headerCache.get(file);
    if (h === undefined) {
      h = isPlaylist
        ? [...common, ...Object.entries(PLAYLIST_HEADERS).flat()]
        : [...common, ...Object.entries(SEGMENT_HEADERS).flat(), 'etag', file.etag, 'last-modified', file.lastModified];
      h.push('content-length', String(file.body.length));
      headerCache.set(file, h);
    }
    return h;
  };
  const playlistOk = metrics.httpRequestsTotal.labels({ route: 'playlist', status: '200' });
  const segmentOk = metrics.httpRequestsTotal.labels({ route: 'segment', status: '200' });
  return (req, res) => {
    const url = req.url;
    // While closing, Fastify answers (it adds `Connection: close`).
    if (url === undefined || !url.startsWith('/stream/') || state.closing) return false;
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') return false;
    const m = FAST_STREAM_URL.exec(url);
    if (m === null) return false;
    const username = m[1] as string;
    const file = m[2] as string;
    const info = isSafeUsername(username) ? registry.get(username) : undefined;
    if (info === undefined) return false;
    const isPlaylist = file === PLAYLIST_FILE;
    const h = req.headers;
    if (
      !isPlaylist &&
      (h.range !== undefined || h['if-none-match'] !== undefined || h['if-modified-since'] !== undefined)
    ) {
      return false;
    }
    const cached = cache.get(username, file, isPlaylist, info.since);
    if (cached === undefined) return false;
    registry.noteViewer?.(username, viewerKeyOf(req.socket, req.socket.remoteAddress ?? '', h['user-agent'] ?? ''));
    res.writeHead(200, headersOf(cached, isPlaylist));
    res.end(method === 'HEAD' ? undefined : cached.body);
    (isPlaylist ? playlistOk : segmentOk).inc();
    return true;
  };
}

/**
 * Builds the HTTP app; does not listen. Throws at build time when a dependency is unusable
 * (hls.js missing, empty `outputDir` or `corsOrigin`).
 */
export function buildHttpApp(deps: HttpAppDeps): FastifyInstance {
  const { config, registry, metrics } = deps;
  const now = deps.now ?? Date.now;
  if (!config.outputDir) throw new TypeError('buildHttpApp: config.outputDir is required');
  if (!config.corsOrigin || /[\r\n]/.test(config.corsOrigin)) {
    throw new TypeError('buildHttpApp: config.corsOrigin must be a non-empty single-line string');
  }
  const assets: Readonly<Record<string, Asset>> = {
    'hls.min.js': loadHlsJs(),
    'player.js': { body: Buffer.from(PLAYER_JS), contentType: 'application/javascript; charset=utf-8' },
    'style.css': { body: Buffer.from(STYLE_CSS), contentType: 'text/css; charset=utf-8' },
  };

  const cacheBytes = deps.hlsCacheBytes ?? DEFAULT_HLS_CACHE_BYTES;
  const cache =
    cacheBytes > 0
      ? new HlsCache({ root: config.outputDir, maxBytes: cacheBytes, maxPlaylistBytes: MAX_PLAYLIST_BYTES })
      : undefined;
  const fastState = { closing: false };
  const fastServe = cache ? createFastStreamPath(config.corsOrigin, registry, metrics, cache, fastState) : undefined;

  const app = Fastify({
    // Playlists and segments held in memory are answered before Fastify sees the request: no routing,
    // hooks, reply object or promise per request. Everything else (and every miss) is Fastify's.
    ...(fastServe && {
      serverFactory: (handler: RequestListener, opts: Record<string, unknown>) => {
        const server = createServer((req, res) => {
          if (!fastServe(req, res)) handler(req, res);
        });
        // What Fastify itself sets on the servers it creates.
        server.keepAliveTimeout = Number(opts.keepAliveTimeout ?? 72_000);
        server.requestTimeout = Number(opts.requestTimeout ?? 0);
        server.setTimeout(Number(opts.connectionTimeout ?? 0));
        return server;
      },
    }),
    loggerInstance: deps.logger.child({ component: 'http' }) as FastifyBaseLogger,
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
    root: config.outputDir,
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
    const route = req.routeOptions.config.routeClass ?? 'other';
    metrics.httpRequestsTotal.inc({ route, status: String(reply.statusCode) });
  });

  app.setErrorHandler((err, req, reply) => {
    if (isHttpError(err)) {
      // Validation already refused every malformed name, so an escape means a planted symlink.
      if (err.code === 'ERR_HTTP_PATH_ESCAPE') req.log.warn({ url: req.url }, err.message);
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
      req.log.error({ err, url: req.url }, 'request failed');
      return reply.code(status).send(errorBody('ERR_HTTP_INTERNAL', 'internal error'));
    }
    return reply.code(status).send(errorBody(e.code ?? 'ERR_HTTP', e.message ?? 'request failed'));
  });
  app.setNotFoundHandler((_req, reply) => {
    reply.code(404).send(errorBody('ERR_HTTP_NOT_FOUND', 'not found'));
  });

  app.get('/healthz', async () => ({ status: 'ok', ffmpeg: deps.ffmpegVersion, streams: registry.list().length }));

  app.get('/metrics', async (_req, reply) => {
    const text = await metrics.registry.metrics();
    return reply.header('content-type', metrics.registry.contentType).header('cache-control', 'no-store').send(text);
  });

  // --- HLS delivery -------------------------------------------------------------------------
  if (cache) {
    app.addHook('preClose', async () => {
      fastState.closing = true;
    });
    app.addHook('onClose', async () => cache.close());
  }
  // Two routes only for the metrics label: the static `live.m3u8` wins over `:file` in the router;
  // both run the same classification.
  type StreamParams = { Params: { username: string; file?: string } };
  const serveStreamFile = async (req: FastifyRequest<StreamParams>, reply: FastifyReply): Promise<FastifyReply> => {
    const target = classifyStreamFile(req.params.username, req.params.file ?? PLAYLIST_FILE);
    const info = registry.get(target.username);
    if (info === undefined) {
      throw new HttpError('ERR_HTTP_STREAM_NOT_FOUND', 'no such stream');
    }
    const isPlaylist = target.kind === 'playlist';
    let cached = cache?.get(target.username, target.file, isPlaylist, info.since);
    if (cached === undefined && cache !== undefined) {
      // Warming up (first request of a stream, or of its segments): wait for the one load in flight.
      const loading = cache.pending(target.username);
      if (loading !== undefined) {
        await loading;
        cached = cache.get(target.username, target.file, isPlaylist, info.since);
      }
    }
    if (cached !== undefined) {
      if (isPlaylist) {
        registry.noteViewer?.(target.username, viewerKey(req));
        return reply.headers(PLAYLIST_HEADERS).send(cached.body);
      }
      // Range and conditional requests keep going through @fastify/send below.
      const h = req.headers;
      if (h.range === undefined && h['if-none-match'] === undefined && h['if-modified-since'] === undefined) {
        registry.noteViewer?.(target.username, viewerKey(req));
        return reply
          .headers(SEGMENT_HEADERS)
          .header('etag', cached.etag)
          .header('last-modified', cached.lastModified)
          .send(cached.body);
      }
    }
    const resolved = await resolveInsideRoot(config.outputDir, [target.username, target.file]);
    registry.noteViewer?.(target.username, viewerKey(req));
    if (isPlaylist) {
      const body = await readSmallFile(join(resolved.root, resolved.relative), MAX_PLAYLIST_BYTES);
      // No validators: the file is rewritten in place every segment; no-cache makes clients refetch.
      return reply
        .header('content-type', CONTENT_TYPE.playlist)
        .header('cache-control', PLAYLIST_CACHE_CONTROL)
        .send(body);
    }
    reply.header('content-type', CONTENT_TYPE.segment).header('cache-control', SEGMENT_CACHE_CONTROL);
    // Segments are written once and then only deleted: stream them with Range support.
    return reply.sendFile(resolved.relative, resolved.root, {
      contentType: false,
      cacheControl: false,
      acceptRanges: true,
      dotfiles: 'deny',
      index: false,
    });
  };
  // CORS goes on before anything can fail, so players can read error statuses too.
  const corsFirst = async (_req: FastifyRequest, reply: FastifyReply) => {
    setCors(reply, config.corsOrigin);
  };
  const preflight = async (_req: FastifyRequest, reply: FastifyReply) =>
    reply
      .code(204)
      .header('access-control-allow-methods', 'GET, HEAD, OPTIONS')
      .header('access-control-allow-headers', 'Range')
      .header('access-control-max-age', String(CORS_MAX_AGE_SECONDS))
      .send();
  for (const [url, routeClass] of [
    [`/stream/:username/${PLAYLIST_FILE}`, 'playlist'],
    ['/stream/:username/:file', 'segment'],
  ] as const) {
    app.get<StreamParams>(url, { config: { routeClass }, onRequest: corsFirst }, serveStreamFile);
    app.options(url, { config: { routeClass: 'other' }, onRequest: corsFirst }, preflight);
  }

  // --- Pages ----------------------------------------------------------------------------------
  const streamsView = () => listPublicStreams(registry.list(), now());

  app.get('/', { config: { routeClass: 'page' } }, async (req, reply) => {
    reply.header('vary', 'Accept');
    if (prefersJson(req.headers.accept)) {
      return reply.header('cache-control', 'no-store').send({ streams: streamsView() });
    }
    return sendPage(reply, 200, renderStatusPage(streamsView()));
  });

  app.get('/api/streams', { config: { routeClass: 'page' } }, async (_req, reply) =>
    reply.header('cache-control', 'no-store').send({ streams: streamsView() }),
  );

  app.get<{ Params: { username: string } }>(
    '/watch/:username',
    { config: { routeClass: 'page' } },
    async (req, reply) => {
      const { username } = req.params;
      if (!isSafeUsername(username)) {
        return sendPage(reply, 400, renderErrorPage(400, 'Bad Request', 'That is not a valid username.'));
      }
      return sendPage(reply, 200, renderWatchPage(username));
    },
  );

  app.get<{ Params: { name: string } }>('/assets/:name', { config: { routeClass: 'page' } }, async (req, reply) => {
    const asset = Object.hasOwn(assets, req.params.name) ? assets[req.params.name] : undefined;
    if (!asset) throw new HttpError('ERR_HTTP_NOT_FOUND', 'no such asset');
    return reply
      .header('content-type', asset.contentType)
      .header('cache-control', `public, max-age=${ASSET_MAX_AGE_SECONDS}`)
      .send(asset.body);
  });

  return app;
}
