/**
 * The HTTP connection caps on a real `http.Server` on 127.0.0.1 with real client sockets from
 * several loopback addresses, then wired into the Fastify app (trips and the gauge in /metrics).
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildHttpApp, HTTP_REQUEST_TIMEOUT_MS } from '../src/http/app';
import {
  connectionAddress,
  type HttpConnectionLimitName,
  HttpConnectionTable,
  type HttpConnectionTripAction,
} from '../src/http/connection-limit';
import { createMetrics } from '../src/metrics/metrics';
import { FakeRegistry } from './helpers/streams';

const clients = new Set<Socket>();
let server: Server | undefined;
let app: FastifyInstance | undefined;

afterEach(async () => {
  for (const c of clients) c.destroy();
  clients.clear();
  if (server) {
    server.closeAllConnections();
    await new Promise((r) => server?.close(r));
    server = undefined;
  }
  await app?.close();
  app = undefined;
});

async function until(what: string, ok: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Harness {
  port: number;
  table: HttpConnectionTable;
  trips: [HttpConnectionLimitName, HttpConnectionTripAction, string][];
  /** Responses the handler holds (requests to `/hold`), oldest first. */
  held: ServerResponse[];
  /** Connections the server has seen, by client port. */
  seen: Set<number>;
}

/** A server whose `/hold` requests stay unanswered until the test ends them. */
async function harness(maxConnections: number, maxConnectionsPerAddress: number): Promise<Harness> {
  const h: Harness = { port: 0, table: undefined as never, trips: [], held: [], seen: new Set() };
  h.table = new HttpConnectionTable({
    maxConnections,
    maxConnectionsPerAddress,
    onTrip: (limit, action, address) => h.trips.push([limit, action, address]),
  });
  server = createServer((req, res) => {
    if (req.url === '/hold') h.held.push(res);
    else res.end('ok');
  });
  h.table.attach(server);
  server.on('connection', (s: Socket) => h.seen.add(s.remotePort as number));
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  h.port = (server.address() as { port: number }).port;
  return h;
}

interface Client {
  socket: Socket;
  closed: boolean;
  data: string;
}

/** A connection from `localAddress`, once the server has taken (or refused) it. */
async function open(h: Harness, localAddress = '127.0.0.1'): Promise<Client> {
  const socket = connect({ port: h.port, host: '127.0.0.1', localAddress });
  clients.add(socket);
  const c: Client = { socket, closed: false, data: '' };
  socket.on('data', (d) => {
    c.data += d.toString();
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    c.closed = true;
  });
  await new Promise((r) => socket.once('connect', r));
  await until('server saw the connection', () => h.seen.has(socket.localPort as number));
  return c;
}

/** A keep-alive request on `c`, answered in full. */
async function request(c: Client, path = '/'): Promise<void> {
  const before = c.data.length;
  c.socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
  await until('answer', () => c.data.slice(before).includes('\r\n\r\nok'));
}

async function closedSoon(c: Client): Promise<void> {
  await until('closed', () => c.closed);
}

