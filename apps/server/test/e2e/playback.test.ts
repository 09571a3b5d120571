/**
 * End to end: a real ffmpeg publishes RTMP to the built server; the HLS it produces must decode
 * in ffmpeg and play in headless Chromium through `/watch/:username` (hls.js served by the server
 * itself), and the status page must list the stream.
 *
 * Set KEEP_E2E_TMP=1 to keep the temp dir (screenshots `watch.png` and `status.png`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MAIN = resolve(import.meta.dirname, '../../dist/main.js');
const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) {
  console.warn(
    `\n*** playback.test.ts: ${CHROMIUM} not found: SKIPPING the browser playback test (CI installs it) ***\n`,
  );
}
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];
const START_TIMEOUT_MS = 15_000;
const LIVE_TIMEOUT_MS = 30_000;
const POLL_MS = 250;
/** The publisher stops by itself after this long even if the test dies without cleanup. */
const PUBLISH_SECONDS = 90;
const USERNAME = 'johndoe';

/** The little of the page's globals these tests read. */
interface PageGlobals {
  document: {
    body: { dataset: Record<string, string | undefined> };
    getElementById(id: string): { currentTime?: number; hidden?: boolean; textContent: string | null } | null;
  };
  Hls?: unknown;
}

interface Child {
  proc: ChildProcess;
  /** stdout+stderr so far (capped). */
  output: () => string;
}

