/**
 * The RTMP listener: @org/rtmp's server with the configured limits, @org/auth deciding every
 * publish, and the stream manager taking the accepted ones. One pino child logger per connection
 * (`{conn}`); refusals are logged with their code and counted.
 */
import type { AddressInfo } from 'node:net';
import { type AuthLimits, type PublishAuthorizer, withoutAdobeQuery } from '@org/auth';
import {
  createRtmpServer,
  type DropReason,
  type EvictReason,
  type PublishInfo,
  type RtmpConnection,
  type RtmpError,
  RtmpRejection,
  type RtmpServer,
} from '@org/rtmp';
import { type AdobeGate, createAdobeGate } from './adobe-connect';
import type { ServerConfig } from './config';
import { LogLimiter } from './log-limiter';
import { clip } from './log-text';
import type { Logger } from './logger';
import { type LimitName, type Metrics, observeRtmpBufferedBytes } from './metrics/metrics';
import { PublishRefusal } from './streams/live-stream';
import type { PublishSession } from './streams/publisher-session';
import type { StreamManager } from './streams/stream-manager';
import { DEFAULT_RTMPS_PORT, type TlsFiles } from './tls-files';

export interface RtmpIngestDeps {
  config: ServerConfig;
  logger: Logger;
  manager: StreamManager;
  authorizer: PublishAuthorizer;
  metrics?: Metrics;
}

export interface RtmpIngest {
  readonly server: RtmpServer;
  listen(): Promise<AddressInfo>;
  /** Starts RTMPS beside plain RTMP with this certificate. */
  listenTls(tls: TlsFiles): Promise<AddressInfo>;
  /** Stops accepting and closes every connection. */
  close(): Promise<void>;
}

/** Close reasons that are part of normal life, not worth a warning. */
const ORDINARY_CLOSE = new Set(['ERR_RTMP_REJECTED', 'ERR_RTMP_SOCKET']);

/** The protective limit behind each close code that is one (for `limit_trips_total`). */
const LIMIT_OF_CLOSE: Readonly<Record<string, LimitName>> = {
  ERR_RTMP_PUBLISH_TIMEOUT: 'rtmp_publish_timeout',
  ERR_RTMP_HANDSHAKE_TIMEOUT: 'rtmp_handshake_timeout',
  ERR_RTMP_IDLE_TIMEOUT: 'rtmp_idle_timeout',
  ERR_RTMP_WRITE_BUFFER_FULL: 'rtmp_write_buffer',
  ERR_RTMP_MEMORY_BUDGET: 'rtmp_max_buffered_bytes',
  ERR_RTMP_MESSAGE_TOO_LARGE: 'rtmp_message_limits',
  ERR_RTMP_PENDING_BYTES: 'rtmp_message_limits',
  ERR_RTMP_TOO_MANY_CHUNK_STREAMS: 'rtmp_message_limits',
  ERR_RTMP_QUEUE_FULL: 'rtmp_message_limits',
};

/** Publish refusals that are a protective limit rather than a verdict on the credentials. */
const LIMIT_OF_REFUSAL: Readonly<Record<string, LimitName>> = {
  ERR_AUTH_RATE_LIMITED: 'auth_failure_rate',
  ERR_AUTH_BUSY: 'auth_check_queue',
  max_streams: 'max_streams',
};

const LIMIT_OF_DROP: Readonly<Record<DropReason, LimitName>> = {
  'max-connections': 'rtmp_max_connections',
  'max-connections-per-address': 'rtmp_max_connections_per_address',
};

/** Memory-budget evictions are counted by their close code, like every other limit that closes. */
const LIMIT_OF_EVICT: Readonly<Record<EvictReason, LimitName | undefined>> = {
  'table-full': 'rtmp_max_connections',
  'too-many-handshakes': 'rtmp_max_handshakes',
  'memory-budget': undefined,
};

/**
 * Payload slab size of the chunk decoders (@org/rtmp's default is 256 KiB). createRtmpServer shares
 * one slab pool across all connections, so this is not a per-stream cost any more; it bounds what a
 * retained payload can pin: a frame queued for a stalled FFmpeg keeps its whole slab (and the
 * other streams' payloads in it) alive. At 64 KiB, payloads up to 16 KiB (audio, most inter frames)
 * share slabs; larger ones get a buffer of their own size.
 */
const PAYLOAD_SLAB_SIZE = 64 * 1024;

