/**
 * Runnable example: relay a publisher's RTMP messages into FFmpeg (FLV on stdin → HLS), restart
 * FFmpeg half-way and re-prime the new process from the cached stream state.
 *
 *   pnpm --filter @org/flv build
 *   ffmpeg -f lavfi -i testsrc=size=640x360:rate=30 -f lavfi -i sine -t 10 \
 *     -c:v libx264 -g 60 -pix_fmt yuv420p -c:a aac -f flv /tmp/in.flv
 *   node packages/flv/examples/relay-to-ffmpeg.mjs /tmp/in.flv /tmp/hls
 *
 * A real server gets the messages from @org/rtmp's session; here they are read from an FLV file
 * and replayed as RTMP messages (type 8/9/18, 32-bit timestamp, payload).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BufferedFlvWriter,
  checkFfmpegSupport,
  FlvReader,
  FlvStreamState,
  TimestampRebaser,
  tagFromRtmpMessage,
} from '@org/flv';

const [input, outDir] = process.argv.slice(2);
if (!input || !outDir) {
  console.error('usage: node relay-to-ffmpeg.mjs <input.flv> <output-dir>');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

// Stand-in for the RTMP session: the file's tags as RTMP messages, on a publisher clock that does
// not start at 0.
const reader = new FlvReader();
const messages = reader.push(new Uint8Array(readFileSync(input))).map((t) => ({
  chunkStreamId: 4,
  type: t.type,
  streamId: 1,
  timestamp: (t.timestamp + 90_000) >>> 0,
  payload: t.payload,
}));
reader.end();

/** FFmpeg reading FLV from stdin, writing HLS; argv, no shell. */
function startFfmpeg(run) {
  const child = spawn(
    'ffmpeg',
    [
      ...['-hide_banner', '-nostdin', '-v', 'error', '-f', 'flv', '-i', 'pipe:0', '-c', 'copy'],
      ...['-f', 'hls', '-hls_time', '2', '-hls_list_size', '0'],
      ...['-hls_segment_filename', join(outDir, `run${run}-%03d.ts`), join(outDir, `run${run}.m3u8`)],
    ],
    { stdio: ['pipe', 'inherit', 'inherit'] },
  );
  child.stdin.on('error', () => {}); // EPIPE when FFmpeg dies; its exit code says why
  const exited = new Promise((resolve) => child.on('close', resolve));
  // Bounded queue in front of FFmpeg: when it stalls, drop frames until the next keyframe.
  const writer = new BufferedFlvWriter(child.stdin, { maxQueuedBytes: 8 * 1024 * 1024 });
  return { child, exited, writer };
}

const state = new FlvStreamState();
let ffmpeg = startFfmpeg(1);
let primed = false;
let gate;
let rebaser;

for (let i = 0; i < messages.length; i++) {
  const message = messages[i];
  const tag = tagFromRtmpMessage(message); // audio, video, onMetaData (at 0); undefined otherwise
  if (!tag) continue;
  const role = state.observe(tag); // caches metadata + sequence headers, summarises codecs

  if (role === 'video-config' || role === 'audio-config') {
    const info = tag.type === 9 ? state.videoCodec : state.audioCodec;
    const verdict = info && checkFfmpegSupport(info, { ffmpegVersion: '5.1' });
    if (verdict && !verdict.supported) throw new Error(verdict.reason); // → Publish.Rejected
    console.log('codec:', JSON.stringify(info));
  }

  // Half-way through: FFmpeg is restarted (a crash, a new consumer…).
  if (i === Math.floor(messages.length / 2)) {
    await ffmpeg.writer.end(); // flush what FFmpeg has not taken yet, then close its stdin
    console.log('FFmpeg #1 exited with', await ffmpeg.exited);
    ffmpeg = startFfmpeg(2);
    primed = false;
  }

  const track = tag.type === 9 ? 'video' : 'audio';
  if (role === 'metadata' || role.endsWith('config')) {
    // Before priming these only update the state; afterwards they are passed on.
    if (primed)
      ffmpeg.writer.write(role === 'metadata' ? tag : { ...tag, timestamp: rebaser.rebase(track, message.timestamp) });
    continue;
  }
  if (!primed) {
    // A fresh FLV stream: header flags from what the stream carries, metadata and sequence
    // headers at 0, then live frames from the next keyframe on, timestamps from near 0.
    ffmpeg.writer.writeHeader(state.headerFlags());
    for (const t of state.primerTags()) ffmpeg.writer.write(t);
    gate = state.createGate();
    rebaser = new TimestampRebaser();
    primed = true;
  }
  if (!gate.admit(tag)) continue;
  ffmpeg.writer.write({ ...tag, timestamp: rebaser.rebase(track, message.timestamp) });
}
await ffmpeg.writer.end();
console.log('FFmpeg #2 exited with', await ffmpeg.exited, `— playlists in ${outDir}`);
