/**
 * A small RTMP publishing client: handshake, connect, createStream + publish, then metadata and
 * media. Used by tests, by the server's load benchmark, and for relaying.
 * Spec: Adobe RTMP Specification 1.0, §5.2 (handshake), §7.2 (commands).
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { AmfEcmaArray, type AmfValue, decodeCommand, isAmfObject } from '../amf';
import { ChunkDecoder, ChunkEncoder } from '../chunk';
import { MessageType, type RtmpMessage, UserControlEvent } from '../constants';
import { isRtmpError, RtmpError, RtmpRejection } from '../errors';
import { ClientHandshake } from '../handshake';
import { integerOption, invalidOption } from '../options';
import {
  AcknowledgementWindow,
  COMMAND_CHUNK_STREAM_ID,
  commandMessage,
  dataMessage,
  decodeSetPeerBandwidth,
  decodeU32Control,
  decodeUserControl,
  encodeSetChunkSize,
  encodeUserControl,
  encodeWindowAckSize,
} from '../protocol';
import { type RtmpClientTarget, resolveRtmpTarget } from './rtmp-url';
import {
  DEFAULT_CLIENT_CHUNK_SIZE,
  DEFAULT_CLIENT_TIMEOUT,
  type RtmpClientEvents,
  type RtmpClientOptions,
} from './types';

/** Chunk streams the client sends on. */
const CSID_STREAM_COMMAND = 4;
const CSID_DATA = 5;
const CSID_AUDIO = 6;
const CSID_VIDEO = 7;

interface Pending {
  resolve: (values: AmfValue[]) => void;
  reject: (err: RtmpError) => void;
}

/**
 * A connected RTMP client. Create with {@link RtmpClient.connect}, then `publish`, then `send*`.
 * Sends acknowledgements when the server's window is reached, answers pings, and follows the server's
 * Set Chunk Size. Errors end the connection: `'close'` carries them and pending calls reject.
 */
export class RtmpClient extends EventEmitter<RtmpClientEvents> {
  private readonly socket: net.Socket;
  private readonly encoder: ChunkEncoder;
  private readonly decoder: ChunkDecoder;
  private readonly target: Required<RtmpClientTarget>;
  private readonly pending = new Map<number, Pending>();
  private nextTxn = 1;
  private bytesIn = 0;
  private readonly ackWindow = new AcknowledgementWindow();
  private lastWindowSent = -1;
  private publishWaiter: { streamId: number; resolve: () => void; reject: (e: RtmpError) => void } | null = null;
  private _streamId: number | null = null;
  private _streamName: string | null = null;
  private ended: RtmpError | null | undefined = undefined;
  private readonly closedPromise: Promise<void>;

  private constructor(socket: net.Socket, target: Required<RtmpClientTarget>, options: RtmpClientOptions) {
    super();
    this.socket = socket;
    this.target = target;
    this.encoder = new ChunkEncoder();
    this.decoder = new ChunkDecoder(options); // reads only its own fields
    this.closedPromise = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('drain', () => this.emit('drain'));
  }

  /**
   * Connects: TCP, handshake, Set Chunk Size, `connect`. Resolves once the server accepted.
   * @throws RtmpRejection when the server answers `_error` (its code and description);
   * RtmpError `ERR_RTMP_TIMEOUT` after `timeout`; `ERR_RTMP_SOCKET` on a network error.
   */
  static async connect(target: string | RtmpClientTarget, options: RtmpClientOptions = {}): Promise<RtmpClient> {
    const chunkSize = integerOption('chunkSize', options.chunkSize, DEFAULT_CLIENT_CHUNK_SIZE, 1, 0x7fffffff);
    const timeout = integerOption('timeout', options.timeout, DEFAULT_CLIENT_TIMEOUT, 1, 0x7fffffff);
    const t = resolveRtmpTarget(target);
    const local = options.localAddress;
    if (local !== undefined && (typeof local !== 'string' || net.isIP(local) === 0)) {
      throw invalidOption('localAddress', 'an IP address', local);
    }
    const socket = net.connect({ port: t.port, host: t.host, ...(local !== undefined ? { localAddress: local } : {}) });
    socket.setNoDelay(true);
    const client = new RtmpClient(socket, t, options);
    try {
      await client.withTimeout(client.open(chunkSize, options), timeout, 'connect');
    } catch (err) {
      client.fail(err as RtmpError);
      throw err;
    }
    return client;
  }

  /** Message stream id of the publish, or null before `publish` resolved. */
  get streamId(): number | null {
    return this._streamId;
  }

  /** Bytes the socket has buffered but not yet sent (for backpressure decisions). */
  get writableLength(): number {
    return this.socket.writableLength;
  }