interface ConnState {
  /** Rate limit of the warnings any peer can trigger (shared by all connections). */
  limiter: LogLimiter;
  log: Logger;
  session: PublishSession | undefined;
  /** The user this connection logged in as (Adobe challenge login at connect), if it did. */
  adobeUser: string | undefined;
  closed: boolean;
  countedBytes: number;
}

export function createRtmpIngest(deps: RtmpIngestDeps): RtmpIngest {
  const { config, logger } = deps;
  const states = new WeakMap<RtmpConnection, ConnState>();
  const limiter = new LogLimiter();
  const adobe: AdobeGate | undefined =
    config.adobeAuth === undefined
      ? undefined
      : createAdobeGate({
          section: config.adobeAuth,
          limits: (config.auth as { limits?: AuthLimits } | undefined)?.limits,
          limiter,
          ...(deps.metrics ? { metrics: deps.metrics } : {}),
        });
  const server = createRtmpServer({
    handshakeTimeout: config.handshakeTimeoutMs,
    idleTimeout: config.idleTimeoutMs,
    publishTimeout: config.publishTimeoutMs,
    maxConnections: config.rtmpMaxConnections,
    maxConnectionsPerAddress: config.rtmpMaxConnectionsPerAddress,
    maxHandshakes: config.rtmpMaxHandshakes,
    maxBufferedBytes: config.rtmpMaxBufferedBytes,
    maxControlBytesPerSecond: config.rtmpMaxControlBytesPerSecond,
    mergedReadInterval: config.mergedReadMs,
    payloadSlabSize: PAYLOAD_SLAB_SIZE,
    ...(adobe && {
      onConnect(info, conn) {
        const st = states.get(conn);
        if (!st) throw new RtmpRejection('NetConnection.Connect.Rejected', 'internal error');
        st.adobeUser = adobe.check(info.app, conn.remoteAddress, st.log);
      },
    }),
    async onPublish(info, conn) {
      const st = states.get(conn);
      if (!st) throw new RtmpRejection('NetStream.Publish.Rejected', 'internal error');
      await admitPublish(deps, st, info, conn);
    },
  });
  server.on('connection', (conn) => states.set(conn, followConnection(deps, conn, limiter)));
  server.on('drop', (peer, reason) => {
    deps.metrics?.limitTripsTotal.inc({ limit: LIMIT_OF_DROP[reason] });
    limiter.log(logger, 'warn', `drop:${reason}`, { remote: peer.remoteAddress, reason }, 'rtmp connection refused');
  });
  server.on('evict', (conn, reason) => {
    const limit = LIMIT_OF_EVICT[reason];
    if (limit !== undefined) deps.metrics?.limitTripsTotal.inc({ limit });
    limiter.log(logger, 'warn', `evict:${reason}`, { conn: conn.id, reason }, 'rtmp connection evicted');
  });
  if (deps.metrics) observeRtmpBufferedBytes(deps.metrics, () => server.bufferedBytes);
  server.on('error', (err) => logger.error({ err }, 'rtmp listener error'));

  return {
    server,
    listen: () => server.listen(config.rtmpPort ?? 0, config.rtmpHost),
    listenTls: (tls: TlsFiles) => server.listenTls(config.rtmpsPort ?? DEFAULT_RTMPS_PORT, config.rtmpHost, tls),
    close: () => server.close(),
  };
}

