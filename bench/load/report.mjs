/**
 * Statistics (median, percentiles, least-squares slope) and the Markdown report: one table per N
 * (ours vs. nginx-rtmp vs. NMS with the ratios ours/peer), a table of per-stream costs and HTTP
 * figures, and the targets as met / not met / not measured.
 */
import { SERVER_LABELS } from './servers.mjs';

export function percentile(values, p) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const rank = (p / 100) * (v.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return v[lo] + (v[hi] - v[lo]) * (rank - lo);
}

export const median = (values) => percentile(values, 50);

/** Least-squares slope and intercept of y over x; null with fewer than two distinct x. */
export function linearFit(points) {
  const pts = points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (new Set(pts.map(([x]) => x)).size < 2) return null;
  const n = pts.length;
  const mx = pts.reduce((s, [x]) => s + x, 0) / n;
  const my = pts.reduce((s, [, y]) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of pts) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx, points: n };
}

const KINDS = ['ours', 'nginx', 'nms'];

const width = (text) => [...text].length;

/**
 * A Markdown table laid out as Biome formats Markdown (the repo lints docs/ with it): cells padded
 * to the column width, right-aligned columns padded on the left, separators of that width.
 * @param {string[]} head @param {('l'|'r')[]} align @param {string[][]} rows
 */
