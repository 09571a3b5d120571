/**
 * Starts Node-Media-Server 2.7.4 (the root devDependency `nms-2.7`, an npm alias) for the load
 * benchmark: RTMP and HTTP on loopback, HLS remuxed by one FFmpeg per stream (NMS's "trans" task),
 * 1 s target segments in a 3-segment window, as our server and the nginx-rtmp setup produce.
 *
 *   node bench/load/nms-launcher.mjs --rtmp-port P --http-port H --mediaroot DIR --ffmpeg /usr/bin/ffmpeg
 *
 * Playlists: http://127.0.0.1:H/live/<name>/index.m3u8 (NMS writes DIR/live/<name>/index.m3u8).
 */
import { createRequire } from 'node:module';
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    'rtmp-port': { type: 'string' },
    'http-port': { type: 'string' },
    mediaroot: { type: 'string' },
    ffmpeg: { type: 'string', default: '/usr/bin/ffmpeg' },
  },
});
for (const name of ['rtmp-port', 'http-port', 'mediaroot']) {
  if (!values[name]) {
    process.stderr.write(`nms-launcher: --${name} is required\n`);
    process.exit(2);
  }
}

// NMS 2.7 listens on every interface (`listen(port)`, no host option). The benchmark binds loopback
// only, so a listen(port[, callback]) call gets host 127.0.0.1 added.
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnLoopback(...args) {
  if (typeof args[0] === 'number' && (args.length === 1 || typeof args[1] === 'function')) {
    args.splice(1, 0, '127.0.0.1');
  }
  return listen.apply(this, args);
};

const require = createRequire(import.meta.url);
const NodeMediaServer = require('nms-2.7');

const config = {
  // Errors only: NMS logs every connect/publish at the default level.
  logType: 1,
  rtmp: {
    port: Number(values['rtmp-port']),
    chunk_size: 60000,
    gop_cache: true,
    ping: 30,
    ping_timeout: 60,
  },
  http: {
    port: Number(values['http-port']),
    mediaroot: values.mediaroot,
    allow_origin: '*',
  },
  trans: {
    ffmpeg: values.ffmpeg,
    tasks: [{ app: 'live', hls: true, hlsFlags: '[hls_time=1:hls_list_size=3:hls_flags=delete_segments]' }],
  },
};

const nms = new NodeMediaServer(config);
nms.run();
process.on('SIGTERM', () => {
  nms.stop();
  process.exit(0);
});
