/**
 * The HLS routes. Both ways in answer through the same {@link HlsResponder}: Fastify's routes for
 * every request, and in front of them a raw fast path that writes answers the responder can give
 * from memory (the playlist, a held segment) before Fastify sees the request: no routing, hooks,
 * reply object or promise per request. Anything else (errors, Range, conditional requests, disk)
 * the fast path leaves to the routes. Both take HTTP/1.x (node:http) and HTTP/2 (node:http2's
 * compatibility API) requests alike.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PLAYLIST_NAME } from '../hls/names';
import { connectionSocket } from './connection-limit';
import type { HeaderList, HlsAnswer, HlsResponder } from './hls-responder';
import { type RequestCounter, requestProtocol } from './request-counter';

/**
 * The URLs the fast path may answer: exactly the shapes `classifyStreamFile` accepts, with nothing
 * to decode (no `%`, no query). Anything else goes through Fastify and its full rules.
 */
const FAST_STREAM_URL = /^\/stream\/([A-Za-z0-9_-]{1,64})\/(live\.m3u8|live_\d{3,20}\.ts)$/;

function setHeaders(reply: FastifyReply, headers: HeaderList): void {
  for (let i = 0; i + 1 < headers.length; i += 2) reply.header(headers[i] as string, headers[i + 1]);
}

async function send(reply: FastifyReply, answer: HlsAnswer): Promise<FastifyReply> {
  setHeaders(reply, answer.headers);
  if ('file' in answer) {
    // Segments are written once and then only deleted: streamed with Range and validators.
    return reply.sendFile(answer.file.relative, answer.file.root, {
      contentType: false,
      cacheControl: false,
      acceptRanges: true,
      dotfiles: 'deny',
      index: false,
    });
  }
  return reply.code(answer.status).send(answer.body);
}

type StreamParams = { Params: { username: string; file?: string } };

export function registerHlsRoutes(app: FastifyInstance, responder: HlsResponder): void {
  // CORS goes on before anything can fail, so players can read error statuses too.
  const corsFirst = async (_req: FastifyRequest, reply: FastifyReply) => setHeaders(reply, responder.commonHeaders);
  const serve = async (req: FastifyRequest<StreamParams>, reply: FastifyReply) =>
    send(
      reply,
      await responder.answer(req.params.username, req.params.file ?? PLAYLIST_NAME, {
        method: req.method,
        headers: req.headers,
        socket: req.raw.socket && connectionSocket(req.raw.socket),
        ip: req.ip,
      }),
    );
  const preflight = async (_req: FastifyRequest, reply: FastifyReply) => send(reply, responder.preflight());
  // Two routes only for the metrics label: the static `live.m3u8` wins over `:file` in the router.
  for (const [url, routeClass] of [
    [`/stream/:username/${PLAYLIST_NAME}`, 'playlist'],
    ['/stream/:username/:file', 'segment'],
  ] as const) {
    app.get<StreamParams>(url, { config: { routeClass }, onRequest: corsFirst }, serve);
    app.options(url, { config: { routeClass: 'other' }, onRequest: corsFirst }, preflight);
  }
}

/**
 * The raw fast path: answers a GET/HEAD the responder can answer from memory and returns true;
 * returns false, having written nothing, for everything else (and while the server closes: Fastify
 * then adds `Connection: close`).
 */
export function createFastPath(
  responder: HlsResponder,
  counter: RequestCounter,
  state: { readonly closing: boolean },
): (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => boolean {
  return (req, res) => {
    const url = req.url;
    if (url === undefined || !url.startsWith('/stream/') || state.closing) return false;
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') return false;
    const m = FAST_STREAM_URL.exec(url);
    if (m === null) return false;
    const file = m[2] as string;
    const answer = responder.fromMemory(m[1] as string, file, {
      method,
      headers: req.headers,
      // The TCP socket: an HTTP/2 request's own socket is a new proxy per stream.
      socket: connectionSocket(req.socket),
      ip: req.socket.remoteAddress ?? '',
    });
    if (answer === undefined || !('body' in answer)) return false;
    // node:http2's compatibility response takes the same `[name, value, …]` list; its types say only an object.
    const out = res as ServerResponse;
    out.writeHead(answer.status, answer.headers as string[]);
    out.end(method === 'HEAD' ? undefined : answer.body);
    counter.count(file === PLAYLIST_NAME ? 'playlist' : 'segment', answer.status, requestProtocol(req));
    return true;
  };
}