describe('HttpConnectionTable', () => {
  it('validates its caps', () => {
    expect(() => new HttpConnectionTable({ maxConnections: 0 })).toThrow(/maxConnections/);
    expect(() => new HttpConnectionTable({ maxConnectionsPerAddress: 1.5 })).toThrow(/maxConnectionsPerAddress/);
  });

  it('at the cap, closes the longest-idle connection (never-sent and half-header ones are idle)', async () => {
    const h = await harness(3, 100);
    const a = await open(h);
    const b = await open(h);
    const c = await open(h);
    b.socket.write('GET / HTTP/1.1\r\nHost: x\r\n'); // half a header: still idle
    expect(h.table.size).toBe(3);
    const d = await open(h);
    await closedSoon(a);
    expect(h.trips).toEqual([['http_max_connections', 'evicted', '127.0.0.1']]);
    const e = await open(h);
    await closedSoon(b);
    expect([c.closed, d.closed, e.closed]).toEqual([false, false, false]);
    expect(h.table.size).toBe(3);
  });

  it('counts idleness from the last response, not from the connection', async () => {
    const h = await harness(2, 100);
    const older = await open(h);
    const newer = await open(h);
    await request(older); // a player polling: its connection was used last
    await open(h);
    await closedSoon(newer);
    await request(older);
    expect(older.closed).toBe(false);
  });

  it('never closes a busy connection: with none idle, the new one is closed at once', async () => {
    const h = await harness(2, 100);
    const a = await open(h);
    const b = await open(h);
    a.socket.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n');
    b.socket.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n');
    await until('both held', () => h.held.length === 2);
    expect(h.table.idleCount).toBe(0);
    const refused = await open(h);
    await closedSoon(refused);
    expect(refused.data).toBe('');
    expect(h.trips).toEqual([['http_max_connections', 'refused', '127.0.0.1']]);
    expect([a.closed, b.closed, h.table.size]).toEqual([false, false, 2]);
    // Answered, `a` is idle again and makes room for the next one.
    h.held[0]?.end('ok');
    await until('a answered', () => a.data.includes('ok'));
    await until('a idle', () => h.table.idleCount === 1);
    const next = await open(h);
    await closedSoon(a);
    expect([b.closed, next.closed]).toEqual([false, false]);
  });

  it('per address: an address at its cap loses its own longest-idle connection, others keep theirs', async () => {
    const h = await harness(100, 2);
    const other = await open(h, '127.0.0.3');
    const first = await open(h, '127.0.0.2');
    const second = await open(h, '127.0.0.2');
    const third = await open(h, '127.0.0.2');
    await closedSoon(first);
    expect([other.closed, second.closed, third.closed]).toEqual([false, false, false]);
    expect(h.trips).toEqual([['http_max_connections_per_address', 'evicted', '127.0.0.2']]);
    // Both of .2's busy: its next one is refused, while .3 still gets in.
    second.socket.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n');
    third.socket.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n');
    await until('both held', () => h.held.length === 2);
    const refused = await open(h, '127.0.0.2');
    await closedSoon(refused);
    const admitted = await open(h, '127.0.0.3');
    await request(admitted);
    expect(h.trips.at(-1)).toEqual(['http_max_connections_per_address', 'refused', '127.0.0.2']);
    expect(h.table.size).toBe(4);
  });

  it('forgets closed connections, so a freed slot is free without evicting anyone', async () => {
    const h = await harness(2, 2);
    const a = await open(h);
    const b = await open(h);
    a.socket.destroy();
    await until('a gone', () => h.table.size === 1);
    const c = await open(h);
    await request(c);
    expect([b.closed, c.closed, h.trips]).toEqual([false, false, []]);
  });

  it('one IPv4 peer is one address whatever the socket family', () => {
    const s = (remoteAddress: string) => ({ remoteAddress }) as Socket;
    expect(connectionAddress(s('::ffff:127.0.0.2'))).toBe('127.0.0.2');
    expect(connectionAddress(s('::ffff:7f00:2'))).toBe('::ffff:7f00:2');
    expect(connectionAddress(s('2001:db8::1'))).toBe('2001:db8::1');
  });
});

describe('the HTTP app', () => {
  it('caps its connections, serving on, and counts trips and open connections in /metrics', async () => {
    const metrics = createMetrics();
    app = buildHttpApp({
      outputDir: '/tmp/unused-http-connection-limit',
      corsOrigin: '*',
      logger: pino({ level: 'silent' }),
      registry: new FakeRegistry(),
      metrics,
      ffmpegVersion: 'test',
      maxConnections: 4,
      maxConnectionsPerAddress: 3,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    expect(app.server.requestTimeout).toBe(HTTP_REQUEST_TIMEOUT_MS);
    const port = (app.server.address() as { port: number }).port;
    const h = { port, seen: new Set<number>() } as Harness;
    app.server.on('connection', (s: Socket) => h.seen.add(s.remotePort as number));
    const idle: Client[] = [];
    for (const address of ['127.0.0.2', '127.0.0.2', '127.0.0.2', '127.0.0.2', '127.0.0.3', '127.0.0.4']) {
      idle.push(await open(h, address));
    }
    // .2's fourth closed .2's first (per address); .4 then closed .2's second (total).
    await closedSoon(idle[0] as Client);
    await closedSoon(idle[1] as Client);
    const scraper = await open(h, '127.0.0.5'); // evicts .2's third
    scraper.socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    await until('metrics', () => scraper.data.includes('http_connections_active'));
    expect(scraper.data).toMatch(/limit_trips_total\{limit="http_max_connections"\} 2\n/);
    expect(scraper.data).toMatch(/limit_trips_total\{limit="http_max_connections_per_address"\} 1\n/);
    expect(scraper.data).toMatch(/http_connections_active 4\n/);
    expect(idle.map((c) => c.closed)).toEqual([true, true, true, false, false, false]);
  });
});
