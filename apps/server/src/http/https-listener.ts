/**
 * The HTTPS listener: HTTP/2 and HTTP/1.1 on one TLS port, chosen by ALPN (`h2` when the client
 * offers it, HTTP/1.1 for clients that offer only `http/1.1` or nothing). It serves what the HTTP
 * port serves, through the same request listener (the raw HLS fast path, then Fastify) and under the
 * same connection table; what is its own is the certificate (swapped in place on reload), HSTS, the
 * HTTP/2 limits, and ending its sessions on shutdown.
 *
 * HTTP/2 flood protections: concurrent streams per session are bounded (SETTINGS_MAX_CONCURRENT_STREAMS,
 * each stream may hold a segment in memory or a file open), so are a session's memory (past it new
 * streams are refused with ENHANCE_YOUR_CALM), its header block, pings and settings (Node's
 * defaults, which also answer rapid-reset and settings floods); an idle session is closed like an
 * idle keep-alive connection, and the connection table counts sessions as connections.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
} from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { TlsFiles } from '../tls-files';
import type { HttpConnectionTable } from './connection-limit';

/** Default HTTPS port once a certificate is configured (the usual alternative HTTPS port). */
export const DEFAULT_HTTPS_PORT = 8443;
/**
 * Default concurrent streams per HTTP/2 session: a player needs a few at once (playlist, segment,
 * page and assets), and each stream may hold a segment file open; RFC 9113 §6.5.2 suggests 100,
 * which would let one session hold a hundred files where an HTTP/1.1 connection holds one.
 */
export const DEFAULT_HTTP2_MAX_CONCURRENT_STREAMS = 32;
/** Default memory one HTTP/2 session may use, MB: Node's default, well above one player's need. */
export const DEFAULT_HTTP2_MAX_SESSION_MEMORY_MB = 10;
/** Header block an HTTP/2 client may send: Node's HTTP/1.1 limit (16 KiB, `--max-http-header-size`). */
const MAX_HEADER_LIST_BYTES = 16 * 1024;
/** A TLS handshake must complete within this (Node's default is 120 s; a handshake takes milliseconds). */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;
/** On close, connections still open this long after their sessions were told to go are destroyed. */
const CLOSE_GRACE_MS = 2000;

export interface HttpsListenerOptions {
  tls: TlsFiles;
  /** `Strict-Transport-Security: max-age=<this>` on every HTTPS response. Default 0: none. */
  hstsMaxAge?: number;
  /** Concurrent streams per HTTP/2 session. Default {@link DEFAULT_HTTP2_MAX_CONCURRENT_STREAMS}. */
  maxConcurrentStreams?: number;
  /** Memory one HTTP/2 session may use, MB. Default {@link DEFAULT_HTTP2_MAX_SESSION_MEMORY_MB}. */
  maxSessionMemoryMb?: number;
}

/** What the HTTP listener also uses: an idle keep-alive connection or session closes after `keepAliveTimeoutMs`. */
export interface ListenerTimeouts {
  keepAliveTimeoutMs: number;
  /** An HTTP/1.1 request must have arrived whole within this (HTTP/2: a request is its HEADERS frame). */
  requestTimeoutMs: number;
}

/** The request listener both ports share: node:http requests, or node:http2's compatibility API ones. */
export type SharedRequestListener = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
) => void;

/** The HTTP/1.1 settings node:http2 applies to the connections it hands to node:http (allowHTTP1). */
interface Http1Settings {
  keepAliveTimeout: number;
  requestTimeout: number;
  headersTimeout: number;
}

function checkOptions(o: HttpsListenerOptions): Required<Omit<HttpsListenerOptions, 'tls'>> {
  const checked = {
    hstsMaxAge: o.hstsMaxAge ?? 0,
    maxConcurrentStreams: o.maxConcurrentStreams ?? DEFAULT_HTTP2_MAX_CONCURRENT_STREAMS,
    maxSessionMemoryMb: o.maxSessionMemoryMb ?? DEFAULT_HTTP2_MAX_SESSION_MEMORY_MB,
  };
  const min = { hstsMaxAge: 0, maxConcurrentStreams: 1, maxSessionMemoryMb: 1 };
  for (const [name, v] of Object.entries(checked) as [keyof typeof checked, number][]) {
    if (!Number.isSafeInteger(v) || v < min[name]) {
      throw new RangeError(`HttpsListener: ${name} must be an integer ≥ ${min[name]}`);
    }
  }
  return checked;
}

export class HttpsListener {
  readonly server: Http2SecureServer;
  private readonly sessions = new Set<Http2Session>();
  private readonly sockets = new Set<Socket>();
  private closing: Promise<void> | undefined;

  /** @throws RangeError for an unusable option; node:tls's error for an unusable certificate. */
  constructor(
    options: HttpsListenerOptions,
    handle: SharedRequestListener,
    connections: HttpConnectionTable,
    timeouts: ListenerTimeouts,
  ) {
    const o = checkOptions(options);
    const hsts = o.hstsMaxAge > 0 ? `max-age=${o.hstsMaxAge}` : undefined;
    // Before either serving path writes anything: errors, the fast path and Fastify's replies alike.
    const onRequest: SharedRequestListener =
      hsts === undefined
        ? handle
        : (req, res) => {
            res.setHeader('strict-transport-security', hsts);
            handle(req, res);
          };
    const server = createSecureServer(
      {
        cert: options.tls.cert,
        key: options.tls.key,
        allowHTTP1: true,
        handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
        maxSessionMemory: o.maxSessionMemoryMb,
        settings: {
          maxConcurrentStreams: o.maxConcurrentStreams,
          maxHeaderListSize: MAX_HEADER_LIST_BYTES,
          enablePush: false,
        },
      },
      onRequest,
    );
    Object.assign(server as unknown as Http1Settings, {
      keepAliveTimeout: timeouts.keepAliveTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      headersTimeout: Math.min(timeouts.requestTimeoutMs, (server as unknown as Http1Settings).headersTimeout),
    });
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('session', (session: Http2Session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
      // An idle session is an idle keep-alive connection: GOAWAY, as Fastify's own HTTP/2 servers do.
      session.setTimeout(timeouts.keepAliveTimeoutMs, () => session.close());
    });
    connections.attach(server);
    this.server = server;
  }

  /** Listens; resolves with the bound address (`port` 0: an ephemeral port). */
  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** New connections use this certificate; open ones keep theirs. Throws, keeping the old one, when it is bad. */
  setSecureContext(tls: TlsFiles): void {
    this.server.setSecureContext({ cert: tls.cert, key: tls.key });
  }

  /**
   * Stops accepting and tells every HTTP/2 session to go (GOAWAY: streams in flight finish);
   * whatever is still open after a grace is destroyed. Resolves once every connection is gone.
   */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      if (!this.server.listening) {
        resolve();
        return;
      }
      const grace = setTimeout(() => {
        for (const socket of this.sockets) socket.destroy();
      }, CLOSE_GRACE_MS);
      grace.unref();
      this.server.close(() => {
        clearTimeout(grace);
        resolve();
      });
      for (const session of this.sessions) session.close();
    });
    return this.closing;
  }
}
