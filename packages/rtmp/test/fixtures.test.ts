/**
 * The committed captures of real publishers (fixtures/README.md) against the package's decoders and
 * session. Expected message lists come from fixtures/make-expected.mjs, a separate reference decoder;
 * the facts asserted below (commands, packet counts, timestamps) come from the capture commands, ffprobe
 * and nginx, not from this package.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type AmfValue, decodeCommand, decodeData } from '../src/amf';
import { ChunkDecoder } from '../src/chunk';
import { MessageType, type RtmpMessage } from '../src/constants';
import type { RtmpError } from '../src/errors';
import { type PublishInfo, RtmpSession } from '../src/session';
import {
  amfToJson,
  clipPackets,
  type Direction,
  type ExpectedMessage,
  type Fixture,
  fixtureNames,
  HANDSHAKE_BYTES,
  loadFixture,
  readsOf,
} from './helpers/fixtures';
import { prng } from './helpers/prng';

const NAMES = fixtureNames();
const PUBLISHERS = NAMES.filter((n) => n !== 'rtmpdump-play');

/** What each capture was made to show; see fixtures/README.md. */
const FACTS: Record<
  string,
  {
    app: string;
    name: string;
    chunkSizes: number[];
    txns: 'ffmpeg' | 'rtmp2sink' | 'librtmp' | 'obs';
    complete: boolean;
    /** The client encodes its own frames from a looped source (OBS): counts come from nginx's recording only. */
    encodes?: boolean;
    /** Last frame's timestamp is below this (default 2500: the 2 s clips). */
    maxMs?: number;
  }
> = {
  'ffmpeg-av': { app: 'live/test', name: 'johndoe', chunkSizes: [4096], txns: 'ffmpeg', complete: true },
  'ffmpeg-audio': { app: 'live/test', name: 'johndoe', chunkSizes: [4096], txns: 'ffmpeg', complete: true },
  'ffmpeg-video': { app: 'live/test', name: 'johndoe', chunkSizes: [4096], txns: 'ffmpeg', complete: true },
  'ffmpeg-extended-ts': { app: 'live/test', name: 'johndoe', chunkSizes: [4096], txns: 'ffmpeg', complete: true },
  'ffmpeg-ts-jump': { app: 'live/test', name: 'johndoe', chunkSizes: [4096], txns: 'ffmpeg', complete: true },
  'ffmpeg-query': { app: 'live/test', name: 'johndoe?key=abc', chunkSizes: [4096], txns: 'ffmpeg', complete: true },
  'ffmpeg-app-split': { app: 'live', name: 'test/johndoe', chunkSizes: [4096], txns: 'ffmpeg', complete: true },
  'gst-rtmp2sink': { app: 'live/test', name: 'johndoe', chunkSizes: [128], txns: 'rtmp2sink', complete: true },
  'gst-rtmp2sink-chunk60000': {
    app: 'live/test',
    name: 'johndoe',
    chunkSizes: [60000],
    txns: 'rtmp2sink',
    complete: true,
  },
  'gst-rtmp2sink-chunkmax': {
    app: 'live/test',
    name: 'johndoe',
    chunkSizes: [2147483647],
    txns: 'rtmp2sink',
    complete: false, // nginx-rtmp hung up after the 2^31-1 chunk size
  },
  'gst-rtmp2sink-app-split': {
    app: 'live',
    name: 'test/johndoe',
    chunkSizes: [128],
    txns: 'rtmp2sink',
    complete: true,
  },
  'gst-rtmpsink': { app: 'live/test', name: 'johndoe', chunkSizes: [], txns: 'librtmp', complete: true },
  // OBS streams OBS_STREAM_MS (3 s) of capture.mjs, plus the time its stop hotkey takes.
  'obs-av': {
    app: 'live/test',
    name: 'johndoe',
    chunkSizes: [4096],
    txns: 'obs',
    complete: true,
    encodes: true,
    maxMs: 5000,
  },
};

