/**
 * The three servers under test, each started privately on loopback ports picked free, with its own
 * temporary directory, and described the same way: how to publish, where its playlists are.
 *
 *   ours   node apps/server/dist/main.js   rtmp://127.0.0.1:P/live/bench/<name>  http://127.0.0.1:H/stream/<name>/live.m3u8
 *   nginx  nginx + ngx_rtmp_module         rtmp://127.0.0.1:P/live/<name>        http://127.0.0.1:H/hls/<name>/index.m3u8
 *   nms    Node-Media-Server 2.7.4          rtmp://127.0.0.1:P/live/<name>        http://127.0.0.1:H/live/<name>/index.m3u8
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { startProcess, stopProcess } from './proc.mjs';

export const SERVER_KINDS = ['ours', 'nginx', 'nms'];
export const SERVER_LABELS = { ours: 'ours', nginx: 'nginx-rtmp', nms: 'NMS 2.7' };
const NGINX_RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';
const READY_TIMEOUT_MS = 20_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read it, close). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function waitReady(proc, ports, logFile) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exited = false;
  proc.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (exited) break;
    const ok = await Promise.all(ports.map(canConnect));
    if (ok.every(Boolean)) return;
    await sleep(100);
  }
  let tail = '';
  try {
    tail = readFileSync(logFile, 'utf8').slice(-2000);
  } catch {
    /* no log */
  }
  await stopProcess(proc, { graceMs: 2000 });
  throw new Error(
    `server did not start listening on ${ports.join(', ')} (${exited ? 'it exited' : 'timeout'}):\n${tail}`,
  );
}

/**
 * Starts one server.
 * @param {'ours'|'nginx'|'nms'} kind
 * @param {{root: string, dir: string, ffmpeg: string}} ctx repo root, a private temp dir, ffmpeg binary
 */
export async function startServer(kind, ctx) {
  const rtmpPort = await freePort();
  const httpPort = await freePort();
  const hlsDir = join(ctx.dir, 'hls');
  mkdirSync(hlsDir, { recursive: true });
  const logFile = join(ctx.dir, 'server.log');
  const base = `http://127.0.0.1:${httpPort}`;
  let proc;
  let desc;
  if (kind === 'ours') {
    const args = [
      join(ctx.root, 'apps/server/dist/main.js'),
      ...['--rtmp-host', '127.0.0.1', '--rtmp-port', String(rtmpPort)],
      ...['--http-host', '127.0.0.1', '--http-port', String(httpPort)],
      // No --ffmpeg: the server runs what it would run for a user (its own build, else PATH).
      ...['--output-dir', hlsDir, '--log-level', 'warn'],
    ];
    proc = startProcess(process.execPath, args, { cwd: ctx.dir, logFile });
    desc = {
      publishUrl: (name) => `rtmp://127.0.0.1:${rtmpPort}/live/bench/${name}`,
      publishPath: (port, name) => `rtmp://127.0.0.1:${port}/live/bench/${name}`,
      playlistUrl: (name) => `${base}/stream/${name}/live.m3u8`,
      connectApp: 'live/bench',
    };
  } else if (kind === 'nginx') {
    const prefix = join(ctx.dir, 'nginx');
    mkdirSync(join(prefix, 'logs'), { recursive: true });
    const conf = join(prefix, 'nginx.conf');
    writeFileSync(conf, nginxConf({ prefix, hlsDir, rtmpPort, httpPort }));
    proc = startProcess('nginx', ['-p', `${prefix}/`, '-c', conf, '-e', join(prefix, 'logs/error.log')], {
      cwd: ctx.dir,
      logFile,
    });
    desc = {
      publishUrl: (name) => `rtmp://127.0.0.1:${rtmpPort}/live/${name}`,
      publishPath: (port, name) => `rtmp://127.0.0.1:${port}/live/${name}`,
      playlistUrl: (name) => `${base}/hls/${name}/index.m3u8`,
      connectApp: 'live',
    };
  } else if (kind === 'nms') {
    const args = [
      join(ctx.root, 'bench/load/nms-launcher.mjs'),
      ...['--rtmp-port', String(rtmpPort), '--http-port', String(httpPort)],
      ...['--mediaroot', hlsDir, '--ffmpeg', ctx.ffmpeg],
    ];
    proc = startProcess(process.execPath, args, { cwd: ctx.root, logFile });
    desc = {
      publishUrl: (name) => `rtmp://127.0.0.1:${rtmpPort}/live/${name}`,
      publishPath: (port, name) => `rtmp://127.0.0.1:${port}/live/${name}`,
      playlistUrl: (name) => `${base}/live/${name}/index.m3u8`,
      connectApp: 'live',
    };
  } else {
    throw new Error(`unknown server ${kind}`);
  }
  await waitReady(proc, [rtmpPort, httpPort], logFile);
  return {
    kind,
    label: SERVER_LABELS[kind],
    proc,
    pid: proc.pid,
    rtmpPort,
    httpPort,
    hlsDir,
    logFile,
    ...desc,
    segmentUrl: (playlistUrl, uri) => new URL(uri, playlistUrl).href,
    // nginx: SIGQUIT is its graceful shutdown; SIGTERM its fast one. Both stop the workers.
    stop: () => stopProcess(proc, { signal: 'SIGTERM', graceMs: 8000 }),
  };
}

function nginxConf({ prefix, hlsDir, rtmpPort, httpPort }) {
  const asRoot = process.getuid?.() === 0;
  return `# Written by bench/load/servers.mjs for one benchmark run.
load_module ${NGINX_RTMP_MODULE};
${asRoot ? 'user root root;\n' : ''}daemon off;
master_process on;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;

events {
  worker_connections 4096;
}

rtmp {
  server {
    listen 127.0.0.1:${rtmpPort};
    chunk_size 4096;
    application live {
      live on;
      hls on;
      hls_path ${hlsDir};
      hls_fragment 1s;
      hls_playlist_length 3s;
      hls_nested on;
    }
  }
}

http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  types {
    application/vnd.apple.mpegurl m3u8;
    video/mp2t ts;
  }
  server {
    listen 127.0.0.1:${httpPort};
    location /hls/ {
      alias ${hlsDir}/;
      add_header Cache-Control no-cache;
    }
  }
}
`;
}
