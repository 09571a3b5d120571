/**
 * Caps on the HTTP server's connections, in total and per address, where idle connections make
 * room: a connection arriving at a cap closes the longest-idle connection under that cap (all
 * connections for the total, the same address's for the per-address cap), and only when every one
 * there is busy is the newcomer closed at once. Without a cap, idle connections alone held the
 * process at its open-file limit, and then every new request, every publish and the spawn of a
 * crashed FFmpeg failed (EMFILE).
 *
 * Idle is "no request being answered": between keep-alive requests, and before the first request's
 * headers are complete, so a connection that never sent a request, or sent half its headers (a
 * slowloris), is idle and goes first; Node's headersTimeout bounds it besides. Busy is from the
 * request's headers to the end of its response. Longest idle first, not oldest first: a player
 * polling its playlist every second is idle for under a second between polls and outlives a flood
 * of fresh connections that send nothing.
 *
 * Addresses are the socket's remote address with an IPv4-mapped prefix removed (as the RTMP
 * listener counts them: each IPv6 address on its own).
 *
 * One table may follow several servers (HTTP and HTTPS): the caps are on the process's open files,
 * whichever port they came in on. A connection is its TCP socket, counted from `connection`, before
 * any TLS handshake, so sockets that never finish one are idle and evictable like a slowloris. An
 * HTTP/2 session is one connection whose requests are its streams: it is busy while any stream is
 * being answered (the listener bounds how many at once).
 */
import type { Server } from 'node:http';
import type { Http2SecureServer } from 'node:http2';
import type { Socket } from 'node:net';
import { unmappedAddress } from '../net-address';

/**
 * Default total: a viewer holds one or two keep-alive connections, so a few thousand viewers, at
 * 2 descriptors each (see fd-budget.ts) well within a 20,000 open-file limit next to 1000 RTMP
 * connections. Raise it for more viewers per process (and the open-file limit with it).
 */
export const DEFAULT_HTTP_MAX_CONNECTIONS = 4096;
/**
 * Default per address: a browser opens at most 6 per host, so this is a NAT of a few dozen viewers,
 * whose idle connections make room for their new ones; one address cannot hold more than 1/64 of
 * the default total.
 */
export const DEFAULT_HTTP_MAX_CONNECTIONS_PER_ADDRESS = 64;

export type HttpConnectionLimitName = 'http_max_connections' | 'http_max_connections_per_address';

/** `evicted`: an idle connection closed to make room; `refused`: the new one closed at once. */
export type HttpConnectionTripAction = 'evicted' | 'refused';

export interface HttpConnectionLimitsOptions {
  /** Simultaneous connections. Default {@link DEFAULT_HTTP_MAX_CONNECTIONS}. */
  maxConnections?: number;
  /** Simultaneous connections from one address. Default {@link DEFAULT_HTTP_MAX_CONNECTIONS_PER_ADDRESS}. */
  maxConnectionsPerAddress?: number;
  /** Called for every connection a cap closed. */
  onTrip?: (limit: HttpConnectionLimitName, action: HttpConnectionTripAction, address: string) => void;
}

interface Entry {
  readonly socket: Socket;
  readonly group: AddressGroup;
  /** Requests being answered (more than one only when a client pipelines). */
  busy: number;
}

interface AddressGroup {
  readonly address: string;
  count: number;
  /** This address's idle connections, longest idle first. */
  readonly idle: Map<Socket, Entry>;
}

/** The peer's address without an IPv4-mapped prefix: one IPv4 peer is one address whatever the listener's family. */
export function connectionAddress(socket: Socket): string {
  return unmappedAddress(socket.remoteAddress ?? '');
}

/**
 * The TCP socket under a request's socket: itself for plain HTTP; the one a TLS socket wraps for
 * HTTPS (`_parent`, set by node:tls on every server-side TLS socket); an HTTP/2 request's socket is
 * a proxy that reads through to its session's TLS socket, so the same path applies.
 */
export function connectionSocket(socket: Socket): Socket {
  return (socket as Socket & { _parent?: Socket | null })._parent ?? socket;
}

/** What the table needs of a request: its socket (node:http or the node:http2 compatibility API). */
export interface TrackedRequest {
  readonly socket: Socket;
}

/** What the table needs of a response: `close` once, when it was sent or its connection went. */
export interface TrackedResponse {
  once(event: 'close', listener: () => void): unknown;
}