/** Authorizes a publish and hands it to the manager; a refusal becomes the client's onStatus error. */
async function admitPublish(deps: RtmpIngestDeps, st: ConnState, info: PublishInfo, conn: RtmpConnection) {
  const { manager, authorizer, metrics } = deps;
  const refuse = (result: string, status: string, description: string, extra: object) => {
    metrics?.publishesTotal.inc({ result: 'refused', reason: result });
    const limit = LIMIT_OF_REFUSAL[result];
    if (limit !== undefined) metrics?.limitTripsTotal.inc({ limit });
    const fields = { code: result, status, reason: clip(description), ...extra };
    st.limiter.log(st.log, 'warn', `refused:${result}`, fields, 'publish refused');
    return new RtmpRejection(status, description);
  };
  // A logged-in connection's app and tcUrl still carry the login's query: it is no publish parameter.
  const loggedIn = st.adobeUser;
  const app = loggedIn === undefined ? info.app : withoutAdobeQuery(info.app);
  const tcUrl =
    loggedIn === undefined || info.connect.tcUrl === undefined
      ? info.connect.tcUrl
      : withoutAdobeQuery(info.connect.tcUrl);
  const decision = await authorizer.authorize({
    app,
    streamName: info.streamName,
    clientAddress: conn.remoteAddress,
    clientId: conn.id,
    publishType: info.publishType,
    ...(loggedIn !== undefined ? { authenticatedUser: loggedIn } : {}),
    ...(tcUrl !== undefined ? { tcUrl } : {}),
    ...(info.connect.flashVer !== undefined ? { flashVer: info.connect.flashVer } : {}),
  });
  if (!decision.allowed) {
    const shown = authorizer.redactPublish(app, info.streamName);
    throw refuse(decision.code, decision.status, decision.reason, {
      app: clip(shown.app),
      name: clip(shown.name),
      cause: decision.cause,
    });
  }
  let session: PublishSession;
  try {
    session = await manager.publish({
      username: decision.username,
      app: decision.vars.app,
      publisher: {
        id: conn.id,
        disconnect(reason, status) {
          conn.close(status ? new RtmpRejection(status.code, status.description) : reason);
        },
      },
    });
  } catch (err) {
    if (err instanceof PublishRefusal) {
      throw refuse(err.code, err.status, err.description, { username: decision.username });
    }
    throw err;
  }
  if (st.closed) {
    // The client went away while we were deciding.
    session.end('disconnected during publish');
    return;
  }
  st.session = session;
  st.log = st.log.child({ stream: decision.username });
  metrics?.publishesTotal.inc({ result: 'accepted', reason: 'ok' });
  const fields = { app: clip(authorizer.redact(app)), publishType: clip(info.publishType), adobeUser: loggedIn };
  st.log.info(fields, 'publishing');
}

/** One connection's life: its media goes to its session, its end ends the session. */
function followConnection(deps: RtmpIngestDeps, conn: RtmpConnection, limiter: LogLimiter): ConnState {
  const { logger, metrics } = deps;
  const st: ConnState = {
    limiter,
    log: logger.child({ conn: conn.id }),
    session: undefined,
    adobeUser: undefined,
    closed: false,
    countedBytes: 0,
  };
  // Wire bytes (chunk headers and control messages included), counted as they arrive.
  const countBytes = () => {
    const delta = conn.bytesIn - st.countedBytes;
    if (delta > 0) {
      st.countedBytes = conn.bytesIn;
      metrics?.bytesInTotal.inc(delta);
    }
  };
  metrics?.rtmpConnectionsTotal.inc();
  metrics?.rtmpConnectionsActive.inc();
  st.log.debug({ remote: `${conn.remoteAddress}:${conn.remotePort}` }, 'rtmp connection');
  conn.on('connect', (info) =>
    st.log.debug(
      { app: clip(deps.authorizer.redact(info.app)), flashVer: clip(String(info.flashVer ?? '')) },
      'rtmp connect',
    ),
  );
  conn.on('metadata', (data) => st.session?.metadata(data));
  conn.on('throttle', (waitMs) => {
    metrics?.limitTripsTotal.inc({ limit: 'rtmp_control_rate' });
    limiter.log(
      logger,
      'warn',
      'throttle',
      { conn: conn.id, waitMs },
      'rtmp peer over its control budget: not read a while',
    );
  });
  conn.on('audio', (m) => {
    st.session?.audio(m.timestamp, m.payload);
    countBytes();
  });
  conn.on('video', (m) => {
    st.session?.video(m.timestamp, m.payload);
    countBytes();
  });
  conn.on('unpublish', (_info, reason) => {
    const session = st.session;
    st.session = undefined;
    session?.end(reason);
  });
  conn.on('close', (err?: RtmpError) => {
    st.closed = true;
    countBytes();
    metrics?.rtmpConnectionsActive.dec();
    const session = st.session;
    st.session = undefined;
    session?.end(err?.code ?? 'disconnected');
    const limit = err ? LIMIT_OF_CLOSE[err.code] : undefined;
    if (limit !== undefined) metrics?.limitTripsTotal.inc({ limit });
    if (err && !ORDINARY_CLOSE.has(err.code)) {
      const fields = { code: err.code, reason: clip(err.message), bytesIn: conn.bytesIn };
      st.limiter.log(st.log, 'warn', `close:${err.code}`, fields, 'rtmp connection closed');
    } else {
      st.log.debug({ bytesIn: conn.bytesIn }, 'rtmp connection closed');
    }
  });
  return st;
}
