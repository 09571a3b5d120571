/**
 * The FFmpeg argv and the supervisor, against real short-lived children (a tiny Node script that
 * behaves like FFmpeg in the ways that matter: reads stdin, prints to stderr, exits on EOF or
 * not, handles or ignores SIGTERM, crashes).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildFfmpegArgs } from '../src/output/ffmpeg-args';
import { type FfmpegExit, FfmpegSupervisor, LineTail, type SpawnFn } from '../src/output/ffmpeg-supervisor';

const dir = mkdtempSync(join(tmpdir(), 'ffmpeg-test-'));
const logger = pino({ level: 'silent' });

/**
 * Modes: eof (exit 0 on stdin end), term (ignore EOF, exit 143 on SIGTERM), stubborn (ignore both),
 * crash, stdout (20 000 lines on stdout, then exit).
 */
const SCRIPT = join(dir, 'fake-ffmpeg.mjs');
writeFileSync(
  SCRIPT,
  `
const [mode, out] = process.argv.slice(2);
if (out) (await import('node:fs')).writeFileSync(out, JSON.stringify(process.argv.slice(2)));
process.stderr.write('ready\\n');
let bytes = 0;
process.stdin.on('data', (d) => { bytes += d.length; });
if (mode === 'crash') {
  for (let i = 1; i <= 30; i++) process.stderr.write('line ' + i + '\\n');
  process.stderr.write('no newline at the end');
  setTimeout(() => process.exit(1), 20);
} else if (mode === 'eof') {
  process.stdin.on('end', () => { process.stderr.write('read ' + bytes + '\\n'); process.exit(0); });
} else if (mode === 'term') {
  process.stdin.on('end', () => {});
  process.on('SIGTERM', () => process.exit(143));
  setInterval(() => {}, 1000);
} else if (mode === 'stdout') {
  for (let i = 0; i < 20000; i++) process.stdout.write('entry ' + i + '\\n');
  process.stdin.destroy();
} else if (mode === 'stubborn') {
  process.stdin.on('end', () => {});
  process.on('SIGTERM', () => {});
  setInterval(() => {}, 1000);
}
`,
);

const live: FfmpegSupervisor[] = [];
afterEach(async () => {
  await Promise.all(live.splice(0).map((s) => s.stop()));
});

function supervise(
  mode: string | ((run: number) => string),
  extra: Partial<ConstructorParameters<typeof FfmpegSupervisor>[0]> = {},
) {
  const sup = new FfmpegSupervisor({
    command: process.execPath,
    args: (run) => [SCRIPT, typeof mode === 'string' ? mode : mode(run)],
    logger,
    stop: { stdinGraceMs: 400, termGraceMs: 400, killGraceMs: 2000 },
    ...extra,
  });
  live.push(sup);
  const exits: FfmpegExit[] = [];
  const spawns: { run: number; pid: number | undefined; at: number }[] = [];
  sup.on('exit', (e) => exits.push(e));
  sup.on('spawn', (_stdin, run, pid) => spawns.push({ run, pid, at: Date.now() }));
  return { sup, exits, spawns };
}

const waitFor = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** True while /proc still has the process (alive or zombie). */
const inProc = (pid: number) => existsSync(`/proc/${pid}`);

