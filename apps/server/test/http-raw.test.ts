/**
 * Raw, unnormalised request lines against the HTTP app on a real socket, with streams the
 * registry knows (so attempts get past the "unknown stream" gate and reach file resolution).
 * The built server gets the same treatment in test/e2e/traversal.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpApp } from '../src/http/app';
import { createMetrics } from '../src/metrics/metrics';
import { rawRequest, TRAVERSAL_ATTACKS } from './helpers/raw-http';
import { FakeRegistry, playlistOf, streamInfo } from './helpers/streams';

let tmp: string;
let token: string;
let app: FastifyInstance;
let port: number;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'http-raw-'));
  token = `TOKEN-${randomBytes(16).toString('hex')}`;
  const outputDir = join(tmp, 'streams');
  const victim = join(outputDir, 'victim');
  await mkdir(victim, { recursive: true });
  await writeFile(join(victim, 'live_000.ts'), Buffer.alloc(188, 0x47));
  await writeFile(join(tmp, 'secret.txt'), token);
  await writeFile(join(outputDir, 'secret.txt'), token); // inside the root but not a stream file either
  await mkdir(join(tmp, 'outside'));
  await writeFile(join(tmp, 'outside', 'live.m3u8'), `#EXTM3U\n#${token}\n`);
  await symlink(join(tmp, 'outside'), join(outputDir, 'linked'));
  await symlink(join(tmp, 'secret.txt'), join(victim, 'live_001.ts'));
  await symlink('../../secret.txt', join(victim, 'live_002.ts'));
  // The planted links are even listed: the realpath check, not the playlist, must refuse them.
  const registry = new FakeRegistry()
    .add(streamInfo('victim', victim), playlistOf(['live_000.ts', 'live_001.ts', 'live_002.ts']))
    .add(streamInfo('linked', join(outputDir, 'linked')), playlistOf(['live_000.ts']));
  await writeFile(join(tmp, 'outside', 'live_000.ts'), token);
  app = buildHttpApp({
    outputDir,
    corsOrigin: '*',
    logger: pino({ level: 'silent' }),
    registry,
    metrics: createMetrics(),
    ffmpegVersion: 'test',
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  port = typeof addr === 'object' && addr ? addr.port : 0;
});

afterAll(async () => {
  await app?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('raw requests against known streams', () => {
  it('serves the legitimate files (the attacks below are refused for their shape, not by accident)', async () => {
    expect((await rawRequest(port, 'GET /stream/victim/live.m3u8 HTTP/1.1')).status).toBe(200);
    expect((await rawRequest(port, 'GET /stream/victim/live_000.ts HTTP/1.1')).status).toBe(200);
    expect((await rawRequest(port, `GET http://127.0.0.1:${port}/stream/victim/live.m3u8 HTTP/1.1`)).status).toBe(200);
  });

  it.each([
    ...TRAVERSAL_ATTACKS,
    'GET /stream/victim/secret.txt HTTP/1.1',
    'GET /stream/victim/live_001.ts HTTP/1.1',
    'GET /stream/victim/live_002.ts HTTP/1.1',
    'GET /stream/linked/live_000.ts HTTP/1.1',
    'GET /stream/%2e%2e/secret.txt HTTP/1.1',
    'GET /stream/..%5c..%5csecret/live.m3u8 HTTP/1.1',
    'HEAD /stream/victim/live_001.ts HTTP/1.1',
    'GET * HTTP/1.1',
    'OPTIONS * HTTP/1.1',
  ])('%s → 4xx without the sentinel', async (line) => {
    const res = await rawRequest(port, line);
    expect(res.text).not.toContain(token);
    expect(res.status, res.text.slice(0, 300)).toBeGreaterThanOrEqual(400);
    expect(res.status, res.text.slice(0, 300)).toBeLessThan(500);
  });
});
