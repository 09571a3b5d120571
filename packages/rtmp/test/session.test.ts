import { describe, expect, it } from 'vitest';
import { encodeAmf0 } from '../src/amf';
import { MessageType, UserControlEvent } from '../src/constants';
import { isRtmpError, RtmpRejection } from '../src/errors';
import { RtmpSession } from '../src/session';
import { amfToJson } from './helpers/fixtures';
import { clientHandshakeBytes, SessionHarness } from './helpers/harness';

const u32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const flush = () => new Promise((r) => setTimeout(r, 0));
/** A promise with its resolve/reject exposed, to hold a hook open. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('RtmpSession: the publish flow', () => {
  it('answers handshake, connect, releaseStream, FCPublish, createStream, publish as clients expect', () => {
    const h = new SessionHarness();
    h.handshake();
    // S0 + S1 + S2 and nothing else before connect
    expect(h.outBytes).toBe(3073);
    expect(h.session.state).toBe('connect');
    h.command('connect', 1, {
      app: 'live/test',
      type: 'nonprivate',
      flashVer: 'FMLE/3.0',
      tcUrl: 'rtmp://h/live/test',
    });
    const afterConnect = h.take();
    // Window Ack Size, Set Peer Bandwidth (dynamic), Set Chunk Size 4096: csid 2, msid 0, before _result
    expect(afterConnect.slice(0, 3).map((r) => [r.message.chunkStreamId, r.message.streamId, r.message.type])).toEqual([
      [2, 0, MessageType.WindowAckSize],
      [2, 0, MessageType.SetPeerBandwidth],
      [2, 0, MessageType.SetChunkSize],
    ]);
    expect(Array.from(afterConnect[0]!.message.payload)).toEqual(u32(5_000_000));
    expect(Array.from(afterConnect[1]!.message.payload)).toEqual([...u32(5_000_000), 2]);
    expect(Array.from(afterConnect[2]!.message.payload)).toEqual(u32(4096));
    const result = afterConnect[3]!.command!;
    expect(result.name).toBe('_result');
    expect(result.transactionId).toBe(1);
    expect(amfToJson(result.args[0])).toMatchObject({
      level: 'status',
      code: 'NetConnection.Connect.Success',
      objectEncoding: 0,
    });
    expect(afterConnect).toHaveLength(4);
    expect(h.session.state).toBe('connected');

    h.command('releaseStream', 2, null, ['johndoe']);
    h.command('FCPublish', 3, null, ['johndoe']);
    h.command('createStream', 4, null);
    h.command('publish', 5, null, ['johndoe', 'live'], 1, 8);
    const replies = h.take();
    expect(
      replies.map((r) => (r.command ? [r.command.name, r.command.transactionId] : ['uc', r.message.type])),
    ).toEqual([
      ['_result', 2],
      ['_result', 3],
      ['_result', 4],
      ['uc', MessageType.UserControl],
      ['onStatus', 0],
      ['onFCPublish', 0],
    ]);
    expect(replies[2]!.command!.args).toEqual([1]); // createStream → stream id 1
    // StreamBegin(1) then Publish.Start on message stream 1
    expect(Array.from(replies[3]!.message.payload)).toEqual([0, UserControlEvent.StreamBegin, ...u32(1)]);
    const start = replies[4]!;
    expect(start.message.streamId).toBe(1);
    expect(amfToJson(start.command!.args[0])).toMatchObject({ level: 'status', code: 'NetStream.Publish.Start' });
    expect(h.session.state).toBe('publishing');

    const connectEvent = h.events.find((e) => e.name === 'connect')!.args[0];
    expect(connectEvent).toMatchObject({ app: 'live/test', tcUrl: 'rtmp://h/live/test', flashVer: 'FMLE/3.0' });
    expect(h.events.find((e) => e.name === 'publish')!.args[0]).toMatchObject({
      app: 'live/test',
      streamName: 'johndoe',
      publishType: 'live',
      streamId: 1,
    });
  });

  it('delivers metadata (both forms), other data messages and media of the published stream', () => {
    const h = new SessionHarness().publishFlow();
    h.data(['@setDataFrame', 'onMetaData', { width: 320, height: 240 }]);
    h.data(['onMetaData', { width: 640 }]);
    h.data(['onTextData', { text: 'hi' }], 1, 40);
    h.media(9, 0, Uint8Array.of(0x17, 0x00, 0, 0, 0, 1));
    h.media(8, 0, Uint8Array.of(0xaf, 0x00, 0x12, 0x10));
    h.media(9, 66, Uint8Array.of(0x27, 0x01, 0, 0, 0));
    const metadata = h.events.filter((e) => e.name === 'metadata').map((e) => amfToJson(e.args[0] as never));
    expect(metadata).toEqual([{ width: 320, height: 240 }, { width: 640 }]);
    expect(h.events.find((e) => e.name === 'data-message')!.args[0]).toMatchObject({
      name: 'onTextData',
      timestamp: 40,
      streamId: 1,
    });
    const media = h.events
      .filter((e) => e.name === 'audio' || e.name === 'video')
      .map((e) => {
        const m = e.args[0] as { timestamp: number; payload: Uint8Array; streamId: number };
        return [e.name, m.streamId, m.timestamp, Array.from(m.payload.subarray(0, 2))];
      });
    expect(media).toEqual([
      ['video', 1, 0, [0x17, 0x00]],
      ['audio', 1, 0, [0xaf, 0x00]],
      ['video', 1, 66, [0x27, 0x01]],
    ]);
  });

  it('ignores (and counts) media before publish and on a stream that is not published', () => {
    const h = new SessionHarness().handshake();
    h.command('connect', 1, { app: 'live' });
    h.command('createStream', 2, null);
    h.media(9, 0, Uint8Array.of(0x17, 0));
    expect(h.session.ignoredMessages).toBe(1);
    h.command('publish', 0, null, ['x'], 1);
    h.media(9, 0, Uint8Array.of(0x17, 0), 7);
    h.media(9, 0, Uint8Array.of(0x17, 0), 1);
    expect(h.session.ignoredMessages).toBe(2);
    expect(h.eventNames().filter((n) => n === 'video')).toHaveLength(1);
  });

  it('answers publish with txn 0 (rtmp2sink) and ends on deleteStream carrying the stream name', () => {
    const h = new SessionHarness().handshake();
    h.command('connect', 1, { app: 'live/test' });
    h.command('releaseStream', 0, null, ['johndoe']);
    h.command('FCPublish', 0, null, ['johndoe']);
    h.command('createStream', 2, null);
    h.command('publish', 0, null, ['johndoe', 'live'], 1);
    const names = h.commands().map((c) => c[0]);
    // no _result for txn 0, but onStatus Publish.Start anyway
    expect(names).toEqual(['_result', '_result', 'onStatus', 'onFCPublish']);
    h.command('FCUnpublish', 0, null, ['johndoe']);
    h.command('deleteStream', 0, null, ['johndoe']);
    const unpublish = h.events.filter((e) => e.name === 'unpublish');
    expect(unpublish).toHaveLength(1);
    expect(unpublish[0]!.args[1]).toBe('FCUnpublish');
    const last = h.commands().at(-1)!;
    expect(last[0]).toBe('onStatus');
    expect(amfToJson(last[3])).toMatchObject({ code: 'NetStream.Unpublish.Success' });
    expect(h.session.state).toBe('connected');
  });

  it.each([
    ['a number (ffmpeg, librtmp)', 1],
    ['the stream name (rtmp2sink)', 'johndoe'],
    ['false (Wirecast)', false],
  ])('deleteStream with %s ends the publish', (_label, arg) => {
    const h = new SessionHarness().publishFlow();
    h.command('deleteStream', 7, null, [arg]);
    expect(h.events.filter((e) => e.name === 'unpublish').map((e) => e.args[1])).toEqual(['deleteStream']);
    expect(amfToJson(h.commands().at(-1)![3])).toMatchObject({ code: 'NetStream.Unpublish.Success' });
  });

  it('closeStream on the published stream ends the publish; a new publish may follow', () => {
    const h = new SessionHarness().publishFlow();
    h.command('closeStream', 0, null, [], 1);
    expect(h.events.filter((e) => e.name === 'unpublish').map((e) => e.args[1])).toEqual(['closeStream']);
    h.command('publish', 9, null, ['again', 'live'], 1);
    expect(h.session.publishInfo?.streamName).toBe('again');
  });

  it('allows several createStream calls, up to maxStreams', () => {
    const h = new SessionHarness({ maxStreams: 2 }).handshake();
    h.command('connect', 1, { app: 'live' });
    h.take();
    h.command('createStream', 2, null);
    h.command('createStream', 3, null);
    h.command('createStream', 4, null);
    const r = h.take().map((x) => [x.command!.name, x.command!.transactionId, ...x.command!.args.map(amfToJson)]);
    expect(r[0]).toEqual(['_result', 2, 1]);
    expect(r[1]).toEqual(['_result', 3, 2]);
    expect(r[2]![0]).toBe('_error');
    expect(r[2]![2]).toMatchObject({ code: 'NetConnection.Call.Failed' });
    expect(h.closed).toBeNull();
  });

  it('refuses publish with an empty name as BadName, and on a stream createStream did not create', () => {
    for (const [args, streamId, code] of [
      [[''], 1, 'NetStream.Publish.BadName'],
      [[null], 1, 'NetStream.Publish.BadName'],
      [['x'], 5, 'NetStream.Publish.Rejected'],
    ] as const) {
      const h = new SessionHarness().handshake();
      h.command('connect', 1, { app: 'live' });
      h.command('createStream', 2, null);
      h.command('publish', 3, null, [...args], streamId);
      const status = h.commands().at(-1)!;
      expect(status[0]).toBe('onStatus');
      expect(amfToJson(status[3])).toMatchObject({ level: 'error', code });
      expect(h.closed).not.toBeNull();
      expect(h.eventNames()).not.toContain('publish');
    }
  });

  it('answers a ping request with a ping response carrying the same timestamp', () => {
    const h = new SessionHarness().publishFlow();
    h.take();
    h.send({
      chunkStreamId: 2,
      type: MessageType.UserControl,
      streamId: 0,
      timestamp: 0,
      payload: Uint8Array.of(0, 6, ...u32(0xdeadbeef)),
    });
    const r = h.take();
    expect(r).toHaveLength(1);
    expect(r[0]!.message.type).toBe(MessageType.UserControl);
    expect(Array.from(r[0]!.message.payload)).toEqual([0, 7, ...u32(0xdeadbeef)]);
  });

  it('ignores SetBufferLength and unknown user control events', () => {
    const h = new SessionHarness().publishFlow();
    h.take();
    const uc = (payload: number[]) =>
      h.send({ chunkStreamId: 2, type: 4, streamId: 0, timestamp: 0, payload: Uint8Array.from(payload) });
    uc([0, 3, ...u32(1), ...u32(3000)]);
    uc([0, 31, 1, 2]);
    uc([0x12, 0x34]);
    expect(h.take()).toEqual([]);
    expect(h.closed).toBeNull();
  });

  it('sends an Acknowledgement each time the peer window is reached', () => {
    const h = new SessionHarness().publishFlow();
    const window = 10_000;
    h.send({
      chunkStreamId: 2,
      type: MessageType.WindowAckSize,
      streamId: 0,
      timestamp: 0,
      payload: Uint8Array.from(u32(window)),
    });
    h.take();
    const acks: number[] = [];
    for (let i = 0; i < 40; i++) {
      h.feed(h.encode({ chunkStreamId: 6, type: 9, streamId: 1, timestamp: i * 10, payload: new Uint8Array(1500) }));
      const total = h.session.bytesIn;
      for (const r of h.take()) {
        if (r.message.type !== MessageType.Acknowledgement) continue;
        const value = new DataView(r.message.payload.buffer, r.message.payload.byteOffset).getUint32(0);
        // the sequence number is every byte received so far (handshake included)
        expect(value).toBe(total);
        acks.push(value);
      }
      // never a full window without an acknowledgement
      expect(total - (acks.at(-1) ?? 0)).toBeLessThan(window);
    }
    expect(acks.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < acks.length; i++) expect(acks[i]! - acks[i - 1]!).toBeGreaterThanOrEqual(window);
  });

  it('sends no Acknowledgement when the peer announced no window', () => {
    const h = new SessionHarness().publishFlow();
    for (let i = 0; i < 20; i++) h.media(9, i, new Uint8Array(4000));
    expect(h.all().filter((r) => r.message.type === MessageType.Acknowledgement)).toEqual([]);
  });

  it('refuses play with onStatus NetStream.Play.Failed and closes', () => {
    const h = new SessionHarness().handshake();
    h.command('connect', 1, { app: 'live' });
    h.command('createStream', 2, null);
    h.command('play', 3, null, ['johndoe', -1000], 1, 8);
    const last = h.commands().at(-1)!;
    expect(last[0]).toBe('onStatus');
    expect(amfToJson(last[3])).toEqual({
      level: 'error',
      code: 'NetStream.Play.Failed',
      description: 'this server only accepts publishing',
    });
    expect(h.closed?.err).toBeInstanceOf(RtmpRejection);
  });

  it('answers unknown commands with _error when they carry a transaction id, ignores them otherwise', () => {
    const h = new SessionHarness().handshake();
    h.command('connect', 1, { app: 'live' });
    h.take();
    h.command('FCSubscribe', 5, null, ['x']);
    h.command('receiveVideo', 0, null, [true]);
    h.command('_result', 9, null); // a reply to nothing must not be answered (loops)
    const r = h.take();
    expect(r).toHaveLength(1);
    expect(r[0]!.command!.name).toBe('_error');
    expect(r[0]!.command!.transactionId).toBe(5);
    expect(amfToJson(r[0]!.command!.args[0])).toMatchObject({ level: 'error', code: 'NetConnection.Call.Failed' });
    expect(h.closed).toBeNull();
  });

  it('accepts commands as AMF3 messages (type 17) with the format byte', () => {
    const h = new SessionHarness().handshake();
    const body = encodeAmf0('connect', 1, { app: 'live' });
    h.send({ chunkStreamId: 3, type: 17, streamId: 0, timestamp: 0, payload: Uint8Array.of(0, ...body) });
    expect(h.session.state).toBe('connected');
    expect(h.commands()[0]![0]).toBe('_result');
  });

  it('splits aggregate messages into media events with absolute timestamps', () => {
    const h = new SessionHarness().publishFlow();
    const part = (type: number, ts: number, body: number[]) => [
      type,
      0,
      0,
      body.length,
      (ts >> 16) & 0xff,
      (ts >> 8) & 0xff,
      ts & 0xff,
      0,
      0,
      0,
      1,
      ...body,
      ...u32(body.length + 11),
    ];
    const payload = Uint8Array.from([...part(9, 500, [0x17, 1, 0]), ...part(8, 520, [0xaf, 1]), 1, 2]);
    h.send({ chunkStreamId: 6, type: 22, streamId: 1, timestamp: 1000, payload });
    const media = h.events
      .filter((e) => e.name === 'audio' || e.name === 'video')
      .map((e) => [e.name, (e.args[0] as { timestamp: number }).timestamp]);
    expect(media).toEqual([
      ['video', 1000],
      ['audio', 1020],
    ]);
  });

  it('emits unpublish with the close reason when closed while publishing, then close', () => {
    const h = new SessionHarness().publishFlow();
    h.session.close('peer went away');
    expect(h.eventNames().slice(-2)).toEqual(['unpublish', 'close']);
    expect(h.events.at(-2)!.args[1]).toBe('peer went away');
    expect(h.closed?.err).toBeUndefined();
    expect(h.session.state).toBe('closed');
    // closed: later input is ignored, close is idempotent
    h.session.close();
    h.command('createStream', 9, null);
    expect(h.eventNames().filter((n) => n === 'close')).toHaveLength(1);
  });
});

describe('RtmpSession: hooks', () => {
  it('queues messages that arrive while onConnect is pending and processes them in order after it', async () => {
    const gate = deferred();
    const seen: string[] = [];
    const h = new SessionHarness({
      onConnect: (info) => {
        seen.push(info.app);
        return gate.promise;
      },
    }).publishFlow();
    // Only the control messages sent before the hook ran; nothing answered yet
    expect(h.commands()).toEqual([]);
    expect(h.session.state).toBe('connect');
    expect(seen).toEqual(['live/test']);
    gate.resolve();
    await flush();
    expect(h.commands().map((c) => [c[0], c[1]])).toEqual([
      ['_result', 1],
      ['_result', 2],
      ['_result', 3],
      ['_result', 4],
      ['onStatus', 0],
      ['onFCPublish', 0],
    ]);
    expect(h.session.state).toBe('publishing');
  });

  it('sends an authentication challenge’s authmod= as is, and keeps its description out of the error message', async () => {
    const challenge =
      '[ AccessManager.Reject ] : [ authmod=adobe ] : ?reason=needauth&user=u&salt=S&challenge=T&opaque=T';
    const h = new SessionHarness({
      onConnect: async () => {
        throw new RtmpRejection('NetConnection.Connect.Rejected', challenge, { authChallenge: true });
      },
    }).publishFlow();
    await flush();
    const info = amfToJson(h.commands()[0]![3]) as { code: string; description: string };
    expect(info).toMatchObject({ code: 'NetConnection.Connect.Rejected', description: challenge });
    expect(h.closed?.err?.message).toBe('NetConnection.Connect.Rejected: authentication challenge');
  });

  it('refuses connect with _error NetConnection.Connect.Rejected and the description, then closes', async () => {
    const h = new SessionHarness({
      onConnect: async () => {
        throw new RtmpRejection('NetConnection.Connect.Rejected', 'unknown app; authmod=adobe would confuse ffmpeg');
      },
    }).publishFlow();
    await flush();
    const cmds = h.commands();
    expect(cmds.map((c) => c[0])).toEqual(['_error']);
    expect(cmds[0]![1]).toBe(1);
    const info = amfToJson(cmds[0]![3]) as { level: string; code: string; description: string };
    expect(info.level).toBe('error');
    expect(info.code).toBe('NetConnection.Connect.Rejected');
    expect(info.description).toContain('unknown app');
    expect(info.description).not.toMatch(/authmod=/);
    expect(h.closed?.err).toBeInstanceOf(RtmpRejection);
    // The queued releaseStream/FCPublish/createStream/publish were discarded
    expect(h.eventNames()).toEqual(['close']);
  });

  it.each([
    ['NetStream.Publish.BadName', 'stream name must be live/{app}/{user}'],
    ['NetStream.Publish.Unauthorized', 'invalid stream key'],
    ['NetStream.Publish.Rejected', 'already publishing'],
  ])('refuses publish with onStatus error %s (async hook) and never sends Start', async (status, description) => {
    const h = new SessionHarness({
      onPublish: async (info) => {
        expect(info.streamName).toBe('johndoe');
        await flush();
        throw new RtmpRejection(status, description);
      },
    }).publishFlow();
    await flush();
    await flush();
    const cmds = h.commands();
    const last = cmds.at(-1)!;
    expect(last[0]).toBe('onStatus');
    expect(amfToJson(last[3])).toEqual({ level: 'error', code: status, description });
    for (const c of cmds) expect(JSON.stringify(amfToJson(c))).not.toContain('NetStream.Publish.Start"');
    expect(h.eventNames()).toEqual(['connect', 'close']);
    expect(h.closed?.err).toBeInstanceOf(RtmpRejection);
    expect((h.closed!.err as RtmpRejection).status).toBe(status);
  });

  it('a synchronous throwing hook refuses the same way', () => {
    const h = new SessionHarness({
      onPublish: () => {
        throw new RtmpRejection('NetStream.Publish.BadName', 'bad');
      },
    }).publishFlow();
    expect(amfToJson(h.commands().at(-1)![3])).toMatchObject({ level: 'error', code: 'NetStream.Publish.BadName' });
    expect(h.closed).not.toBeNull();
  });

  it('turns a hook failure that is not a rejection into a generic refusal that leaks nothing', async () => {
    const h = new SessionHarness({
      onPublish: async () => {
        throw new Error('database password is hunter2');
      },
    }).publishFlow();
    await flush();
    const last = h.commands().at(-1)!;
    expect(amfToJson(last[3])).toEqual({
      level: 'error',
      code: 'NetStream.Publish.Rejected',
      description: 'internal error',
    });
    for (const r of h.all()) expect(Buffer.from(r.message.payload).toString('latin1')).not.toContain('hunter2');
    expect(h.closed?.err?.code).toBe('ERR_RTMP_HOOK_FAILED');
  });

  it('pauses reading while a pending hook has too much queued, resumes after it', async () => {
    const gate = deferred();
    const h = new SessionHarness({ maxQueuedBytes: 4000, onPublish: () => gate.promise }).publishFlow();
    h.media(9, 0, new Uint8Array(3000));
    expect(h.session.isPaused).toBe(false);
    h.media(9, 10, new Uint8Array(3000));
    expect(h.session.isPaused).toBe(true);
    expect(h.eventNames()).toContain('pause');
    gate.resolve();
    await flush();
    expect(h.session.isPaused).toBe(false);
    // the queued media is delivered after Publish.Start, then reading resumes
    expect(h.eventNames().slice(-4)).toEqual(['publish', 'video', 'video', 'resume']);
  });

  it('closes with ERR_RTMP_QUEUE_FULL when the peer keeps sending far past the pause', () => {
    const h = new SessionHarness({ maxQueuedBytes: 4000, onPublish: () => new Promise(() => {}) }).publishFlow();
    for (let i = 0; i < 5 && h.closed === null; i++) h.media(9, i, new Uint8Array(3000));
    expect(h.closed?.err?.code).toBe('ERR_RTMP_QUEUE_FULL');
  });

  it('pause()/resume() emit pause/resume once each', () => {
    const h = new SessionHarness().handshake();
    h.session.pause();
    h.session.pause();
    h.session.resume();
    h.session.resume();
    expect(h.eventNames()).toEqual(['pause', 'resume']);
  });
});

describe('RtmpSession: bad input closes with a typed error, feed never throws', () => {
  const cases: [string, (h: SessionHarness) => void, string][] = [
    ['HTTP instead of RTMP', (h) => h.feed(new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n')), 'ERR_RTMP_BAD_VERSION'],
    ['RTMPE', (h) => h.feed(Uint8Array.of(6, 1, 2, 3)), 'ERR_RTMP_BAD_VERSION'],
    [
      'fmt 1 chunk on a chunk stream never opened',
      (h) => h.handshake().feed(Uint8Array.of(0x43, 0, 0, 0, 0, 0, 4, 20)),
      'ERR_RTMP_CHUNK_STREAM_NOT_OPEN',
    ],
    [
      'a 16 MB message declared',
      (h) => h.handshake().feed(Uint8Array.of(0x03, 0, 0, 0, 0xff, 0xff, 0xff, 9, 1, 0, 0, 0)),
      'ERR_RTMP_MESSAGE_TOO_LARGE',
    ],
    ['a command before connect', (h) => h.handshake().command('createStream', 2, null), 'ERR_RTMP_UNEXPECTED_COMMAND'],
    [
      'a command whose name is not a string',
      (h) => h.handshake().send({ chunkStreamId: 3, type: 20, streamId: 0, timestamp: 0, payload: encodeAmf0(1, 2) }),
      'ERR_RTMP_BAD_COMMAND',
    ],
    [
      'truncated AMF in a command',
      (h) =>
        h
          .handshake()
          .send({ chunkStreamId: 3, type: 20, streamId: 0, timestamp: 0, payload: Uint8Array.of(2, 0, 9, 0x61) }),
      'ERR_AMF_TRUNCATED',
    ],
    [
      'a Window Ack Size with a 2-byte body',
      (h) => h.handshake().send({ chunkStreamId: 2, type: 5, streamId: 0, timestamp: 0, payload: Uint8Array.of(0, 1) }),
      'ERR_RTMP_BAD_CONTROL_MESSAGE',
    ],
    [
      'Set Chunk Size 0',
      (h) =>
        h
          .handshake()
          .send({ chunkStreamId: 2, type: 1, streamId: 0, timestamp: 0, payload: Uint8Array.of(0, 0, 0, 0) }),
      'ERR_RTMP_BAD_CHUNK_SIZE',
    ],
  ];
  it.each(cases)('%s', (_label, act, code) => {
    const h = new SessionHarness();
    expect(() => act(h)).not.toThrow();
    expect(h.closed).not.toBeNull();
    expect(isRtmpError(h.closed!.err)).toBe(true);
    expect(h.closed!.err!.code).toBe(code);
    expect(h.closed!.err!.message.length).toBeGreaterThan(10);
    expect(h.session.state).toBe('closed');
  });

  it('a throwing event listener closes the session with ERR_RTMP_INTERNAL instead of throwing out of feed', () => {
    const h = new SessionHarness();
    h.session.on('connect', () => {
      throw new Error('listener bug');
    });
    h.handshake();
    expect(() => h.command('connect', 1, { app: 'live' })).not.toThrow();
    expect(h.closed?.err?.code).toBe('ERR_RTMP_INTERNAL');
    expect(h.closed?.err?.cause).toBeInstanceOf(Error);
  });

  it('rejects invalid options with one pointed message each', () => {
    expect(() => new RtmpSession({ chunkSize: 0 })).toThrow(/options\.chunkSize/);
    expect(() => new RtmpSession({ peerBandwidth: 0 })).toThrow(/options\.peerBandwidth/);
    expect(() => new RtmpSession({ maxStreams: 1.5 })).toThrow(/options\.maxStreams/);
    expect(() => new RtmpSession({ onPublish: 'no' as never })).toThrow(/options\.onPublish/);
    expect(() => new RtmpSession({ maxMessageSize: -1 })).toThrow(/options\.maxMessageSize/);
    expect(() => new RtmpSession({ amf: { maxDepth: 0 } })).toThrow(/options\.maxDepth/);
  });

  it('handles the handshake split at every byte and connect glued to C2', () => {
    const { c0c1, c2 } = clientHandshakeBytes();
    const h = new SessionHarness();
    const connect = h.encode({
      chunkStreamId: 3,
      type: 20,
      streamId: 0,
      timestamp: 0,
      payload: encodeAmf0('connect', 1, { app: 'a' }),
    });
    for (const b of c0c1) h.feed(Uint8Array.of(b));
    h.feed(Uint8Array.from([...c2, ...connect]));
    expect(h.session.state).toBe('connected');
  });
});
