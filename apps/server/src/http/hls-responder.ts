/**
 * The one answer to `/stream/{username}/{file}`: classification of the name before any file is
 * touched, the stream's existence, RFC 8216 §6.2.2 availability (a segment is served while its
 * playlist lists it and for its availability time after), the bytes (the playlist from the
 * stream's model, a segment from memory or from disk), the headers (type, caching, CORS), and the
 * viewer count. The raw fast path and the Fastify routes both answer through it: they only differ
 * in how the answer is written.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { PLAYLIST_CONTENT_TYPE, SEGMENT_CONTENT_TYPE } from '../hls/names';
import { addressGroup } from '../net-address';
import { resolveInsideRoot } from '../storage/safe-file';
import type { HlsSource, StreamRegistry } from '../streams/registry';
import { HttpError } from './errors';
import type { CachedSegment, SegmentCache } from './segment-cache';
import { classifyStreamFile } from './stream-path';

/** `Cache-Control` of playlists: they change every segment, so always revalidate. */
export const PLAYLIST_CACHE_CONTROL = 'no-cache';
/**
 * `Cache-Control` of segments: a segment never changes once listed, but a new stream of the same
 * name numbers its segments from 0 again, so caches may keep one only for about a playlist window.
 */
export const SEGMENT_CACHE_CONTROL = 'public, max-age=10';
/** Preflight answers may be cached this long by browsers. */
const CORS_MAX_AGE_SECONDS = 600;
/** Viewer keys are a truncated hash: enough to tell viewers apart, useless to identify one. */
const VIEWER_KEY_HEX_LENGTH = 16;

/** Headers as `[name, value, name, value, …]`, as `writeHead` takes them. */
export type HeaderList = readonly string[];

/**
 * How a request is answered: bytes in hand, or a file to stream (Range and conditional requests).
 * The body is there for HEAD too (its length is in the headers); the writer leaves it out.
 */
export type HlsAnswer =
  | { readonly status: number; readonly headers: HeaderList; readonly body: Buffer | undefined }
  | { readonly status: 200; readonly headers: HeaderList; readonly file: { root: string; relative: string } };

/** What the responder needs of a request. */
export interface HlsRequest {
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  /** The connection's TCP socket (`connectionSocket`): the viewer key is kept per connection. */
  readonly socket: Socket | undefined;
  readonly ip: string;
}

export interface HlsResponderOptions {
  registry: StreamRegistry;
  /** The output root. */
  outputDir: string;
  corsOrigin: string;
  /** Segments in memory; without it every segment comes from disk. */
  cache?: SegmentCache | undefined;
}

/** Last viewer key per connection: a keep-alive player sends the same address and agent every time. */
const socketViewers = new WeakMap<Socket, { ip: string; ua: string; group: string; key: string }>();

/** Counts the request's viewer: its address group and a key for address and agent. */
function noteViewer(source: HlsSource, req: HlsRequest): void {
  const ua = req.headers['user-agent'] ?? '';
  let v = req.socket === undefined ? undefined : socketViewers.get(req.socket);
  if (v === undefined || v.ip !== req.ip || v.ua !== ua) {
    const key = createHash('sha256').update(`${req.ip}\n${ua}`).digest('hex').slice(0, VIEWER_KEY_HEX_LENGTH);
    v = { ip: req.ip, ua, group: addressGroup(req.ip), key };
    if (req.socket !== undefined) socketViewers.set(req.socket, v);
  }
  source.noteViewer(v.group, v.key);
}

export class HlsResponder {
  private readonly o: HlsResponderOptions;
  /** CORS and `nosniff`: on every answer, errors included (players read error statuses too). */
  readonly commonHeaders: HeaderList;
  private readonly segmentHeaders = new WeakMap<CachedSegment, HeaderList>();
  private readonly playlistHeaders = new WeakMap<Buffer, HeaderList>();

  constructor(options: HlsResponderOptions) {
    this.o = options;
    this.commonHeaders = [
      ...['access-control-allow-origin', options.corsOrigin],
      ...['access-control-expose-headers', 'Content-Length, Content-Range, Accept-Ranges'],
      ...(options.corsOrigin === '*' ? [] : ['vary', 'Origin']),
      ...['x-content-type-options', 'nosniff'],
    ];
  }

  /** The CORS preflight answer (no file is touched). */
  preflight(): HlsAnswer {
    const headers = [
      ...this.commonHeaders,
      ...['access-control-allow-methods', 'GET, HEAD, OPTIONS', 'access-control-allow-headers', 'Range'],
      ...['access-control-max-age', String(CORS_MAX_AGE_SECONDS)],
    ];
    return { status: 204, headers, body: undefined };
  }

