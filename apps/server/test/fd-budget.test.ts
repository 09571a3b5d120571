import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, loadConfig } from '../src/config';
import {
  DEFAULT_FD_RESERVE,
  FD_SPAWN_RESERVE,
  FdBudgetError,
  type FdBudgetInput,
  fdsNeeded,
  fdsPerRtmpConnection,
  fitToFdBudget,
  MIN_HTTP_CONNECTIONS,
  MIN_RTMP_CONNECTIONS,
  parseOpenFileLimit,
  readOpenFileLimit,
} from '../src/fd-budget';

/** The defaults of config-options.ts, as the server starts without options. */
const DEFAULTS: Omit<FdBudgetInput, 'openFileLimit'> = {
  httpMaxConnections: 4096,
  httpMaxConnectionsPerAddress: 64,
  rtmpMaxConnections: 1000,
  rtmpMaxConnectionsPerAddress: 32,
  hlsListSize: 3,
};

const LIMITS_TEXT = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max processes             63421                63421                processes
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

describe('the options', () => {
  it('default to the named caps and reserve, which are what DEFAULTS above assumes', () => {
    expect(DEFAULT_CONFIG).toMatchObject({ ...DEFAULTS, fdReserve: DEFAULT_FD_RESERVE });
  });

  it('come from flags, environment and config file like every option', () => {
    const { config } = loadConfig({
      argv: ['--http-max-connections', '500', '--fd-reserve=64'],
      env: { HTTP_MAX_CONNECTIONS_PER_ADDRESS: '8', HTTP_MAX_CONNECTIONS: '9' },
    });
    expect(config).toMatchObject({ httpMaxConnections: 500, httpMaxConnectionsPerAddress: 8, fdReserve: 64 });
    expect(() => loadConfig({ argv: ['--http-max-connections-per-address', '0'] })).toThrow(/1\.\.1000000/);
    expect(() => loadConfig({ argv: ['--fd-reserve', '15'] })).toThrow(/--fd-reserve/);
  });
});

describe('parseOpenFileLimit', () => {
  it('reads the soft limit of "Max open files"', () => {
    expect(parseOpenFileLimit(LIMITS_TEXT)).toBe(1024);
  });

  it('is undefined for unlimited, a missing line, or garbage', () => {
    expect(parseOpenFileLimit(LIMITS_TEXT.replace('1024  ', 'unlimited'))).toBeUndefined();
    expect(parseOpenFileLimit(LIMITS_TEXT.replace('Max open files', 'Max open filez'))).toBeUndefined();
    expect(parseOpenFileLimit('Max open files            -3        7       files')).toBeUndefined();
  });
});

describe('readOpenFileLimit', () => {
  it('is undefined when the file cannot be read', () => {
    expect(readOpenFileLimit('/nonexistent/limits')).toBeUndefined();
  });

  it("is this process's soft limit", () => {
    const r = spawnSync('sh', ['-c', 'ulimit -Sn'], { encoding: 'utf8' });
    // The shell inherits Node's (raised) soft limit.
    expect(readOpenFileLimit()).toBe(Number(r.stdout.trim()));
  });

  it('sees the hard limit under Node: Node raises the soft limit to the hard one at startup', () => {
    const prlimit = ['--nofile=1000:3000'];
    const shell = spawnSync('prlimit', [...prlimit, 'sh', '-c', 'ulimit -Sn'], { encoding: 'utf8' });
    expect(shell.stdout.trim()).toBe('1000');
    const script = "process.stdout.write(require('fs').readFileSync('/proc/self/limits', 'utf8'))";
    const node = spawnSync('prlimit', [...prlimit, process.execPath, '-e', script], { encoding: 'utf8' });
    expect(parseOpenFileLimit(node.stdout)).toBe(3000);
  });
});

describe('fdsNeeded', () => {
  it('counts 2 per HTTP connection, a socket and a stream per RTMP connection, and the reserves', () => {
    // A stream: FFmpeg's 3 pipes, the playlist being rewritten, the window read by the segment cache.
    expect(fdsPerRtmpConnection(3)).toBe(1 + 3 + 1 + 3);
    expect(fdsNeeded(DEFAULTS, 3)).toBe(128 + 8 + 4096 * 2 + 1000 * 8);
    expect(fdsNeeded({ httpMaxConnections: 10, rtmpMaxConnections: 2 }, 5, 50)).toBe(50 + 8 + 20 + 2 * 10);
  });
});

