/**
 * The real OBS Studio (Debian 12's 29.0.2) as a publisher, headless: a private Xvfb display, a
 * fresh configuration in a temp dir made from the templates in `test/fixtures/obs/` (README
 * there), a generated clip looped by a media source (video and audio without PulseAudio), Mesa's
 * software OpenGL, and the start/stop streaming hotkeys pressed through xdotool. Xvfb, OBS and
 * xdotool are started through {@link start}, so `killAll()` reaps whatever a test leaves behind.
 *
 * OBS 29 on Linux has no portable mode: it reads `$XDG_CONFIG_HOME/obs-studio`. It quits cleanly
 * on SIGINT only (its handler closes the main window); SIGTERM kills it without its shutdown.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeClip } from '../../helpers/media';
import { type Proc, sleep, start, within } from './ingest';

const TEMPLATES = join(import.meta.dirname, '../../fixtures/obs');
/** The profile and scene collection names in the templates (OBS finds them by name). */
const PROFILE = 'e2e';
const COLLECTION = 'e2e';
/** The hotkeys bound in the template basic.ini `[Hotkeys]` (X keysym names for xdotool). */
const START_KEY = 'F7';
const STOP_KEY = 'F8';
/**
 * How long a hotkey is held. OBS's hotkey thread polls the keyboard state (XQueryKeymap) every
 * 25 ms, so a bare `xdotool key` (press + release at once) can fall between two polls.
 */
const HOTKEY_HOLD_MS = 200;
/** Display numbers tried for Xvfb (well above what a desktop or CI usually holds). */
const FIRST_DISPLAY = 60;
const LAST_DISPLAY = 199;
/**
 * A closed loopback port for OBS's HTTP(S) proxy: its rtmp-services plugin fetches a service list
 * from obsproject.com at start-up (no setting turns that off on Linux); through the proxy variables
 * curl fails at once on loopback instead of leaving the machine.
 */
const NO_PROXY_PORT = 9;

/** OBS 29's `rtmp_custom` service settings (plugins/rtmp-services/rtmp-custom.c). */
export interface ObsService {
  /** `rtmp://host:port/app` or `rtmps://…`; OBS sends all of its path as the app. */
  server: string;
  /** The stream key: OBS publishes it as the stream name. */
  key: string;
  /** "Use authentication": OBS answers an `authmod=adobe` challenge with these credentials. */
  useAuth?: boolean;
  username?: string;
  password?: string;
}

export interface ObsOptions {
  service: ObsService;
  /** Start streaming at launch (`--startstreaming`). Default true. */
  startStreaming?: boolean;
  /**
   * A PEM certificate OBS alone should trust for RTMPS. OBS 29's librtmp (mbedtls) verifies the
   * server's certificate against `/etc/ssl/certs/` only (no option or environment variable), so
   * OBS runs in a private mount namespace (`unshare --mount`, root) where a temp dir holding just
   * this certificate is bind-mounted over /etc/ssl/certs; the machine's trust store is untouched.
   */
  trustedCert?: string;
  /** Length of the looped clip, s. Default 10. */
  clipSeconds?: number;
  /** Sine frequency of the clip's audio, Hz. Default 440. */
  frequency?: number;
}

export interface Obs {
  proc: Proc;
  xvfb: Proc;
  display: string;
  /** The temp dir: HOME, XDG dirs, clip. Removed by {@link Obs.quit}. */
  dir: string;
  /** OBS's own log of this run ($XDG_CONFIG_HOME/obs-studio/logs), '' before it exists. */
  log(): string;
  /** The log's error lines and failed connections, and how OBS exited if it did: for failure messages. */
  problems(): string;
  /** Resolves once the log shows `count` "Streaming Start" lines; rejects on a failed connection. */
  waitForStreaming(count?: number, timeoutMs?: number): Promise<void>;
  /** Presses the start hotkey and waits for the next "Streaming Start". */
  startStreaming(timeoutMs?: number): Promise<void>;
  /** Presses the stop hotkey and waits for the next "Streaming Stop". */
  stopStreaming(timeoutMs?: number): Promise<void>;
  /**
   * SIGINT (OBS's clean shutdown), SIGKILL after `graceMs`; then stops Xvfb and removes the temp
   * dir. Resolves with how OBS exited, how long that took and its final log.
   */
  quit(graceMs?: number): Promise<ObsExit>;
}

export interface ObsExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** SIGINT → exit, ms. */
  tookMs: number;
  log: string;
}

const START = '==== Streaming Start';
const STOP = '==== Streaming Stop';
const count = (text: string, needle: string) => text.split(needle).length - 1;

