/**
 * Interop on loopback with real tools: ffmpeg, GStreamer rtmp2sink and rtmpsink (librtmp) publishing
 * into createRtmpServer, and RtmpClient publishing into a private nginx-rtmp whose recording ffprobe
 * then reads. Frame counts are checked against ffprobe's count of the generated clip. A missing tool
 * skips its tests with a loud warning (CI installs them all).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AmfObject } from '../src/amf';
import { RtmpClient } from '../src/client';
import { RtmpRejection } from '../src/errors';
import { createRtmpServer, type RtmpServerOptions } from '../src/net';
import type { PublishInfo } from '../src/session';
import { waitFor } from './helpers/net';
import {
  Child,
  hasGstElements,
  hasNginxRtmp,
  hasTool,
  makeClip,
  PrivateNginx,
  probe,
  readFlvTags,
  type StreamCount,
} from './helpers/tools';

const HAVE_FFMPEG = hasTool('ffmpeg') && hasTool('ffprobe');
const HAVE_GST =
  HAVE_FFMPEG &&
  hasTool('gst-launch-1.0', ['--version']) &&
  hasGstElements('flvdemux', 'flvmux', 'h264parse', 'aacparse', 'rtmp2sink', 'rtmpsink');
const HAVE_NGINX = HAVE_FFMPEG && hasNginxRtmp();

let dir = '';
let clip = '';
let clipCounts: StreamCount[] = [];
const packets = (type: string) => clipCounts.find((s) => s.type === type)!.packets;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rtmp-interop-'));
  if (!HAVE_FFMPEG) return;
  clip = join(dir, 'clip.flv');
  clipCounts = await makeClip(clip);
}, 40_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Received {
  publish: PublishInfo | null;
  metadata: AmfObject[];
  firstVideo: number[] | null;
  firstAudio: number[] | null;
  videoFrames: number;
  audioFrames: number;
  /** Timestamps of the video frames (not the sequence header). */
  frameTimestamps: number[];
  unpublish: string[];
  closeCode: string | null;
  closed: boolean;
}

/** Runs a publisher command against a fresh server and collects what the server saw. */
async function publishInto(argv: (port: number) => string[], options: RtmpServerOptions = {}) {
  const server = createRtmpServer(options);
  const got: Received = {
    publish: null,
    metadata: [],
    firstVideo: null,
    firstAudio: null,
    videoFrames: 0,
    audioFrames: 0,
    frameTimestamps: [],
    unpublish: [],
    closeCode: null,
    closed: false,
  };
  server.on('connection', (conn) => {
    conn.on('publish', (info) => {
      got.publish = info;
    });
    conn.on('metadata', (m) => got.metadata.push(m));
    conn.on('video', (m) => {
      got.firstVideo ??= Array.from(m.payload.subarray(0, 2));
      if (m.payload[1] === 1) {
        got.videoFrames++;
        got.frameTimestamps.push(m.timestamp);
      }
    });
    conn.on('audio', (m) => {
      got.firstAudio ??= Array.from(m.payload.subarray(0, 2));
      if (m.payload[1] === 1) got.audioFrames++;
    });
    conn.on('unpublish', (_i, reason) => got.unpublish.push(reason));
    conn.on('close', (err) => {
      got.closed = true;
      got.closeCode = err?.code ?? null;
    });
  });
  const { port } = await server.listen(0, '127.0.0.1');
  const child = new Child(argv(port));
  try {
    const result = await child.wait(30_000);
    await waitFor(() => got.closed, 5_000, 'the publisher connection to close');
    return { got, result };
  } finally {
    await child.stop();
    await server.close();
  }
}

const gstPipeline = (sink: string[]) => [
  'gst-launch-1.0',
  '-q',
  ...['filesrc', `location=${clip}`, '!', 'flvdemux', 'name=d'],
  ...['flvmux', 'name=mux', 'streamable=true', '!', ...sink],
  ...['d.video', '!', 'queue', '!', 'h264parse', '!', 'mux.video'],
  ...['d.audio', '!', 'queue', '!', 'aacparse', '!', 'mux.audio'],
];

function expectFullStream(got: Received, result: { code: number | null; stderr: string }, streamName = 'johndoe') {
  expect(result.code, result.stderr).toBe(0);
  expect(got.publish).toMatchObject({ app: 'live/test', streamName, publishType: 'live', streamId: 1 });
  expect(got.metadata.length).toBeGreaterThan(0);
  expect(got.metadata.at(-1)).toMatchObject({ width: 320, height: 240 });
  expect(got.firstVideo).toEqual([0x17, 0x00]); // AVC sequence header first
  expect(got.firstAudio).toEqual([0xaf, 0x00]); // AAC sequence header first
  expect(got.videoFrames).toBe(packets('video'));
  expect(got.audioFrames).toBe(packets('audio'));
  expect(got.unpublish).toEqual(['FCUnpublish']);
  expect(got.closeCode).toBeNull();
}

