/**
 * One HTTP request sent byte for byte over a plain TCP socket. fetch and inject() normalise `..`,
 * `%2e` and `\` before sending; an attacker's client does not, so traversal tests use this.
 */
import { connect } from 'node:net';

const REQUEST_TIMEOUT_MS = 5_000;
/** Responses in these tests are small; anything bigger is read only this far. */
const MAX_RESPONSE_BYTES = 1 << 20;

export interface RawResponse {
  /** Status code of the response line, 0 when there was none. */
  status: number;
  /** The whole response (headers and body) as latin1. */
  text: string;
}

/** Sends `requestLine` unmodified (plus Host and Connection: close) and reads the whole response. */
export function rawRequest(port: number, requestLine: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete response to ${JSON.stringify(requestLine)} in ${REQUEST_TIMEOUT_MS} ms`));
    }, REQUEST_TIMEOUT_MS);
    socket.on('connect', () =>
      socket.write(Buffer.from(`${requestLine}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, 'latin1')),
    );
    socket.on('data', (d: Buffer) => {
      if (size >= MAX_RESPONSE_BYTES) return;
      chunks.push(d);
      size += d.length;
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0), text });
    });
  });
}
