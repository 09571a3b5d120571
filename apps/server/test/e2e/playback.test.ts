/**
 * End to end: a real ffmpeg publishes RTMP to the built server; the HLS it produces must decode
 * in ffmpeg and play in headless Chromium through `/watch/:username` (hls.js served by the server
 * itself), and the status page must list the stream.
 *
 * Set KEEP_E2E_TMP=1 to keep the temp dir (screenshots `watch.png` and `status.png`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM, type PageGlobals } from './helpers/chromium';
import { ffmpegPublisher, killAll, type Proc, type Server, start, startServer, stop } from './helpers/ingest';

if (!HAVE_CHROMIUM) {
  console.warn(
    `\n*** playback.test.ts: ${CHROMIUM} not found: SKIPPING the browser playback test (CI installs it) ***\n`,
  );
}
const START_TIMEOUT_MS = 15_000;
const LIVE_TIMEOUT_MS = 30_000;
const POLL_MS = 250;
/** The publisher stops by itself after this long even if the test dies without cleanup. */
const PUBLISH_SECONDS = 90;
const USERNAME = 'johndoe';

/** Exit code of `child`, SIGKILLing it if it runs longer than `timeoutMs`. */
async function exitOf(child: Proc, timeoutMs: number): Promise<number | null> {
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), timeoutMs);
  const { code } = await child.exited;
  clearTimeout(timer);
  return code;
}

let tmp: string;
let server: Server | undefined;
let publisher: Proc | undefined;
let browser: Browser | undefined;
let base: string;

beforeAll(
  async () => {
    tmp = await mkdtemp(join(tmpdir(), 'e2e-playback-'));
    server = await startServer(join(tmp, 'streams'));
    base = `http://127.0.0.1:${server.httpPort}`;
    publisher = ffmpegPublisher(`rtmp://127.0.0.1:${server.rtmpPort}/live/test/${USERNAME}`, {
      seconds: PUBLISH_SECONDS,
    });
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
        `stream never went live; last playlist answer: ${last.slice(0, 300)}\npublisher: ${publisher.output().slice(0, 2000)}\nserver: ${server.output().slice(-4000)}`,
      );
    }
  },
  LIVE_TIMEOUT_MS + START_TIMEOUT_MS + 10_000,
);

afterAll(async () => {
  await browser?.close();
  await stop(publisher);
  await stop(server);
  await killAll();
  if (tmp && !process.env.KEEP_E2E_TMP) await rm(tmp, { recursive: true, force: true });
  else if (tmp) console.log(`kept ${tmp}`);
});

describe('live playback', () => {
  it('decodes in ffmpeg without a single error line', async () => {
    const probe = start('ffmpeg', [
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
    browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
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
