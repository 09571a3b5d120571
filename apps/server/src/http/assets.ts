/**
 * Same-origin assets of the HTML pages: hls.js from this package's own dependency (no CDN), the
 * player script and the stylesheet. Kept as files served from memory so the pages' CSP can say
 * `script-src 'self'` with no inline code.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface Asset {
  body: Buffer;
  contentType: string;
}

/** Seconds browsers may cache an asset; short, because the URLs carry no version. */
export const ASSET_MAX_AGE_SECONDS = 3600;

/**
 * Reads hls.js's minified browser build from node_modules.
 * @throws Error naming the path when hls.js is not installed (fail at startup, not at first view).
 */
export function loadHlsJs(): Asset {
  const require = createRequire(import.meta.url);
  let path: string;
  try {
    path = require.resolve('hls.js/dist/hls.min.js');
  } catch (err) {
    throw new Error('hls.js is not installed: cannot serve /assets/hls.min.js', { cause: err });
  }
  return { body: readFileSync(path), contentType: 'application/javascript; charset=utf-8' };
}

/**
 * The player: waits until the playlist answers 200 (HEAD), then plays it with hls.js, or natively
 * where the browser can (Safari); on a fatal error or the end of the stream it tears down, says so
 * in the overlay and starts over after RETRY_MS. `document.body.dataset.state` is
 * `waiting` | `loading` | `playing` | `unsupported` for tests and styling.
 */
export const PLAYER_JS = `'use strict';
(function () {
  var RETRY_MS = 3000;
  var MAX_MEDIA_RECOVERIES = 3;
  var video = document.getElementById('video');
  var overlay = document.getElementById('overlay');
  var errorBox = document.getElementById('error');
  var src = video.getAttribute('data-src');
  var hls = null;
  var timer = 0;
  var recoveries = 0;

  function setState(state, message) {
    document.body.setAttribute('data-state', state);
    if (message) {
      overlay.textContent = message;
      overlay.hidden = false;
    } else {
      overlay.hidden = true;
    }
  }

  function teardown() {
    if (hls) {
      hls.destroy();
      hls = null;
    }
    video.removeAttribute('src');
    video.load();
  }

  function retryLater(message) {
    teardown();
    setState('waiting', message);
    clearTimeout(timer);
    timer = setTimeout(start, RETRY_MS);
  }

  function play() {
    var p = video.play();
    if (p && p.catch) p.catch(function () { setState('loading', 'Press play to start'); });
  }

  function startHls() {
    recoveries = 0;
    hls = new Hls({
      liveSyncDurationCount: 2,
      liveMaxLatencyDurationCount: 5,
      maxLiveSyncPlaybackRate: 1.5,
      backBufferLength: 30,
      manifestLoadingMaxRetry: 2,
      levelLoadingMaxRetry: 2,
    });
    hls.on(Hls.Events.ERROR, function (_event, data) {
      if (!data.fatal) return;
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR && recoveries < MAX_MEDIA_RECOVERIES) {
        recoveries++;
        hls.recoverMediaError();
        return;
      }
      var notLive = data.response && data.response.code === 404;
      retryLater(notLive ? 'The stream is not live. Retrying…' : 'Playback interrupted. Retrying…');
    });
    hls.on(Hls.Events.MANIFEST_PARSED, play);
    hls.loadSource(src);
    hls.attachMedia(video);
  }

  function startNative() {
    video.src = src;
    play();
  }

  function start() {
    setState('loading', 'Connecting…');
    fetch(src, { method: 'HEAD', cache: 'no-store' }).then(
      function (res) {
        if (res.status === 404) return retryLater('The stream is not live. Retrying…');
        if (!res.ok) return retryLater('The server answered ' + res.status + '. Retrying…');
        setState('loading', 'Loading…');
        if (window.Hls && Hls.isSupported()) startHls();
        else if (video.canPlayType('application/vnd.apple.mpegurl')) startNative();
        else {
          setState('unsupported', null);
          errorBox.textContent = 'This browser cannot play HLS.';
          errorBox.hidden = false;
        }
      },
      function () { retryLater('The server is unreachable. Retrying…'); }
    );
  }

  video.addEventListener('playing', function () { setState('playing', null); });
  video.addEventListener('waiting', function () {
    if (document.body.getAttribute('data-state') === 'playing') setState('playing', 'Buffering…');
  });
  video.addEventListener('ended', function () { retryLater('The stream ended. Waiting for it to come back…'); });
  video.addEventListener('error', function () {
    if (!hls) retryLater('Playback failed. Retrying…');
  });
  start();
})();
`;

export const STYLE_CSS = `:root { color-scheme: dark; --fg: #e6e6e6; --muted: #8a8f98; --bg: #14161a; --line: #2a2e35; --accent: #5fb3ff; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 1100px; margin: 0 auto; padding: 24px; }
h1 small { color: var(--muted); font-weight: normal; font-size: 0.6em; }
a { color: var(--accent); }
table { width: 100%; border-collapse: collapse; }
.table-wrap { overflow-x: auto; }
th, td { text-align: left; padding: 8px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
td.wrap { white-space: normal; min-width: 12em; }
th { color: var(--muted); font-weight: 600; font-size: 13px; text-transform: uppercase; letter-spacing: 0.04em; }
code { background: #22262d; padding: 1px 5px; border-radius: 4px; }
.muted, .empty { color: var(--muted); }
.state { padding: 1px 8px; border-radius: 10px; font-size: 13px; background: #333; }
.state-live { background: #1f6f3a; }
.state-reconnecting { background: #7a5b12; }
.state-ending { background: #6b2323; }
.player { position: relative; background: #000; aspect-ratio: 16 / 9; }
.player video { width: 100%; height: 100%; display: block; }
#overlay { position: absolute; inset: auto 0 0 0; padding: 10px 14px; background: rgba(0, 0, 0, 0.7); }
#overlay[hidden] { display: none; }
.error { color: #ff8080; }
`;
