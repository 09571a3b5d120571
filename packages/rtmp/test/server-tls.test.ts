/**
 * RTMPS: the server's TLS listener with the test certificate (fixtures/tls), against Node's TLS
 * client and a plain TCP peer. Loopback only.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import type { DropReason } from '../src/net';
import { waitFor } from './helpers/net';
import { closeAll, handshakeAndConnect, raw, start } from './helpers/server-fixture';

const dir = join(import.meta.dirname, 'fixtures/tls');
const TLS = { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) };

const opened: tls.TLSSocket[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) s.destroy();
  await closeAll();
});

/** A TLS client trusting the test certificate; resolves with what it received once `bytes` arrived. */
function tlsPeer(port: number, localAddress = '127.0.0.1') {
  const tcp = net.connect({ host: '127.0.0.1', port, localAddress });
  const socket = tls.connect({ socket: tcp, ca: TLS.cert, servername: 'localhost' });
  opened.push(socket);
  let received = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => {
    received = Buffer.concat([received, d]);
  });
  socket.on('error', () => {});
  return { socket, received: () => received };
}

describe('RTMPS (listenTls)', () => {
  it('speaks RTMP inside TLS with the configured certificate, on its own port beside plain RTMP', async () => {
    const { server, conns } = await start();
    const { port } = await server.listenTls(0, '127.0.0.1', TLS);
    expect(server.tlsAddress()?.port).toBe(port);
    const peer = tlsPeer(port);
    await new Promise<void>((r) => peer.socket.once('secureConnect', () => r()));
    expect(peer.socket.authorized).toBe(true);
    peer.socket.write(handshakeAndConnect());
    await waitFor(() => peer.received().length > 3073, 5_000, 'S0 S1 S2 and the connect reply');
    expect(peer.received()[0]).toBe(3);
    expect(conns).toHaveLength(1);
    expect(conns[0]?.remoteAddress).toBe('127.0.0.1');
    expect(conns[0]?.phase).toBe('connected');
  });

  it('admits by address before any TLS work, and counts TLS connections in the same table', async () => {
    const { server } = await start({ maxConnectionsPerAddress: 1 });
    const drops: DropReason[] = [];
    server.on('drop', (_p, reason) => drops.push(reason));
    const { port: plainPort } = server.address() ?? { port: 0 };
    const { port } = await server.listenTls(0, '127.0.0.1', TLS);
    const first = raw(plainPort, '127.0.0.2');
    await first.connected;
    const second = tlsPeer(port, '127.0.0.2');
    await new Promise<void>((r) => second.socket.once('close', () => r()));
    expect(drops).toEqual(['max-connections-per-address']);
    expect(second.socket.authorized).toBe(false); // closed before a handshake
  });

  it('a plain RTMP peer on the TLS port is closed, and the server goes on', async () => {
    const { server, closes } = await start();
    const { port } = await server.listenTls(0, '127.0.0.1', TLS);
    const c = raw(port);
    c.write(handshakeAndConnect());
    await c.closed;
    await waitFor(() => closes.size === 1, 5_000, 'the session close');
    expect([...closes.values()][0]?.code).toBe('ERR_RTMP_SOCKET');
    const peer = tlsPeer(port);
    peer.socket.write(handshakeAndConnect());
    await waitFor(() => peer.received().length > 3073, 5_000, 'a TLS peer after it');
  });

  it('the TLS handshake counts against the handshake timeout', async () => {
    const { server, closes } = await start({ handshakeTimeout: 300 });
    const { port } = await server.listenTls(0, '127.0.0.1', TLS);
    const c = raw(port); // TCP only: never starts TLS
    await c.closed;
    expect(Date.now() - c.openedAt).toBeLessThan(2000);
    expect([...closes.values()][0]?.code).toBe('ERR_RTMP_HANDSHAKE_TIMEOUT');
  });

  it('a new certificate serves new connections; a bad one is refused and the old one kept', async () => {
    const { server } = await start();
    const { port } = await server.listenTls(0, '127.0.0.1', TLS);
    expect(() => server.setSecureContext({ cert: 'not a certificate', key: TLS.key })).toThrow();
    const peer = tlsPeer(port);
    await new Promise<void>((r) => peer.socket.once('secureConnect', () => r()));
    expect(peer.socket.authorized).toBe(true);
    server.setSecureContext(TLS);
    const again = tlsPeer(port);
    await new Promise<void>((r) => again.socket.once('secureConnect', () => r()));
    expect(again.socket.getPeerCertificate().subject?.CN).toBe('localhost');
  });
});