export function markdownTable(head, align, rows) {
  const widths = head.map((h, i) => Math.max(3, width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const pad = (text, i) => {
    const fill = ' '.repeat(widths[i] - width(text));
    return align[i] === 'r' ? fill + text : text + fill;
  };
  const line = (cells) => `| ${cells.map((c, i) => pad(c ?? '', i)).join(' | ')} |`;
  const sep = `| ${widths.map((w, i) => (align[i] === 'r' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(head), sep, ...rows.map(line)].join('\n');
}

function fmt(v, digits = 2) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (typeof v === 'string') return v;
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  if (a >= 100) return v.toFixed(Math.min(digits, 1));
  return v.toFixed(digits);
}

function ratio(a, b) {
  // A slope can come out negative (memory flat across N, plus noise): no meaningful ratio then.
  if (!Number.isFinite(a) || !Number.isFinite(b) || b <= 0 || a < 0) return '–';
  return `${(a / b).toFixed(2)}×`;
}

const mib = (kib) => (Number.isFinite(kib) ? kib / 1024 : null);

/** The rows of one N's table: [label, value getter, digits]. */
const STAGE_ROWS = [
  ['streams healthy (no stall > 3 s)', (s) => (s.health ? `${s.health.healthy}/${s.n}` : null)],
  ['longest gap between playlist advances (s)', (s) => (s.health ? s.health.maxGapMs / 1000 : null)],
  ['CPU, server tree (cores)', (s) => s.window?.cores.total, 3],
  ['CPU per stream, server tree (cores)', (s) => (s.window ? s.window.cores.total / s.n : null), 4],
  ['… of which the server process (cores)', (s) => s.window?.cores.server ?? 0, 3],
  ['… of which its FFmpeg children (cores)', (s) => s.window?.cores.ffmpeg ?? 0, 3],
  ['RSS, server tree (MiB)', (s) => mib(s.window?.memory.total?.rssKiB), 1],
  ['PSS, server tree (MiB)', (s) => mib(s.window?.memory.total?.pssKiB), 1],
  ['PSS per stream, server tree (MiB)', (s) => mib(s.window?.memory.total?.pssKiB) / s.n, 2],
  ['PSS, main process alone (MiB)', (s) => mib(s.window?.memory.root?.pssKiB), 1],
  ['segment delay, median (ms)', (s) => s.segmentDelay?.medianMs, 0],
  ['segment delay, p90 (ms)', (s) => s.segmentDelay?.p90Ms, 0],
  [
    'segment delay samples (unmatched)',
    (s) => (s.segmentDelay ? `${s.segmentDelay.count} (${s.segmentDelay.unmatched})` : null),
  ],
  ['publish → first playlist, new streams, median (s)', (s) => s.startup?.spawnToPlaylist.medianMs / 1000],
  ['publish → first playlist, new streams, max (s)', (s) => s.startup?.spawnToPlaylist.maxMs / 1000],
];

const SUMMARY_ROWS = [
  ['PSS per stream, server tree, slope over N (KiB)', (r) => r.fits?.treePssKiB?.slope, 0],
  ['RSS per stream, server tree, slope over N (KiB)', (r) => r.fits?.treeRssKiB?.slope, 0],
  ['PSS per stream, main process alone, slope (KiB)', (r) => r.fits?.rootPssKiB?.slope, 0],
  ['CPU per stream, server tree, slope over N (cores)', (r) => r.fits?.cores?.slope, 4],
  ['time to first playlist at N=1, from first keyframe (s)', (r) => r.firstPlaylist?.fromKeyframeMs / 1000, 2],
  ['playlist: requests/s (50 conns)', (r) => r.http?.playlist?.requestsPerSec, 0],
  ['playlist: p99 latency (ms)', (r) => r.http?.playlist?.p99Ms, 2],
  ['segment: requests/s (50 conns)', (r) => r.http?.segment?.requestsPerSec, 0],
  ['segment: MiB/s', (r) => r.http?.segment?.bytesPerSec / 1024 ** 2, 0],
  ['segment: p99 latency (ms)', (r) => r.http?.segment?.p99Ms, 1],
  ['idle RTMP connections opened', (r) => (r.idle ? `${r.idle.opened}/${r.idle.count}` : null)],
  ['memory per idle RTMP connection, PSS (KiB)', (r) => r.idle?.perConnection?.pssKiB, 1],
  ['memory per idle RTMP connection, RSS (KiB)', (r) => r.idle?.perConnection?.rssKiB, 1],
];

function table(rows, pick, results, kinds) {
  const present = KINDS.filter((k) => kinds.includes(k));
  const peers = present.filter((k) => k !== 'ours');
  const head = ['', ...present.map((k) => SERVER_LABELS[k])];
  if (present.includes('ours')) for (const p of peers) head.push(`ours/${SERVER_LABELS[p]}`);
  const tableRows = [];
  for (const [label, get, digits] of rows) {
    const vals = present.map((k) => {
      const src = pick(results[k]);
      if (!src) return null;
      try {
        return get(src);
      } catch {
        return null;
      }
    });
    const cells = [label, ...vals.map((v) => fmt(v, digits))];
    if (present.includes('ours')) {
      const ours = vals[present.indexOf('ours')];
      for (const p of peers) cells.push(typeof ours === 'number' ? ratio(ours, vals[present.indexOf(p)]) : '');
    }
    tableRows.push(cells);
  }
  return markdownTable(
    head,
    head.map((_, i) => (i === 0 ? 'l' : 'r')),
    tableRows,
  );
}

/** Evaluates the issue's targets from one run's results. */
export function evaluateTargets(data) {
  const r = data.servers;
  const ours = r.ours;
  const out = [];
  const add = (target, value, pass, note = '') =>
    out.push({ target, value, verdict: pass === null ? 'not measured' : pass ? 'met' : 'not met', note });
  const ns = data.options.n;
  const maxN = Math.max(...ns);
  const stageAt = (res, n) => res?.stages?.find((s) => s.n === n && s.window);
  const cpuPerStream = (res, n) => {
    const s = stageAt(res, n);
    return s ? s.window.cores.total / n : null;
  };
  const cmp = (a, b, limit) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b <= limit : null);
  const atLeast = (a, b, limit) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b >= limit : null);
  const show = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '–');
  const nNote = maxN === 50 ? '' : `measured at N=${maxN}, not 50`;

  let a = cpuPerStream(ours, maxN);
  let b = cpuPerStream(r.nginx, maxN);
  add(`CPU per stream (server tree) ≤ 1.0× nginx-rtmp at N=${maxN}`, show(a, b), cmp(a, b, 1.0), nNote);
  b = cpuPerStream(r.nms, maxN);
  add(`CPU per stream (server tree) ≤ 0.5× NMS at N=${maxN}`, show(a, b), cmp(a, b, 0.5), nNote);
  // A memory slope is a verdict only over at least three N spanning 10+ streams and when it is not
  // negative: over N = 1, 3 (--quick) the noise of one process's heap dominates, and a "−657 KiB,
  // met" said nothing.
  const span = maxN - Math.min(...ns);
  const slopeNote = 'slope needs ≥ 3 values of N spanning ≥ 10 streams';
  const usable = (fit) => (fit && fit.points >= 3 && span >= 10 && fit.slope >= 0 ? fit.slope : null);
  a = usable(ours?.fits?.treePssKiB);
  b = usable(r.nms?.fits?.treePssKiB);
  add(
    'PSS per stream (slope) ≤ 0.7× NMS',
    show(ours?.fits?.treePssKiB?.slope, r.nms?.fits?.treePssKiB?.slope),
    a === null || b === null ? null : cmp(a, b, 0.7),
    a === null || b === null ? slopeNote : '',
  );
  const rootSlope = ours?.fits?.rootPssKiB?.slope;
  a = usable(ours?.fits?.rootPssKiB);
  add(
    'Node process itself ≤ 200 KiB per stream (PSS slope)',
    Number.isFinite(rootSlope) ? `${rootSlope.toFixed(0)} KiB` : '–',
    a === null ? null : a <= 200,
    a === null ? slopeNote : '',
  );
  const delays = ns.map((n) => [stageAt(ours, n)?.segmentDelay?.medianMs, stageAt(r.nginx, n)?.segmentDelay?.medianMs]);
  const measured = delays.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  add(
    'segment delay median ≤ 1.0× nginx-rtmp (every N)',
    measured.map(([x, y]) => show(x, y)).join(', ') || '–',
    measured.length ? measured.every(([x, y]) => x <= y) : null,
  );
  const gop = data.clip.gopSeconds * 1000;
  a = ours?.firstPlaylist?.fromKeyframeMs;
  add(
    `time to first playlist ≤ GOP + 0.3 s (${(gop + 300) / 1000} s) at N=1`,
    Number.isFinite(a) ? `${(a / 1000).toFixed(2)} s` : '–',
    Number.isFinite(a) ? a <= gop + 300 : null,
  );
  a = ours?.http?.playlist?.requestsPerSec;
  b = r.nginx?.http?.playlist?.requestsPerSec;
  add('playlist requests/s ≥ 1.0× nginx-rtmp', show(a, b), atLeast(a, b, 1.0));
  a = ours?.http?.segment?.requestsPerSec;
  b = r.nginx?.http?.segment?.requestsPerSec;
  add('segment throughput ≥ 0.8× nginx-rtmp', show(a, b), atLeast(a, b, 0.8));
  const s50 = stageAt(ours, 50);
  add(
    '50 streams healthy with the publishers on the machine',
    s50 ? `${s50.health.healthy}/50` : '–',
    s50 ? s50.health.healthy === 50 : null,
    ns.includes(50) ? '' : 'N=50 not in this run',
  );
  return out;
}

/** The whole report as Markdown. */
export function renderMarkdown(data) {
  const kinds = Object.keys(data.servers);
  const m = data.machine;
  const lines = [];
  lines.push(`Command: \`${data.command}\``);
  lines.push('');
  lines.push(
    `Run: ${data.date} · ${m.nproc} cores (${m.cpu}), ${m.memGiB} GiB · Linux ${m.kernel} · Node ${m.node} · ${m.ffmpeg} · ${m.nginx} · ${m.wrk ?? 'wrk: not installed'} · load average at start ${m.loadStart}`,
    ...(m.oursFfmpeg ? [`FFmpeg per stream: ours ${m.oursFfmpeg}; NMS 2.7 ${m.ffmpeg} (publishers too).`] : []),
  );
  lines.push('');
  lines.push(
    `Clip: ${data.clip.description}. Window ${data.options.window} s per N; publishers \`ffmpeg -re -stream_loop -1 -i clip.flv -c copy -f flv URL\` on the same machine, started ${data.options.staggerMs} ms apart.`,
  );
  lines.push('');
  for (const k of kinds) {
    const res = data.servers[k];
    lines.push(
      `- ${SERVER_LABELS[k]}: ${res.error ? `**failed: ${res.error.split('\n')[0]}**` : `publish \`${res.publish}\`, playlist \`${res.playlist}\``}`,
    );
  }
  for (const n of data.options.n) {
    lines.push('');
    lines.push(`#### N = ${n}`);
    lines.push('');
    lines.push(
      table(STAGE_ROWS, (res) => res?.stages?.find((s) => s.n === n && s.window) ?? null, data.servers, kinds),
    );
  }
  lines.push('');
  lines.push('#### Per-stream costs, start-up, HTTP and idle connections');
  lines.push('');
  lines.push(table(SUMMARY_ROWS, (res) => res ?? null, data.servers, kinds));
  lines.push('');
  lines.push('#### Targets');
  lines.push('');
  lines.push(
    markdownTable(
      ['target', 'ours vs. peer', 'verdict', 'note'],
      ['l', 'r', 'l', 'l'],
      data.targets.map((t) => [t.target, t.value, t.verdict, t.note]),
    ),
  );
  return lines.join('\n');
}