function spawnChild(cmd: string, args: readonly string[]): Child {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => {
    if (out.length < 200_000) out += d.toString();
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  return { proc, output: () => out };
}

/** SIGTERM by PID, wait for the exit; SIGKILL if it has not exited after 10 s. */
async function stop(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function exitOf(child: Child, timeoutMs: number): Promise<number | null> {
  return new Promise((r) => {
    if (child.proc.exitCode !== null) return r(child.proc.exitCode);
    const timer = setTimeout(() => child.proc.kill('SIGKILL'), timeoutMs);
    child.proc.once('exit', (code) => {
      clearTimeout(timer);
      r(code);
    });
  });
}

/** Spawns the built server; resolves with its ports from the JSON `listening` log line. */
async function startServer(outputDir: string): Promise<{ child: Child; httpPort: number; rtmpPort: number }> {
  const child = spawnChild(process.execPath, [
    MAIN,
    '--http-port',
    '0',
    '--rtmp-port',
    '0',
    '--http-host',
    '127.0.0.1',
    '--rtmp-host',
    '127.0.0.1',
    '--output-dir',
    outputDir,
    '--log-level',
    'info',
  ]);
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    for (const line of child.output().split('\n')) {
      if (!line.includes('"listening"')) continue;
      const rec = JSON.parse(line) as { msg?: string; httpPort?: number; rtmpPort?: number };
      if (rec.msg === 'listening' && rec.httpPort && rec.rtmpPort) {
        return { child, httpPort: rec.httpPort, rtmpPort: rec.rtmpPort };
      }
    }
    if (child.proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop(child.proc);
  throw new Error(`server did not start:\n${child.output().slice(0, 4000)}`);
}

let tmp: string;
let server: Awaited<ReturnType<typeof startServer>> | undefined;
let publisher: Child | undefined;
let browser: Browser | undefined;
let base: string;

beforeAll(
  async () => {
    tmp = await mkdtemp(join(tmpdir(), 'e2e-playback-'));
    server = await startServer(join(tmp, 'streams'));
    base = `http://127.0.0.1:${server.httpPort}`;
    publisher = spawnChild('ffmpeg', [
      '-v',
      'error',
      '-nostdin',
      '-re',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=320x240:rate=25',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440',
      '-t',
      String(PUBLISH_SECONDS),
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-g',
      '25',
      '-pix_fmt',
      'yuv420p',
      '-c:a',
      'aac',
      '-f',
      'flv',
      `rtmp://127.0.0.1:${server.rtmpPort}/live/test/${USERNAME}`,
    ]);
    // Live once the playlist lists at least two segments.
    const deadline = Date.now() + LIVE_TIMEOUT_MS;
    let last = '';
    while (Date.now() < deadline) {
      const res = await fetch(`${base}/stream/${USERNAME}/live.m3u8`).catch(() => undefined);
      last = res ? `${res.status} ${await res.text()}` : 'no answer';
      if (res?.status === 200 && (last.match(/^live_\d+\.ts$/gm)?.length ?? 0) >= 2) break;
      if (publisher.proc.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    if (!/^200 /.test(last)) {
      throw new Error(
        `stream never went live; last playlist answer: ${last.slice(0, 300)}\npublisher: ${publisher.output().slice(0, 2000)}\nserver: ${server.child.output().slice(-4000)}`,
      );
    }
  },
  LIVE_TIMEOUT_MS + START_TIMEOUT_MS + 10_000,
);

afterAll(async () => {
  await browser?.close();
  await stop(publisher?.proc);
  await stop(server?.child.proc);
  if (tmp && !process.env.KEEP_E2E_TMP) await rm(tmp, { recursive: true, force: true });
  else if (tmp) console.log(`kept ${tmp}`);
});

describe('live playback', () => {
  it('decodes in ffmpeg without a single error line', async () => {
    const probe = spawnChild('ffmpeg', [
      '-v',
      'error',
      '-nostdin',
      '-i',
      `${base}/stream/${USERNAME}/live.m3u8`,
      '-t',
      '3',
      '-f',
      'null',
      '-',
    ]);
    const code = await exitOf(probe, 30_000);
    expect(probe.output().trim()).toBe('');
    expect(code).toBe(0);
  });

  it('lists the stream on the status page and in /api/streams', async () => {
    const html = await (await fetch(`${base}/`, { headers: { accept: 'text/html' } })).text();
    expect(html).toContain(`<a href="/watch/${USERNAME}">${USERNAME}</a>`);
    const api = (await (await fetch(`${base}/api/streams`)).json()) as {
      streams: Array<{ username: string; app: string | null; state: string; playlist: string }>;
    };
    expect(api.streams).toContainEqual(
      expect.objectContaining({ username: USERNAME, app: 'test', playlist: `/stream/${USERNAME}/live.m3u8` }),
    );
  });

  it.skipIf(!HAVE_CHROMIUM)('plays in headless Chromium through /watch with hls.js from the server', async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      // The player's HEAD probe before a stream is live is an expected 404; anything else is a problem.
      if (m.type() === 'error' && !/status of 404/.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));

    // Page functions are serialised into the page (string expressions would need 'unsafe-eval', which
    // the CSP forbids); this package has no DOM lib, so they reach the page through PageGlobals.
    await page.goto(`${base}/watch/${USERNAME}`);
    await page.waitForFunction(
      () => (globalThis as unknown as PageGlobals).document.body.dataset.state === 'playing',
      undefined,
      {
        timeout: 30_000,
      },
    );
    const t0 = await page.evaluate(
      () => (globalThis as unknown as PageGlobals).document.getElementById('video')?.currentTime ?? 0,
    );
    await page.waitForFunction(
      (t) => ((globalThis as unknown as PageGlobals).document.getElementById('video')?.currentTime ?? 0) > t + 1,
      t0,
      { timeout: 20_000, polling: 200 },
    );
    const ui = await page.evaluate(() => {
      const g = globalThis as unknown as PageGlobals;
      return {
        errorHidden: g.document.getElementById('error')?.hidden,
        state: g.document.body.dataset.state,
        hlsLoaded: typeof g.Hls === 'function',
      };
    });
    // `playing` stays set through a brief rebuffer; errors would have moved it to `waiting`.
    expect(ui).toEqual({ errorHidden: true, state: 'playing', hlsLoaded: true });
    expect(problems).toEqual([]);
    expect(requested.every((u) => u.startsWith(base) || u.startsWith('blob:') || u.startsWith('data:'))).toBe(true);
    expect(requested).toContain(`${base}/assets/hls.min.js`);
    await page.screenshot({ path: join(tmp, 'watch.png') });

    // A stream that is not live: the player says so and keeps retrying.
    await page.goto(`${base}/watch/nobody`);
    await page.waitForFunction(
      () => {
        const d = (globalThis as unknown as PageGlobals).document;
        return d.body.dataset.state === 'waiting' && /not live/.test(d.getElementById('overlay')?.textContent ?? '');
      },
      undefined,
      { timeout: 10_000 },
    );

    await page.goto(`${base}/`);
    expect(await page.locator(`tr[data-username="${USERNAME}"]`).count()).toBe(1);
    await page.screenshot({ path: join(tmp, 'status.png') });
  });
});
