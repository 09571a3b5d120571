/**
 * Drives an RtmpSession from the client side in memory: performs the handshake, sends messages encoded
 * with the package's ChunkEncoder, and decodes what the session sends back with a ChunkDecoder.
 */
import { type AmfValue, decodeCommand, encodeAmf0 } from '../../src/amf';
import { ChunkDecoder, ChunkEncoder } from '../../src/chunk';
import { MessageType, type RtmpMessage } from '../../src/constants';
import type { RtmpError } from '../../src/errors';
import { RtmpSession, type RtmpSessionOptions } from '../../src/session';
import { HANDSHAKE_BYTES } from './fixtures';

/** C0 + C1 of a plain (non-digest) handshake, then C2. */
export function clientHandshakeBytes(): { c0c1: Uint8Array; c2: Uint8Array } {
  const c0c1 = new Uint8Array(1 + 1536);
  c0c1[0] = 3;
  for (let i = 9; i < c0c1.length; i++) c0c1[i] = (i * 7) & 0xff;
  return { c0c1, c2: new Uint8Array(1536) };
}

export interface Reply {
  message: RtmpMessage;
  /** Decoded AMF when the message is a command (type 20). */
  command?: { name: string; transactionId: number; commandObject: AmfValue; args: AmfValue[] };
}

export class SessionHarness {
  readonly session: RtmpSession;
  readonly events: { name: string; args: unknown[] }[] = [];
  closed: { err: RtmpError | undefined } | null = null;
  /** Every byte the session emitted. */
  outBytes = 0;
  private readonly encoder = new ChunkEncoder();
  private readonly decoder = new ChunkDecoder();
  private handshakeLeft = HANDSHAKE_BYTES;
  private readonly replies: Reply[] = [];
  private cursor = 0;

  constructor(options: RtmpSessionOptions = {}) {
    this.session = new RtmpSession(options);
    this.session.on('data', (chunks) => {
      for (let c of chunks) {
        this.outBytes += c.length;
        if (this.handshakeLeft > 0) {
          const skip = Math.min(this.handshakeLeft, c.length);
          this.handshakeLeft -= skip;
          c = c.subarray(skip);
        }
        if (c.length > 0) {
          for (const m of this.decoder.push(Uint8Array.from(c))) {
            const r: Reply = { message: m };
            if (m.type === MessageType.CommandAmf0) r.command = decodeCommand(m.payload, m.type);
            this.replies.push(r);
          }
        }
      }
    });
    for (const name of [
      'connect',
      'publish',
      'metadata',
      'data-message',
      'audio',
      'video',
      'unpublish',
      'pause',
      'resume',
    ] as const) {
      this.session.on(name, (...args: unknown[]) => this.events.push({ name, args }));
    }
    this.session.on('close', (err) => {
      this.events.push({ name: 'close', args: [err] });
      this.closed = { err };
    });
  }

  /** Feeds bytes, asserting that feed does not throw (it must never). */
  feed(bytes: Uint8Array): void {
    this.session.feed(bytes);
  }

  handshake(): this {
    const { c0c1, c2 } = clientHandshakeBytes();
    this.feed(c0c1);
    this.feed(c2);
    return this;
  }

  /** Encodes and feeds one message. */
  send(message: RtmpMessage): this {
    for (const piece of this.encoder.encode(message)) this.feed(Uint8Array.from(piece));
    return this;
  }

  /** Bytes of one message as the client would send them (not fed). */
  encode(message: RtmpMessage): Uint8Array {
    return this.encoder.encodeToBuffer(message);
  }

  command(name: string, txn: number, obj: AmfValue, args: AmfValue[] = [], streamId = 0, csid = 3): this {
    return this.send({
      chunkStreamId: csid,
      type: MessageType.CommandAmf0,
      streamId,
      timestamp: 0,
      payload: encodeAmf0(name, txn, obj, ...args),
    });
  }

  data(values: AmfValue[], streamId = 1, timestamp = 0): this {
    return this.send({
      chunkStreamId: 4,
      type: MessageType.DataAmf0,
      streamId,
      timestamp,
      payload: encodeAmf0(...values),
    });
  }

  media(type: 8 | 9, timestamp: number, payload: Uint8Array, streamId = 1): this {
    return this.send({ chunkStreamId: type === 8 ? 4 : 6, type, streamId, timestamp, payload });
  }

  /** The ffmpeg sequence up to publish: connect, releaseStream, FCPublish, createStream, publish. */
  publishFlow(name = 'johndoe', app = 'live/test'): this {
    this.handshake();
    this.command('connect', 1, { app, type: 'nonprivate', flashVer: 'FMLE/3.0', tcUrl: `rtmp://h/${app}` });
    this.command('releaseStream', 2, null, [name]);
    this.command('FCPublish', 3, null, [name]);
    this.command('createStream', 4, null);
    this.command('publish', 5, null, [name, 'live'], 1, 8);
    return this;
  }

  /** Replies decoded since the last call. */
  take(): Reply[] {
    const out = this.replies.slice(this.cursor);
    this.cursor = this.replies.length;
    return out;
  }

  /** Every reply so far. */
  all(): Reply[] {
    return this.replies.slice();
  }

  /** Commands among every reply so far, as [name, txn, commandObject, ...args]. */
  commands(): AmfValue[][] {
    return this.replies
      .filter((r) => r.command !== undefined)
      .map((r) => [r.command!.name, r.command!.transactionId, r.command!.commandObject, ...r.command!.args]);
  }

  eventNames(): string[] {
    return this.events.map((e) => e.name);
  }
}