  /**
   * releaseStream + FCPublish + createStream, then `publish(streamName, type)`. Resolves with the
   * stream id on NetStream.Publish.Start.
   * @throws RtmpRejection with the server's status code and description when it refuses.
   */
  async publish(streamName: string, type = 'live', timeout = DEFAULT_CLIENT_TIMEOUT): Promise<number> {
    if (this._streamId !== null) throw new RtmpError('ERR_RTMP_INVALID_STATE', 'already publishing');
    this.ensureOpen();
    const run = async (): Promise<number> => {
      this.sendCommand('releaseStream', this.nextTxn++, [streamName]);
      this.sendCommand('FCPublish', this.nextTxn++, [streamName]);
      const created = await this.call('createStream', []);
      const id = created[1];
      if (typeof id !== 'number') {
        throw new RtmpError('ERR_RTMP_BAD_COMMAND', `createStream answered ${JSON.stringify(id)}, not a number`);
      }
      const started = new Promise<void>((resolve, reject) => {
        this.publishWaiter = { streamId: id, resolve, reject };
      });
      this.send(
        commandMessage('publish', this.nextTxn++, null, [streamName, type], {
          chunkStreamId: CSID_STREAM_COMMAND,
          streamId: id,
        }),
      );
      await started;
      this._streamId = id;
      this._streamName = streamName;
      return id;
    };
    return this.withTimeout(run(), timeout, 'publish');
  }

  /** Sends `@setDataFrame("onMetaData", data)` as an ECMA array. @returns the socket write result. */
  sendMetadata(data: Record<string, AmfValue>): boolean {
    return this.send(
      dataMessage(['@setDataFrame', 'onMetaData', new AmfEcmaArray(data)], {
        chunkStreamId: CSID_DATA,
        streamId: this.publishedStreamId(),
      }),
    );
  }

  /** Sends an audio message (FLV audio tag body). @returns the socket write result (false: wait for 'drain'). */
  sendAudio(timestamp: number, payload: Uint8Array): boolean {
    return this.send({
      chunkStreamId: CSID_AUDIO,
      type: MessageType.Audio,
      streamId: this.publishedStreamId(),
      timestamp,
      payload,
    });
  }

  /** Sends a video message (FLV video tag body). @returns the socket write result (false: wait for 'drain'). */
  sendVideo(timestamp: number, payload: Uint8Array): boolean {
    return this.send({
      chunkStreamId: CSID_VIDEO,
      type: MessageType.Video,
      streamId: this.publishedStreamId(),
      timestamp,
      payload,
    });
  }

  /**
   * Ends the publish (FCUnpublish + deleteStream, as ffmpeg does) and the connection, after the socket
   * flushed. Resolves when the socket is closed.
   */
  async close(): Promise<void> {
    if (this.ended === undefined && !this.socket.destroyed) {
      if (this._streamId !== null) {
        this.sendCommand('FCUnpublish', this.nextTxn++, [this._streamName ?? '']);
        this.sendCommand('deleteStream', this.nextTxn++, [this._streamId]);
      }
      this.finish(undefined);
      this.socket.end();
      const timer = setTimeout(() => this.socket.destroy(), 2_000);
      await this.closedPromise;
      clearTimeout(timer);
      return;
    }
    this.socket.destroy();
    await this.closedPromise;
  }

  /** Destroys the socket at once. */
  destroy(): void {
    this.finish(undefined);
    this.socket.destroy();
  }

  // ---- internals ------------------------------------------------------------------------------

  private publishedStreamId(): number {
    if (this._streamId === null) throw new RtmpError('ERR_RTMP_INVALID_STATE', 'publish() has not completed');
    return this._streamId;
  }

  private ensureOpen(): void {
    if (this.ended !== undefined || this.socket.destroyed) {
      throw new RtmpError('ERR_RTMP_CLOSED', 'the connection is closed');
    }
  }

  private open(chunkSize: number, options: RtmpClientOptions): Promise<void> {
    const socket = this.socket;
    const handshake = new ClientHandshake(options.handshake);
    return new Promise<void>((resolve, reject) => {
      const onEarlyClose = (err?: RtmpError) =>
        reject(err ?? new RtmpError('ERR_RTMP_CLOSED', 'the server closed the connection during connect'));
      this.once('close', onEarlyClose);
      socket.once('connect', () => socket.write(handshake.start()));
      socket.on('error', (err) =>
        this.fail(new RtmpError('ERR_RTMP_SOCKET', `socket error: ${err.message}`, { cause: err })),
      );
      socket.on('close', () => this.finish(new RtmpError('ERR_RTMP_CLOSED', 'the server closed the connection')));
      socket.on('data', (buf: Buffer) => {
        try {
          this.bytesIn += buf.length;
          let rest: Uint8Array = buf;
          if (!handshake.done) {
            const step = handshake.push(buf);
            for (const out of step.output) socket.write(out);
            if (!step.done) return;
            rest = step.rest;
            // OBS-style: our chunk size first, then connect.
            this.send(encodeSetChunkSize(chunkSize));
            this.encoder.setChunkSize(chunkSize);
            this.call('connect', [], {
              app: this.target.app,
              type: 'nonprivate',
              flashVer: options.flashVer ?? 'FMLE/3.0 (compatible; @org/rtmp)',
              tcUrl: this.target.tcUrl,
            }).then(
              () => {
                this.off('close', onEarlyClose);
                resolve();
              },
              (err: RtmpError) => reject(err),
            );
          }
          if (rest.length > 0) {
            const messages = this.decoder.push(rest);
            const ack = this.ackWindow.due(this.bytesIn);
            if (ack !== null) this.send(ack);
            for (const m of messages) this.handle(m);
          }
        } catch (err) {
          this.fail(
            isRtmpError(err)
              ? err
              : new RtmpError('ERR_RTMP_INTERNAL', `unexpected error: ${(err as Error).message}`, { cause: err }),
          );
        }
      });
    });
  }