describe('fitToFdBudget', () => {
  it('keeps caps that fit, at the limit exactly too', () => {
    const needed = fdsNeeded(DEFAULTS, 3);
    for (const openFileLimit of [needed, 20_000, 1_048_576]) {
      const b = fitToFdBudget({ ...DEFAULTS, openFileLimit });
      expect(b.lowered).toEqual([]);
      expect(b.needed).toBe(needed);
      expect(b.caps).toEqual({
        httpMaxConnections: 4096,
        httpMaxConnectionsPerAddress: 64,
        rtmpMaxConnections: 1000,
        rtmpMaxConnectionsPerAddress: 32,
      });
    }
  });

  it('lowers both totals by one factor to fit 1024, and says what it lowered', () => {
    const b = fitToFdBudget({ ...DEFAULTS, openFileLimit: 1024 });
    expect(b.requested).toBe(16_328);
    expect(b.needed).toBeLessThanOrEqual(1024);
    // Room 1024 - 136 = 888; above the minimums (16 HTTP × 2 + 2 RTMP × 8 = 48): 840 of the 4080 × 2 + 998 × 8 = 16144 wanted.
    expect(b.caps.httpMaxConnections).toBe(16 + Math.floor(4080 * (840 / 16_144)));
    expect(b.caps.rtmpMaxConnections).toBe(2 + Math.floor(998 * (840 / 16_144)));
    expect(b.caps).toMatchObject({ httpMaxConnections: 228, rtmpMaxConnections: 53 });
    expect(b.lowered).toEqual([
      { option: 'httpMaxConnections', from: 4096, to: 228 },
      { option: 'rtmpMaxConnections', from: 1000, to: 53 },
    ]);
  });

  it('takes the per-address caps down to their totals', () => {
    const b = fitToFdBudget({ ...DEFAULTS, openFileLimit: 300 });
    expect(b.caps.httpMaxConnectionsPerAddress).toBe(b.caps.httpMaxConnections);
    expect(b.caps.rtmpMaxConnectionsPerAddress).toBe(b.caps.rtmpMaxConnections);
    expect(b.caps.httpMaxConnections).toBeLessThan(64);
    expect(b.lowered.map((l) => l.option).sort()).toEqual([
      'httpMaxConnections',
      'httpMaxConnectionsPerAddress',
      'rtmpMaxConnections',
      'rtmpMaxConnectionsPerAddress',
    ]);
    expect(b.needed).toBeLessThanOrEqual(300);
  });

  it('never exceeds the limit nor raises a cap, and grows with the limit', () => {
    const min = DEFAULT_FD_RESERVE + FD_SPAWN_RESERVE + MIN_HTTP_CONNECTIONS * 2 + MIN_RTMP_CONNECTIONS * 8;
    let previous = { http: 0, rtmp: 0 };
    for (let openFileLimit = min; openFileLimit <= 20_000; openFileLimit += 37) {
      const b = fitToFdBudget({ ...DEFAULTS, openFileLimit });
      expect(b.needed).toBeLessThanOrEqual(openFileLimit);
      expect(b.caps.httpMaxConnections).toBeGreaterThanOrEqual(Math.max(previous.http, MIN_HTTP_CONNECTIONS));
      expect(b.caps.rtmpMaxConnections).toBeGreaterThanOrEqual(Math.max(previous.rtmp, MIN_RTMP_CONNECTIONS));
      expect(b.caps.httpMaxConnections).toBeLessThanOrEqual(4096);
      expect(b.caps.rtmpMaxConnections).toBeLessThanOrEqual(1000);
      previous = { http: b.caps.httpMaxConnections, rtmp: b.caps.rtmpMaxConnections };
    }
  });

  it('keeps a cap configured below its minimum and gives the room to the other', () => {
    const b = fitToFdBudget({ ...DEFAULTS, httpMaxConnections: 4, openFileLimit: 1024 });
    expect(b.caps.httpMaxConnections).toBe(4);
    expect(b.caps.rtmpMaxConnections).toBe(Math.floor((1024 - 136 - 8) / 8));
  });

  it('counts a larger window and reserve', () => {
    const b = fitToFdBudget({ ...DEFAULTS, hlsListSize: 10, fdReserve: 500, openFileLimit: 5000 });
    expect(b.needed).toBeLessThanOrEqual(5000);
    expect(b.needed).toBe(fdsNeeded(b.caps, 10, 500));
    expect(fitToFdBudget({ ...DEFAULTS, openFileLimit: 5000 }).caps.rtmpMaxConnections).toBeGreaterThan(
      b.caps.rtmpMaxConnections,
    );
  });

  it('refuses a limit with no room for the smallest caps, naming the fix', () => {
    const min = DEFAULT_FD_RESERVE + FD_SPAWN_RESERVE + MIN_HTTP_CONNECTIONS * 2 + MIN_RTMP_CONNECTIONS * 8;
    expect(fitToFdBudget({ ...DEFAULTS, openFileLimit: min }).needed).toBe(min);
    let error: unknown;
    try {
      fitToFdBudget({ ...DEFAULTS, openFileLimit: min - 1 });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FdBudgetError);
    expect((error as FdBudgetError).code).toBe('ERR_FD_BUDGET');
    expect((error as Error).message).toContain(`open-file limit ${min - 1} is too low: at least ${min}`);
    expect((error as Error).message).toContain('ulimit -n');
  });
});
