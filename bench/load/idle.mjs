/**
 * Idle RTMP connections: each completes the handshake and `connect` (waits for the server's
 * `_result`), then stays open sending nothing. Built from @org/rtmp's pieces (ClientHandshake,
 * ChunkEncoder, commandMessage, ChunkDecoder, decodeCommand), so it needs no RTMP client library.
 */
import { connect as netConnect } from 'node:net';

const COMMAND_AMF0 = 20;

/**
 * Opens one connection and resolves with its socket once `connect` is answered with `_result`.
 * @param {object} rtmp the @org/rtmp module
 */
export function openIdleConnection(rtmp, { port, app, timeoutMs = 10_000 }) {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    const handshake = new rtmp.ClientHandshake();
    const decoder = new rtmp.ChunkDecoder();
    const encoder = new rtmp.ChunkEncoder();
    let shaken = false;
    const timer = setTimeout(() => fail(new Error('connect timed out')), timeoutMs);
    function fail(err) {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    }
    const onMessages = (messages) => {
      for (const msg of messages) {
        if (msg.type !== COMMAND_AMF0) continue;
        const cmd = rtmp.decodeCommand(msg.payload);
        if (cmd.name === '_result' && cmd.transactionId === 1) {
          clearTimeout(timer);
          socket.removeAllListeners('data');
          // Keep reading (and dropping) whatever the server sends later, e.g. pings.
          socket.on('data', () => {});
          resolve(socket);
        } else if (cmd.name === '_error') {
          fail(new Error('connect refused'));
        }
      }
    };
    socket.once('connect', () => socket.write(handshake.start()));
    socket.on('error', fail);
    socket.on('data', (data) => {
      try {
        if (!shaken) {
          const step = handshake.push(data);
          for (const out of step.output) socket.write(out);
          if (!step.done) return;
          shaken = true;
          const tcUrl = `rtmp://127.0.0.1:${port}/${app}`;
          const connectMsg = rtmp.commandMessage(
            'connect',
            1,
            { app, type: 'nonprivate', flashVer: 'FMLE/3.0 (compatible; bench)', tcUrl },
            [],
          );
          for (const piece of encoder.encode(connectMsg)) socket.write(piece);
          if (step.rest.length) onMessages(decoder.push(step.rest));
          return;
        }
        onMessages(decoder.push(data));
      } catch (err) {
        fail(err);
      }
    });
  });
}

/** Opens `count` idle connections, `concurrency` at a time. Failures are counted, not thrown. */
export async function openIdleConnections(rtmp, { port, app, count, concurrency = 20, timeoutMs }) {
  const sockets = [];
  const errors = [];
  let next = 0;
  async function worker() {
    while (next < count) {
      // A server that answered none of the first wave will answer none: do not wait out the rest.
      if (sockets.length === 0 && errors.length >= concurrency) return;
      next += 1;
      try {
        sockets.push(await openIdleConnection(rtmp, { port, app, timeoutMs }));
      } catch (err) {
        errors.push(String(err?.message ?? err));
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return {
    sockets,
    opened: sockets.length,
    failed: errors.length,
    errors: [...new Set(errors)].slice(0, 5),
    close: () => {
      for (const s of sockets) s.destroy();
    },
  };
}
