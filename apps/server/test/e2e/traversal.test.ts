/**
 * Path traversal against the real built server, with raw request lines over TCP: fetch and
 * inject() normalise `..`, `%2e` and `\` before sending, which is exactly what an attacker's
 * client does not do. A random token sits in a file just outside the output root; no response
 * may ever contain it, and every attempt must end in a 4xx.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MAIN = resolve(import.meta.dirname, '../../dist/main.js');
const START_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 5_000;
/** Responses here are small JSON errors; anything bigger is read only this far. */
const MAX_RESPONSE_BYTES = 1 << 20;

interface Server {
  proc: ChildProcess;
  httpPort: number;
  rtmpPort: number;
  stderr: () => string;
}

/** Spawns the built server and waits for its `listening` log line (JSON on stdout). */
function startServer(outputDir: string): Promise<Server> {
  const proc = spawn(
    process.execPath,
    [MAIN, '--http-port', '0', '--rtmp-port', '0', '--http-host', '127.0.0.1', '--rtmp-host', '127.0.0.1'].concat([
      '--output-dir',
      outputDir,
      '--log-level',
      'info',
    ]),
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    if (err.length < 64_000) err += d.toString();
  });
  return new Promise((resolvePromise, reject) => {
    let out = '';
    const timer = setTimeout(
      () => fail(new Error(`server did not log 'listening' in ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    const fail = (e: Error) => {
      clearTimeout(timer);
      proc.kill('SIGKILL');
      reject(new Error(`${e.message}\nstdout: ${out.slice(0, 4000)}\nstderr: ${err.slice(0, 4000)}`));
    };
    proc.once('exit', (code) => fail(new Error(`server exited early with ${code}`)));
    proc.stdout?.on('data', (d: Buffer) => {
      if (out.length > 1_000_000) return;
      out += d.toString();
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        let rec: { msg?: string; httpPort?: number; rtmpPort?: number };
        try {
          rec = JSON.parse(line);
        } catch {
          continue;
        }
        if (rec.msg === 'listening' && typeof rec.httpPort === 'number' && typeof rec.rtmpPort === 'number') {
          clearTimeout(timer);
          proc.removeAllListeners('exit');
          proc.stdout?.removeAllListeners('data');
          proc.stdout?.resume();
          resolvePromise({ proc, httpPort: rec.httpPort, rtmpPort: rec.rtmpPort, stderr: () => err });
          return;
        }
      }
    });
  });
}

/** SIGTERM by PID, then wait for the exit (SIGKILL after a deadline). Serves the publisher too. */
async function stopServer(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

interface RawResponse {
  status: number;
  text: string;
}

/** Sends `head` (request line and headers, unmodified) and reads the whole response. */
function rawRequest(port: number, requestLine: string): Promise<RawResponse> {
  return new Promise((resolvePromise, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete response to ${JSON.stringify(requestLine)} in ${REQUEST_TIMEOUT_MS} ms`));
    }, REQUEST_TIMEOUT_MS);
    socket.on('connect', () => {
      socket.write(Buffer.from(`${requestLine}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, 'latin1'));
    });
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
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolvePromise({ status: m ? Number(m[1]) : 0, text });
    });
  });
}

/** Request lines sent byte for byte. `\\` in the source is one backslash on the wire. */
const ATTACKS: readonly string[] = [
  // Plain dot-dot, as many levels as it takes to reach the sentinel or /etc/passwd.
  'GET /stream/../../etc/passwd HTTP/1.1',
  'GET /stream/../secret.txt HTTP/1.1',
  'GET /stream/x/../../secret.txt HTTP/1.1',
  'GET /stream/x/live.m3u8/../../../secret.txt HTTP/1.1',
  'GET /../secret.txt HTTP/1.1',
  'GET /stream/./../secret.txt HTTP/1.1',
  'GET /stream//..//..//secret.txt HTTP/1.1',
  'GET //stream/../secret.txt HTTP/1.1',
  // Percent-encoded dots and slashes (decoded once by the router, inside one parameter).
  'GET /stream/%2e%2e/%2e%2e/etc/passwd HTTP/1.1',
  'GET /stream/%2e%2e/secret.txt HTTP/1.1',
  'GET /stream/%2E%2E/live.m3u8 HTTP/1.1',
  'GET /stream/x/.%2e/secret.txt HTTP/1.1',
  'GET /stream/x/..%2f..%2fsecret.txt HTTP/1.1',
  'GET /stream/x/..%2Fsecret.txt HTTP/1.1',
  'GET /stream/%2e%2e%2fsecret.txt/live.m3u8 HTTP/1.1',
  'GET /stream/%2e%2e%2f%2e%2e%2fetc%2fpasswd/live.m3u8 HTTP/1.1',
  'GET /stream/x/%2fetc%2fpasswd HTTP/1.1',
  // Double encoding: must not be decoded twice.
  'GET /stream/%252e%252e/%252e%252e%252fsecret.txt HTTP/1.1',
  'GET /stream/x/..%252f..%252fsecret.txt HTTP/1.1',
  // Backslashes, raw and encoded.
  'GET /stream/..\\..\\secret.txt HTTP/1.1',
  'GET /stream/x/..\\..\\secret.txt HTTP/1.1',
  'GET /stream/..%5c..%5csecret/live.m3u8 HTTP/1.1',
  'GET /stream/x/..%5c..%5csecret.txt HTTP/1.1',
  'GET /stream/x/..%5Csecret.txt HTTP/1.1',
  // NUL truncation.
  'GET /stream/x/secret.txt%00.ts HTTP/1.1',
  'GET /stream/x/live_000.ts%00 HTTP/1.1',
  'GET /stream/..%00/live.m3u8 HTTP/1.1',
  // Overlong and look-alike UTF-8 dots and slashes.
  'GET /stream/%c0%ae%c0%ae/%c0%ae%c0%ae/secret.txt HTTP/1.1',
  'GET /stream/x/%c0%ae%c0%ae%c0%afsecret.txt HTTP/1.1',
  'GET /stream/x/%e0%80%ae%e0%80%ae%e0%80%afsecret.txt HTTP/1.1',
  'GET /stream/%ef%bc%8e%ef%bc%8e/live.m3u8 HTTP/1.1',
  'GET /stream/x/%e2%81%84secret.txt HTTP/1.1',
  // Absolute-form and odd request targets.
  'GET http://127.0.0.1/stream/../secret.txt HTTP/1.1',
  'GET http://127.0.0.1/stream/%2e%2e/%2e%2e/secret.txt HTTP/1.1',
  'GET http://127.0.0.1/../secret.txt HTTP/1.1',
  'GET file:///etc/passwd HTTP/1.1',
  'GET ../secret.txt HTTP/1.1',
  'GET * HTTP/1.1',
  'OPTIONS * HTTP/1.1',
  // Other routes that take a parameter.
  'GET /assets/../../secret.txt HTTP/1.1',
  'GET /assets/..%2f..%2fsecret.txt HTTP/1.1',
  'GET /assets/%2e%2e%2fpackage.json HTTP/1.1',
  'GET /watch/..%2f..%2fsecret.txt HTTP/1.1',
  'GET /watch/../secret.txt HTTP/1.1',
  // Other methods.
  'HEAD /stream/x/..%2f..%2fsecret.txt HTTP/1.1',
  'HEAD /stream/../secret.txt HTTP/1.1',
  'OPTIONS /stream/../../secret.txt HTTP/1.1',
  'POST /stream/x/..%2fsecret.txt HTTP/1.1',
];

/** The same tricks aimed through a stream that is live, so they get past the unknown-stream gate. */
const LIVE_ATTACKS: readonly string[] = [
  'GET /stream/victim/../secret.txt HTTP/1.1',
  'GET /stream/victim/../../secret.txt HTTP/1.1',
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
  // A symlink planted in the live stream's directory, named like a segment.
  'GET /stream/victim/live_999.ts HTTP/1.1',
  'HEAD /stream/victim/live_999.ts HTTP/1.1',
];
const LIVE_TIMEOUT_MS = 30_000;
/** The publisher stops by itself after this long even if cleanup never runs. */
const PUBLISH_SECONDS = 60;

let tmp: string;
let token: string;
let server: Server | undefined;
let publisher: ChildProcess | undefined;

beforeAll(
  async () => {
    tmp = await mkdtemp(join(tmpdir(), 'e2e-traversal-'));
    token = `TOKEN-${randomBytes(16).toString('hex')}`;
    const outputDir = join(tmp, 'streams');
    await mkdir(outputDir, { recursive: true });
    await writeFile(join(tmp, 'secret.txt'), token);
    await mkdir(join(tmp, 'etc'));
    await writeFile(join(tmp, 'etc', 'passwd'), token);
    // A stream-looking directory under the root that is a symlink to outside it.
    await mkdir(join(tmp, 'outside'));
    await writeFile(join(tmp, 'outside', 'live.m3u8'), `#EXTM3U\n#${token}\n`);
    await symlink(join(tmp, 'outside'), join(outputDir, 'x'));
    server = await startServer(outputDir);
    publisher = spawn(
      'ffmpeg',
      [
        '-v',
        'error',
        '-nostdin',
        '-re',
        '-f',
        'lavfi',
        '-i',
        'testsrc=size=160x120:rate=10',
        '-t',
        String(PUBLISH_SECONDS),
      ]
        .concat(['-c:v', 'libx264', '-preset', 'veryfast', '-g', '10', '-pix_fmt', 'yuv420p', '-f', 'flv'])
        .concat([`rtmp://127.0.0.1:${server.rtmpPort}/live/test/victim`]),
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + LIVE_TIMEOUT_MS;
    let status = 0;
    while (Date.now() < deadline && publisher.exitCode === null) {
      status = (await rawRequest(server.httpPort, 'GET /stream/victim/live.m3u8 HTTP/1.1')).status;
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    if (status !== 200) throw new Error(`victim stream never went live (last status ${status})`);
    await symlink(join(tmp, 'secret.txt'), join(outputDir, 'victim', 'live_999.ts'));
  },
  LIVE_TIMEOUT_MS + START_TIMEOUT_MS + 5_000,
);

afterAll(async () => {
  await stopServer(publisher);
  if (server) await stopServer(server.proc);
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('raw path traversal attempts', () => {
  it.each(ATTACKS)('%s → 4xx without the sentinel', async (line) => {
    const res = await rawRequest(server!.httpPort, line);
    expect(res.text).not.toContain(token);
    expect(res.status, res.text.slice(0, 500)).toBeGreaterThanOrEqual(400);
    expect(res.status, res.text.slice(0, 500)).toBeLessThan(500);
  });

  it.each(LIVE_ATTACKS)('%s (live stream) → 4xx without the sentinel', async (line) => {
    const res = await rawRequest(server!.httpPort, line);
    expect(res.text).not.toContain(token);
    expect(res.status, res.text.slice(0, 500)).toBeGreaterThanOrEqual(400);
    expect(res.status, res.text.slice(0, 500)).toBeLessThan(500);
  });

  it('is still healthy afterwards and serves nothing through the planted symlink', async () => {
    const health = await rawRequest(server!.httpPort, 'GET /healthz HTTP/1.1');
    expect(health.status).toBe(200);
    expect((await rawRequest(server!.httpPort, 'GET /stream/victim/live.m3u8 HTTP/1.1')).status).toBe(200);
    // The planted link is refused by the realpath check itself, not by some earlier accident.
    const planted = await rawRequest(server!.httpPort, 'GET /stream/victim/live_999.ts HTTP/1.1');
    expect(planted.status).toBe(403);
    expect(planted.text).toContain('ERR_HTTP_PATH_ESCAPE');
    const viaLink = await rawRequest(server!.httpPort, 'GET /stream/x/live.m3u8 HTTP/1.1');
    expect(viaLink.status).toBeGreaterThanOrEqual(400);
    expect(viaLink.text).not.toContain(token);
    expect(server!.stderr()).not.toMatch(/uncaught|unhandled/i);
  });
});