describe('buildFfmpegArgs', () => {
  const base = { dir: '/srv/hls/johndoe', hlsTime: 1, startNumber: 0 };

  it('is the design argv: FLV on stdin, stream copy, MPEG-TS segments, a private playlist on stdout', () => {
    const args = buildFfmpegArgs(base);
    const joined = args.join(' ');
    expect(joined).toContain('-f flv -i pipe:0 -c copy -f hls -hls_time 1 -hls_list_size 1');
    // FFmpeg deletes nothing and continues nothing: the server owns the playlist and the deletions.
    expect(args[args.indexOf('-hls_flags') + 1]).toBe('temp_file+independent_segments+omit_endlist');
    expect(joined).toContain('-hls_segment_type mpegts -start_number 0');
    expect(joined).not.toContain('allow_cache');
    expect(args[args.indexOf('-hls_segment_filename') + 1]).toBe('/srv/hls/johndoe/live_%03d.ts');
    expect(args.at(-1)).toBe('pipe:1');
    expect(args).not.toContain('-re');
  });

  it('numbers a later run on', () => {
    const args = buildFfmpegArgs({ ...base, hlsTime: 2, startNumber: 17 });
    expect(args[args.indexOf('-hls_time') + 1]).toBe('2');
    expect(args[args.indexOf('-start_number') + 1]).toBe('17');
  });

  it('keeps a path with shell metacharacters as one argument (no shell anywhere)', async () => {
    const odd = join(dir, 'a b;$(touch pwned)');
    const args = buildFfmpegArgs({ ...base, dir: odd });
    const pattern = args[args.indexOf('-hls_segment_filename') + 1] as string;
    expect(pattern).toBe(`${odd}/live_%03d.ts`);
    const out = join(dir, 'argv.json');
    const { sup, exits } = supervise('eof', { args: () => [SCRIPT, 'eof', out, pattern] });
    sup.start();
    await waitFor(() => existsSync(out));
    await sup.stop();
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(['eof', out, pattern]);
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
    expect(exits).toHaveLength(1);
  });
});

describe('FfmpegSupervisor stdout as data', () => {
  it('hands every stdout byte to onStdout before the exit, and keeps it out of the tail', async () => {
    const chunks: Buffer[] = [];
    let atExit = -1;
    const { sup, exits } = supervise('stdout', { onStdout: (c) => chunks.push(c), restart: { maxRestarts: 0 } });
    sup.on('exit', () => {
      atExit = Buffer.concat(chunks).length;
    });
    sup.start();
    await waitFor(() => exits.length === 1);
    const text = Buffer.concat(chunks).toString();
    const expected = Array.from({ length: 20000 }, (_, i) => `entry ${i}\n`).join('');
    expect(atExit).toBe(expected.length);
    expect(text).toBe(expected);
    expect(exits[0]?.tail).toEqual(['ready']);
    await sup.stop();
  });
});

describe('FfmpegSupervisor stop order', () => {
  it('closing stdin is enough for a child that exits on EOF (no signal sent)', async () => {
    const { sup, exits, spawns } = supervise('eof');
    sup.start();
    await waitFor(() => spawns.length === 1);
    const pid = spawns[0]?.pid as number;
    const t0 = Date.now();
    await sup.stop();
    expect(Date.now() - t0).toBeLessThan(400);
    expect(exits).toMatchObject([{ code: 0, signal: null, expected: true }]);
    expect(inProc(pid)).toBe(false); // reaped: not even a zombie
    expect(sup.running).toBe(false);
  });

  it('sends SIGTERM after the stdin grace', async () => {
    const { sup, exits, spawns } = supervise('term');
    sup.start();
    await waitFor(() => spawns.length === 1);
    await new Promise((r) => setTimeout(r, 200)); // let it install its handler
    const t0 = Date.now();
    await sup.stop();
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(390);
    expect(took).toBeLessThan(800);
    expect(exits).toMatchObject([{ code: 143, expected: true }]);
    expect(inProc(spawns[0]?.pid as number)).toBe(false);
  });

  it('sends SIGKILL when SIGTERM is ignored', async () => {
    const { sup, exits, spawns } = supervise('stubborn');
    sup.start();
    await waitFor(() => spawns.length === 1);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    await sup.stop();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(790);
    expect(exits).toMatchObject([{ code: null, signal: 'SIGKILL', expected: true }]);
    expect(inProc(spawns[0]?.pid as number)).toBe(false);
  });

  it('stop() is idempotent and does not restart', async () => {
    const { sup, spawns } = supervise('eof');
    sup.start();
    await waitFor(() => spawns.length === 1);
    const a = sup.stop();
    expect(sup.stop()).toBe(a);
    await a;
    await new Promise((r) => setTimeout(r, 100));
    expect(spawns).toHaveLength(1);
  });
});

