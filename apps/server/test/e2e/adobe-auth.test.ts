/**
 * The Adobe challenge login end to end, with the built server (users made by its own `adobe-user`
 * command) and the real clients: FFmpeg (`rtmp://user:pass@host/live/test/user`) and GStreamer
 * rtmp2sink (`username=`/`password=`, authmod auto). The right password publishes and the playlist
 * appears; a wrong one is refused with the reason the client prints and the code in the server
 * log; a login as one user publishing another's path is refused; N bad answers from one address
 * trip the rate limit; and no password, digest, salt, token or response is anywhere in the log.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  gstPublisher,
  killAll,
  MAIN,
  type Proc,
  type Server,
  start,
  startServer,
  stop,
  waitForPlaylist,
  within,
} from './helpers/ingest';

const USERS = { johndoe: 'Pw-j0hn-s3cret', janedoe: 'Pw-jane-0ther' } as const;
const RATE_LIMIT = 3;

let tmp: string;
let server: Server;
/** Strings that must never reach the server's output. */
const secrets = new Set<string>(Object.values(USERS));
/** Challenge tokens the clients were sent (FFmpeg prints them at verbose). */
const tokens = new Set<string>();

/** The `adobeAuth.users` member the built server's `adobe-user` command prints (password on stdin). */
function adobeUser(username: string, password: string): [string, string] {
  const r = spawnSync(process.execPath, [MAIN, 'adobe-user', username], { input: `${password}\n`, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const [name, entry] = JSON.parse(`[${r.stdout.trim().replace('": "', '", "')}]`) as [string, string];
  secrets.add(entry.split(':')[2]!); // the digest
  secrets.add(entry.split(':')[1]!); // the salt
  return [name, entry];
}

async function serverWith(adobeAuth: Record<string, unknown>, name: string): Promise<Server> {
  const config = join(tmp, `${name}.json`);
  await writeFile(config, JSON.stringify({ adobeAuth }));
  return startServer(join(tmp, name), ['--config', config, '--log-level', 'debug']);
}

/** FFmpeg at `verbose`: it prints each challenge description, so the test learns the tokens too. */
function ffmpegVerbose(url: string, seconds: number): Proc {
  return start('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'verbose', '-re', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25'],
    ...['-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-f', 'flv', url],
  ]);
}

/** Runs a client to its exit; its output, after noting every salt/token it was sent. */
async function runToExit(p: Proc): Promise<{ code: number | null; output: string }> {
  const { code } = await within(30_000, 'publisher exit', p.exited);
  const output = p.output();
  for (const m of output.matchAll(/&salt=([^&\s]+)&challenge=([^&\s]+)&opaque=([^&\s]+)/g)) {
    for (const s of m.slice(1)) secrets.add(s!);
    tokens.add(m[3]!);
  }
  return { code, output };
}

const url = (s: Server, auth: string, path: string) => `rtmp://${auth}127.0.0.1:${s.rtmpPort}/live/test/${path}`;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'e2e-adobe-'));
  const users = Object.fromEntries(Object.entries(USERS).map(([u, p]) => adobeUser(u, p)));
  server = await serverWith({ users, maxFailuresPerAddress: 100 }, 'main');
}, 30_000);

afterAll(async () => {
  await killAll();
  await rm(tmp, { recursive: true, force: true });
});

