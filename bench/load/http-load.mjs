/**
 * HTTP throughput with wrk (Debian's, installed by `bash scripts/setup.sh --bench`): one thread,
 * 50 keep-alive connections, latency percentiles from `--latency`.
 */
import { spawn, spawnSync } from 'node:child_process';

export const HTTP_CONNECTIONS = 50;

export function wrkAvailable() {
  const r = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  return r.error === undefined;
}

/** "1.23ms" / "850.00us" / "2.01s" → milliseconds. */
export function parseDuration(text) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!m) return null;
  const v = Number(m[1]);
  return { us: v / 1000, ms: v, s: v * 1000, m: v * 60_000 }[m[2]];
}

/** "12.34MB" → bytes. */
function parseSize(text) {
  const m = /^([\d.]+)([KMGT]?B)$/.exec(text.trim());
  if (!m) return null;
  return Number(m[1]) * { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 }[m[2]];
}

export function parseWrk(out) {
  const num = (re) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : null;
  };
  const p = (pct) => {
    const m = new RegExp(`^\\s+${pct}%\\s+(\\S+)`, 'm').exec(out);
    return m ? parseDuration(m[1]) : null;
  };
  const transfer = /Transfer\/sec:\s+(\S+)/.exec(out);
  const total = /(\d+) requests in ([\d.]+)(\w+), (\S+) read/.exec(out);
  return {
    requests: total ? Number(total[1]) : null,
    seconds: total ? parseDuration(`${total[2]}${total[3]}`) / 1000 : null,
    requestsPerSec: num(/Requests\/sec:\s+([\d.]+)/),
    bytesPerSec: transfer ? parseSize(transfer[1]) : null,
    p50Ms: p(50),
    p90Ms: p(90),
    p99Ms: p(99),
    non2xx: num(/Non-2xx or 3xx responses:\s+(\d+)/) ?? 0,
    socketErrors: /Socket errors: (.*)/.exec(out)?.[1] ?? null,
  };
}

/** Runs wrk against `url` for `seconds`; resolves with the parsed figures (and wrk's own output). */
export function runWrk(url, seconds, { connections = HTTP_CONNECTIONS, threads = 1 } = {}) {
  return new Promise((resolve, reject) => {
    const args = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--latency'];
    const child = spawn('wrk', [...args, '--timeout', '5s', url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    const kill = setTimeout(() => child.kill('SIGKILL'), (seconds + 15) * 1000);
    child.on('error', (err) => {
      clearTimeout(kill);
      reject(err);
    });
    child.on('exit', (code) => {
      clearTimeout(kill);
      if (code !== 0) reject(new Error(`wrk exited ${code}: ${out.slice(-500)}`));
      else resolve({ url, ...parseWrk(out) });
    });
  });
}
