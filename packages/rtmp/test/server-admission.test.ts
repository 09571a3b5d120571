/**
 * Who gets a connection slot and how much peer-made memory the server holds: the table's limits
 * (per address, handshakes in progress, a full table), the publish timeout, the memory budget, and
 * a peer that does not read what it is sent. Loopback only; 127.0.0.2 stands in for another host.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ChunkEncoder } from '../src/chunk';
import type { DropReason, EvictReason } from '../src/net';
import { waitFor } from './helpers/net';
import { closeAll, connectClient, handshakeAndConnect, raw, start } from './helpers/server-fixture';

afterEach(closeAll);

function recordEvents(server: Awaited<ReturnType<typeof start>>['server']) {
  const drops: { address: string; reason: DropReason }[] = [];
  const evicts: { id: string; reason: EvictReason }[] = [];
  server.on('drop', (p, reason) => drops.push({ address: p.remoteAddress, reason }));
  server.on('evict', (c, reason) => evicts.push({ id: c.id, reason }));
  return { drops, evicts };
}

/** A user control Ping Request carrying `value` (the server answers with a Ping Response). */
function pings(from: number, count: number): Buffer {
  const enc = new ChunkEncoder();
  const parts: Uint8Array[] = [];
  for (let v = from; v < from + count; v++) {
    const payload = Uint8Array.of(0, 6, (v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
    parts.push(enc.encodeToBuffer({ chunkStreamId: 2, type: 4, streamId: 0, timestamp: 0, payload }));
  }
  return Buffer.concat(parts);
}

function pingResponse(v: number): Buffer {
  return Buffer.from([0, 7, (v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
}

describe('connection table', () => {
  it('a full table closes the oldest connection still in handshake to admit a new one', async () => {
    const { port, server, conns, closes } = await start({ maxConnections: 2 });
    const { drops, evicts } = recordEvents(server);
    const a = raw(port);
    const b = raw(port);
    await Promise.all([a.connected, b.connected]);
    await waitFor(() => conns.length === 2);
    const c = raw(port);
    await a.closed;
    await waitFor(() => conns.length === 3);
    expect(closes.get(conns[0]!)?.code).toBe('ERR_RTMP_EVICTED');
    expect(evicts).toEqual([{ id: conns[0]!.id, reason: 'table-full' }]);
    expect(drops).toEqual([]);
    expect(server.connections.size).toBe(2);
    expect(b.closedAt).toBeNull();
    expect(c.closedAt).toBeNull();
  });

  it('then the oldest connected one that does not publish; a table of publishers drops the newcomer', async () => {
    const { port, server, conns, closes } = await start({ maxConnections: 2 });
    const { drops, evicts } = recordEvents(server);
    const idle = await connectClient(port);
    const live = await connectClient(port);
    await live.publish('alice');
    await waitFor(() => conns[1]?.session.state === 'publishing');
    const idleClosed = new Promise<void>((r) => idle.once('close', () => r()));
    raw(port);
    await idleClosed;
    expect(closes.get(conns[0]!)?.code).toBe('ERR_RTMP_EVICTED');
    expect(evicts.map((e) => e.reason)).toEqual(['table-full']);

    // Now two publishers: no one to evict.
    const { server: full, port: fullPort } = await start({ maxConnections: 2 });
    const fullEvents = recordEvents(full);
    for (const name of ['a', 'b']) await (await connectClient(fullPort)).publish(name);
    const late = raw(fullPort);
    await late.closed;
    expect(fullEvents.drops).toEqual([{ address: '127.0.0.1', reason: 'max-connections' }]);
    expect(fullEvents.evicts).toEqual([]);
    expect(full.connections.size).toBe(2);
    expect(drops).toEqual([]);
    expect(server.connections.size).toBe(2);
  });

  it('refuses an address its share (maxConnectionsPerAddress) and admits another address', async () => {
    const { port, server, conns } = await start({ maxConnectionsPerAddress: 2 });
    const { drops } = recordEvents(server);
    const mine = [raw(port), raw(port)];
    await Promise.all(mine.map((c) => c.connected));
    await waitFor(() => conns.length === 2);
    const third = raw(port);
    await third.closed;
    const other = raw(port, '127.0.0.2');
    await other.connected;
    await waitFor(() => conns.length === 3);
    expect(drops).toEqual([{ address: '127.0.0.1', reason: 'max-connections-per-address' }]);
    expect(conns[2]?.remoteAddress).toBe('127.0.0.2');
    for (const c of mine) expect(c.closedAt).toBeNull();
  });

  it('RtmpClient can connect from another loopback address (localAddress), and checks it', async () => {
    const { port, conns } = await start();
    const client = await connectClient(port, 'live/test', { localAddress: '127.0.0.3' });
    await client.publish('from-3');
    expect(conns[0]?.remoteAddress).toBe('127.0.0.3');
    const bad = await connectClient(port, 'live/test', { localAddress: 'localhost' }).catch(
      (e: { code?: string }) => e.code,
    );
    expect(bad).toBe('ERR_RTMP_INVALID_OPTION');
  });

  it('bounds handshakes in progress (maxHandshakes): one more closes the oldest, connected ones stay', async () => {
    const { port, server, conns, closes } = await start({ maxHandshakes: 2 });
    const { evicts } = recordEvents(server);
    const client = await connectClient(port);
    const a = raw(port);
    const b = raw(port);
    await Promise.all([a.connected, b.connected]);
    await waitFor(() => conns.length === 3);
    raw(port);
    await a.closed;
    expect(closes.get(conns[1]!)?.code).toBe('ERR_RTMP_EVICTED');
    expect(evicts).toEqual([{ id: conns[1]!.id, reason: 'too-many-handshakes' }]);
    expect(conns[0]?.session.state).toBe('connected');
    expect(b.closedAt).toBeNull();
    await client.publish('still-fine');
  });

  it('closes a connection that does not publish within publishTimeout, and only that one', async () => {
    const { port, conns, closes } = await start({ publishTimeout: 300 });
    const idle = await connectClient(port);
    const live = await connectClient(port);
    await live.publish('bob');
    const t0 = Date.now();
    await new Promise<void>((r) => idle.once('close', () => r()));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(closes.get(conns[0]!)?.code).toBe('ERR_RTMP_PUBLISH_TIMEOUT');
    expect(conns[1]?.session.state).toBe('publishing');
  });
});

describe('memory budget (maxBufferedBytes)', () => {
  /** Handshake, connect, a 64 KiB chunk size and the first `sent` bytes of a 250 kB video message. */
  function partialMessage(sent: number): Buffer {
    const enc = new ChunkEncoder();
    const setChunkSize = enc.encodeToBuffer({
      chunkStreamId: 2,
      type: 1,
      streamId: 0,
      timestamp: 0,
      payload: Uint8Array.of(0, 1, 0, 0),
    });
    enc.setChunkSize(65536);
    const video = enc.encodeToBuffer({
      chunkStreamId: 6,
      type: 9,
      streamId: 1,
      timestamp: 0,
      payload: new Uint8Array(250_000).fill(0x17, 0, 1),
    });
    return Buffer.concat([handshakeAndConnect(), setChunkSize, video.subarray(0, sent)]);
  }

  it('past the budget closes the connection holding the most; the others keep their bytes', async () => {
    const { port, server, conns, closes } = await start({ maxBufferedBytes: 300_000 });
    const { evicts } = recordEvents(server);
    const big = raw(port);
    big.write(partialMessage(200_000));
    await waitFor(() => server.bufferedBytes >= 150_000, 5000, 'the first partial message');
    const small = raw(port);
    small.write(partialMessage(130_000));
    await big.closed;
    await waitFor(() => closes.size === 1);
    expect(closes.get(conns[0]!)?.code).toBe('ERR_RTMP_MEMORY_BUDGET');
    expect(evicts).toEqual([{ id: conns[0]!.id, reason: 'memory-budget' }]);
    expect(small.closedAt).toBeNull();
    expect(server.bufferedBytes).toBeGreaterThan(0);
    expect(server.bufferedBytes).toBeLessThanOrEqual(300_000);
  });
});

describe('replies and a peer that reads them, or not', () => {
  // These are about write backpressure alone: the control budget (below) is off.
  it('is no longer read, so what it sends waits in its own buffers; it ends by the idle timeout', async () => {
    const { port, server, conns, closes } = await start({ idleTimeout: 1500, maxControlBytesPerSecond: 0 });
    const c = raw(port);
    c.write(handshakeAndConnect());
    await waitFor(() => c.received.length > 3073, 5_000, 'connect reply');
    c.socket.pause();
    const batch = pings(0, 5000);
    let maxHeld = 0;
    for (let i = 0; i < 200 && closes.size === 0; i++) {
      c.write(batch);
      maxHeld = Math.max(maxHeld, server.bufferedBytes);
      await new Promise((r) => setTimeout(r, 5));
    }
    await waitFor(() => closes.size === 1, 10_000, 'the idle timeout');
    const err = closes.get(conns[0]!);
    expect(err?.code).toBe('ERR_RTMP_IDLE_TIMEOUT');
    expect(err?.message).toContain('nor did it read');
    // The peer wrote 18 MB of pings; the server held no more than about a socket read of replies.
    expect(maxHeld).toBeLessThan(1024 * 1024);
  }, 15_000);

  it('with replies beyond maxPendingWriteBytes in one go, closes with ERR_RTMP_WRITE_BUFFER_FULL', async () => {
    const { port, closes, conns } = await start({ maxPendingWriteBytes: 1024, maxControlBytesPerSecond: 0 });
    const c = raw(port);
    c.write(handshakeAndConnect());
    await waitFor(() => c.received.length > 3073, 5_000, 'connect reply');
    c.socket.pause(); // our replies fill the kernel's buffers, then the socket's
    const batch = pings(0, 5000);
    for (let i = 0; i < 400 && closes.size === 0; i++) {
      c.write(batch);
      await new Promise((r) => setTimeout(r, 2));
    }
    await waitFor(() => closes.size === 1, 10_000, 'the server to give up');
    expect(closes.get(conns[0]!)?.code).toBe('ERR_RTMP_WRITE_BUFFER_FULL');
  }, 15_000);

  it('a reading peer flooding pings is answered at its own pace, not closed, not buffered for', async () => {
    const { port, server, closes } = await start({ maxControlBytesPerSecond: 0 });
    const c = raw(port);
    c.write(handshakeAndConnect());
    await waitFor(() => c.received.length > 3073, 5_000, 'connect reply');
    const before = c.received.length;
    const batch = pings(0, 5000);
    let maxHeld = 0;
    // 400 batches of 5000 pings (36 MB) as fast as the socket takes them, bounded to 4 s.
    const end = Date.now() + 4000;
    for (let i = 0; i < 400 && Date.now() < end; i++) {
      if (!c.socket.write(batch)) await new Promise((r) => c.socket.once('drain', r));
      maxHeld = Math.max(maxHeld, server.bufferedBytes);
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(closes.size).toBe(0);
    expect(c.received.length - before).toBeGreaterThan(1_000_000); // replies flowed during the flood
    expect(maxHeld).toBeLessThan(2 * 1024 * 1024);
  }, 15_000);

  it('a peer that reads gets an answer to every ping of a flood', async () => {
    const { port } = await start({ maxControlBytesPerSecond: 0 });
    const c = raw(port);
    c.write(handshakeAndConnect());
    await waitFor(() => c.received.length > 3073, 5_000, 'connect reply');
    for (let i = 0; i < 10; i++) c.write(pings(i * 2000, 2000));
    await waitFor(() => c.received.includes(pingResponse(19_999)), 10_000, 'the last ping response');
    expect(c.received.includes(pingResponse(0))).toBe(true);
    expect(c.received.includes(pingResponse(10_000))).toBe(true);
  }, 15_000);
});

describe('control budget (maxControlBytesPerSecond)', () => {
  it('reads a ping flood no faster than the budget refills; the peer is throttled, not closed; others are served', async () => {
    const perSecond = 64 * 1024;
    const { port, conns, closes } = await start({ maxControlBytesPerSecond: perSecond });
    const c = raw(port);
    c.write(handshakeAndConnect());
    await waitFor(() => c.received.length > 3073, 5_000, 'connect reply');
    const throttles: number[] = [];
    conns[0]!.on('throttle', (ms) => throttles.push(ms));
    const costBefore = conns[0]!.session.controlCost;
    // 40 batches of 5000 pings (3.6 MB, 200 000 pings) over 2 s.
    const started = Date.now();
    for (let i = 0; i < 40; i++) {
      c.write(pings(i * 5000, 5000));
      await new Promise((r) => setTimeout(r, 50));
    }
    const elapsed = (Date.now() - started) / 1000;
    const handled = (conns[0]!.session.controlCost - costBefore) / 70; // 64 + a 6-byte payload each
    // What the budget lets through: 4 s of it at once, its refill meanwhile, and what the socket had
    // read before it paused (a few reads of ~3600 pings). Without the budget: all 200 000.
    const allowed = (perSecond * (4 + elapsed)) / 70 + 20_000;
    expect(handled).toBeGreaterThan(1000);
    expect(handled).toBeLessThan(allowed);
    expect(c.received.length).toBeGreaterThan(3073 + 1000 * 7); // and they were answered
    expect(throttles.length).toBeGreaterThan(0);
    expect(closes.size).toBe(0);
    // Another peer meanwhile: its connect is answered at once.
    const other = raw(port, '127.0.0.2');
    const t0 = Date.now();
    other.write(handshakeAndConnect());
    await waitFor(() => other.received.length > 3073, 2_000, 'the other connect reply');
    expect(Date.now() - t0).toBeLessThan(1000);
  }, 15_000);

  it('counts only non-media messages: a publisher sending media at speed is never throttled', async () => {
    const { port, conns } = await start({ maxControlBytesPerSecond: 1024 });
    const throttles: number[] = [];
    const client = await connectClient(port);
    conns[0]!.on('throttle', (ms) => throttles.push(ms));
    await client.publish('s');
    const frame = new Uint8Array(4000).fill(0x27, 0, 1);
    for (let i = 0; i < 500; i++) client.sendVideo(i, frame);
    await waitFor(() => conns[0]!.bytesIn > 1_900_000, 5_000, 'the media');
    expect(throttles).toEqual([]);
  }, 15_000);
});