/** Starts Xvfb on the first free display from FIRST_DISPLAY; resolves once its socket exists. */
export async function startXvfb(): Promise<{ xvfb: Proc; display: string }> {
  for (let n = FIRST_DISPLAY; n <= LAST_DISPLAY; n++) {
    const socket = `/tmp/.X11-unix/X${n}`;
    if (existsSync(socket) || existsSync(`/tmp/.X${n}-lock`)) continue;
    const xvfb = start('Xvfb', [`:${n}`, '-screen', '0', '1280x720x24', '-nolisten', 'tcp']);
    for (let i = 0; i < 100 && xvfb.proc.exitCode === null && !existsSync(socket); i++) await sleep(50);
    if (existsSync(socket) && xvfb.proc.exitCode === null) return { xvfb, display: `:${n}` };
    // Taken meanwhile (another Xvfb won the lock) or failed: try the next number.
    xvfb.proc.kill('SIGKILL');
    await xvfb.exited;
  }
  throw new Error(`no free X display in :${FIRST_DISPLAY}..:${LAST_DISPLAY}`);
}

/** Writes OBS's configuration for `o` under `config` (an XDG_CONFIG_HOME) from the templates. */
export async function writeObsConfig(config: string, clip: string, o: ObsOptions): Promise<void> {
  const root = join(config, 'obs-studio');
  const profile = join(root, 'basic', 'profiles', PROFILE);
  const scenes = join(root, 'basic', 'scenes');
  await mkdir(profile, { recursive: true });
  await mkdir(scenes, { recursive: true });
  await copyFile(join(TEMPLATES, 'global.ini'), join(root, 'global.ini'));
  await copyFile(join(TEMPLATES, 'basic.ini'), join(profile, 'basic.ini'));
  await copyFile(join(TEMPLATES, 'streamEncoder.json'), join(profile, 'streamEncoder.json'));
  const service = JSON.parse(await readFile(join(TEMPLATES, 'service.json'), 'utf8'));
  const s = o.service;
  Object.assign(service.settings, { server: s.server, key: s.key, use_auth: s.useAuth ?? false });
  if (s.username !== undefined) service.settings.username = s.username;
  if (s.password !== undefined) service.settings.password = s.password;
  await writeFile(join(profile, 'service.json'), JSON.stringify(service, null, 2));
  const collection = JSON.parse(await readFile(join(TEMPLATES, 'scenes.json'), 'utf8'));
  for (const source of collection.sources) {
    if (source.id === 'ffmpeg_source') source.settings.local_file = clip;
  }
  await writeFile(join(scenes, `${COLLECTION}.json`), JSON.stringify(collection, null, 2));
}