function sha1(b: Uint8Array): string {
  return createHash('sha1').update(b).digest('hex').slice(0, 16);
}

const u32 = (p: Uint8Array, o = 0) => new DataView(p.buffer, p.byteOffset, p.byteLength).getUint32(o);

/** A decoded message in the form of fixtures/<name>.expected.json, using the package's AMF decoder. */
function describeMessage(m: RtmpMessage): ExpectedMessage {
  const out: ExpectedMessage = {
    csid: m.chunkStreamId,
    type: m.type,
    msid: m.streamId,
    timestamp: m.timestamp,
    length: m.payload.length,
  };
  const p = m.payload;
  if (m.type === 1 || m.type === 2 || m.type === 3 || m.type === 5) out.value = u32(p);
  else if (m.type === 6) out.value = [u32(p), p[4]!];
  else if (m.type === 4) out.value = p.length >= 6 ? [(p[0]! << 8) | p[1]!, u32(p, 2)] : [(p[0]! << 8) | p[1]!];
  else if (m.type === 20 || m.type === 17) {
    const c = decodeCommand(p, m.type);
    out.amf = [c.name, c.transactionId, c.commandObject, ...c.args].map(amfToJson);
  } else if (m.type === 18 || m.type === 15) out.amf = decodeData(p, m.type).map(amfToJson);
  else {
    out.head = Buffer.from(p.subarray(0, 2)).toString('hex');
    out.sha1 = sha1(p);
  }
  return out;
}

function decodePieces(pieces: Iterable<Uint8Array>): { messages: RtmpMessage[]; decoder: ChunkDecoder } {
  const decoder = new ChunkDecoder();
  const messages: RtmpMessage[] = [];
  for (const piece of pieces) for (const m of decoder.push(piece)) messages.push(m);
  return { messages, decoder };
}

function afterHandshake(f: Fixture, dir: Direction): Uint8Array {
  return f[dir].subarray(HANDSHAKE_BYTES);
}

/** True when two message lists are identical, payload bytes included. */
function sameMessages(a: RtmpMessage[], b: RtmpMessage[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.chunkStreamId !== y.chunkStreamId || x.type !== y.type || x.streamId !== y.streamId) return false;
    if (x.timestamp !== y.timestamp || !Buffer.from(x.payload).equals(Buffer.from(y.payload))) return false;
  }
  return true;
}

function commandsOf(messages: RtmpMessage[]): AmfValue[][] {
  return messages
    .filter((m) => m.type === MessageType.CommandAmf0 || m.type === MessageType.CommandAmf3)
    .map((m) => {
      const c = decodeCommand(m.payload, m.type);
      return [c.name, c.transactionId, c.commandObject, ...c.args];
    });
}

it('has the captures fixtures/README.md lists', () => {
  expect(NAMES).toEqual([...Object.keys(FACTS), 'rtmpdump-play'].sort());
});