  /**
   * The answer when it can be given from memory without waiting: the playlist, or a held segment
   * asked for without Range or validators. Undefined otherwise (and for anything malformed or
   * unknown: {@link answer} gives the error).
   */
  fromMemory(username: string, file: string, req: HlsRequest): HlsAnswer | undefined {
    let target: ReturnType<typeof classifyStreamFile>;
    try {
      target = classifyStreamFile(username, file);
    } catch {
      return undefined;
    }
    const source = this.o.registry.hls(target.username);
    if (source === undefined) return undefined;
    if (target.kind === 'playlist') return this.playlist(source, req);
    if (!plainGet(req.headers) || source.playlist.lookup(target.file) === undefined) return undefined;
    const held = this.o.cache?.get(source, target.file);
    return held === undefined ? undefined : this.heldSegment(source, held, req);
  }

  /**
   * The full answer: memory, a segment read in flight, or the file on disk.
   * @throws HttpError for a bad name (400), an unknown stream or file (404), a link out of the root (403)
   */
  async answer(username: unknown, file: unknown, req: HlsRequest): Promise<HlsAnswer> {
    const target = classifyStreamFile(username, file);
    const source = this.o.registry.hls(target.username);
    if (source === undefined) throw new HttpError('ERR_HTTP_STREAM_NOT_FOUND', 'no such stream');
    if (target.kind === 'playlist') {
      const answer = this.playlist(source, req);
      if (answer === undefined) throw new HttpError('ERR_HTTP_NOT_FOUND', 'no playlist yet');
      return answer;
    }
    const cache = this.o.cache;
    if (cache !== undefined && plainGet(req.headers) && source.playlist.lookup(target.file) !== undefined) {
      // Warming up (first request of the stream's segments): wait for the one read in flight.
      await cache.pending(source, target.file);
      const held = cache.get(source, target.file);
      if (held !== undefined) return this.heldSegment(source, held, req);
    }
    // The real path is checked before availability, so a planted link is refused as what it is.
    const resolved = await resolveInsideRoot(this.o.outputDir, [target.username, target.file]);
    if (resolved === 'escape')
      throw new HttpError('ERR_HTTP_PATH_ESCAPE', 'file resolves outside the output directory');
    if (resolved === 'missing' || source.playlist.lookup(target.file) === undefined) {
      throw new HttpError('ERR_HTTP_NOT_FOUND', 'no such segment');
    }
    noteViewer(source, req);
    const headers = [
      ...this.commonHeaders,
      ...['content-type', SEGMENT_CONTENT_TYPE, 'cache-control', SEGMENT_CACHE_CONTROL],
    ];
    return { status: 200, headers, file: { root: resolved.root, relative: resolved.relative } };
  }

  private playlist(source: HlsSource, req: HlsRequest): HlsAnswer | undefined {
    const body = source.playlist.body();
    if (body === undefined) return undefined;
    let headers = this.playlistHeaders.get(body);
    if (headers === undefined) {
      // No validators: the playlist changes every segment; no-cache makes clients refetch.
      headers = [
        ...this.commonHeaders,
        ...['content-type', PLAYLIST_CONTENT_TYPE, 'cache-control', PLAYLIST_CACHE_CONTROL],
        ...['content-length', String(body.length)],
      ];
      this.playlistHeaders.set(body, headers);
    }
    noteViewer(source, req);
    return { status: 200, headers, body };
  }

  private heldSegment(source: HlsSource, held: CachedSegment, req: HlsRequest): HlsAnswer {
    let headers = this.segmentHeaders.get(held);
    if (headers === undefined) {
      headers = [
        ...this.commonHeaders,
        ...['content-type', SEGMENT_CONTENT_TYPE, 'cache-control', SEGMENT_CACHE_CONTROL, 'accept-ranges', 'bytes'],
        ...['etag', held.etag, 'last-modified', held.lastModified, 'content-length', String(held.body.length)],
      ];
      this.segmentHeaders.set(held, headers);
    }
    noteViewer(source, req);
    return { status: 200, headers, body: held.body };
  }
}

/** A request memory can answer whole: no Range, no validators (those go through @fastify/send). */
function plainGet(h: IncomingHttpHeaders): boolean {
  return h.range === undefined && h['if-none-match'] === undefined && h['if-modified-since'] === undefined;
}
