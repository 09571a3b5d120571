/**
 * `net` server helper: accepts TCP connections and runs one {@link RtmpSession} per socket.
 */
import { EventEmitter } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import type { SecureContextOptions } from 'node:tls';
import { PayloadSlabPool } from '../chunk/payload-pool';
import { RtmpError } from '../errors';
import { DEFAULT_PAYLOAD_SLAB_SIZE, integerOption } from '../options';
import { type ConnectInfo, type PublishInfo, RtmpSession, type RtmpSessionOptions } from '../session';
import { type AdmissionLimits, ConnectionTable, type DropReason, type EvictReason } from './connection-table';
import { DEFAULT_MAX_CONTROL_BYTES_PER_SECOND } from './control-budget';
import { ReadMerger } from './read-merger';
import { type ConnectionLimits, RtmpConnection } from './rtmp-connection';
import { TlsEndpoint } from './tls-endpoint';

/** Default time for handshake + connect: generous for slow links, short enough to shed port scanners. */
export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;
/** Default time without a byte from the peer: encoders send media many times a second. */
export const DEFAULT_IDLE_TIMEOUT = 30_000;
/** Default simultaneous connections. */
export const DEFAULT_MAX_CONNECTIONS = 1000;
/**
 * Default connections from one address: far more encoders than one site runs behind one NAT, and
 * far fewer than it takes one host to fill the table.
 */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 32;
/** Default connections in handshake or connect at once: real ones finish in milliseconds. */
export const DEFAULT_MAX_HANDSHAKES = 100;
/** Default time from connect (or the end of a publish) to a publish: encoders publish at once. */
export const DEFAULT_PUBLISH_TIMEOUT = 10_000;
/**
 * Default bytes all connections together may make the server hold (partial messages, input queued
 * behind hooks, unsent output): 256 MiB, room for a hundred publishers each mid-way through a 2 MiB
 * keyframe, while a crowd of peers that each start messages they never finish cannot take the
 * process past it.
 */
export const DEFAULT_MAX_BUFFERED_BYTES = 256 * 1024 * 1024;
/**
 * Default bytes waiting in a socket's write buffer before the peer counts as not reading: we send a
 * few hundred bytes of replies and acknowledgements per connection, so 1 MiB is far beyond normal.
 */
export const DEFAULT_MAX_PENDING_WRITE_BYTES = 1024 * 1024;
/** Default time for the peer to take our last bytes (a rejection) after we end the socket. */
export const DEFAULT_CLOSE_TIMEOUT = 2_000;
/** Default merged-read round: 0, every arrival is read at once (no added latency). */
export const DEFAULT_MERGED_READ_INTERVAL = 0;
/** Longest merged-read round accepted: beyond a second the encoder's send buffer fills. */
export const MAX_MERGED_READ_INTERVAL = 1_000;

/** Options of {@link createRtmpServer}: the session options plus transport limits and hooks. */
export interface RtmpServerOptions extends Omit<RtmpSessionOptions, 'onConnect' | 'onPublish'> {
  /** Milliseconds for the handshake AND the connect command (hook included) to complete. @default 10000 */
  handshakeTimeout?: number;
  /** Milliseconds without any byte from the peer before closing (`ERR_RTMP_IDLE_TIMEOUT`); 0 disables. @default 30000 */
  idleTimeout?: number;
  /**
   * Simultaneous connections. When the table is full a new connection takes the slot of the oldest
   * one still in handshake or connect, else of the oldest connected but not publishing (event
   * `'evict'`); when every one is publishing, the new one is dropped (event `'drop'`). @default 1000
   */
  maxConnections?: number;
  /** Simultaneous connections from one address; more are dropped at accept. @default 32 */
  maxConnectionsPerAddress?: number;
  /** Connections in handshake or connect at once; one more evicts the oldest of them. @default 100 */
  maxHandshakes?: number;
  /**
   * Milliseconds from connect, or from the end of a publish, for the client to publish; then it is
   * closed (`ERR_RTMP_PUBLISH_TIMEOUT`). 0 disables. @default 10000
   */
  publishTimeout?: number;
  /**
   * Bytes all connections together may make the server hold (see {@link RtmpConnection.heldBytes});
   * past it the connection holding the most is closed (`ERR_RTMP_MEMORY_BUDGET`). @default 268435456
   */
  maxBufferedBytes?: number;
  /**
   * Refill rate of each peer's control budget: what its messages other than audio and video may
   * cost per second (payload bytes plus 64 per message; 4 s of it may be spent at once). Past it the
   * peer is not read until the budget refills (event `'throttle'` on the connection). 0 disables.
   * @default 65536
   */
  maxControlBytesPerSecond?: number;
  /** Bytes allowed to wait in a socket's write buffer; more closes with `ERR_RTMP_WRITE_BUFFER_FULL`. @default 1048576 */
  maxPendingWriteBytes?: number;
  /** Milliseconds the peer gets to read our final bytes after a close before the socket is destroyed. @default 2000 */
  closeTimeout?: number;
  /**
   * Merged reads, in milliseconds (0 to 1000): while a connection publishes, its socket is read at
   * most once per round of this length, so that the messages an encoder sends in between arrive in one
   * read. Fewer reads, wake-ups and TCP acknowledgements per stream, for up to this much added latency.
   * Handshake, connect and publish, fast streams, backlogs and the packets after a keyframe are read at
   * once (see the package README). 0 reads every arrival at once. @default 0
   */
  mergedReadInterval?: number;
  /** See {@link RtmpSessionOptions.onConnect}; also receives the connection. */
  onConnect?(info: ConnectInfo, conn: RtmpConnection): void | Promise<void>;
  /** See {@link RtmpSessionOptions.onPublish}; also receives the connection. */
  onPublish?(info: PublishInfo, conn: RtmpConnection): void | Promise<void>;
}