describe('Adobe challenge login (authmod=adobe)', () => {
  it('FFmpeg with the right password publishes: the playlist appears', async () => {
    const p = ffmpegVerbose(url(server, `johndoe:${USERS.johndoe}@`, 'johndoe'), 6);
    await waitForPlaylist(server, 'johndoe', 1, 20_000);
    const { code } = await runToExit(p);
    expect(code).toBe(0);
    expect(server.output()).toContain('"user":"johndoe","msg":"adobe login"');
  }, 40_000);

  it('rtmp2sink with username= and password= publishes: the playlist appears', async () => {
    const sink = `location=${url(server, '', 'janedoe')}`;
    const p = gstPublisher(['rtmp2sink', sink, 'username=janedoe', `password=${USERS.janedoe}`], {
      seconds: 5,
      frequency: 880,
    });
    await waitForPlaylist(server, 'janedoe', 1, 20_000);
    await runToExit(p);
    expect(server.output()).toContain('"user":"janedoe","msg":"adobe login"');
  }, 40_000);

  it('FFmpeg with a wrong password is refused: it prints the reason, the server logs the code', async () => {
    const { code, output } = await runToExit(ffmpegVerbose(url(server, 'johndoe:wrong-pass@', 'johndoe'), 2));
    expect(code).not.toBe(0);
    expect(output).toContain('Incorrect username/password');
    expect(output).toContain('Server error: [ AccessManager.Reject ] : [ authmod=adobe ] : ?reason=authfailed');
    expect(server.output()).toMatch(/"code":"ERR_AUTH_ADOBE_BAD_RESPONSE".*"msg":"adobe login refused"/);
  }, 40_000);

  it('rtmp2sink with a wrong password is refused with the reason', async () => {
    const sink = ['rtmp2sink', `location=${url(server, '', 'janedoe')}`, 'username=janedoe', 'password=nope'];
    const { code, output } = await runToExit(gstPublisher(sink, { seconds: 2, frequency: 440 }));
    expect(code).not.toBe(0);
    expect(output).toContain('authentication failed; wrong credentials?');
    expect(output).toContain('?reason=authfailed');
  }, 40_000);

  it('a login as johndoe publishing janedoe’s path is refused', async () => {
    const { code, output } = await runToExit(ffmpegVerbose(url(server, `johndoe:${USERS.johndoe}@`, 'janedoe'), 2));
    expect(code).not.toBe(0);
    expect(output).toContain('logged in as "johndoe", which may not publish as "janedoe"');
    expect(server.output()).toContain('"code":"ERR_AUTH_ADOBE_USER_MISMATCH"');
  }, 40_000);

  it(`trips the per-address rate limit after ${RATE_LIMIT} bad answers, refusing even the right password`, async () => {
    const users = Object.fromEntries([adobeUser('johndoe', USERS.johndoe)]);
    const limited = await serverWith({ users, maxFailuresPerAddress: RATE_LIMIT }, 'limited');
    try {
      for (let i = 0; i < RATE_LIMIT; i++) {
        const { output } = await runToExit(ffmpegVerbose(url(limited, 'johndoe:wrong-pass@', 'johndoe'), 1));
        expect(output).toContain('Incorrect username/password');
      }
      const { code, output } = await runToExit(ffmpegVerbose(url(limited, `johndoe:${USERS.johndoe}@`, 'johndoe'), 1));
      expect(code).not.toBe(0);
      expect(output).toMatch(/\?reason=ratelimited&retry_after=\d+/);
      expect(limited.output()).toContain('"code":"ERR_AUTH_ADOBE_RATE_LIMITED"');
      const metrics = await (await fetch(limited.url('/metrics'))).text();
      expect(metrics).toMatch(/limit_trips_total\{limit="adobe_login_failure_rate"\} 1/);
      expect(metrics).toMatch(/rtmp_adobe_logins_total\{result="refused",reason="ERR_AUTH_ADOBE_BAD_RESPONSE"\} 3/);
      checkNoSecrets(limited.output());
    } finally {
      await stop(limited);
    }
  }, 90_000);

  it('no password, digest, salt, token or response appears anywhere in the server output', () => {
    checkNoSecrets(server.output());
  });
});

function checkNoSecrets(output: string) {
  expect(output.length).toBeGreaterThan(1000);
  expect(tokens.size).toBeGreaterThan(0); // else the test would not know what to look for
  for (const s of secrets) expect(output, `found ${s}`).not.toContain(s);
  expect(output).not.toMatch(/(response|challenge|opaque|salt)=(?!\[redacted\])/);
}