/** The environment OBS runs in: everything of its own in `dir`, nothing from the user's session. */
function obsEnv(dir: string, display: string): NodeJS.ProcessEnv {
  const proxy = `http://127.0.0.1:${NO_PROXY_PORT}`;
  return {
    PATH: process.env.PATH,
    LANG: 'C.UTF-8',
    HOME: join(dir, 'home'),
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_CACHE_HOME: join(dir, 'cache'),
    XDG_RUNTIME_DIR: join(dir, 'run'),
    DISPLAY: display,
    QT_QPA_PLATFORM: 'xcb',
    LIBGL_ALWAYS_SOFTWARE: '1',
    // No session bus: without this OBS tries to spawn dbus-launch (for its inhibit/portal code).
    DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(dir, 'run', 'no-bus')}`,
    http_proxy: proxy,
    https_proxy: proxy,
  };
}

/** Runs OBS with `o` on a fresh Xvfb display; resolves once it is streaming (unless told not to). */
export async function startObs(o: ObsOptions): Promise<Obs> {
  const needed = ['obs', 'Xvfb', 'xdotool', ...(o.trustedCert ? ['unshare'] : [])];
  const onPath = (bin: string) => (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, bin)));
  const missing = needed.filter((bin) => !onPath(bin));
  if (missing.length > 0) throw new Error(`not installed: ${missing.join(', ')} (bash scripts/setup.sh --test)`);
  const dir = await mkdtemp(join(tmpdir(), 'e2e-obs-'));
  for (const d of ['home', 'config', 'data', 'cache']) await mkdir(join(dir, d));
  await mkdir(join(dir, 'run'), { mode: 0o700 });
  let xvfb: Proc;
  let display: string;
  try {
    const clip = await makeClip(join(dir, 'clip.flv'), {
      seconds: o.clipSeconds ?? 10,
      size: '320x180',
      frequency: o.frequency ?? 440,
    });
    await writeObsConfig(join(dir, 'config'), clip, o);
    ({ xvfb, display } = await startXvfb());
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const env = obsEnv(dir, display);
  const args = ['--multi', '--disable-updater', '--profile', PROFILE, '--collection', COLLECTION];
  if (o.startStreaming ?? true) args.push('--startstreaming');
  let proc: Proc;
  if (o.trustedCert) {
    const ca = join(dir, 'ca');
    await mkdir(ca);
    await copyFile(o.trustedCert, join(ca, 'test-ca.pem'));
    // unshare and sh exec, so the PID is OBS's. The paths are arguments, not part of the script.
    const script = 'mount --bind "$0" /etc/ssl/certs && exec "$@"';
    // Not root: a user namespace of its own gives the mount namespace (where the kernel allows it).
    const userns = process.getuid?.() === 0 ? [] : ['--map-root-user'];
    const ns = ['--mount', '--propagation', 'private', ...userns];
    proc = start('unshare', [...ns, '--', 'sh', '-c', script, ca, 'obs', ...args], env);
  } else {
    proc = start('obs', args, env);
  }

  const logDir = join(dir, 'config', 'obs-studio', 'logs');
  const log = () => {
    try {
      const files = readdirSync(logDir).sort();
      return files.length === 0 ? '' : readFileSync(join(logDir, files.at(-1) as string), 'utf8');
    } catch {
      return '';
    }
  };
  const problems = () => {
    // OBS's stdout has the level ("error: …"); its log file has times instead, and is complete.
    const errors = proc
      .output()
      .split('\n')
      .filter((l) => l.startsWith('error:'));
    const failures = log()
      .split('\n')
      .filter((l) => /failed|Cert verify|Disconnected|Could not/i.test(l));
    const exit = proc.proc.exitCode ?? proc.proc.signalCode;
    const state = exit === null ? 'OBS running' : `OBS exited: ${exit}`;
    return [state, ...errors.slice(-10), ...failures.slice(-20)].join('\n');
  }; /** Waits for the `n`th `needle`; for a start, a connection that failed after the previous one ends the wait. */
  const waitFor = async (needle: string, n: number, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = log();
      if (count(text, needle) >= n) return;
      const sincePrevious = text
        .split(needle)
        .slice(n - 1)
        .join(needle);
      const failed = needle === START ? /Connection to \S+ failed: .*/.exec(sincePrevious) : null;
      if (failed) throw new Error(`OBS: ${failed[0]}\n${problems()}`);
      if (proc.proc.exitCode !== null || proc.proc.signalCode !== null || Date.now() > deadline) {
        throw new Error(`OBS: no "${needle}" #${n} within ${timeoutMs} ms\n${problems()}`);
      }
      await sleep(100);
    }
  };
  const press = async (key: string) => {
    for (const action of ['keydown', 'keyup']) {
      const x = start('xdotool', [action, key], { PATH: process.env.PATH, DISPLAY: display });
      const { code } = await within(5_000, `xdotool ${action} ${key}`, x.exited);
      if (code !== 0) throw new Error(`xdotool ${action} ${key} exited with ${code}: ${x.output()}`);
      if (action === 'keydown') await sleep(HOTKEY_HOLD_MS);
    }
  };
  const obs: Obs = {
    proc,
    xvfb,
    display,
    dir,
    log,
    problems,
    waitForStreaming: (n = 1, timeoutMs = 20_000) => waitFor(START, n, timeoutMs),
    async startStreaming(timeoutMs = 15_000) {
      const n = count(log(), START) + 1;
      await press(START_KEY);
      await waitFor(START, n, timeoutMs);
    },
    async stopStreaming(timeoutMs = 15_000) {
      const n = count(log(), STOP) + 1;
      await press(STOP_KEY);
      await waitFor(STOP, n, timeoutMs);
    },
    async quit(graceMs = 10_000) {
      const t0 = Date.now();
      if (proc.proc.exitCode === null && proc.proc.signalCode === null) proc.proc.kill('SIGINT');
      const timer = setTimeout(() => proc.proc.kill('SIGKILL'), graceMs);
      const { code, signal } = await proc.exited;
      clearTimeout(timer);
      const tookMs = Date.now() - t0;
      const finalLog = log();
      if (xvfb.proc.exitCode === null && xvfb.proc.signalCode === null) xvfb.proc.kill('SIGTERM');
      await xvfb.exited;
      await rm(dir, { recursive: true, force: true });
      return { code, signal, tookMs, log: finalLog };
    },
  };
  if (o.startStreaming ?? true) {
    try {
      await obs.waitForStreaming(1, 30_000);
    } catch (err) {
      await obs.quit(3_000);
      throw err;
    }
  }
  return obs;
}