describe.each(NAMES)('fixture %s', (name) => {
  const f = loadFixture(name);

  it('has consistent files: read boundaries add up, both sides start with version 3', () => {
    expect(f.c2s.length).toBe(f.meta.bytes.c2s);
    expect(f.s2c.length).toBe(f.meta.bytes.s2c);
    expect(readsOf(f, 'c2s').length).toBeGreaterThan(2);
    expect(readsOf(f, 's2c').length).toBeGreaterThan(0);
    expect(f.c2s[0]).toBe(3);
    expect(f.s2c[0]).toBe(3);
  });

  it.each(['c2s', 's2c'] as const)('%s decodes to exactly the reference decoder’s message list', (dir) => {
    const { messages, decoder } = decodePieces([afterHandshake(f, dir)]);
    expect(f.expected[dir].trailingBytes).toBe(0);
    expect(messages.map(describeMessage)).toEqual(f.expected[dir].messages);
    expect(decoder.pendingMessageBytes).toBe(0);
  });

  it.each(['c2s', 's2c'] as const)('%s decodes the same at the real read boundaries and byte by byte', (dir) => {
    const whole = decodePieces([afterHandshake(f, dir)]).messages;
    // the recorded reads, with the handshake part cut off the front
    const reads = readsOf(f, dir);
    const pieces: Uint8Array[] = [];
    let skip = HANDSHAKE_BYTES;
    for (const r of reads) {
      if (skip >= r.length) {
        skip -= r.length;
        continue;
      }
      pieces.push(r.subarray(skip));
      skip = 0;
    }
    expect(sameMessages(decodePieces(pieces).messages, whole)).toBe(true);
    const bytes = afterHandshake(f, dir);
    const single = function* () {
      for (let i = 0; i < bytes.length; i++) yield bytes.subarray(i, i + 1);
    };
    expect(sameMessages(decodePieces(single()).messages, whole)).toBe(true);
  });

  it('c2s decodes the same split at every offset of its first 8 KB and at random offsets beyond', () => {
    const bytes = afterHandshake(f, 'c2s');
    const head = bytes.subarray(0, 8192);
    const headWhole = decodePieces([head]).messages;
    expect(headWhole.length).toBeGreaterThan(3);
    for (let k = 1; k < head.length; k++) {
      const split = decodePieces([head.subarray(0, k), head.subarray(k)]).messages;
      if (!sameMessages(split, headWhole)) expect.unreachable(`split at ${k} differs`);
    }
    const whole = decodePieces([bytes]).messages;
    const rand = prng(name.length * 7919);
    for (let round = 0; round < 40; round++) {
      const cuts = Array.from({ length: 1 + Math.floor(rand() * 30) }, () => Math.floor(rand() * bytes.length)).sort(
        (a, b) => a - b,
      );
      const pieces: Uint8Array[] = [];
      let prev = 0;
      for (const c of [...cuts, bytes.length]) {
        pieces.push(bytes.subarray(prev, c));
        prev = c;
      }
      if (!sameMessages(decodePieces(pieces).messages, whole)) expect.unreachable(`cuts ${cuts.join(',')} differ`);
    }
  });
});