/** Events of {@link RtmpServer}. */
export type RtmpServerEvents = {
  /** A client was accepted (before its handshake). */
  connection: [conn: RtmpConnection];
  /** A client was refused at accept: every slot is publishing, or its address has its share. */
  drop: [peer: { remoteAddress: string; remotePort: number }, reason: DropReason];
  /** A connection was closed to make room (its `'close'` follows with `ERR_RTMP_EVICTED` or `ERR_RTMP_MEMORY_BUDGET`). */
  evict: [conn: RtmpConnection, reason: EvictReason];
  /** Error of the listening socket after `listen` resolved. */
  error: [err: Error];
};

/** An RTMP ingest server. Create with {@link createRtmpServer}. */
export class RtmpServer extends EventEmitter<RtmpServerEvents> {
  private readonly server: net.Server;
  private tls: { server: net.Server; endpoint: TlsEndpoint } | null = null;
  private readonly sessionOptions: RtmpSessionOptions;
  private readonly limits: ConnectionLimits;
  private readonly table: ConnectionTable<RtmpConnection>;
  private readonly merger: ReadMerger | null;
  private readonly hooks: Pick<RtmpServerOptions, 'onConnect' | 'onPublish'>;
  private readonly open = new Set<RtmpConnection>();
  private nextId = 1;
  private closing: Promise<void> | null = null;