/** The connections of the HTTP servers it is attached to, with the caps above. */
export class HttpConnectionTable {
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
  private readonly onTrip: NonNullable<HttpConnectionLimitsOptions['onTrip']>;
  private readonly entries = new Map<Socket, Entry>();
  /** Every idle connection, longest idle first (a Map iterates in insertion order). */
  private readonly idle = new Map<Socket, Entry>();
  private readonly groups = new Map<string, AddressGroup>();

  constructor(o: HttpConnectionLimitsOptions = {}) {
    const max = o.maxConnections ?? DEFAULT_HTTP_MAX_CONNECTIONS;
    const perAddress = o.maxConnectionsPerAddress ?? DEFAULT_HTTP_MAX_CONNECTIONS_PER_ADDRESS;
    for (const [name, v] of [
      ['maxConnections', max],
      ['maxConnectionsPerAddress', perAddress],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < 1)
        throw new RangeError(`HttpConnectionTable: ${name} must be an integer ≥ 1`);
    }
    this.maxConnections = max;
    this.maxConnectionsPerAddress = perAddress;
    this.onTrip = o.onTrip ?? (() => {});
  }

  /** Connections open now. */
  get size(): number {
    return this.entries.size;
  }

  /** Idle connections now. */
  get idleCount(): number {
    return this.idle.size;
  }

  /**
   * Follows every connection and request of `server`. Call before it listens; the request listener
   * goes first, so a request is busy before any handler (the raw fast path, Fastify) runs.
   */
  attach(server: Server | Http2SecureServer): void {
    server.on('connection', (socket: Socket) => this.admit(socket));
    server.prependListener('request', (req: TrackedRequest, res: TrackedResponse) => this.requestStarted(req, res));
  }

  /**
   * Takes a new connection, making room under each cap by closing that cap's longest-idle
   * connection; closes the new one at once when there is none. Returns whether it was admitted.
   */
  admit(socket: Socket): boolean {
    const address = connectionAddress(socket);
    const known = this.groups.get(address);
    if (known !== undefined && known.count >= this.maxConnectionsPerAddress) {
      if (!this.evictFrom(known.idle, 'http_max_connections_per_address')) {
        return this.refuse(socket, 'http_max_connections_per_address', address);
      }
    }
    if (this.entries.size >= this.maxConnections && !this.evictFrom(this.idle, 'http_max_connections')) {
      return this.refuse(socket, 'http_max_connections', address);
    }
    let group = this.groups.get(address);
    if (group === undefined) {
      group = { address, count: 0, idle: new Map() };
      this.groups.set(address, group);
    }
    const entry: Entry = { socket, group, busy: 0 };
    group.count++;
    this.entries.set(socket, entry);
    this.markIdle(entry);
    socket.once('close', () => this.remove(entry));
    return true;
  }

  /** A request's headers arrived: its connection is busy until the response ends. */
  requestStarted(req: TrackedRequest, res: TrackedResponse): void {
    const entry = this.entries.get(connectionSocket(req.socket));
    if (entry === undefined) return;
    if (entry.busy++ === 0) {
      this.idle.delete(entry.socket);
      entry.group.idle.delete(entry.socket);
    }
    // `close` comes once per response: after it was sent, or when the connection closed first.
    res.once('close', () => {
      if (--entry.busy === 0 && this.entries.get(entry.socket) === entry) this.markIdle(entry);
    });
  }

  /** Closes every idle connection (shutdown: busy ones close once their answers are sent). */
  closeIdle(): void {
    for (const entry of [...this.idle.values()]) {
      this.remove(entry);
      entry.socket.destroy();
    }
  }

  private markIdle(entry: Entry): void {
    this.idle.set(entry.socket, entry);
    entry.group.idle.set(entry.socket, entry);
  }

  private evictFrom(idle: Map<Socket, Entry>, limit: HttpConnectionLimitName): boolean {
    const first = idle.values().next();
    if (first.done) return false;
    const entry = first.value;
    // Out of the table before the socket goes: its descriptor is free once destroy() returns.
    this.remove(entry);
    entry.socket.destroy();
    this.onTrip(limit, 'evicted', entry.group.address);
    return true;
  }

  private refuse(socket: Socket, limit: HttpConnectionLimitName, address: string): false {
    socket.destroy();
    this.onTrip(limit, 'refused', address);
    return false;
  }

  private remove(entry: Entry): void {
    if (this.entries.get(entry.socket) !== entry) return;
    this.entries.delete(entry.socket);
    this.idle.delete(entry.socket);
    const group = entry.group;
    group.idle.delete(entry.socket);
    if (--group.count === 0) this.groups.delete(group.address);
  }
}
