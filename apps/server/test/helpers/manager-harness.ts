/**
 * A StreamManager wired to fakes at the producer and directory seams: every stream created gets a
 * FakeProducer and a FakeDir sharing one call log, in creation order.
 */
import { pino } from 'pino';
import { StreamManager, type StreamManagerOptions } from '../../src/streams/stream-manager';
import { FakeDir, FakeProducer } from './fake-stream-parts';

export interface MadeStream {
  producer: FakeProducer;
  dir: FakeDir;
  calls: string[];
}

const logger = pino({ level: 'silent' });

export function makeManager(opts: Partial<StreamManagerOptions> = {}): { manager: StreamManager; made: MadeStream[] } {
  const made: MadeStream[] = [];
  const pending: { dir: FakeDir; calls: string[] }[] = [];
  const manager = new StreamManager({
    outputDir: '/srv/hls',
    reconnectGraceMs: 5000,
    cleanupDelayMs: 2000,
    takeover: false,
    hlsTime: 1,
    hlsListSize: 3,
    ffmpegVersion: 'ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg developers',
    logger,
    createDir: (path) => {
      const calls: string[] = [];
      const dir = new FakeDir(path, calls);
      pending.push({ dir, calls });
      return dir;
    },
    createProducer: (path, events) => {
      const p = pending.shift() as { dir: FakeDir; calls: string[] };
      const producer = new FakeProducer(path, events, p.calls);
      made.push({ producer, dir: p.dir, calls: p.calls });
      return producer;
    },
    ...opts,
  });
  return { manager, made };
}