describe.skipIf(!HAVE_FFMPEG)('ffmpeg publishing into createRtmpServer', () => {
  it('delivers metadata, sequence headers and every frame', { timeout: 45_000 }, async () => {
    const { got, result } = await publishInto((port) => [
      'ffmpeg',
      ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', clip, '-c', 'copy'],
      ...['-f', 'flv', `rtmp://127.0.0.1:${port}/live/test/johndoe?key=abc`],
    ]);
    expectFullStream(got, result, 'johndoe?key=abc');
  });

  it('sends timestamps above 2^24 ms (-output_ts_offset 16800) that arrive exact', { timeout: 45_000 }, async () => {
    const { got, result } = await publishInto((port) => [
      'ffmpeg',
      ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', clip, '-c', 'copy', '-output_ts_offset', '16800'],
      ...['-f', 'flv', `rtmp://127.0.0.1:${port}/live/test/johndoe`],
    ]);
    expectFullStream(got, result);
    const ts = got.frameTimestamps;
    expect(Math.min(...ts)).toBeGreaterThan(16_777_215);
    expect(Math.min(...ts)).toBeGreaterThanOrEqual(16_800_000 - 200);
    expect(Math.max(...ts)).toBeLessThan(16_800_000 + 2_500);
    for (let i = 1; i < ts.length; i++) expect(ts[i]!).toBeGreaterThanOrEqual(ts[i - 1]!);
  });

  it('reports our refusal reason and exits with an error', { timeout: 45_000 }, async () => {
    const { got, result } = await publishInto(
      (port) => [
        'ffmpeg',
        ...['-hide_banner', '-nostdin', '-loglevel', 'info', '-i', clip, '-c', 'copy'],
        ...['-f', 'flv', `rtmp://127.0.0.1:${port}/live/test/johndoe`],
      ],
      {
        onPublish: async () => {
          throw new RtmpRejection('NetStream.Publish.Unauthorized', 'invalid stream key');
        },
      },
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('invalid stream key');
    expect(got.videoFrames).toBe(0);
    expect(got.closeCode).toBe('ERR_RTMP_REJECTED');
  });
});

describe.skipIf(!HAVE_GST)('GStreamer publishing into createRtmpServer', () => {
  it('rtmp2sink delivers metadata, sequence headers and every frame', { timeout: 45_000 }, async () => {
    const { got, result } = await publishInto((port) =>
      gstPipeline(['rtmp2sink', `location=rtmp://127.0.0.1:${port}/live/test/johndoe`, 'chunk-size=60000']),
    );
    expectFullStream(got, result);
  });

  it('rtmp2sink with chunk-size=2147483647 (nginx-rtmp refuses it) works too', { timeout: 45_000 }, async () => {
    const { got, result } = await publishInto((port) =>
      gstPipeline(['rtmp2sink', `location=rtmp://127.0.0.1:${port}/live/test/johndoe`, 'chunk-size=2147483647']),
    );
    expectFullStream(got, result);
  });

  it('rtmpsink (librtmp) delivers metadata, sequence headers and every frame', { timeout: 45_000 }, async () => {
    const { got, result } = await publishInto((port) =>
      gstPipeline(['rtmpsink', `location=rtmp://127.0.0.1:${port}/live/test/johndoe live=1`]),
    );
    expectFullStream(got, result);
  });
});

describe.skipIf(!HAVE_NGINX)('RtmpClient publishing into nginx-rtmp', () => {
  const nginx = new PrivateNginx();
  beforeAll(() => nginx.start(), 15_000);
  afterAll(() => nginx.stop(), 15_000);

  it('produces a recording ffprobe reads as H.264 + AAC with every packet', { timeout: 30_000 }, async () => {
    const tags = readFlvTags(new Uint8Array(readFileSync(clip)));
    const client = await RtmpClient.connect(`rtmp://127.0.0.1:${nginx.port}/live/test`);
    try {
      expect(await client.publish('clienttest')).toBeGreaterThan(0);
      client.sendMetadata({ width: 320, height: 240, videocodecid: 7, audiocodecid: 10, framerate: 15 });
      for (const tag of tags) {
        if (tag.type === 9) client.sendVideo(tag.timestamp, tag.data);
        else if (tag.type === 8) client.sendAudio(tag.timestamp, tag.data);
      }
    } finally {
      await client.close();
    }
    const recorded = join(nginx.recordDir, 'clienttest.flv');
    let streams: StreamCount[] = [];
    await waitFor(
      () => {
        try {
          streams = probe(recorded);
        } catch {
          return false;
        }
        return streams.length === 2 && streams.every((s) => s.packets === packets(s.type));
      },
      10_000,
      'nginx to finish the recording',
    );
    expect(streams.map((s) => [s.type, s.codec]).sort()).toEqual([
      ['audio', 'aac'],
      ['video', 'h264'],
    ]);
    expect(streams.find((s) => s.type === 'video')!.packets).toBe(packets('video'));
    expect(streams.find((s) => s.type === 'audio')!.packets).toBe(packets('audio'));
  });
});
