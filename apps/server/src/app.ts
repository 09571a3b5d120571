/**
 * The ingest service: the HTTP app (Fastify) and the RTMP listener, built from a validated
 * config and resolved binaries. `startServer` listens; `buildHttpApp` does not (tests use
 * `app.inject()`).
 */
import { createServer, type Server, type Socket } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { ServerConfig } from './config';
import type { ResolvedBinary } from './ffmpeg-resolve';
import type { Logger } from './logger';

export interface AppDeps {
  config: ServerConfig;
  logger: Logger;
  ffmpeg: ResolvedBinary;
}

export function buildHttpApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // Players poll playlists every second: per-request logs would drown everything else.
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.get('/healthz', async () => ({ status: 'ok', ffmpeg: deps.ffmpeg.version }));
  return app;
}

export interface RunningServer {
  http: FastifyInstance;
  rtmp: Server;
  httpPort: number;
  rtmpPort: number;
  close(): Promise<void>;
}

function listenTcp(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

export async function startServer(deps: AppDeps): Promise<RunningServer> {
  const { config, logger } = deps;
  const http = buildHttpApp(deps);
  const sockets = new Set<Socket>();
  const rtmp = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  });
  const rtmpPort = await listenTcp(rtmp, config.rtmpPort, config.rtmpHost);
  await http.listen({ port: config.httpPort, host: config.httpHost });
  const httpAddr = http.server.address();
  const httpPort = typeof httpAddr === 'object' && httpAddr ? httpAddr.port : config.httpPort;
  logger.info({ rtmpPort, httpPort, outputDir: config.outputDir }, 'listening');
  return {
    http,
    rtmp,
    httpPort,
    rtmpPort,
    async close() {
      const closed = new Promise<void>((resolve) => rtmp.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await Promise.all([closed, http.close()]);
    },
  };
}
