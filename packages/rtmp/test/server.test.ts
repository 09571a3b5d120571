/**
 * createRtmpServer on loopback: the publish path with RtmpClient, hooks, timeouts, garbage, limits,
 * backpressure and shutdown (admission and memory limits: server-admission.test.ts). Every server
 * binds 127.0.0.1:0 and is closed in afterEach.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeAmf0 } from '../src/amf';
import { ChunkEncoder } from '../src/chunk';
import { RtmpClient } from '../src/client';
import { type RtmpError, RtmpRejection } from '../src/errors';
import { createRtmpServer, type RtmpServerOptions } from '../src/net';
import type { PublishInfo } from '../src/session';
import { clientHandshakeBytes } from './helpers/harness';
import { waitFor } from './helpers/net';
import { closeAll, connectClient, handshakeAndConnect, publishing, raw, start } from './helpers/server-fixture';

afterEach(closeAll);

describe('createRtmpServer', () => {
  it('receives a publish from RtmpClient: hooks get the connection, events carry the stream', async () => {
    const hookConns: string[] = [];
    const { port, conns, server } = await start({
      onConnect: (info, conn) => {
        hookConns.push(`connect ${info.app} ${conn.id}`);
      },
      onPublish: async (info, conn) => {
        hookConns.push(`publish ${info.streamName} ${conn.id}`);
      },
    });
    const client = await connectClient(port);
    const published: PublishInfo[] = [];
    const media: [string, number, number[]][] = [];
    let metadata: unknown = null;
    const unpublished: string[] = [];
    await waitFor(() => conns.length === 1);
    const conn = conns[0]!;
    expect(conn.remoteAddress).toBe('127.0.0.1');
    expect(conn.remotePort).toBeGreaterThan(0);
    expect(server.connections.has(conn)).toBe(true);
    conn.on('publish', (i) => published.push(i));
    conn.on('metadata', (m) => {
      metadata = { ...m };
    });
    conn.on('video', (m) => media.push(['video', m.timestamp, Array.from(m.payload)]));
    conn.on('audio', (m) => media.push(['audio', m.timestamp, Array.from(m.payload)]));
    conn.on('unpublish', (_i, reason) => unpublished.push(reason));

    expect(await client.publish('johndoe')).toBe(1);
    expect(client.sendMetadata({ width: 320, height: 240 })).toBe(true);
    const frames: [string, number, number[]][] = [];
    for (let i = 0; i < 20; i++) {
      const v = [0x27, 1, 0, 0, 0, i, ...Array.from({ length: 5000 }, (_, k) => (k * i) & 0xff)];
      const a = [0xaf, 1, i, 2, 3];
      client.sendVideo(i * 66, Uint8Array.from(v));
      client.sendAudio(i * 66 + 10, Uint8Array.from(a));
      frames.push(['video', i * 66, v], ['audio', i * 66 + 10, a]);
    }
    await waitFor(() => media.length === frames.length);
    expect(media).toEqual(frames);
    expect(metadata).toEqual({ width: 320, height: 240 });
    expect(published[0]).toMatchObject({ app: 'live/test', streamName: 'johndoe', streamId: 1 });
    expect(hookConns).toEqual([`connect live/test ${conn.id}`, `publish johndoe ${conn.id}`]);

    await client.close();
    await waitFor(() => server.connections.size === 0);
    expect(unpublished).toEqual(['FCUnpublish']);
  });

  it('a publish refused by onPublish reaches the client as an RtmpRejection, then the server closes', async () => {
    const { port, closes, conns } = await start({
      onPublish: async () => {
        throw new RtmpRejection('NetStream.Publish.Unauthorized', 'invalid stream key');
      },
    });
    const client = await connectClient(port);
    const err = await client.publish('johndoe').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RtmpRejection);
    expect((err as RtmpRejection).status).toBe('NetStream.Publish.Unauthorized');
    expect((err as RtmpRejection).description).toBe('invalid stream key');
    await waitFor(() => closes.size === 1);
    expect(closes.get(conns[0]!)).toBeInstanceOf(RtmpRejection);
  });

  it('a connect refused by onConnect rejects RtmpClient.connect with NetConnection.Connect.Rejected', async () => {
    const { port } = await start({
      onConnect: (info) => {
        if (info.app !== 'live') throw new RtmpRejection('NetConnection.Connect.Rejected', `unknown app ${info.app}`);
      },
    });
    const err = await RtmpClient.connect(`rtmp://127.0.0.1:${port}/nope`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RtmpRejection);
    expect((err as RtmpRejection).status).toBe('NetConnection.Connect.Rejected');
    expect((err as RtmpRejection).description).toBe('unknown app nope');
  });

  it('closes a client that does not complete handshake + connect within handshakeTimeout', async () => {
    const { port, closes, conns } = await start({ handshakeTimeout: 300 });
    const silent = raw(port);
    const noConnect = raw(port);
    await Promise.all([silent.connected, noConnect.connected]);
    const { c0c1, c2 } = clientHandshakeBytes();
    noConnect.write(Uint8Array.from([...c0c1, ...c2])); // handshake only
    await Promise.all([silent.closed, noConnect.closed]);
    for (const c of [silent, noConnect]) {
      expect(c.closedAt! - c.openedAt).toBeGreaterThanOrEqual(250);
      expect(c.closedAt! - c.openedAt).toBeLessThan(3_000);
    }
    await waitFor(() => closes.size === 2);
    for (const c of conns) expect(closes.get(c)?.code).toBe('ERR_RTMP_HANDSHAKE_TIMEOUT');
    expect(noConnect.received.length).toBe(3073); // it did get S0+S1+S2
  });

  it('closes an idle client after idleTimeout but keeps one that sends', async () => {
    const { port, closes, conns } = await start({ idleTimeout: 400 });
    const idle = await connectClient(port);
    const busy = await connectClient(port);
    await idle.publish('a');
    await busy.publish('b');
    const idleClosed = new Promise<void>((r) => idle.once('close', () => r()));
    const t0 = Date.now();
    for (let i = 0; i < 12; i++) {
      busy.sendAudio(i * 50, Uint8Array.of(0xaf, 1, i));
      await new Promise((r) => setTimeout(r, 50));
    }
    await idleClosed;
    expect(Date.now() - t0).toBeLessThan(3_000);
    await waitFor(() => closes.size === 1);
    const [closedConn, err] = [...closes][0]!;
    expect(err?.code).toBe('ERR_RTMP_IDLE_TIMEOUT');
    expect(closedConn).toBe(conns[0]);
    expect(conns[1]!.session.state).toBe('publishing');
  });

  it('closes on garbage (an HTTP request) with ERR_RTMP_BAD_VERSION', async () => {
    const { port, closes, conns } = await start();
    const c = raw(port);
    c.write(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await c.closed;
    await waitFor(() => closes.size === 1);
    expect(closes.get(conns[0]!)?.code).toBe('ERR_RTMP_BAD_VERSION');
    expect(c.received.length).toBe(0);
  });

  it('refuses a message that declares 16 MB', async () => {
    const { port, closes, conns } = await start();
    const c = raw(port);
    c.write(handshakeAndConnect());
    c.write(Uint8Array.of(0x06, 0, 0, 0, 0xff, 0xff, 0xff, 9, 1, 0, 0, 0, 0x17, 0));
    await c.closed;
    await waitFor(() => closes.size === 1);
    expect(closes.get(conns[0]!)?.code).toBe('ERR_RTMP_MESSAGE_TOO_LARGE');
  });

  it('close() stops accepting, ends every connection and resolves when all are closed', async () => {
    const { port, server, closes } = await start();
    const publisher = await connectClient(port);
    await publisher.publish('johndoe');
    const midHandshake = raw(port);
    midHandshake.write(clientHandshakeBytes().c0c1.subarray(0, 100));
    const idle = raw(port);
    await Promise.all([midHandshake.connected, idle.connected]);
    await waitFor(() => server.connections.size === 3);
    const unpublished: string[] = [];
    for (const c of server.connections) c.on('unpublish', (_i, reason) => unpublished.push(reason));
    await server.close();
    expect(server.connections.size).toBe(0);
    expect(closes.size).toBe(3);
    expect(unpublished).toEqual(['server closing']);
    await Promise.all([midHandshake.closed, idle.closed]);
    const refused = await RtmpClient.connect(`rtmp://127.0.0.1:${port}/live`, { timeout: 2_000 }).catch(
      (e: RtmpError) => e.code,
    );
    expect(refused).toBe('ERR_RTMP_SOCKET');
  });

  it('pause() stops reading the socket until resume(); nothing is lost', async () => {
    const { client, conn } = await publishing({}, 'x');
    let received = 0;
    conn.on('video', () => received++);
    conn.pause();
    const frame = new Uint8Array(64 * 1024);
    frame[0] = 0x27;
    let sent = 0;
    // keep writing until the publisher's own socket buffer backs up (the server is not reading)
    for (let i = 0; i < 1000 && client.writableLength < 2 * 1024 * 1024; i++) {
      client.sendVideo(i, frame);
      sent++;
      if (i % 16 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    expect(client.writableLength).toBeGreaterThanOrEqual(2 * 1024 * 1024);
    const whilePaused = received;
    await new Promise((r) => setTimeout(r, 200));
    expect(received).toBe(whilePaused);
    expect(received).toBeLessThan(sent);
    conn.resume();
    await waitFor(() => received === sent, 10_000, `all ${sent} frames`);
  });

  describe('merged reads (mergedReadInterval)', () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    /** Groups arrival times separated by more than `gapMs`: one group per read of the socket, roughly. */
    const groups = (times: number[], gapMs: number) =>
      times.filter((t, i) => i === 0 || t - times[i - 1]! > gapMs).length;

    /** Publishes small audio frames every 5 ms for `ms` (a slow stream); returns server arrival times. */
    async function slowStream(options: RtmpServerOptions, ms: number) {
      const { client, conn } = await publishing(options, 'slow');
      const arrivals: number[] = [];
      const timestamps: number[] = [];
      conn.on('audio', (m) => {
        arrivals.push(performance.now());
        timestamps.push(m.timestamp);
      });
      const t0 = performance.now();
      let sent = 0;
      while (performance.now() - t0 < ms) {
        client.sendAudio(sent, Uint8Array.of(0xaf, 1, sent & 0xff));
        sent++;
        await sleep(5);
      }
      await waitFor(() => timestamps.length === sent, 5_000, `all ${sent} audio frames`);
      expect(timestamps).toEqual(Array.from({ length: sent }, (_, i) => i));
      return { arrivals, conn, client };
    }

    it('a slow stream is read in rounds once its rate is known: several messages per read, none lost', async () => {
      const { arrivals } = await slowStream({ mergedReadInterval: 60 }, 2200);
      // The first second measures the rate (read at once); after it, one read per 60 ms round.
      const late = arrivals.filter((t) => t - arrivals[0]! > 1300);
      expect(late.length).toBeGreaterThan(60);
      expect(late.length / groups(late, 2)).toBeGreaterThanOrEqual(4);
    });

    it('without it, the same stream arrives message by message', async () => {
      const { arrivals } = await slowStream({}, 1200);
      expect(arrivals.length / groups(arrivals, 2)).toBeLessThan(2);
    });

    it('after a keyframe, what follows is read at once for a round', async () => {
      const { client, conn } = await publishing({ mergedReadInterval: 300 }, 'k');
      const arrivals = new Map<number, number>();
      conn.on('audio', (m) => arrivals.set(m.timestamp, performance.now()));
      conn.on('video', (m) => arrivals.set(m.timestamp, performance.now()));
      let ts = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < 1400) {
        client.sendAudio(ts++, Uint8Array.of(0xaf, 1, 0)); // slow: merged once the first second is measured
        await sleep(5);
      }
      const keyTs = ts++;
      client.sendVideo(keyTs, Uint8Array.of(0x17, 1, 0, 0, 0, 9));
      await waitFor(() => arrivals.has(keyTs), 2_000, 'the keyframe');
      const sentAt: [number, number][] = [];
      for (let i = 0; i < 4; i++) {
        await sleep(40);
        sentAt.push([ts, performance.now()]);
        client.sendAudio(ts++, Uint8Array.of(0xaf, 1, 0));
      }
      await waitFor(() => arrivals.size === ts, 2_000, 'the audio after the keyframe');
      // Sent within 160 ms of the keyframe's arrival (inside its 300 ms unmerged round): each is read
      // when it comes, not at the round's end.
      for (const [t, at] of sentAt) expect(arrivals.get(t)! - at).toBeLessThan(60);
    });

    it('a message that arrives in pieces is read on to its end, not a round per piece', async () => {
      const { port, conns } = await start({ mergedReadInterval: 300 });
      const c = raw(port);
      const enc = new ChunkEncoder(); // 128-byte chunks, as a client sends before Set Chunk Size
      const command = (name: string, txn: number, args: unknown[], streamId = 0) =>
        enc.encodeToBuffer({
          chunkStreamId: 3,
          type: 20,
          streamId,
          timestamp: 0,
          payload: encodeAmf0(name, txn, null, ...(args as never[])),
        });
      c.write(handshakeAndConnect());
      await waitFor(() => conns.length === 1 && conns[0]!.session.state === 'connected', 5_000, 'connect');
      c.write(command('createStream', 2, []));
      c.write(command('publish', 3, ['piecewise', 'live'], 1));
      await waitFor(() => conns[0]!.session.state === 'publishing', 5_000, 'publish');
      const conn = conns[0]!;
      let videoAt = 0;
      conn.on('video', () => {
        videoAt = performance.now();
      });
      let audio = 0;
      conn.on('audio', () => audio++);
      const media = (type: 8 | 9, timestamp: number, payload: Uint8Array) =>
        enc.encodeToBuffer({ chunkStreamId: type === 8 ? 4 : 6, type, streamId: 1, timestamp, payload });
      let ts = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < 1300) {
        c.write(media(8, ts++, Uint8Array.of(0xaf, 1, 0))); // slow: merged from the second second on
        await sleep(5);
      }
      await waitFor(() => audio === ts, 2_000, 'the audio');
      // An inter frame of 40 KB: half of it, then, once that has surely been read (more than a
      // round later), the rest in five pieces 10 ms apart, as a slow link delivers it.
      const frame = media(
        9,
        ts,
        Uint8Array.from({ length: 40_000 }, (_, i) => (i === 0 ? 0x27 : i & 0xff)),
      );
      const half = frame.length >> 1;
      c.write(frame.subarray(0, half));
      await sleep(400);
      const piece = Math.ceil((frame.length - half) / 5);
      let lastPieceAt = 0;
      for (let off = half; off < frame.length; off += piece) {
        c.write(frame.subarray(off, off + piece));
        lastPieceAt = performance.now();
        await sleep(10);
      }
      await waitFor(() => videoAt > 0, 2_000, 'the frame');
      expect(videoAt - lastPieceAt).toBeLessThan(100); // paused after a piece, it would wait for a round's end
    });

    it('a fast stream is never held back: 6 MB/s keeps pace', async () => {
      const { client, conn } = await publishing({ mergedReadInterval: 100 }, 'fast');
      let bytes = 0;
      conn.on('video', (m) => {
        bytes += m.payload.length;
      });
      const frame = new Uint8Array(60 * 1024);
      frame[0] = 0x17;
      const t0 = performance.now();
      let sent = 0;
      // 2.5 s of 60 KiB every 10 ms. A 100 ms round of it (600 KiB) is far more than the kernel holds
      // while we do not read: merged, it would crawl at about one receive window per round.
      while (performance.now() - t0 < 2500) {
        client.sendVideo(sent, frame);
        sent++;
        await sleep(10);
      }
      await waitFor(() => bytes === sent * frame.length, 6_000, 'every frame');
      expect(performance.now() - t0).toBeLessThan(5_000);
    }, 15_000);

    it('pause() wins over the end of a round, and close() with a connection waiting leaves no timer', async () => {
      const { server, client, conn } = await publishing({ mergedReadInterval: 30 }, 'p');
      let received = 0;
      conn.on('audio', () => received++);
      let sent = 0;
      const send = async (n: number) => {
        for (let i = 0; i < n; i++, sent++) {
          client.sendAudio(sent, Uint8Array.of(0xaf, 1, 0));
          await sleep(5);
        }
      };
      await send(250); // past the first rate window: merged from here on
      await waitFor(() => received === sent, 3_000, 'the first frames');
      conn.pause();
      await sleep(40); // a round ends while paused
      const before = received;
      await send(20);
      await sleep(100);
      expect(received).toBeLessThanOrEqual(before + 1); // at most the read that stopped the socket
      conn.resume();
      await waitFor(() => received === sent, 3_000, 'everything after resume()');
      await send(5);
      await server.close();
    });
  });

  it('validates options once, with one pointed message each', () => {
    expect(() => createRtmpServer({ handshakeTimeout: 0 })).toThrow(/options\.handshakeTimeout/);
    expect(() => createRtmpServer({ idleTimeout: -1 })).toThrow(/options\.idleTimeout/);
    expect(() => createRtmpServer({ maxConnections: 0 })).toThrow(/options\.maxConnections/);
    expect(() => createRtmpServer({ maxPendingWriteBytes: 1.5 })).toThrow(/options\.maxPendingWriteBytes/);
    expect(() => createRtmpServer({ chunkSize: 0 })).toThrow(/options\.chunkSize/);
    expect(() => createRtmpServer({ onPublish: 1 as never })).toThrow(/options\.onPublish/);
    expect(() => createRtmpServer({ mergedReadInterval: -1 })).toThrow(/options\.mergedReadInterval/);
    expect(() => createRtmpServer({ mergedReadInterval: 1001 })).toThrow(/options\.mergedReadInterval/);
    expect(() => createRtmpServer({ mergedReadInterval: 2.5 })).toThrow(/options\.mergedReadInterval/);
  });
});
