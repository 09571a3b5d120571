/**
 * No secret of the test's configuration reaches the server's output. The server runs at debug level
 * with every credential the config file and the command line can hold (stream keys, two URL-signing
 * secrets, a webhook bearer token, a TLS private key, an Adobe login user), and real ffmpeg and
 * rtmp2sink publishers, raw RTMP clients and HTTP requests carry them, right and wrong, in every place a client puts them: the stream
 * name's query, the app's query (OBS's "Server" field), the tcUrl, RTMPS, viewer URLs. Then the
 * whole of stdout and stderr is searched for each secret, raw and URL-encoded, and for the stored
 * forms of the keys.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server as HttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashStreamKey, makeAdobeUserEntry, signPublishUrl } from '@org/auth';
import { RtmpClient } from '@org/rtmp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ffmpegPublisher,
  gstPublisher,
  killAll,
  type Server,
  sleep,
  startServer,
  stop,
  waitForPlaylist,
} from './helpers/ingest';

const FIXTURES = join(import.meta.dirname, '../../../../packages/rtmp/test/fixtures/tls');
const ALICE_KEY = 'alice-Key-7f3a9c1e5b2d';
const BOB_KEY = 'bob+Key/2e8d=4c6a&x';
const WRONG_KEY = 'guessed-Key-0a1b2c3d4e';
const SIGNING_SECRET = 'signing-secret-6d1f7b3a9e5c';
const OLD_SIGNING_SECRET = 'old-signing-secret-2b4d6f8a';
const WEBHOOK_TOKEN = 'hook-token-9c8b7a6f5e4d';
const DAVE_PASSWORD = 'dave-Pass-5e7c9a1b3d';
const WRONG_PASSWORD = 'dave-Guess-8f6e4d2c0b';
const DAVE_ENTRY = makeAdobeUserEntry('dave', DAVE_PASSWORD);
let tmp: string;
let server: Server;
let rtmpsPort: number;
let hook: HttpServer;
const hookAuthorizations: string[] = [];

/** Stored forms: what the config file holds instead of the keys. */
const storedKeys = { alice: hashStreamKey(ALICE_KEY), bob: hashStreamKey(BOB_KEY, { algorithm: 'sha256' }) };

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'e2e-secrets-'));
  hook = createServer((req, res) => {
    hookAuthorizations.push(String(req.headers.authorization));
    req.resume();
    res.writeHead(204).end();
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const hookPort = (hook.address() as { port: number }).port;
  const configFile = join(tmp, 'config.json');
  const auth = {
    streamKeys: { keys: storedKeys },
    signedUrls: { secret: [SIGNING_SECRET, OLD_SIGNING_SECRET] },
    webhook: { url: `http://127.0.0.1:${hookPort}/on_publish`, headers: { authorization: `Bearer ${WEBHOOK_TOKEN}` } },
  };
  // Not challenged unasked, so the keyed publishers go on to the key checks; rtmp2sink asks.
  const adobeAuth = { users: { dave: DAVE_ENTRY }, challengeEveryConnect: false };
  writeFileSync(configFile, JSON.stringify({ auth, adobeAuth }));
  copyFileSync(join(FIXTURES, 'cert.pem'), join(tmp, 'cert.pem'));
  copyFileSync(join(FIXTURES, 'key.pem'), join(tmp, 'key.pem'));
  const tls = ['--tls-cert', join(tmp, 'cert.pem'), '--tls-key', join(tmp, 'key.pem'), '--rtmps-port', '0'];
  server = await startServer(join(tmp, 'out'), ['--config', configFile, '--log-level', 'debug', ...tls]);
  rtmpsPort = server.logs().find((l) => l.msg === 'listening')?.rtmpsPort as number;
}, 30_000);