  private handle(m: RtmpMessage): void {
    switch (m.type) {
      case MessageType.WindowAckSize:
        this.ackWindow.setWindow(decodeU32Control(m.payload, 'Window Acknowledgement Size'));
        return;
      case MessageType.SetPeerBandwidth: {
        // The receiver answers with its Window Ack Size when the window differs from what it sent.
        const { windowSize } = decodeSetPeerBandwidth(m.payload);
        if (windowSize !== this.lastWindowSent) {
          this.lastWindowSent = windowSize;
          this.send(encodeWindowAckSize(windowSize));
        }
        return;
      }
      case MessageType.UserControl: {
        const uc = decodeUserControl(m.payload);
        if (uc.event === UserControlEvent.PingRequest) {
          this.send(encodeUserControl(UserControlEvent.PingResponse, uc.value));
        }
        return;
      }
      case MessageType.CommandAmf0:
      case MessageType.CommandAmf3:
        this.handleCommand(m);
        return;
      default:
        return; // chunk size / abort applied by the decoder; acks and anything else need nothing
    }
  }

  private handleCommand(m: RtmpMessage): void {
    const cmd = decodeCommand(m.payload, m.type);
    if (cmd.name === '_result' || cmd.name === '_error') {
      const p = this.pending.get(cmd.transactionId);
      if (p === undefined) return;
      this.pending.delete(cmd.transactionId);
      if (cmd.name === '_result') p.resolve([cmd.commandObject, ...cmd.args]);
      else p.reject(rejectionFrom(cmd.args[0], 'NetConnection.Call.Failed'));
      return;
    }
    if (cmd.name === 'onStatus') {
      const info = cmd.args.find(isAmfObject) ?? {};
      const w = this.publishWaiter;
      if (w !== null && (m.streamId === w.streamId || m.streamId === 0)) {
        if (info.code === 'NetStream.Publish.Start') {
          this.publishWaiter = null;
          w.resolve();
          return;
        }
        if (info.level === 'error') {
          this.publishWaiter = null;
          w.reject(rejectionFrom(info, 'NetStream.Publish.Rejected'));
          return;
        }
      }
      this.emit('status', info);
    }
  }

  /** Sends a command with a new transaction id and resolves with the `_result` values after the txn. */
  private call(name: string, args: AmfValue[], commandObject: AmfValue = null): Promise<AmfValue[]> {
    const txn = this.nextTxn++;
    const p = new Promise<AmfValue[]>((resolve, reject) => this.pending.set(txn, { resolve, reject }));
    this.sendCommand(name, txn, args, commandObject);
    return p;
  }

  private sendCommand(name: string, txn: number, args: AmfValue[], commandObject: AmfValue = null): void {
    this.send(commandMessage(name, txn, commandObject, args, { chunkStreamId: COMMAND_CHUNK_STREAM_ID }));
  }

  private send(msg: RtmpMessage): boolean {
    this.ensureOpen();
    const pieces = this.encoder.encode(msg);
    const socket = this.socket;
    if (pieces.length === 1) return socket.write(pieces[0]!);
    socket.cork();
    let ok = true;
    for (const p of pieces) ok = socket.write(p);
    socket.uncork();
    return ok;
  }

  private withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        const err = new RtmpError('ERR_RTMP_TIMEOUT', `${what} not answered within ${ms} ms`);
        reject(err);
        this.fail(err);
      }, ms);
      p.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
  }

  /** Ends with an error: rejects pending calls, emits 'close'(err), destroys the socket. */
  private fail(err: RtmpError): void {
    this.finish(err);
    this.socket.destroy();
  }

  private finish(err: RtmpError | undefined): void {
    if (this.ended !== undefined) return;
    this.ended = err ?? null;
    const reason = err ?? new RtmpError('ERR_RTMP_CLOSED', 'the connection was closed');
    for (const p of this.pending.values()) p.reject(reason);
    this.pending.clear();
    this.publishWaiter?.reject(reason);
    this.publishWaiter = null;
    this.emit('close', err);
  }
}

function rejectionFrom(info: AmfValue, fallbackCode: string): RtmpRejection {
  const o = isAmfObject(info) ? info : {};
  return new RtmpRejection(
    typeof o.code === 'string' ? o.code : fallbackCode,
    typeof o.description === 'string' ? o.description : '',
  );
}
