/**
 * Server-rendered HTML: the status page, the player page and error pages. Every interpolated
 * value goes through `escapeHtml`; scripts and styles are separate same-origin files so the CSP
 * can forbid inline code.
 */
import { escapeHtml } from './html';
import type { PublicStream } from './stream-view';

/** Seconds between automatic reloads of the status page. */
export const STATUS_REFRESH_SECONDS = 5;

function layout(title: string, body: string, head = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/style.css">
${head}</head>
<body>
${body}
</body>
</html>
`;
}

/** `1.23 Mbit/s`, `640 kbit/s`, `0 bit/s`. */
export function formatBitrate(bps: number): string {
  if (!Number.isFinite(bps) || bps <= 0) return '0 bit/s';
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(2)} Mbit/s`;
  if (bps >= 1e3) return `${Math.round(bps / 1e3)} kbit/s`;
  return `${Math.round(bps)} bit/s`;
}

/** `1h02m03s`, `4m05s`, `7s`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (h > 0) return `${h}h${pad(m)}m${pad(r)}s`;
  if (m > 0) return `${m}m${pad(r)}s`;
  return `${r}s`;
}

/** `h264 High 3.1 / aac 44.1 kHz 2ch`, or `—` when nothing is known yet. */
export function formatCodecs(stream: PublicStream): string {
  const parts: string[] = [];
  const v = stream.codecs.video;
  if (v) parts.push([v.codec, v.profile, v.level].filter((x) => x !== undefined && x !== '').join(' '));
  const a = stream.codecs.audio;
  if (a) {
    const rate = a.sampleRate !== undefined ? `${(a.sampleRate / 1000).toFixed(1).replace(/\.0$/, '')} kHz` : undefined;
    const ch = a.channels !== undefined ? `${a.channels}ch` : undefined;
    parts.push([a.codec, rate, ch].filter((x) => x !== undefined).join(' '));
  }
  return parts.length > 0 ? parts.join(' / ') : '—';
}

function streamRow(s: PublicStream): string {
  const cells = [
    `<a href="${escapeHtml(s.watch)}">${escapeHtml(s.username)}</a>`,
    escapeHtml(s.app ?? '—'),
    `<time datetime="${escapeHtml(s.since)}" title="${escapeHtml(s.since)}">${escapeHtml(formatDuration(s.uptimeSeconds))}</time>`,
    escapeHtml(formatCodecs(s)),
    escapeHtml(s.resolution ?? '—'),
    escapeHtml(formatBitrate(s.bitrate)),
    escapeHtml(s.viewers),
    `<span class="state state-${escapeHtml(s.state)}">${escapeHtml(s.state)}</span>`,
    `<a href="${escapeHtml(s.watch)}">watch</a> · <a href="${escapeHtml(s.playlist)}">m3u8</a>`,
  ];
  /** The codecs column is the one long free-text cell: let it wrap. */
  const CODECS_COLUMN = 3;
  return `<tr data-username="${escapeHtml(s.username)}">${cells
    .map((c, i) => (i === CODECS_COLUMN ? `<td class="wrap">${c}</td>` : `<td>${c}</td>`))
    .join('')}</tr>`;
}

/** The status page: every known stream, or an empty-state message; reloads itself. */
export function renderStatusPage(streams: readonly PublicStream[]): string {
  const content =
    streams.length === 0
      ? '<p class="empty" id="empty">No stream is live right now. Publish to <code>rtmp://&lt;host&gt;/live/&lt;app&gt;/&lt;username&gt;</code> and it will show up here.</p>'
      : `<div class="table-wrap"><table id="streams">
<thead><tr><th>Username</th><th>App</th><th>Live for</th><th>Codecs</th><th>Resolution</th><th>Bitrate</th><th>Viewers</th><th>State</th><th></th></tr></thead>
<tbody>
${streams.map(streamRow).join('\n')}
</tbody>
</table></div>`;
  return layout(
    'Live streams',
    `<main>
<h1>Live streams <small>(${streams.length})</small></h1>
${content}
<p class="muted">Refreshes every ${STATUS_REFRESH_SECONDS} s · <a href="/api/streams">JSON</a> · <a href="/metrics">metrics</a></p>
</main>`,
    `<meta http-equiv="refresh" content="${STATUS_REFRESH_SECONDS}">\n`,
  );
}

/** The player page for one (already validated) username. */
export function renderWatchPage(username: string): string {
  const src = `/stream/${encodeURIComponent(username)}/live.m3u8`;
  return layout(
    `${username} · live`,
    `<main class="watch">
<p><a href="/">← all streams</a></p>
<h1>${escapeHtml(username)}</h1>
<div class="player">
<video id="video" controls muted autoplay playsinline data-src="${escapeHtml(src)}"></video>
<div id="overlay" role="status">Connecting…</div>
</div>
<p id="error" class="error" role="alert" hidden></p>
</main>
<script src="/assets/hls.min.js"></script>
<script src="/assets/player.js"></script>`,
  );
}

/** A small error page for HTML routes (e.g. `/watch/<bad name>`). */
export function renderErrorPage(status: number, title: string, message: string): string {
  return layout(
    `${status} ${title}`,
    `<main>
<h1>${escapeHtml(status)} ${escapeHtml(title)}</h1>
<p>${escapeHtml(message)}</p>
<p><a href="/">← all streams</a></p>
</main>`,
  );
}