describe.each(PUBLISHERS)('publisher capture %s: facts independent of this package', (name) => {
  const f = loadFixture(name);
  const facts = FACTS[name]!;
  const { messages, decoder } = decodePieces([afterHandshake(f, 'c2s')]);
  const video = messages.filter((m) => m.type === MessageType.Video);
  const audio = messages.filter((m) => m.type === MessageType.Audio);
  const hasVideo = name !== 'ffmpeg-audio';
  const hasAudio = name !== 'ffmpeg-video';

  it('sends the command sequence of its client, with its app, name and transaction ids', () => {
    const cmds = commandsOf(messages).map((c) => [c[0], c[1], ...c.slice(3)]);
    const connect = commandsOf(messages)[0]!;
    expect(connect[0]).toBe('connect');
    expect(connect[1]).toBe(1);
    expect(amfToJson(connect[2])).toMatchObject({ app: facts.app });
    const n = facts.name;
    const expected = {
      ffmpeg: [
        ['connect', 1],
        ['releaseStream', 2, n],
        ['FCPublish', 3, n],
        ['createStream', 4],
        ['publish', 5, n, 'live'],
        ['FCUnpublish', 6, n],
        ['deleteStream', 7, 1],
      ],
      rtmp2sink: [
        ['connect', 1],
        ['releaseStream', 0, n],
        ['FCPublish', 0, n],
        ['createStream', 2],
        ['publish', 0, n, 'live'],
        ['FCUnpublish', 0, n],
        ['deleteStream', 0, n], // the stream *name*
      ],
      librtmp: [
        ['connect', 1],
        ['releaseStream', 2, n],
        ['FCPublish', 3, n],
        ['createStream', 4],
        ['publish', 5, n, 'live'],
        ['FCUnpublish', 6, n],
        ['deleteStream', 7, 1],
      ],
      // OBS's librtmp fork numbers them like librtmp (plugins/obs-outputs/librtmp/rtmp.c)
      obs: [
        ['connect', 1],
        ['releaseStream', 2, n],
        ['FCPublish', 3, n],
        ['createStream', 4],
        ['publish', 5, n, 'live'],
        ['FCUnpublish', 6, n],
        ['deleteStream', 7, 1],
      ],
    }[facts.txns];
    expect(cmds).toEqual(facts.complete ? expected : expected.slice(0, 5));
  });

  it('changes its chunk size exactly as its client does', () => {
    const sizes = messages.filter((m) => m.type === MessageType.SetChunkSize).map((m) => u32(m.payload));
    expect(sizes).toEqual(facts.chunkSizes);
    expect(decoder.chunkSize).toBe(facts.chunkSizes.at(-1) ?? 128);
  });

  it('starts each track with its sequence header (AVC 17 00, AAC AF 00)', () => {
    if (hasVideo) expect(Array.from(video[0]!.payload.subarray(0, 2))).toEqual([0x17, 0x00]);
    else expect(video).toEqual([]);
    if (hasAudio) expect(Array.from(audio[0]!.payload.subarray(0, 2))).toEqual([0xaf, 0x00]);
    else expect(audio).toEqual([]);
  });

  it('carries as many frames as ffprobe counted in the clip and in the FLV nginx recorded', () => {
    const frames = (ms: RtmpMessage[]) => ms.filter((m) => m.payload[1] === 1).length; // AVC NALU / AAC raw
    const recorded = f.meta.nginxRecord[0]?.streams;
    if (facts.complete) {
      if (hasVideo && !facts.encodes) expect(frames(video)).toBe(clipPackets(f, 'video'));
      if (hasAudio && !facts.encodes) expect(frames(audio)).toBe(clipPackets(f, 'audio'));
      if (facts.encodes) expect((recorded as unknown[]).length).toBe(2);
      expect(Array.isArray(recorded)).toBe(true);
      for (const s of recorded as { type: string; packets: number }[]) {
        expect(frames(s.type === 'video' ? video : audio)).toBe(s.packets);
      }
    } else {
      expect(frames(video)).toBeGreaterThan(0);
      expect(frames(video)).toBeLessThan(clipPackets(f, 'video'));
    }
  });

  it('has non-decreasing timestamps per track (extended values above 2^24 where the capture has them)', () => {
    for (const track of [video, audio]) {
      const ts = track.map((m) => m.timestamp);
      for (let i = 1; i < ts.length; i++) expect(ts[i]!).toBeGreaterThanOrEqual(ts[i - 1]!);
      const frames = track.filter((m) => m.payload[1] === 1).map((m) => m.timestamp);
      if (name === 'ffmpeg-extended-ts') {
        // -output_ts_offset 16800 s: every frame is above the 24-bit field's 16 777 215 ms
        for (const t of frames) expect(t).toBeGreaterThanOrEqual(16_799_000);
      } else if (name === 'ffmpeg-ts-jump') {
        // one forward jump of 17 000 s (an extended delta) between the frames before and after 0.8 s
        const gaps = frames.slice(1).map((t, i) => t - frames[i]!);
        expect(gaps.filter((g) => g > 16_777_215)).toHaveLength(1);
        expect(Math.max(...gaps)).toBeGreaterThan(17_000_000 - 200);
        expect(Math.max(...gaps)).toBeLessThan(17_000_000 + 200);
      } else if (track.length > 0) {
        expect(Math.max(...frames)).toBeLessThan(facts.maxMs ?? 2_500); // a 2 s clip unless stated
      }
    }
  });

  it('puts media and metadata on the stream createStream returned (1)', () => {
    for (const m of [...video, ...audio]) expect(m.streamId).toBe(1);
    const meta = messages.filter((m) => m.type === MessageType.DataAmf0);
    expect(meta.length).toBeGreaterThan(0);
    for (const m of meta) {
      expect(m.streamId).toBe(1);
      expect(decodeData(m.payload).slice(0, 2)).toEqual(['@setDataFrame', 'onMetaData']);
    }
  });

  it('nginx answered with WAS, peer bandwidth, chunk size 4096, Connect.Success and Publish.Start', () => {
    const s2c = decodePieces([afterHandshake(f, 's2c')]).messages;
    expect(s2c.slice(0, 3).map((m) => [m.chunkStreamId, m.type, u32(m.payload)])).toEqual([
      [2, MessageType.WindowAckSize, 5_000_000],
      [2, MessageType.SetPeerBandwidth, 5_000_000],
      [2, MessageType.SetChunkSize, 4096],
    ]);
    const codes = commandsOf(s2c).map((c) => {
      const info = c.find((v, i) => i >= 3 && typeof v === 'object' && v !== null) as { code?: string } | undefined;
      return [c[0], info?.code ?? null];
    });
    expect(codes.slice(0, 3)).toEqual([
      ['_result', 'NetConnection.Connect.Success'],
      ['_result', null],
      ['onStatus', 'NetStream.Publish.Start'],
    ]);
  });
});