describe('FfmpegSupervisor restarts', () => {
  it('restarts a crashed child with exponential backoff, then gives up at the limit', async () => {
    const { sup, exits, spawns } = supervise('crash', {
      restart: { maxRestarts: 3, windowMs: 60_000, initialDelayMs: 60, maxDelayMs: 1000 },
    });
    const delays: number[] = [];
    let gaveUp: FfmpegExit | undefined;
    sup.on('restart', (_n, d) => delays.push(d));
    sup.on('give-up', (_n, last) => {
      gaveUp = last;
    });
    sup.start();
    await waitFor(() => gaveUp !== undefined, 10_000);
    expect(delays).toEqual([60, 120, 240]);
    expect(spawns.map((s) => s.run)).toEqual([0, 1, 2, 3]);
    expect(sup.restarts).toBe(3);
    // Each restart waited at least its delay after the previous run ended.
    for (let i = 1; i < spawns.length; i++) {
      expect((spawns[i]?.at as number) - (spawns[i - 1]?.at as number)).toBeGreaterThanOrEqual(delays[i - 1] as number);
    }
    expect(exits.every((e) => !e.expected && e.code === 1)).toBe(true);
    // The last 20 lines are kept, including an unterminated last line.
    expect(gaveUp?.tail).toHaveLength(20);
    expect(gaveUp?.tail.at(-1)).toBe('no newline at the end');
    expect(gaveUp?.tail[0]).toBe('line 12');
    for (const s of spawns) expect(inProc(s.pid as number)).toBe(false);
    await new Promise((r) => setTimeout(r, 400));
    expect(spawns).toHaveLength(4);
  });

  it('forgets crashes that fell out of the window', async () => {
    const { sup, spawns } = supervise((run) => (run < 2 ? 'crash' : 'eof'), {
      restart: { maxRestarts: 1, windowMs: 150, initialDelayMs: 200, maxDelayMs: 200 },
    });
    let gaveUp = false;
    sup.on('give-up', () => {
      gaveUp = true;
    });
    sup.start();
    await waitFor(() => spawns.length === 3, 5000);
    expect(gaveUp).toBe(false);
  });

  it('a pending restart is cancelled by stop()', async () => {
    const { sup, exits, spawns } = supervise('crash', { restart: { initialDelayMs: 300, maxDelayMs: 300 } });
    sup.start();
    await waitFor(() => exits.length === 1);
    await sup.stop();
    await new Promise((r) => setTimeout(r, 450));
    expect(spawns).toHaveLength(1);
  });

  it('gives up at once when the binary cannot be started', async () => {
    const sup = new FfmpegSupervisor({ command: join(dir, 'no-such-ffmpeg'), args: () => [], logger });
    live.push(sup);
    const gaveUp = new Promise<FfmpegExit>((resolve) => sup.on('give-up', (_n, e) => resolve(e)));
    sup.start();
    const last = await gaveUp;
    expect((last.error as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(sup.running).toBe(false);
  });
});

/** What `child_process.spawn` returns when the OS refuses the spawn: no pid, then 'error' on the next tick. */
function refusedSpawn(code: string): ChildProcess {
  const child = new EventEmitter() as ChildProcess;
  process.nextTick(() => child.emit('error', Object.assign(new Error(`spawn ${code}`), { code })));
  return child;
}

/** State letter of `pid` from /proc ("T" stopped, "Z" zombie), undefined once reaped. */
const procState = (pid: number): string | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
};

describe('FfmpegSupervisor output watching', () => {
  it('killCurrent() ends a SIGSTOPped child, reaps it and restarts it like a crash', async () => {
    const { sup, exits, spawns } = supervise('stubborn', { restart: { initialDelayMs: 50, maxDelayMs: 50 } });
    const restarts: number[] = [];
    sup.on('restart', (n) => restarts.push(n));
    sup.start();
    await waitFor(() => spawns.length === 1);
    const pid = spawns[0]?.pid as number;
    process.kill(pid, 'SIGSTOP');
    await waitFor(() => procState(pid) === 'T');
    expect(sup.killCurrent()).toBe(true);
    await waitFor(() => spawns.length === 2);
    expect(exits[0]).toMatchObject({ pid, signal: 'SIGKILL', expected: false });
    expect(restarts).toEqual([1]);
    expect(sup.restarts).toBe(1);
    expect(procState(pid)).toBeUndefined(); // reaped: not stopped, not a zombie
    expect(spawns[1]?.pid).not.toBe(pid);
    // The restart window counts it: with no restarts allowed, the same kill gives up.
    const strict = supervise('stubborn', { restart: { maxRestarts: 0 } });
    const gaveUp = new Promise<FfmpegExit>((resolve) => strict.sup.on('give-up', (_n, e) => resolve(e)));
    strict.sup.start();
    await waitFor(() => strict.spawns.length === 1);
    strict.sup.killCurrent();
    expect((await gaveUp).signal).toBe('SIGKILL');
  });

  it('killCurrent() does nothing while stopping or with no child', async () => {
    const { sup, spawns, exits } = supervise('stubborn');
    expect(sup.killCurrent()).toBe(false);
    sup.start();
    await waitFor(() => spawns.length === 1);
    const stopping = sup.stop();
    expect(sup.killCurrent()).toBe(false);
    await stopping;
    expect(exits).toMatchObject([{ expected: true }]);
  });

  it.each(['EMFILE', 'ENFILE', 'EAGAIN', 'ENOMEM'])(
    'retries a first spawn refused with %s, with the backoff',
    async (code) => {
      let calls = 0;
      const flaky: SpawnFn = (cmd, args, opts) => (calls++ === 0 ? refusedSpawn(code) : spawn(cmd, args, opts));
      const { sup, exits, spawns } = supervise('eof', { spawn: flaky, restart: { initialDelayMs: 40 } });
      const delays: number[] = [];
      sup.on('restart', (_n, d) => delays.push(d));
      let gaveUp = false;
      sup.on('give-up', () => {
        gaveUp = true;
      });
      sup.start();
      await waitFor(() => spawns.length === 1);
      expect(gaveUp).toBe(false);
      expect(delays).toEqual([40]);
      expect(exits).toHaveLength(1);
      expect((exits[0]?.error as NodeJS.ErrnoException | undefined)?.code).toBe(code);
      expect(spawns[0]?.run).toBe(1);
    },
  );

  it.each(['ENOENT', 'EACCES'])('gives up at once on a first spawn refused with %s', async (code) => {
    const { sup } = supervise('eof', { spawn: () => refusedSpawn(code) });
    const gaveUp = new Promise<FfmpegExit>((resolve) => sup.on('give-up', (_n, e) => resolve(e)));
    let restarted = false;
    sup.on('restart', () => {
      restarted = true;
    });
    sup.start();
    expect(((await gaveUp).error as NodeJS.ErrnoException).code).toBe(code);
    expect(restarted).toBe(false);
  });

  it('hands each stderr line to onStderrLine (split across chunks), and still keeps the tail', async () => {
    const lines: string[] = [];
    const { sup, exits } = supervise('crash', { onStderrLine: (l) => lines.push(l), restart: { maxRestarts: 0 } });
    sup.start();
    await waitFor(() => exits.length === 1);
    expect(lines[0]).toBe('ready');
    expect(lines.slice(1)).toEqual(Array.from({ length: 30 }, (_, i) => `line ${i + 1}`));
    expect(exits[0]?.tail.at(-1)).toBe('no newline at the end');
  });
});

describe('LineTail', () => {
  it('keeps the last lines across chunk splits and cuts runaway lines', () => {
    const t = new LineTail(3);
    const seen: string[] = [];
    t.push('a\nb', (l) => seen.push(l));
    t.push('c\r\nd\n', (l) => seen.push(l));
    t.push('x'.repeat(5000));
    expect(seen).toEqual(['a', 'bc', 'd']);
    const snap = t.snapshot();
    expect(snap.slice(0, 2)).toEqual(['bc', 'd']);
    expect(snap[2]).toHaveLength(1000);
  });
});
