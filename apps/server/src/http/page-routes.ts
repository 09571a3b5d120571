/**
 * Everything but HLS: the status page and its JSON (`/`, `/api/streams`), the player page
 * (`/watch/:username`), its same-origin assets, `/healthz` and `/metrics`.
 */
import { isSafeUsername } from '@org/auth';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Metrics } from '../metrics/metrics';
import type { StreamRegistry } from '../streams/registry';
import { ASSET_MAX_AGE_SECONDS, type Asset, loadHlsJs, PLAYER_JS, STYLE_CSS } from './assets';
import { HttpError } from './errors';
import { renderErrorPage, renderStatusPage, renderWatchPage } from './pages';
import { listPublicStreams } from './stream-view';

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

export interface PageRoutesOptions {
  registry: StreamRegistry;
  metrics: Metrics;
  /** Shown by `/healthz`. */
  ffmpegVersion: string;
  now: () => number;
}

export function registerPageRoutes(app: FastifyInstance, o: PageRoutesOptions): void {
  const { registry, metrics } = o;
  const assets: Readonly<Record<string, Asset>> = {
    'hls.min.js': loadHlsJs(),
    'player.js': { body: Buffer.from(PLAYER_JS), contentType: 'application/javascript; charset=utf-8' },
    'style.css': { body: Buffer.from(STYLE_CSS), contentType: 'text/css; charset=utf-8' },
  };
  const streamsView = () => listPublicStreams(registry.list(), o.now());
  const page = { config: { routeClass: 'page' as const } };

  app.get('/healthz', async () => ({ status: 'ok', ffmpeg: o.ffmpegVersion, streams: registry.list().length }));

  app.get('/metrics', async (_req, reply) => {
    const text = await metrics.registry.metrics();
    return reply.header('content-type', metrics.registry.contentType).header('cache-control', 'no-store').send(text);
  });

  app.get('/', page, async (req, reply) => {
    reply.header('vary', 'Accept');
    if (prefersJson(req.headers.accept)) {
      return reply.header('cache-control', 'no-store').send({ streams: streamsView() });
    }
    return sendPage(reply, 200, renderStatusPage(streamsView()));
  });

  app.get('/api/streams', page, async (_req, reply) =>
    reply.header('cache-control', 'no-store').send({ streams: streamsView() }),
  );

  app.get<{ Params: { username: string } }>('/watch/:username', page, async (req, reply) => {
    const { username } = req.params;
    if (!isSafeUsername(username)) {
      return sendPage(reply, 400, renderErrorPage(400, 'Bad Request', 'That is not a valid username.'));
    }
    return sendPage(reply, 200, renderWatchPage(username));
  });

  app.get<{ Params: { name: string } }>('/assets/:name', page, async (req, reply) => {
    const asset = Object.hasOwn(assets, req.params.name) ? assets[req.params.name] : undefined;
    if (!asset) throw new HttpError('ERR_HTTP_NOT_FOUND', 'no such asset');
    return reply
      .header('content-type', asset.contentType)
      .header('cache-control', `public, max-age=${ASSET_MAX_AGE_SECONDS}`)
      .send(asset.body);
  });
}