/** Feeds a capture's client bytes, at its recorded read boundaries, into an RtmpSession. */
function replay(f: Fixture) {
  const events: string[] = [];
  const out = { connect: null as unknown, publish: null as PublishInfo | null, close: null as RtmpError | null };
  const counts = { audio: 0, video: 0, metadata: 0 };
  let unpublishReason: string | null = null;
  let closed = false;
  let firstVideo: Uint8Array | null = null;
  const session = new RtmpSession();
  const replies = new ChunkDecoder();
  let handshakeLeft = HANDSHAKE_BYTES;
  const sent: RtmpMessage[] = [];
  session.on('data', (chunks) => {
    for (let c of chunks) {
      const skip = Math.min(handshakeLeft, c.length);
      handshakeLeft -= skip;
      c = c.subarray(skip);
      if (c.length > 0) sent.push(...replies.push(Uint8Array.from(c)));
    }
  });
  session.on('connect', (info) => {
    events.push('connect');
    out.connect = info;
  });
  session.on('publish', (info) => {
    events.push('publish');
    out.publish = info;
  });
  session.on('metadata', () => counts.metadata++);
  session.on('audio', () => counts.audio++);
  session.on('video', (m) => {
    counts.video++;
    firstVideo ??= Uint8Array.from(m.payload);
  });
  session.on('unpublish', (_info, reason) => {
    events.push('unpublish');
    unpublishReason = reason;
  });
  session.on('close', (err) => {
    events.push('close');
    closed = true;
    out.close = err ?? null;
  });
  for (const piece of readsOf(f, 'c2s')) session.feed(piece);
  return {
    session,
    events,
    out,
    counts,
    unpublishReason: () => unpublishReason,
    closed: () => closed,
    firstVideo: () => firstVideo,
    sent,
  };
}

describe.each(PUBLISHERS)('replaying %s into RtmpSession', (name) => {
  it('emits connect, publish, metadata, every audio/video message and unpublish', () => {
    const f = loadFixture(name);
    const facts = FACTS[name]!;
    const expected = f.expected.c2s.messages;
    const r = replay(f);
    expect(r.out.close).toBeNull();
    expect(r.out.connect).toMatchObject({ app: facts.app, objectEncoding: 0 });
    expect(r.out.publish).toMatchObject({ app: facts.app, streamName: facts.name, publishType: 'live', streamId: 1 });
    expect(r.counts.video).toBe(expected.filter((m) => m.type === 9).length);
    expect(r.counts.audio).toBe(expected.filter((m) => m.type === 8).length);
    expect(r.counts.metadata).toBe(expected.filter((m) => m.type === 18).length);
    expect(r.session.ignoredMessages).toBe(0);
    if (name !== 'ffmpeg-audio') expect(Array.from(r.firstVideo()!.subarray(0, 2))).toEqual([0x17, 0x00]);
    if (facts.complete) {
      expect(r.events).toEqual(['connect', 'publish', 'unpublish']);
      expect(r.unpublishReason()).toBe('FCUnpublish');
      expect(r.session.state).toBe('connected');
    } else {
      expect(r.events).toEqual(['connect', 'publish']);
    }
    // what we answered: Publish.Start on stream 1, after StreamBegin 1
    const start = r.sent.findIndex(
      (m) => m.type === 20 && JSON.stringify(amfToJson(decodeCommand(m.payload).args[0])).includes('Publish.Start'),
    );
    expect(start).toBeGreaterThan(0);
    expect(r.sent[start]!.streamId).toBe(1);
    expect(r.sent[start - 1]!.type).toBe(MessageType.UserControl);
    r.session.close('end of capture');
    expect(r.closed()).toBe(true);
  });
});