  /** @param options validated here; a bad one throws `ERR_RTMP_INVALID_OPTION` naming it. */
  constructor(options: RtmpServerOptions = {}) {
    super();
    const {
      handshakeTimeout,
      idleTimeout,
      maxConnections,
      maxConnectionsPerAddress,
      maxHandshakes,
      publishTimeout,
      maxBufferedBytes,
      maxPendingWriteBytes,
      maxControlBytesPerSecond,
      closeTimeout,
      mergedReadInterval,
      onConnect,
      onPublish,
      ...sessionOptions
    } = options;
    for (const [name, hook] of [
      ['onConnect', onConnect],
      ['onPublish', onPublish],
    ] as const) {
      if (hook !== undefined && typeof hook !== 'function') {
        throw new RtmpError('ERR_RTMP_INVALID_OPTION', `options.${name} must be a function, got ${typeof hook}`);
      }
    }
    this.limits = connectionLimits({
      handshakeTimeout,
      idleTimeout,
      publishTimeout,
      maxPendingWriteBytes,
      maxControlBytesPerSecond,
      closeTimeout,
    });
    const admission: AdmissionLimits = {
      maxConnections: integerOption('maxConnections', maxConnections, DEFAULT_MAX_CONNECTIONS, 1, 1_000_000),
      maxConnectionsPerAddress: integerOption(
        'maxConnectionsPerAddress',
        maxConnectionsPerAddress,
        DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
        1,
        1_000_000,
      ),
      maxHandshakes: integerOption('maxHandshakes', maxHandshakes, DEFAULT_MAX_HANDSHAKES, 1, 1_000_000),
      maxBufferedBytes: integerOption(
        'maxBufferedBytes',
        maxBufferedBytes,
        DEFAULT_MAX_BUFFERED_BYTES,
        1,
        Number.MAX_SAFE_INTEGER,
      ),
    };
    this.table = new ConnectionTable(admission, (conn, reason) => this.emit('evict', conn, reason));
    const mergeMs = integerOption(
      'mergedReadInterval',
      mergedReadInterval,
      DEFAULT_MERGED_READ_INTERVAL,
      0,
      MAX_MERGED_READ_INTERVAL,
    );
    this.merger = mergeMs > 0 ? new ReadMerger(mergeMs) : null;
    this.hooks = { onConnect, onPublish };
    // Validates the session options now rather than at the first client (and before the pool below
    // could report a bad slab size under another name).
    new RtmpSession(sessionOptions);
    // Socket 'data' Buffers are fresh per event and read by no one after the push, so the decoder
    // may reassemble multi-chunk messages inside them (no copy): measured 1.6x faster at chunk size
    // 4096 and 1.5x at 128 (docs/benchmarks.md). One payload pool serves every connection: each
    // would otherwise keep a partly used slab of its own for as long as it lives (a per-stream
    // memory cost). An explicit `inPlace: false` or pool still wins.
    const slabSize = sessionOptions.payloadSlabSize ?? DEFAULT_PAYLOAD_SLAB_SIZE;
    const payloadPool = slabSize > 0 ? new PayloadSlabPool(slabSize) : undefined;
    this.sessionOptions = { inPlace: true, ...(payloadPool && { payloadPool }), ...sessionOptions };
    // With merged reads a paused socket must stop reading from the kernel at once: Node reads ahead
    // into a paused socket up to its high-water mark (16 KiB), one wake-up per arrival.
    this.server = net.createServer(this.merger ? { highWaterMark: 1 } : {}, (socket) => this.accept(socket));
    this.server.on('error', (err) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
  }

  /** Connections currently open (accepted and not yet fully closed). */
  get connections(): ReadonlySet<RtmpConnection> {
    return this.open;
  }

  /**
   * Starts listening. `port` 0 picks a free port (read it from the result).
   * @param host interface to bind; Node's default (every interface) when omitted.
   */
  listen(port: number, host?: string): Promise<AddressInfo> {
    return listenOn(this.server, port, host);
  }

  /**
   * Starts an RTMPS listener beside the plain one (or alone): the same connection table, limits
   * and hooks; each admitted connection speaks TLS with `tlsOptions` (PEM `cert` with its chain,
   * `key`, …) before RTMP, within the handshake timeout. Once per server.
   * @throws `ERR_RTMP_INVALID_OPTION` when already listening for RTMPS, or what Node's TLS throws
   *   for a bad certificate or key
   */
  listenTls(port: number, host: string | undefined, tlsOptions: SecureContextOptions): Promise<AddressInfo> {
    if (this.tls !== null) throw new RtmpError('ERR_RTMP_INVALID_OPTION', 'listenTls() was already called');
    const endpoint = new TlsEndpoint(tlsOptions);
    const server = net.createServer(this.merger ? { highWaterMark: 1 } : {}, (socket) => this.accept(socket, endpoint));
    server.on('error', (err) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
    this.tls = { server, endpoint };
    return listenOn(server, port, host);
  }

  /** Replaces the RTMPS certificate for new connections; throws, keeping the old one, when it is bad. */
  setSecureContext(tlsOptions: SecureContextOptions): void {
    if (this.tls === null) throw new RtmpError('ERR_RTMP_INVALID_STATE', 'no RTMPS listener (listenTls)');
    this.tls.endpoint.setSecureContext(tlsOptions);
  }

  /** The bound RTMPS address, or null when not listening for RTMPS. */
  tlsAddress(): AddressInfo | null {
    const a = this.tls?.server.address() ?? null;
    return a !== null && typeof a === 'object' ? a : null;
  }

  /** The bound address, or null when not listening. */
  address(): AddressInfo | null {
    const a = this.server.address();
    return a !== null && typeof a === 'object' ? a : null;
  }

  /**
   * Stops accepting, destroys every connection (each emits `'unpublish'` if publishing and `'close'`),
   * and resolves once all sockets and the listener are closed. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const listeners = [this.server, ...(this.tls ? [this.tls.server] : [])];
      const listenerClosed = Promise.all(
        listeners.map((l) => new Promise<void>((resolve) => (l.listening ? l.close(() => resolve()) : resolve()))),
      );
      const conns = [...this.open];
      for (const conn of conns) conn.destroy('server closing');
      await Promise.all(conns.map((c) => c.closed));
      await listenerClosed;
    })();
    return this.closing;
  }

  /** Bytes all open connections make the server hold, as last reported (see `maxBufferedBytes`). */
  get bufferedBytes(): number {
    return this.table.bufferedBytes;
  }

  /** Admits a TCP connection (before any TLS work: a refused one costs no handshake). */
  private accept(socket: net.Socket, tls?: TlsEndpoint): void {
    const peer = { remoteAddress: socket.remoteAddress ?? '', remotePort: socket.remotePort ?? 0 };
    if (this.closing !== null) {
      socket.destroy();
      return;
    }
    const refused = this.table.admit(peer.remoteAddress);
    if (refused !== null) {
      socket.destroy();
      this.emit('drop', peer, refused);
      return;
    }
    const { onConnect, onPublish } = this.hooks;
    let conn: RtmpConnection | undefined;
    const session = new RtmpSession({
      ...this.sessionOptions,
      onConnect: onConnect && ((info) => onConnect(info, conn!)),
      onPublish: onPublish && ((info) => onPublish(info, conn!)),
    });
    const table = this.table;
    const wire = tls ? tls.wrap(socket) : socket;
    conn = new RtmpConnection(`c${this.nextId++}`, wire, session, this.limits, this.merger, (c) => table.updateHeld(c));
    this.open.add(conn);
    table.add(conn);
    const c = conn;
    // The session's close (always before the socket's: a closing socket closes the session) frees
    // the slot and what the connection held at once, not after the close timeout.
    c.on('close', () => table.remove(c));
    void c.closed.then(() => this.open.delete(c));
    this.emit('connection', c);
  }
}

/**
 * Creates an RTMP ingest server (not yet listening).
 *
 * ```ts
 * const server = createRtmpServer({ onPublish: (info) => { if (!ok(info)) throw new RtmpRejection(...) } });
 * server.on('connection', (conn) => conn.on('video', (m) => ...));
 * await server.listen(1935);
 * ```
 */
export function createRtmpServer(options: RtmpServerOptions = {}): RtmpServer {
  return new RtmpServer(options);
}

/** The per-connection limits among the server options, validated. */
function connectionLimits(o: {
  handshakeTimeout: number | undefined;
  idleTimeout: number | undefined;
  publishTimeout: number | undefined;
  maxPendingWriteBytes: number | undefined;
  maxControlBytesPerSecond: number | undefined;
  closeTimeout: number | undefined;
}): ConnectionLimits {
  const {
    handshakeTimeout,
    idleTimeout,
    publishTimeout,
    maxPendingWriteBytes,
    maxControlBytesPerSecond,
    closeTimeout,
  } = o;
  const maxTimer = 0x7fffffff; // setTimeout's limit
  return {
    handshakeTimeout: integerOption('handshakeTimeout', handshakeTimeout, DEFAULT_HANDSHAKE_TIMEOUT, 1, maxTimer),
    idleTimeout: integerOption('idleTimeout', idleTimeout, DEFAULT_IDLE_TIMEOUT, 0, maxTimer),
    publishTimeout: integerOption('publishTimeout', publishTimeout, DEFAULT_PUBLISH_TIMEOUT, 0, maxTimer),
    maxPendingWriteBytes: integerOption(
      'maxPendingWriteBytes',
      maxPendingWriteBytes,
      DEFAULT_MAX_PENDING_WRITE_BYTES,
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    closeTimeout: integerOption('closeTimeout', closeTimeout, DEFAULT_CLOSE_TIMEOUT, 0, maxTimer),
    maxControlBytesPerSecond: integerOption(
      'maxControlBytesPerSecond',
      maxControlBytesPerSecond,
      DEFAULT_MAX_CONTROL_BYTES_PER_SECOND,
      0,
      Number.MAX_SAFE_INTEGER,
    ),
  };
}

function listenOn(server: net.Server, port: number, host: string | undefined): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}
