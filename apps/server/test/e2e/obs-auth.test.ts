/**
 * The real OBS Studio 29 with "Use authentication" (helpers/obs.ts `useAuth`): OBS sends nothing
 * about its credentials until the server refuses the first connect with the Adobe
 * `authmod=adobe` answer, so one Start Streaming makes three connections (no credentials → asked
 * for them; the user → a challenge; the response → accepted). The right password streams to HLS;
 * a wrong one is refused and OBS reports the failed connection; neither the password nor
 * anything derived from it reaches the server's output.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeAdobeUserEntry } from '@org/auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, type Server, startServer, waitForPlaylist } from './helpers/ingest';
import { type Obs, startObs } from './helpers/obs';

const USER = 'obsuser';
const PASSWORD = 'Obs-pa55-w0rd';
const ENTRY = makeAdobeUserEntry(USER, PASSWORD);

let tmp: string;
let server: Server;
let obs: Obs | undefined;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'e2e-obs-auth-'));
  const config = join(tmp, 'config.json');
  await writeFile(config, JSON.stringify({ adobeAuth: { users: { [USER]: ENTRY } } }));
  server = await startServer(join(tmp, 'out'), ['--config', config, '--log-level', 'debug']);
}, 30_000);

afterAll(async () => {
  await obs?.quit(3_000);
  await killAll();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const logged = (msg: string) => server.logs().filter((l) => l.msg === msg);
const service = (password: string) => ({
  server: `rtmp://127.0.0.1:${server.rtmpPort}/live/test`,
  key: USER,
  useAuth: true,
  username: USER,
  password,
});

describe('OBS Studio 29 with "Use authentication" (authmod=adobe)', () => {
  it('logs in over three connections and streams with the right password', async () => {
    obs = await startObs({ service: service(PASSWORD) });
    await waitForPlaylist(server, USER, 1, 20_000).catch((err) => {
      throw new Error(`${err.message}\n${obs?.problems()}`);
    });
    // Connection 1: no credentials, asked for them; 2: the user, a challenge; 3: the response.
    expect(logged('adobe login: asked for credentials')).toHaveLength(1);
    expect(logged('adobe login: challenge sent')).toMatchObject([{ user: USER }]);
    expect(logged('adobe login')).toMatchObject([{ user: USER }]);
    expect(server.logs().filter((l) => l.msg === 'publishing' && l.stream === USER)).toMatchObject([
      { app: 'live/test' },
    ]);
    const metrics = await (await fetch(server.url('/metrics'))).text();
    expect(metrics).toMatch(/rtmp_adobe_logins_total\{result="accepted",reason="ok"\} 1/);
    const exit = await obs.quit();
    obs = undefined;
    expect(exit.log).toContain('==== Shutting down');
  }, 90_000);

  it('is refused with a wrong password: OBS reports the failed connection, nothing is published', async () => {
    const before = logged('adobe login refused').length;
    await expect(startObs({ service: { ...service('not-the-password'), key: 'obswrong' } })).rejects.toThrow(
      /Connection to rtmp:\/\/127\.0\.0\.1:\d+\/live\/test failed/,
    );
    expect(logged('adobe login refused').slice(before)).toMatchObject([
      { code: 'ERR_AUTH_ADOBE_BAD_RESPONSE', user: USER },
    ]);
    expect(server.logs().filter((l) => l.msg === 'publishing' && l.stream === 'obswrong')).toHaveLength(0);
  }, 90_000);

  it('writes no password, digest or salt to the server output', () => {
    const output = server.output();
    const [, salt, digest] = ENTRY.split(':') as [string, string, string];
    for (const secret of [PASSWORD, 'not-the-password', salt, digest]) {
      expect(output.includes(secret), secret).toBe(false);
      expect(output.includes(encodeURIComponent(secret)), secret).toBe(false);
    }
  });
});