describe('replaying rtmpdump-play into RtmpSession', () => {
  it('refuses play with NetStream.Play.Failed and closes', () => {
    const r = replay(loadFixture('rtmpdump-play'));
    expect(r.events).toEqual(['connect', 'close']);
    expect(r.out.close?.code).toBe('ERR_RTMP_REJECTED');
    const last = r.sent.at(-1)!;
    expect(last.streamId).toBe(1);
    const c = decodeCommand(last.payload);
    expect(c.name).toBe('onStatus');
    expect(amfToJson(c.args[0])).toMatchObject({ level: 'error', code: 'NetStream.Play.Failed' });
  });
});

/**
 * What OBS Studio 29.0.2 puts on the wire (fixtures/obs-av), each fact checked against OBS's source
 * (tag 29.0.2: plugins/obs-outputs/rtmp-stream.c, flv-mux.c, librtmp/rtmp.c) and the profile the
 * capture ran with (apps/server/test/fixtures/obs: 320x180 at 25 fps, x264 200 kb/s with a keyframe
 * every second, AAC 64 kb/s stereo at 44.1 kHz).
 */
describe('obs-av: OBS Studio 29 on the wire', () => {
  const f = loadFixture('obs-av');
  const { messages } = decodePieces([afterHandshake(f, 'c2s')]);
  const commands = commandsOf(messages);
  const media = messages.filter((m) => m.type === MessageType.Audio || m.type === MessageType.Video);

  it('sends Set Chunk Size 4096 first, in the same write as connect', () => {
    expect(messages[0]).toMatchObject({ chunkStreamId: 2, type: MessageType.SetChunkSize, streamId: 0 });
    expect(u32(messages[0]!.payload)).toBe(4096); // rtmp-stream.c: m_outChunkSize = 4096
    const first = readsOf(f, 'c2s').slice(2); // C0+C1, then C2
    const { messages: inFirstRead } = decodePieces([first[0]!]);
    expect(inFirstRead.map((m) => m.type)).toEqual([MessageType.SetChunkSize, MessageType.CommandAmf0]);
    expect(decodeCommand(inFirstRead[1]!.payload).name).toBe('connect');
  });

  it('connects with its own command object: nonprivate, FMLE flashVer, swfUrl = tcUrl, supportsGoAway', () => {
    const connect = commands[0]!;
    const obj = amfToJson(connect[2]) as Record<string, unknown>;
    const tcUrl = obj.tcUrl as string;
    expect(tcUrl).toMatch(/^rtmp:\/\/127\.0\.0\.1:\d+\/live\/test$/); // the server URL verbatim
    // rtmp.c SendConnectPacket: app, type (publishing), the connect hook's supportsGoAway (rtmp-stream.c
    // add_connect_data), flashVer (rtmp-stream.c), swfUrl (set to tcUrl), tcUrl; nothing else.
    expect(Object.entries(obj)).toEqual([
      ['app', 'live/test'],
      ['type', 'nonprivate'],
      ['supportsGoAway', true],
      ['flashVer', 'FMLE/3.0 (compatible; FMSc/1.0)'],
      ['swfUrl', tcUrl],
      ['tcUrl', tcUrl],
    ]);
    expect(connect.slice(3)).toEqual([]);
  });

  it('releaseStream and FCPublish carry the key on csid 3; publish, metadata and media travel on csid 4', () => {
    const cmd = messages.filter((m) => m.type === MessageType.CommandAmf0);
    const byName = (n: string) => cmd.find((m) => decodeCommand(m.payload).name === n)!;
    for (const n of ['connect', 'releaseStream', 'FCPublish', 'createStream', 'FCUnpublish', 'deleteStream']) {
      expect(byName(n), n).toMatchObject({ chunkStreamId: 3, streamId: 0 });
    }
    expect(commands[1]).toEqual(['releaseStream', 2, null, 'johndoe']);
    expect(commands[2]).toEqual(['FCPublish', 3, null, 'johndoe']);
    expect(byName('publish')).toMatchObject({ chunkStreamId: 4, streamId: 1 });
    for (const m of [...media, ...messages.filter((x) => x.type === MessageType.DataAmf0)]) {
      expect(m.chunkStreamId).toBe(4);
    }
    // No Window Ack Size, Acknowledgement or User Control from OBS.
    const kinds = new Set(messages.map((m) => m.type));
    for (const t of [MessageType.Acknowledgement, MessageType.UserControl, MessageType.WindowAckSize]) {
      expect(kinds.has(t)).toBe(false);
    }
  });

  it('sends @setDataFrame onMetaData once, with what flv-mux.c writes for this profile', () => {
    const meta = messages.filter((m) => m.type === MessageType.DataAmf0);
    expect(meta).toHaveLength(1);
    const [tag, name, values] = decodeData(meta[0]!.payload).map(amfToJson) as [string, string, object];
    expect([tag, name]).toEqual(['@setDataFrame', 'onMetaData']);
    expect(values).toMatchObject({
      duration: 0,
      fileSize: 0,
      width: 320,
      height: 180,
      videocodecid: 7,
      videodatarate: 200,
      framerate: 25,
      audiocodecid: 10,
      audiodatarate: 64,
      audiosamplerate: 44100,
      audiosamplesize: 16,
      audiochannels: 2,
      stereo: true,
      '5.1': false,
    });
    expect((values as { encoder: string }).encoder).toMatch(/^obs-output module \(libobs version 29\.0\.2/);
    // Before any media.
    expect(messages.indexOf(meta[0]!)).toBeLessThan(messages.indexOf(media[0]!));
  });

  it('keyframes every second (keyint_sec 1 at 25 fps), no AVC end of sequence', () => {
    const video = messages.filter((m) => m.type === MessageType.Video);
    const keyframes = video.filter((m) => m.payload[0] === 0x17 && m.payload[1] === 1).map((m) => m.timestamp);
    expect(keyframes.length).toBeGreaterThanOrEqual(3);
    expect(keyframes.slice(1).map((t, i) => t - keyframes[i]!)).toEqual(keyframes.slice(1).map(() => 1000));
    expect(video.some((m) => m.payload[1] === 2)).toBe(false);
  });

  it('stops with FCUnpublish + deleteStream in one write, deleteStream starting with a fmt 3 header', () => {
    const reads = readsOf(f, 'c2s').slice(2); // after C0+C1 and C2
    const before = decodePieces(reads.slice(0, -1)).messages;
    const end = decodePieces(reads).messages.slice(before.length);
    expect(end.map((m) => decodeCommand(m.payload).name)).toEqual(['FCUnpublish', 'deleteStream']);
    // Same length (34), type and stream: OBS starts the second message with a 1-byte fmt 3 header on
    // csid 3, after a 7-byte fmt 1 header for the first.
    const last = reads.at(-1)!;
    expect(end.map((m) => m.payload.length)).toEqual([34, 34]);
    expect(last.length).toBe(1 + 7 + 34 + 1 + 34);
    expect([last[0]! >> 6, last[0]! & 0x3f]).toEqual([1, 3]);
    expect(last[1 + 7 + 34]).toBe(0xc3); // fmt 3, csid 3
  });
});
