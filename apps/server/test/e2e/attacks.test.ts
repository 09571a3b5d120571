/**
 * Attacks on the publish path against the built server, with a real ffmpeg publisher streaming
 * throughout: a flood of wrong stream keys against scrypt-hashed keys from 80 loopback addresses
 * (400 attempts, 200 in flight) must leave the live playlist advancing, let a legitimate publisher
 * in meanwhile, cost a bounded number of checks, and write no key to the log. Bounded in count
 * (400 attempts) and time (30 s).
 */
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashStreamKey } from '@org/auth';
import { RtmpClient } from '@org/rtmp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ffmpegPublisher,
  getPlaylist,
  killAll,
  type Server,
  sleep,
  startServer,
  waitForPlaylist,
} from './helpers/ingest';
import { rssBytes, watchRss } from './helpers/rtmp-attack';

const ALICE_KEY = 'alice-secret-key-42';
const CAROL_KEY = 'carol-secret-key-77';
const ERIN_KEY = 'erin-secret-key-55';
const MIB = 1024 * 1024;
let tmp: string;
let server: Server;
let baseline: number;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'e2e-attacks-'));
  const configFile = join(tmp, 'config.json');
  // scrypt, ~50 ms a check
  const keys = { alice: hashStreamKey(ALICE_KEY), carol: hashStreamKey(CAROL_KEY), erin: hashStreamKey(ERIN_KEY) };
  writeFileSync(configFile, JSON.stringify({ auth: { streamKeys: { keys } } }));
  server = await startServer(join(tmp, 'out'), ['--config', configFile]);
  ffmpegPublisher(`rtmp://127.0.0.1:${server.rtmpPort}/live/test/alice?key=${ALICE_KEY}`, { seconds: 60 });
  await waitForPlaylist(server, 'alice', 2);
  baseline = rssBytes(server.pid);
}, 40_000);

afterAll(async () => {
  await killAll();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** One publish attempt from `localAddress`; resolves with the refusal's status, or 'accepted'. */
async function attempt(localAddress: string, name: string, app = 'live/test'): Promise<string> {
  let c: RtmpClient | undefined;
  try {
    // The object form sends `app` as given (a URL's query would not reach it, as OBS's does).
    c = await RtmpClient.connect({ host: '127.0.0.1', port: server.rtmpPort, app }, { localAddress, timeout: 15_000 });
    await c.publish(name);
    return 'accepted';
  } catch (err) {
    return String((err as { description?: string; code?: string }).description ?? (err as Error).message);
  } finally {
    c?.destroy();
  }
}

function tally(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

describe('a flood of wrong stream keys', () => {
  it('leaves the live playlist advancing and a real publisher getting in', async () => {
    // Watch alice's playlist: the longest time between two changes of its newest segment.
    let watching = true;
    let lastChange = Date.now();
    let lastNewest = '';
    let longestGap = 0;
    const watcher = (async () => {
      while (watching) {
        const p = await getPlaylist(server, 'alice');
        const newest = typeof p === 'number' ? '' : (p.segments.at(-1) ?? '');
        const now = Date.now();
        if (newest !== lastNewest) {
          longestGap = Math.max(longestGap, now - lastChange);
          lastChange = now;
          lastNewest = newest;
        }
        await sleep(100);
      }
      longestGap = Math.max(longestGap, Date.now() - lastChange);
    })();

    const rss = watchRss(server.pid);
    const logBefore = server.outputBytes();
    const jobs: (() => Promise<string>)[] = [];
    for (let round = 0; round < 5; round++) {
      for (let host = 10; host < 90; host++) jobs.push(() => attempt(`127.0.0.${host}`, 'alice?key=wrong-guess'));
    }
    const outcomes: string[] = [];
    const deadline = Date.now() + 30_000;
    const worker = async () => {
      for (let job = jobs.shift(); job !== undefined && Date.now() < deadline; job = jobs.shift()) {
        outcomes.push(await job());
      }
    };
    const flood = Promise.all(Array.from({ length: 200 }, worker));
    await sleep(1500); // mid-flood
    const carol = await attempt('127.0.0.250', `carol?key=${CAROL_KEY}`);
    await flood;
    watching = false;
    await watcher;

    expect(carol).toBe('accepted');
    expect(outcomes.length).toBe(400);
    expect(outcomes.filter((o) => o === 'accepted')).toEqual([]);
    // Each refused as a wrong key, or unchecked: the check queue was full, the address failed too
    // often, or (200 handshakes at once, over maxHandshakes) its connection was closed first.
    const known =
      /^(invalid stream key|too many stream key checks in progress|too many failed stream keys|socket error|the server closed the connection)/;
    expect(
      outcomes.filter((o) => !known.test(o)),
      JSON.stringify(tally(outcomes)),
    ).toEqual([]);
    // Without the bounds all 400 ran scrypt (11 s of a saturated thread pool); with them, few do.
    expect(outcomes.filter((o) => o === 'invalid stream key').length).toBeLessThan(200);
    expect(longestGap, 'longest time the playlist stood still').toBeLessThan(3000);
    // 400 refusals: a few rate-limited warnings per kind, not a line each; memory stays flat.
    expect(server.outputBytes() - logBefore, 'log bytes written during the flood').toBeLessThan(100_000);
    expect((await rss.stop()) - baseline, 'peak RSS over the baseline').toBeLessThan(160 * MIB);
    // One address guessing in sequence (for a username nobody else tried) is refused unchecked
    // after its fifth failure.
    const sequential: string[] = [];
    for (let i = 0; i < 6; i++) sequential.push(await attempt('127.0.0.99', 'dave?key=wrong-guess'));
    expect(sequential.slice(0, 5)).toEqual(Array(5).fill('invalid stream key'));
    expect(sequential[5]).toMatch(/^too many failed stream keys; retry in \d+ s$/);
    const log = server.output();
    expect(log).not.toContain(ALICE_KEY);
    expect(log).not.toContain(CAROL_KEY);
    expect(log).not.toContain('wrong-guess');
  }, 60_000);

  it('logs an accepted OBS-style publish (the key in the server URL, so in `app`) without the key', async () => {
    expect(await attempt('127.0.0.251', 'erin', `live/test?key=${ERIN_KEY}`)).toBe('accepted');
    await sleep(300); // the log destination is asynchronous
    const publishing = server.logs().filter((l) => l.msg === 'publishing' && l.stream === 'erin');
    expect(publishing).toHaveLength(1);
    expect(String(publishing[0]?.app)).toContain('[redacted]');
    expect(server.output()).not.toContain(ERIN_KEY);
  }, 30_000);
});
