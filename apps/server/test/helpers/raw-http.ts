/**
 * One HTTP request sent byte for byte over a plain TCP socket. fetch and inject() normalise `..`,
 * `%2e` and `\` before sending; an attacker's client does not, so traversal tests use this.
 */
import { connect } from 'node:net';

/**
 * Traversal tricks aimed through the username `victim`, each of which must be refused with a 4xx
 * and never answer a file outside the stream's directory: dot segments raw, percent-encoded once and
 * twice, backslashes, NUL, overlong UTF-8, a slash inside the username, and the absolute form.
 */
export const TRAVERSAL_ATTACKS: readonly string[] = [
  'GET /stream/victim/../secret.txt HTTP/1.1',
  'GET /stream/victim/../../secret.txt HTTP/1.1',
  'GET /stream/victim/..%2fsecret.txt HTTP/1.1',
  'GET /stream/victim/..%2f..%2fsecret.txt HTTP/1.1',
  'GET /stream/victim/%2e%2e%2f%2e%2e%2fsecret.txt HTTP/1.1',
  'GET /stream/victim/%2e%2e HTTP/1.1',
  'GET /stream/victim/..%252f..%252fsecret.txt HTTP/1.1',
  'GET /stream/victim/..\\..\\secret.txt HTTP/1.1',
  'GET /stream/victim/..%5c..%5csecret.txt HTTP/1.1',
  'GET /stream/victim/secret.txt%00.ts HTTP/1.1',
  'GET /stream/victim/%c0%ae%c0%ae%c0%afsecret.txt HTTP/1.1',
  'GET /stream/victim%2f..%2f..%2f/live.m3u8 HTTP/1.1',
  'GET http://127.0.0.1/stream/victim/../../secret.txt HTTP/1.1',
];

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
