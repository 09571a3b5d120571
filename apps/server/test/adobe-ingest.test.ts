/**
 * The Adobe challenge login on the assembled server, driven by hand with @org/rtmp's RtmpClient
 * the way FFmpeg drives it (three connects; the response computed here with node:crypto): the
 * descriptions of each step, a logged-in connection standing in for the stream key, a login as one
 * user publishing as another, the metrics, and what reaches the log (codes, never the secrets).
 */
import crypto from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { hashStreamKey, isAuthConfigError, makeAdobeUserEntry } from '@org/auth';
import { RtmpClient, type RtmpRejection } from '@org/rtmp';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdobeGate } from '../src/adobe-connect';
import { type RunningServer, startServer } from '../src/app';
import { loadConfig } from '../src/config';
import { resolveBinary } from '../src/ffmpeg-resolve';
import { LogLimiter } from '../src/log-limiter';

const root = mkdtempSync(join(tmpdir(), 'adobe-ingest-test-'));
const ENTRY = makeAdobeUserEntry('johndoe', 'secret');
let server: RunningServer;
let logText = '';
const clients: RtmpClient[] = [];
/** Every salt, token and response that went over the wire, to look for in the log. */
const secrets = new Set<string>(['secret', ENTRY.split(':')[2]!]);

beforeAll(async () => {
  const { config } = loadConfig({
    argv: [
      ...['--http-port', '0', '--rtmp-host', '127.0.0.1', '--http-host', '127.0.0.1'],
      ...['--output-dir', join(root, 'out'), '--publish-timeout-ms', '2000'],
    ],
  });
  // johndoe also has a stream key: the login must stand in for it.
  config.auth = { streamKeys: { keys: { johndoe: hashStreamKey('the-key-0001', { algorithm: 'sha256' }) } } };
  config.adobeAuth = { users: { johndoe: ENTRY, janedoe: makeAdobeUserEntry('janedoe', 'other') } };
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logText += chunk.toString();
      done();
    },
  });
  server = await startServer({
    config: { ...config, rtmpPort: 0 },
    logger: pino({ level: 'debug' }, sink),
    ffmpeg: await resolveBinary('ffmpeg'),
  });
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.destroy();
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

async function connect(app: string): Promise<RtmpClient> {
  const c = await RtmpClient.connect({ host: '127.0.0.1', port: server.rtmpPort, app });
  clients.push(c);
  return c;
}

async function refusedConnect(app: string): Promise<RtmpRejection> {
  const err = await connect(app).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err === undefined) throw new Error(`connect ${app} was accepted`);
  return err as RtmpRejection;
}

const b64md5 = (s: string) => crypto.createHash('md5').update(s).digest('base64');

/** FFmpeg's three connects as `user` with `password`: the logged-in client, or the last refusal. */
async function login(user: string, password: string, app = 'live/test'): Promise<RtmpClient | RtmpRejection> {
  const first = await refusedConnect(app);
  expect(first.status).toBe('NetConnection.Connect.Rejected');
  expect(first.description).toContain('code=403 need auth');
  expect(first.description).toContain('authmod=adobe');
  const second = await refusedConnect(`${app}?authmod=adobe&user=${user}`);
  const m = /\?reason=needauth&user=([^&]*)&salt=([^&]*)&challenge=([^&]*)&opaque=([^&]*)$/.exec(second.description);
  if (!m) throw new Error(`no challenge in ${second.description}`);
  const [, echoed, salt, , opaque] = m as unknown as string[];
  const clientChallenge = crypto.randomBytes(4).toString('hex');
  const response = b64md5(`${b64md5(`${echoed}${salt}${password}`)}${opaque}${clientChallenge}`);
  for (const s of [salt!, opaque!, response]) secrets.add(s);
  const answer = `${app}?authmod=adobe&user=${user}&challenge=${clientChallenge}&response=${response}&opaque=${opaque}`;
  return connect(answer).catch((e: unknown) => e as RtmpRejection);
}

async function metricsText(): Promise<string> {
  return (await server.http.inject({ method: 'GET', url: '/metrics' })).body;
}

describe('Adobe challenge login at connect', () => {
  it('logs in with the right password, and the login stands in for the stream key', async () => {
    const c = await login('johndoe', 'secret');
    expect(c).toBeInstanceOf(RtmpClient);
    await (c as RtmpClient).publish('johndoe');
    expect(logText).toMatch(/"user":"johndoe","msg":"adobe login"/);
    expect(logText).toMatch(/"app":"live\/test".*"adobeUser":"johndoe","msg":"publishing"/);
    (c as RtmpClient).destroy();
  });

  it('refuses a login as johndoe that publishes as janedoe, with a clear onStatus', async () => {
    const c = (await login('johndoe', 'secret')) as RtmpClient;
    const err = (await c.publish('janedoe').catch((e: unknown) => e)) as RtmpRejection;
    expect(err.status).toBe('NetStream.Publish.Unauthorized');
    expect(err.description).toBe('logged in as "johndoe", which may not publish as "janedoe"');
    expect(logText).toContain('"code":"ERR_AUTH_ADOBE_USER_MISMATCH"');
  });

  it('refuses a wrong password with reason=authfailed and logs the code', async () => {
    const err = (await login('janedoe', 'wrong')) as RtmpRejection;
    expect(err.status).toBe('NetConnection.Connect.Rejected');
    expect(err.description).toBe('[ AccessManager.Reject ] : [ authmod=adobe ] : ?reason=authfailed');
    expect(logText).toMatch(/"code":"ERR_AUTH_ADOBE_BAD_RESPONSE".*"user":"janedoe".*"msg":"adobe login refused"/);
  });

  it('counts every step in rtmp_adobe_logins_total', async () => {
    const text = await metricsText();
    expect(text).toMatch(/rtmp_adobe_logins_total\{result="challenged",reason="need_auth"\} [3-9]/);
    expect(text).toMatch(/rtmp_adobe_logins_total\{result="challenged",reason="needauth"\} [3-9]/);
    expect(text).toMatch(/rtmp_adobe_logins_total\{result="accepted",reason="ok"\} 2/);
    expect(text).toMatch(/rtmp_adobe_logins_total\{result="refused",reason="ERR_AUTH_ADOBE_BAD_RESPONSE"\} 1/);
  });

  it('writes no password, digest, salt, token or response to the log', () => {
    expect(logText.length).toBeGreaterThan(0);
    for (const s of secrets) expect(logText, s).not.toContain(s);
    expect(logText).not.toMatch(/(response|challenge|opaque|salt)=(?!\[redacted\])/);
  });
});

describe('createAdobeGate', () => {
  const log = pino({ level: 'silent' });
  const gate = (section: Record<string, unknown>) =>
    createAdobeGate({
      section: { users: { johndoe: ENTRY }, ...section },
      limits: undefined,
      limiter: new LogLimiter(),
    });

  it('lets an anonymous connect through with challengeEveryConnect: false (stream keys then decide)', () => {
    expect(gate({ challengeEveryConnect: false }).check('live/test', '10.0.0.1', log)).toBeUndefined();
    expect(() => gate({}).check('live/test', '10.0.0.1', log)).toThrow(/authentication challenge/);
  });

  it('refuses bad configuration at start with an AuthConfigError', () => {
    for (const section of [{ challengeEveryConnect: 'yes' }, { users: { johndoe: 'secret' } }, { typo: 1 }]) {
      let caught: unknown;
      try {
        gate(section);
      } catch (err) {
        caught = err;
      }
      expect(isAuthConfigError(caught), JSON.stringify(section)).toBe(true);
    }
  });
});
