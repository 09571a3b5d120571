/**
 * The real OBS Studio 29.0.2 (Debian 12) publishing to the built server, headless (helpers/obs.ts:
 * Xvfb, software OpenGL, a looped media source, hotkeys through xdotool): a publish with OBS's
 * server URL + stream key split reaches HLS with its H.264 + AAC; stopping and starting the stream
 * by hotkey within the reconnect grace continues the same playlist after a discontinuity; and
 * OBS over RTMPS.
 *
 * RTMPS: OBS 29's librtmp (mbedtls 2.28) always verifies the server certificate, against
 * /etc/ssl/certs/ only (plugins/obs-outputs/librtmp/rtmp.c `RTMP_TLS_LoadCerts`; no setting or
 * environment variable changes that). So OBS runs in a private mount namespace with a dir holding
 * only the test certificate bind-mounted over /etc/ssl/certs; the machine's trust store is not
 * touched. It connects to `localhost`, not `127.0.0.1`: mbedtls 2.28 matches the host against the
 * certificate's CN and DNS names only, never an IP address SAN, so `rtmps://127.0.0.1` fails with
 * "Cert verify failed: 4" (CN mismatch) even with the certificate trusted. librtmp prefers IPv4
 * addresses, so `localhost` is 127.0.0.1 (the server listens there only).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Playlist, probeStreams } from '../helpers/media';
import { getPlaylist, killAll, type Server, sleep, startServer, waitForPlaylist } from './helpers/ingest';
import { type Obs, startObs } from './helpers/obs';

const TLS = join(import.meta.dirname, '../../../../packages/rtmp/test/fixtures/tls');
const CERT = join(TLS, 'cert.pem');
/** The server's default reconnect grace: OBS's stop + start by hand must fit in it. */
const GRACE_MS = 5000;

let tmp: string;
let server: Server;
let rtmpsPort: number;
let obs: Obs | undefined;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'e2e-obs-test-'));
  server = await startServer(
    join(tmp, 'out'),
    ['--tls-cert', CERT, '--tls-key', join(TLS, 'key.pem')].concat(['--rtmps-port', '0']),
  );
  rtmpsPort = server.logs().find((l) => l.msg === 'listening')?.rtmpsPort as number;
}, 30_000);

