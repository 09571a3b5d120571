/**
 * Servers and clients on loopback for the server tests: everything made here is closed by
 * {@link closeAll}, which each file runs in `afterEach`.
 */
import { encodeAmf0 } from '../../src/amf';
import { ChunkEncoder } from '../../src/chunk';
import { RtmpClient } from '../../src/client';
import type { RtmpError } from '../../src/errors';
import { createRtmpServer, type RtmpConnection, type RtmpServer, type RtmpServerOptions } from '../../src/net';
import { clientHandshakeBytes } from './harness';
import { RawClient, waitFor } from './net';

const servers: RtmpServer[] = [];
const clients: { destroy(): void }[] = [];

export async function closeAll(): Promise<void> {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
}

/** A server on 127.0.0.1:0 recording its connections and how each closed. */
export async function start(options: RtmpServerOptions = {}) {
  const server = createRtmpServer(options);
  servers.push(server);
  const conns: RtmpConnection[] = [];
  const closes = new Map<RtmpConnection, RtmpError | undefined>();
  server.on('connection', (c) => {
    conns.push(c);
    c.on('close', (err) => closes.set(c, err));
  });
  const { port } = await server.listen(0, '127.0.0.1');
  return { server, port, conns, closes };
}

export async function connectClient(port: number, app = 'live/test', options = {}): Promise<RtmpClient> {
  const client = await RtmpClient.connect(`rtmp://127.0.0.1:${port}/${app}`, options);
  clients.push(client);
  return client;
}

/** A server with one RtmpClient publishing `name` on it, and the server side of that connection. */
export async function publishing(options: RtmpServerOptions, name: string) {
  const started = await start(options);
  const client = await connectClient(started.port);
  await client.publish(name);
  await waitFor(() => started.conns.length === 1);
  return { ...started, client, conn: started.conns[0]! };
}

export function raw(port: number, localAddress?: string): RawClient {
  const c = new RawClient(port, localAddress);
  clients.push(c);
  return c;
}

/** Handshake + connect bytes as a raw client sends them. */
export function handshakeAndConnect(): Uint8Array {
  const { c0c1, c2 } = clientHandshakeBytes();
  const connect = new ChunkEncoder().encodeToBuffer({
    chunkStreamId: 3,
    type: 20,
    streamId: 0,
    timestamp: 0,
    payload: encodeAmf0('connect', 1, { app: 'live' }),
  });
  return Uint8Array.from([...c0c1, ...c2, ...connect]);
}
