/**
 * Path traversal against the real built server, with raw request lines over TCP: fetch and
 * inject() normalise `..`, `%2e` and `\` before sending, which is exactly what an attacker's
 * client does not do. A random token sits in a file just outside the output root; no response
 * may ever contain it, and every attempt must end in a 4xx.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, TRAVERSAL_ATTACKS } from '../helpers/raw-http';
import { ffmpegPublisher, killAll, type Proc, type Server, startServer, stop } from './helpers/ingest';

const START_TIMEOUT_MS = 15_000;

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
  ...TRAVERSAL_ATTACKS,
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
let publisher: Proc | undefined;

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
    publisher = ffmpegPublisher(`rtmp://127.0.0.1:${server.rtmpPort}/live/test/victim`, {
      seconds: PUBLISH_SECONDS,
      size: '160x120',
    });
    const deadline = Date.now() + LIVE_TIMEOUT_MS;
    let status = 0;
    while (Date.now() < deadline && publisher.proc.exitCode === null) {
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
  await stop(publisher);
  await stop(server);
  await killAll();
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
    expect(server!.output()).not.toMatch(/uncaught|unhandled/i);
  });
});