afterAll(async () => {
  await killAll();
  await new Promise((r) => hook?.close(r));
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const signed = (path: string, secret = SIGNING_SECRET, ttlSeconds = 600) =>
  signPublishUrl({ path, secret, ttlSeconds });

/** One publish through @org/rtmp's client with `app` and `tcUrl` as given; 'accepted' or the refusal. */
async function publish(app: string, name: string): Promise<string> {
  const port = server.rtmpPort;
  let c: RtmpClient | undefined;
  try {
    const tcUrl = `rtmp://127.0.0.1:${port}/${app}`;
    c = await RtmpClient.connect({ host: '127.0.0.1', port, app, tcUrl }, { timeout: 10_000 });
    await c.publish(name);
    return 'accepted';
  } catch (err) {
    return String((err as { description?: string }).description ?? (err as Error).message);
  } finally {
    c?.destroy();
  }
}

describe('secrets in the log', () => {
  it('never appear, whatever carries them', async () => {
    const alice = signed('/live/test/alice');
    // Accepted: key and signature in the stream name's query, over RTMP and over RTMPS.
    ffmpegPublisher(`rtmp://127.0.0.1:${server.rtmpPort}/live/test/alice?key=${ALICE_KEY}&${alice.query}`, {
      seconds: 20,
    });
    await waitForPlaylist(server, 'alice', 1);
    const bob = signed('/live/test/bob', OLD_SIGNING_SECRET);
    const bobQuery = `key=${encodeURIComponent(BOB_KEY)}&${bob.query}`;
    ffmpegPublisher(`rtmps://127.0.0.1:${rtmpsPort}/live/test/bob?${bobQuery}`, { seconds: 20 });
    await waitForPlaylist(server, 'bob', 1);

    // The Adobe login, started by rtmp2sink itself (authmod=adobe): right and wrong password.
    const sink = (password: string) => [
      'rtmp2sink',
      `location=rtmp://127.0.0.1:${server.rtmpPort}/live/test/dave`,
      ...['authmod=adobe', 'username=dave', `password=${password}`],
    ];
    const wrong = gstPublisher(sink(WRONG_PASSWORD), { seconds: 2, frequency: 330 });
    await wrong.exited;
    gstPublisher(sink(DAVE_PASSWORD), { seconds: 20, frequency: 550 });
    await waitForPlaylist(server, 'dave', 1, 20_000);

    // OBS's split: the credentials in the app (its "Server" field), so in the tcUrl as well.
    const carolSig = signed('/live/test/carol');
    const outcomes = [
      await publish(`live/test?key=${WRONG_KEY}&${carolSig.query}`, 'carol'),
      await publish('live/test', `alice?key=${WRONG_KEY}&${alice.query}`),
      await publish('live/test', `alice?key=${ALICE_KEY}&expires=${alice.expires}&sig=${'0'.repeat(64)}`),
      await publish(`live/test?key=${ALICE_KEY}`, `alice?expires=${alice.expires}&sig=${carolSig.sig}`),
      await publish('live', `test/bob?${bobQuery}&key=${WRONG_KEY}`),
    ];
    expect(outcomes.every((o) => o !== 'accepted')).toBe(true);

    // Viewer routes with credentials in the query and in the path.
    const urls = [
      `/stream/alice/live.m3u8?key=${ALICE_KEY}&sig=${alice.sig}`,
      `/stream/alice/..%2f..%2fetc/live.m3u8?key=${ALICE_KEY}&sig=${carolSig.sig}`,
      `/watch/alice?token=${WEBHOOK_TOKEN}`,
      `/api/streams?key=${BOB_KEY}`,
    ];
    for (const u of urls) await fetch(server.url(u)).then((r) => r.arrayBuffer());
    // A certificate reread (SIGHUP) logs about the TLS files, never their contents.
    process.kill(server.pid, 'SIGHUP');
    await sleep(1000);
    await stop(server);

    // The checks ran for real: the webhook saw the token, publishers got in and were refused.
    expect(hookAuthorizations).toContain(`Bearer ${WEBHOOK_TOKEN}`);
    const logs = server.logs();
    expect(logs.filter((l) => l.msg === 'publishing').length).toBeGreaterThanOrEqual(2);
    expect(logs.filter((l) => l.msg === 'publish refused').length).toBeGreaterThanOrEqual(5);
    expect(logs.some((l) => l.level === 20)).toBe(true); // debug lines were written
    expect(logs.filter((l) => l.msg === 'adobe login')).toMatchObject([{ user: 'dave' }]);
    expect(logs.filter((l) => l.msg === 'adobe login refused')).toMatchObject([{ user: 'dave' }]);

    const output = server.output();
    // The credentials did reach the lines that log apps and names, in their redacted form.
    expect(output.split('[redacted]').length - 1).toBeGreaterThanOrEqual(8);
    const pem = readFileSync(join(FIXTURES, 'key.pem'), 'utf8');
    const pemLines = pem.split('\n').filter((l) => l.length >= 40 && !l.startsWith('-----'));
    const secrets = [
      ALICE_KEY,
      BOB_KEY,
      WRONG_KEY,
      SIGNING_SECRET,
      OLD_SIGNING_SECRET,
      WEBHOOK_TOKEN,
      alice.sig,
      bob.sig,
      carolSig.sig,
      ...Object.values(storedKeys),
      DAVE_PASSWORD,
      WRONG_PASSWORD,
      ...DAVE_ENTRY.split(':').slice(1), // the salt and the digest
      createHash('sha256').update(ALICE_KEY).digest('hex'),
      ...pemLines,
    ];
    expect(pemLines.length).toBeGreaterThan(0);
    // rtmp2sink's challenge and response: in the logged app and tcUrl of its last connect, redacted.
    for (const param of ['challenge', 'response']) {
      expect(output).toMatch(new RegExp(`[?&]${param}=\\[redacted\\]`));
      expect(output).not.toMatch(new RegExp(`[?&]${param}=(?!\\[redacted\\])`));
    }
    for (const secret of secrets) {
      for (const form of new Set([secret, encodeURIComponent(secret)])) {
        expect(output.includes(form), `${JSON.stringify(form)} in the server output`).toBe(false);
      }
    }
  }, 90_000);
});
