/** RtmpClient: URL parsing, chunk sizes both ways, acknowledgements, failures and timeouts. */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRtmpUrl, RtmpClient } from '../src/client';
import { type RtmpError, RtmpRejection } from '../src/errors';
import { createRtmpServer, type RtmpConnection, type RtmpServer, type RtmpServerOptions } from '../src/net';
import { waitFor } from './helpers/net';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(options: RtmpServerOptions = {}) {
  const server: RtmpServer = createRtmpServer(options);
  cleanups.push(() => server.close());
  const conns: RtmpConnection[] = [];
  server.on('connection', (c) => conns.push(c));
  const { port } = await server.listen(0, '127.0.0.1');
  return { server, port, conns };
}

async function client(port: number, options = {}): Promise<RtmpClient> {
  const c = await RtmpClient.connect({ host: '127.0.0.1', port, app: 'live/test' }, options);
  cleanups.push(() => c.destroy());
  return c;
}

describe('parseRtmpUrl', () => {
  it.each([
    [
      'rtmp://example.com:1936/live/test',
      { host: 'example.com', port: 1936, app: 'live/test', tcUrl: 'rtmp://example.com:1936/live/test' },
    ],
    ['rtmp://h/live', { host: 'h', port: 1935, app: 'live', tcUrl: 'rtmp://h/live' }],
    ['rtmp://h/live/', { host: 'h', port: 1935, app: 'live', tcUrl: 'rtmp://h/live' }],
    ['rtmp://[::1]:19350/a', { host: '::1', port: 19350, app: 'a', tcUrl: 'rtmp://[::1]:19350/a' }],
  ])('%s', (url, expected) => {
    expect(parseRtmpUrl(url)).toEqual(expected);
  });

  it.each([
    ['http://h/live', /only rtmp:\/\//],
    ['rtmp://h/', /no application path/],
    ['not a url', /not a URL/],
  ])('refuses %s', (url, message) => {
    expect(() => parseRtmpUrl(url)).toThrow(message);
  });
});

describe('RtmpClient against createRtmpServer', () => {
  it('follows the server chunk size and sends with its own (large frames arrive intact)', async () => {
    const { port, conns } = await start({ chunkSize: 128 });
    const c = await client(port, { chunkSize: 60000 });
    await c.publish('big');
    const frame = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 31) & 0xff);
    frame[0] = 0x17;
    const got: Uint8Array[] = [];
    conns[0]!.on('video', (m) => got.push(Uint8Array.from(m.payload)));
    c.sendVideo(0, frame);
    c.sendVideo(40, frame.subarray(0, 1000));
    await waitFor(() => got.length === 2);
    expect(Buffer.from(got[0]!).equals(Buffer.from(frame))).toBe(true);
    expect(got[1]!.length).toBe(1000);
  });

  it('acknowledges the server window', async () => {
    const { port, conns } = await start({ windowAckSize: 2000 });
    const c = await client(port);
    await c.publish('x');
    // the client has received S0S1S2 (3073 bytes) and replies: more than one 2000-byte window
    await waitFor(() => conns[0]!.session.peerAcknowledged > 0);
    expect(conns[0]!.session.peerAcknowledged).toBeGreaterThanOrEqual(2000);
    expect(conns[0]!.session.peerAcknowledged).toBeLessThanOrEqual(conns[0]!.session.bytesOut);
  });

  it('close() ends the publish with FCUnpublish + deleteStream', async () => {
    const { port, conns } = await start();
    const c = await client(port);
    expect(c.streamId).toBeNull();
    await c.publish('x');
    expect(c.streamId).toBe(1);
    const reasons: string[] = [];
    conns[0]!.on('unpublish', (_i, r) => reasons.push(r));
    await c.close();
    await waitFor(() => reasons.length > 0);
    expect(reasons).toEqual(['FCUnpublish']);
    expect(() => c.sendVideo(0, Uint8Array.of(0x17))).toThrow(/closed/);
  });

  it('refuses to send media before publish', async () => {
    const { port } = await start();
    const c = await client(port);
    expect(() => c.sendAudio(0, Uint8Array.of(0xaf))).toThrow(/publish\(\) has not completed/);
  });

  it('rejects publish with the server status when refused', async () => {
    const { port } = await start({
      onPublish: () => {
        throw new RtmpRejection('NetStream.Publish.BadName', 'name taken');
      },
    });
    const c = await client(port);
    await expect(c.publish('x')).rejects.toMatchObject({
      status: 'NetStream.Publish.BadName',
      description: 'name taken',
    });
  });
});

describe('RtmpClient failures', () => {
  async function rawServer(onSocket: (s: net.Socket) => void): Promise<number> {
    const sockets = new Set<net.Socket>();
    const srv = net.createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
      onSocket(s);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          srv.close(() => r());
        }),
    );
    return (srv.address() as net.AddressInfo).port;
  }

  it('rejects with ERR_RTMP_CLOSED when the server hangs up', async () => {
    const port = await rawServer((s) => s.destroy());
    const err = (await RtmpClient.connect(`rtmp://127.0.0.1:${port}/live`).catch((e) => e)) as RtmpError;
    expect(err.code).toBe('ERR_RTMP_CLOSED');
  });

  it('rejects with ERR_RTMP_TIMEOUT when the server never answers', async () => {
    const port = await rawServer(() => {});
    const t0 = Date.now();
    const err = (await RtmpClient.connect(`rtmp://127.0.0.1:${port}/live`, { timeout: 300 }).catch(
      (e) => e,
    )) as RtmpError;
    expect(err.code).toBe('ERR_RTMP_TIMEOUT');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(Date.now() - t0).toBeLessThan(3_000);
  });

  it('rejects with ERR_RTMP_BAD_VERSION when the server answers something that is not RTMP', async () => {
    const port = await rawServer((s) => s.write('HTTP/1.1 400 Bad Request\r\n\r\n'));
    const err = (await RtmpClient.connect(`rtmp://127.0.0.1:${port}/live`).catch((e) => e)) as RtmpError;
    expect(err.code).toBe('ERR_RTMP_BAD_VERSION');
  });

  it('validates its options', async () => {
    await expect(RtmpClient.connect('rtmp://127.0.0.1:1/live', { chunkSize: 0 })).rejects.toThrow(/options\.chunkSize/);
  });
});