afterAll(async () => {
  await obs?.quit(3_000);
  await killAll();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const logsOf = (stream: string, msg: string) => server.logs().filter((l) => l.stream === stream && l.msg === msg);

/** The newest segment of `username`'s playlist, fetched and ffprobed. */
async function probeNewestSegment(username: string) {
  const pl = await waitForPlaylist(server, username, 2, 20_000);
  const name = pl.segments.at(-1) as string;
  const r = await fetch(server.url(`/stream/${username}/${name}`));
  expect(r.status, name).toBe(200);
  const file = join(tmp, `${username}-${name}`);
  await writeFile(file, new Uint8Array(await r.arrayBuffer()));
  const streams = await probeStreams(file);
  expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 320, height: 180 });
  expect(streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac', sample_rate: '44100' });
}

describe('OBS Studio 29 as a publisher', () => {
  it('publishes server rtmp://…/live/test + key johndoe: accepted, playlist, H.264 + AAC segments', async () => {
    obs = await startObs({ service: { server: `rtmp://127.0.0.1:${server.rtmpPort}/live/test`, key: 'johndoe' } });
    const t0 = Date.now();
    await waitForPlaylist(server, 'johndoe', 1, 20_000).catch((err) => {
      throw new Error(`${err.message}\n${obs?.problems()}`);
    });
    console.log(`OBS streaming → first playlist: ${Date.now() - t0} ms`);
    // OBS sends the whole server path as the app and the key as the stream name.
    expect(logsOf('johndoe', 'publishing')).toMatchObject([{ app: 'live/test', publishType: 'live' }]);
    await probeNewestSegment('johndoe');
    expect(obs.log()).toContain('Connection to rtmp://127.0.0.1');
  }, 60_000);

  it('stop and start by hotkey within the grace: the same playlist goes on after a discontinuity, no 404', async () => {
    const o = obs as Obs;
    const before = await waitForPlaylist(server, 'johndoe', 2);
    const seen: Playlist[] = [];
    const statuses: number[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const p = await getPlaylist(server, 'johndoe');
        if (typeof p === 'number') statuses.push(p);
        else seen.push(p);
        await sleep(100);
      }
    })();
    const t0 = Date.now();
    await o.stopStreaming();
    for (let i = 0; i < 50 && logsOf('johndoe', 'publisher left').length === 0; i++) await sleep(100);
    expect(logsOf('johndoe', 'publisher left'), o.problems()).toHaveLength(1);
    await o.startStreaming();
    for (let i = 0; i < 50 && logsOf('johndoe', 'publisher back within the reconnect grace').length === 0; i++) {
      await sleep(100);
    }
    const backMs = Date.now() - t0;
    console.log(`OBS stop → start by hotkey: publisher back after ${backMs} ms`);
    expect(logsOf('johndoe', 'publisher back within the reconnect grace'), o.problems()).toHaveLength(1);
    expect(backMs).toBeLessThan(GRACE_MS);
    // Wait for segments of the second run behind the discontinuity.
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const last = seen.at(-1);
      const tail = last?.text.split('#EXT-X-DISCONTINUITY\n')[1];
      if (tail && (tail.match(/\.ts$/gm)?.length ?? 0) >= 2) break;
      await sleep(200);
    }
    watching = false;
    await watcher;
    expect(statuses, 'playlist statuses other than 200 meanwhile').toEqual([]);
    const last = seen.at(-1) as Playlist;
    expect(last.discontinuities, last.text).toBe(1);
    const seqs = seen.map((p) => p.mediaSequence ?? -1);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThanOrEqual(seqs[i - 1] as number);
    expect(last.mediaSequence).toBeGreaterThan(before.mediaSequence as number);
    // Segment numbers go on across the break: the new run's first segment follows the old run's last.
    const numbers = last.segments.map((s) => Number(/(\d+)\.ts$/.exec(s)?.[1]));
    for (let i = 1; i < numbers.length; i++) expect(numbers[i]).toBe((numbers[i - 1] as number) + 1);
    const [oldPart, newPart] = last.text.split('#EXT-X-DISCONTINUITY\n') as [string, string];
    expect(oldPart).toMatch(/\.ts$/m);
    expect(newPart).toMatch(/\.ts$/m);
    // One stream throughout: no second "stream started", and OBS's second publish was accepted.
    expect(logsOf('johndoe', 'stream started')).toHaveLength(1);
    expect(logsOf('johndoe', 'publishing')).toHaveLength(2);
    const exit = await o.quit();
    obs = undefined;
    console.log(`OBS SIGINT → exit in ${exit.tookMs} ms (${exit.signal ?? `code ${exit.code}`})`);
    if (exit.signal) console.log(`end of OBS's log:\n${exit.log.split('\n').slice(-15).join('\n')}`);
    // SIGINT took OBS's shutdown path (no SIGKILL needed). Not asserted: its exit status. Under CPU
    // load OBS 29 has been seen to crash with SIGSEGV late in that shutdown, after "All scene data
    // cleared" (3 of 7 runs with both cores busy, none of 6 without): OBS's business, not the server's.
    expect(exit.log).toContain('==== Shutting down');
    expect(exit.signal, exit.log.slice(-2000)).not.toBe('SIGKILL');
    expect(exit.tookMs).toBeLessThan(10_000);
  }, 90_000);

  it('over RTMPS: verifies the certificate; trusting the test one (private mount namespace) it streams', async () => {
    expect(rtmpsPort).toBeGreaterThan(0);
    // The plain-RTMP OBS, if a failed test above left it running.
    await obs?.quit(3_000);
    obs = undefined;
    const service = { server: `rtmps://localhost:${rtmpsPort}/live/test`, key: 'obssecure' };
    // Not trusted: mbedtls refuses the self-signed certificate (flag 8 = not trusted).
    await expect(startObs({ service })).rejects.toThrow(/Cert verify failed: 8 /);
    expect(logsOf('obssecure', 'publishing')).toHaveLength(0);
    obs = await startObs({ service, trustedCert: CERT, frequency: 660 });
    await waitForPlaylist(server, 'obssecure', 1, 20_000).catch((err) => {
      throw new Error(`${err.message}\n${obs?.problems()}`);
    });
    expect(logsOf('obssecure', 'publishing')).toMatchObject([{ app: 'live/test' }]);
    await probeNewestSegment('obssecure');
    expect(obs.log()).toContain(`Connection to rtmps://localhost:${rtmpsPort}/live/test successful`);
  }, 90_000);
});
