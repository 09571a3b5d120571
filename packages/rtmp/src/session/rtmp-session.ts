/**
 * Server side of one RTMP connection, transport-agnostic: bytes in through `feed`, bytes out through
 * `'data'` events, application events for connect / publish / metadata / media / unpublish / close.
 * Spec: Adobe RTMP Specification 1.0 (December 2012) §5.4–§7; peer behaviour per the project's
 * wire-behaviour checklist §3–§6.
 */
import { EventEmitter } from 'node:events';
import { type AmfObject, type AmfValue, decodeCommand, decodeData, type RtmpCommand } from '../amf';
import { ChunkDecoder, ChunkEncoder } from '../chunk';
import { MessageType, PeerBandwidthLimit, type RtmpMessage, UserControlEvent } from '../constants';
import { isRtmpError, RtmpError, RtmpProtocolError, RtmpRejection } from '../errors';
import { ServerHandshake } from '../handshake';
import { type Amf0DecodeOptions, integerOption, resolveAmf0DecodeOptions } from '../options';
import {
  commandMessage,
  connectResultMessage,
  decodeSetPeerBandwidth,
  decodeU32Control,
  decodeUserControl,
  encodeAcknowledgement,
  encodeSetChunkSize,
  encodeSetPeerBandwidth,
  encodeUserControl,
  encodeWindowAckSize,
  errorMessage,
  NetStatusCode,
  onStatusMessage,
  resultMessage,
  splitAggregate,
  statusObject,
} from '../protocol';
import type { ConnectInfo, PublishInfo, RtmpSessionEvents, RtmpSessionOptions, RtmpSessionState } from './types';

/** Default outgoing chunk size: ffmpeg adopts ours, and 4096 keeps header overhead under 0.5 %. */
export const DEFAULT_SESSION_CHUNK_SIZE = 4096;
/** Default window we ask the peer to acknowledge, the value nginx-rtmp and rtmp2sink use. */
export const DEFAULT_WINDOW_ACK_SIZE = 5_000_000;
/** Default createStream limit per connection: publishers create one; a few spare for retries. */
export const DEFAULT_MAX_STREAMS = 16;
/** Default bytes queued behind a pending hook before we stop reading (publishers wait for replies anyway). */
export const DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024;

const TWO_POW_32 = 0x100000000;

interface ResolvedSessionOptions {
  chunkSize: number;
  windowAckSize: number;
  peerBandwidth: number;
  maxStreams: number;
  maxQueuedBytes: number;
  amf: Amf0DecodeOptions | undefined;
  onConnect: RtmpSessionOptions['onConnect'];
  onPublish: RtmpSessionOptions['onPublish'];
}

function resolveOptions(o: RtmpSessionOptions): ResolvedSessionOptions {
  const windowAckSize = integerOption('windowAckSize', o.windowAckSize, DEFAULT_WINDOW_ACK_SIZE, 1, 0xffffffff);
  for (const hook of ['onConnect', 'onPublish'] as const) {
    if (o[hook] !== undefined && typeof o[hook] !== 'function') {
      throw new RtmpError('ERR_RTMP_INVALID_OPTION', `options.${hook} must be a function, got ${typeof o[hook]}`);
    }
  }
  return {
    chunkSize: integerOption('chunkSize', o.chunkSize, DEFAULT_SESSION_CHUNK_SIZE, 1, 0x7fffffff),
    windowAckSize,
    // ffmpeg aborts on a bandwidth ≤ 0, so 0 is refused here.
    peerBandwidth: integerOption('peerBandwidth', o.peerBandwidth, windowAckSize, 1, 0xffffffff),
    maxStreams: integerOption('maxStreams', o.maxStreams, DEFAULT_MAX_STREAMS, 1, 0xffff),
    maxQueuedBytes: integerOption('maxQueuedBytes', o.maxQueuedBytes, DEFAULT_MAX_QUEUED_BYTES, 1, 2 ** 40),
    amf: o.amf === undefined ? undefined : resolveAmf0DecodeOptions(o.amf),
    onConnect: o.onConnect,
    onPublish: o.onPublish,
  };
}

/** True for an AMF object (not null, not an array, date or byte array). */
function isAmfObject(v: AmfValue): v is AmfObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof Uint8Array);
}

/** A peer-supplied string shortened for log messages and replies. */
function clip(s: string, max = 64): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** Reads an {@link RtmpRejection}, also one created by another copy of this package. */
function asRejection(err: unknown): RtmpRejection | null {
  if (err instanceof RtmpRejection) return err;
  if (isRtmpError(err) && err.code === 'ERR_RTMP_REJECTED') {
    const { status, description } = err as unknown as { status: unknown; description: unknown };
    if (typeof status === 'string' && typeof description === 'string') return new RtmpRejection(status, description);
  }
  return null;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * One RTMP server connection as a byte-driven state machine.
 *
 * Feed it what the socket reads; write what it emits as `'data'`. It answers the handshake, announces
 * Window Ack Size / Set Peer Bandwidth / Set Chunk Size, acknowledges the peer's window, answers pings,
 * and speaks the publish command flow of ffmpeg, OBS, GStreamer and librtmp. `play` is refused.
 *
 * `feed` never throws: a protocol violation, an exceeded limit or an exception from an event listener
 * closes the session and `'close'` carries the typed error. Rejections by the hooks are sent to the
 * peer (flushed as `'data'`) before `'close'`.
 *
 * Backpressure: `'pause'` / `'resume'` tell the transport to stop / restart reading. They follow
 * `pause()` / `resume()` and, while a hook is pending, the amount of queued input. Bytes fed while
 * paused are still processed (at most what the transport had in flight).
 */
export class RtmpSession extends EventEmitter<RtmpSessionEvents> {
  private readonly opts: ResolvedSessionOptions;
  private readonly handshake: ServerHandshake;
  private readonly decoder: ChunkDecoder;
  private readonly encoder = new ChunkEncoder();
  private _state: RtmpSessionState = 'handshake';
  private _bytesIn = 0;
  private _bytesOut = 0;
  private _ignored = 0;
  private outbox: Uint8Array[] = [];
  private queue: RtmpMessage[] = [];
  private queuedBytes = 0;
  private draining = false;
  private hookPending = false;
  private appPaused = false;
  private flowStopped = false;
  /** Window Ack Size the peer announced (0 = none: send no acknowledgements). */
  private peerWindow = 0;
  private lastAckAt = 0;
  private _peerAcknowledged = 0;
  private _connect: ConnectInfo | null = null;
  private readonly streams = new Set<number>();
  private nextStreamId = 1;
  private publishing: PublishInfo | null = null;
  /** The client sent FCPublish (it gets onFCPublish once a publish is accepted). */
  private fcPublished = false;

  /**
   * @param options see {@link RtmpSessionOptions}; each is validated here and a bad one throws
   * `ERR_RTMP_INVALID_OPTION` naming it.
   */
  constructor(options: RtmpSessionOptions = {}) {
    super();
    this.opts = resolveOptions(options);
    this.handshake = new ServerHandshake(options.handshake);
    this.decoder = new ChunkDecoder(options); // reads only its own fields
  }

  /** Where the session is in its lifecycle. */
  get state(): RtmpSessionState {
    return this._state;
  }

  /** Bytes fed so far (handshake included). */
  get bytesIn(): number {
    return this._bytesIn;
  }

  /** Bytes emitted as `'data'` so far. */
  get bytesOut(): number {
    return this._bytesOut;
  }

  /**
   * Messages dropped without effect: media or data before publish or on a stream not being published,
   * undecodable data messages, shared objects and unknown message types.
   */
  get ignoredMessages(): number {
    return this._ignored;
  }

  /** Last Acknowledgement sequence number the peer sent (bytes it received, mod 2^32). */
  get peerAcknowledged(): number {
    return this._peerAcknowledged;
  }

  /** Bytes of messages begun but not yet complete (the chunk decoder's partial messages). */
  get pendingMessageBytes(): number {
    return this.decoder.pendingMessageBytes;
  }

  /** True while the transport should not read (see `'pause'`). */
  get isPaused(): boolean {
    return this.flowStopped;
  }

  /** The accepted connect, or null before. */
  get connectInfo(): ConnectInfo | null {
    return this._connect;
  }

  /** The stream being published, or null. */
  get publishInfo(): PublishInfo | null {
    return this.publishing;
  }

  /** Feeds bytes read from the peer. Never throws; see the class notes. */
  feed(bytes: Uint8Array): void {
    if (this._state === 'closed' || bytes.length === 0) return;
    this._bytesIn += bytes.length;
    try {
      let rest = bytes;
      if (this._state === 'handshake') {
        const step = this.handshake.push(bytes);
        for (const out of step.output) this.outbox.push(out);
        if (!step.done) {
          this.flush();
          return;
        }
        this._state = 'connect';
        rest = step.rest;
      }
      if (rest.length > 0) {
        const messages = this.decoder.push(rest);
        this.maybeAcknowledge();
        for (const m of messages) this.enqueue(m);
      }
      this.drain();
      this.flush();
    } catch (err) {
      this.fail(err);
    }
  }

  /** Application backpressure: ask the transport to stop reading (emits `'pause'`). */
  pause(): void {
    this.appPaused = true;
    this.updateFlow();
  }

  /** Undoes {@link pause} (emits `'resume'` unless a hook still holds reading). */
  resume(): void {
    this.appPaused = false;
    this.updateFlow();
  }

  /**
   * Ends the session: pending output is flushed, an active publish ends with `'unpublish'`, then
   * `'close'` is emitted (with `reason` when it is an error). Idempotent. Nothing is sent to the peer,
   * except for an {@link RtmpRejection} while publishing: its onStatus (level "error") goes first.
   * The transport closes the socket on `'close'`.
   */
  close(reason?: string | RtmpError): void {
    if (this._state === 'closed') return;
    try {
      const rejection = typeof reason === 'object' ? asRejection(reason) : null;
      if (rejection !== null && this.publishing !== null) {
        // Refusing a publish after it started (e.g. a codec seen in the first video message that the
        // application cannot take): the peer is told why, as for a refusal by the onPublish hook.
        const { status, description } = rejection;
        this.send(onStatusMessage(this.publishing.streamId, statusObject('error', status, description)));
        this.closeWith(rejection, status);
      } else if (typeof reason === 'object') this.closeWith(reason, reason.code);
      else this.closeWith(undefined, reason ?? 'closed');
    } catch (err) {
      this.fail(err);
    }
  }

  // ---- plumbing -------------------------------------------------------------------------------

  private send(msg: RtmpMessage): void {
    for (const piece of this.encoder.encode(msg)) this.outbox.push(piece);
  }

  private flush(): void {
    if (this.outbox.length === 0) return;
    const chunks = this.outbox;
    this.outbox = [];
    for (const c of chunks) this._bytesOut += c.length;
    this.emit('data', chunks);
  }

  private fail(err: unknown): void {
    if (this._state === 'closed') return;
    const e = isRtmpError(err)
      ? err
      : new RtmpError('ERR_RTMP_INTERNAL', `unexpected error in the RTMP session: ${errorText(err)}`, { cause: err });
    try {
      this.closeWith(e, e.code);
    } catch {
      // A 'close' or 'unpublish' listener threw; the session is closed regardless.
    }
  }

  private closeWith(err: RtmpError | undefined, reason: string): void {
    if (this._state === 'closed') return;
    this.flush();
    this._state = 'closed';
    this.queue = [];
    this.queuedBytes = 0;
    const pub = this.publishing;
    this.publishing = null;
    if (pub !== null) this.emit('unpublish', pub, reason);
    this.emit('close', err);
  }

  private updateFlow(): void {
    if (this._state === 'closed') return;
    const stop = this.appPaused || (this.hookPending && this.queuedBytes >= this.opts.maxQueuedBytes);
    if (stop === this.flowStopped) return;
    this.flowStopped = stop;
    this.emit(stop ? 'pause' : 'resume');
  }

  private enqueue(m: RtmpMessage): void {
    this.queue.push(m);
    this.queuedBytes += m.payload.length;
    if (this.hookPending && this.queuedBytes > 2 * this.opts.maxQueuedBytes) {
      throw new RtmpProtocolError(
        'ERR_RTMP_QUEUE_FULL',
        `${this.queuedBytes} bytes queued behind a pending hook > 2 × maxQueuedBytes ${this.opts.maxQueuedBytes} (the peer kept sending while paused)`,
      );
    }
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (!this.hookPending && this.queue.length > 0 && this._state !== 'closed') {
        const m = this.queue.shift()!;
        this.queuedBytes -= m.payload.length;
        this.handleMessage(m);
      }
    } finally {
      this.draining = false;
    }
    this.updateFlow();
  }

  /** Sends an Acknowledgement once the bytes since the last one reach the peer's window. */
  private maybeAcknowledge(): void {
    if (this.peerWindow > 0 && this._bytesIn - this.lastAckAt >= this.peerWindow) {
      this.lastAckAt = this._bytesIn;
      this.send(encodeAcknowledgement(this._bytesIn % TWO_POW_32));
    }
  }

  /**
   * Runs a hook. A synchronous result continues at once; a promise holds the queue until it settles.
   */
  private runHook<T>(
    hook: ((info: T) => void | Promise<void>) | undefined,
    info: T,
    accept: () => void,
    refuse: (err: unknown) => void,
  ): void {
    if (hook === undefined) {
      accept();
      return;
    }
    let result: void | Promise<void>;
    try {
      result = hook(info);
    } catch (err) {
      refuse(err);
      return;
    }
    if (result === undefined || result === null || typeof (result as Promise<void>).then !== 'function') {
      accept();
      return;
    }
    this.hookPending = true;
    this.updateFlow();
    const settle = (fn: () => void) => {
      this.hookPending = false;
      if (this._state === 'closed') return;
      try {
        fn();
        this.drain();
        this.flush();
      } catch (err) {
        this.fail(err);
      }
    };
    Promise.resolve(result).then(
      () => settle(accept),
      (err: unknown) => settle(() => refuse(err)),
    );
  }

  // ---- messages -------------------------------------------------------------------------------

  private handleMessage(m: RtmpMessage): void {
    switch (m.type) {
      case MessageType.SetChunkSize:
      case MessageType.Abort:
        return; // the chunk decoder applied them
      case MessageType.Acknowledgement:
        this._peerAcknowledged = decodeU32Control(m.payload, 'Acknowledgement');
        return;
      case MessageType.WindowAckSize:
        this.peerWindow = decodeU32Control(m.payload, 'Window Acknowledgement Size');
        return;
      case MessageType.SetPeerBandwidth:
        decodeSetPeerBandwidth(m.payload); // validated; a server has nothing to adjust
        return;
      case MessageType.UserControl: {
        const uc = decodeUserControl(m.payload);
        if (uc.event === UserControlEvent.PingRequest) {
          this.send(encodeUserControl(UserControlEvent.PingResponse, uc.value));
        }
        return; // SetBufferLength, PingResponse and unknown events need nothing
      }
      case MessageType.CommandAmf0:
      case MessageType.CommandAmf3:
        this.handleCommand(m);
        return;
      case MessageType.DataAmf0:
      case MessageType.DataAmf3:
        this.handleData(m.type, m.streamId, m.timestamp, m.payload);
        return;
      case MessageType.Audio:
      case MessageType.Video:
        this.handleMedia(m.type, m.streamId, m.timestamp, m.payload);
        return;
      case MessageType.Aggregate:
        for (const part of splitAggregate(m.payload, m.timestamp)) {
          if (part.type === MessageType.DataAmf0) this.handleData(part.type, m.streamId, part.timestamp, part.payload);
          else this.handleMedia(part.type, m.streamId, part.timestamp, part.payload);
        }
        return;
      default:
        this._ignored++;
    }
  }

  private handleMedia(type: number, streamId: number, timestamp: number, payload: Uint8Array): void {
    if (this.publishing === null || streamId !== this.publishing.streamId) {
      this._ignored++;
      return;
    }
    this.emit(type === MessageType.Audio ? 'audio' : 'video', { streamId, timestamp, payload });
  }

  private handleData(type: number, streamId: number, timestamp: number, payload: Uint8Array): void {
    let values: AmfValue[];
    try {
      values = decodeData(payload, type, this.opts.amf);
    } catch (err) {
      if (!isRtmpError(err)) throw err;
      this._ignored++; // malformed metadata must not end a stream; media carries the codec config
      return;
    }
    let name = values[0];
    let rest = values.slice(1);
    if (name === '@setDataFrame') {
      name = values[1];
      rest = values.slice(2);
    }
    if (typeof name !== 'string' || name === '@clearDataFrame') {
      this._ignored++;
      return;
    }
    if (this.publishing === null || streamId !== this.publishing.streamId) {
      this._ignored++;
      return;
    }
    if (name === 'onMetaData') {
      const data = rest.find(isAmfObject);
      if (data === undefined) this._ignored++;
      else this.emit('metadata', data);
      return;
    }
    this.emit('data-message', { streamId, timestamp, name, values: rest });
  }

  private handleCommand(m: RtmpMessage): void {
    const cmd = decodeCommand(m.payload, m.type, this.opts.amf);
    if (this._connect === null) {
      if (cmd.name !== 'connect') {
        throw new RtmpProtocolError('ERR_RTMP_UNEXPECTED_COMMAND', `"${clip(cmd.name)}" before connect`);
      }
      this.onConnectCommand(cmd);
      return;
    }
    const txn = cmd.transactionId;
    switch (cmd.name) {
      case 'connect':
        if (txn !== 0) {
          this.send(errorMessage(txn, statusObject('error', NetStatusCode.CallFailed, 'already connected')));
        }
        return;
      case 'releaseStream':
        if (txn !== 0) this.send(resultMessage(txn, null));
        return;
      case 'FCPublish':
        if (txn !== 0) this.send(resultMessage(txn, null));
        this.fcPublished = true;
        return;
      case 'createStream':
        this.onCreateStream(txn);
        return;
      case 'publish':
        this.onPublishCommand(cmd, m.streamId);
        return;
      case 'FCUnpublish':
        if (txn !== 0) this.send(resultMessage(txn, null));
        this.endPublish('FCUnpublish');
        return;
      case 'closeStream':
        if (this.publishing !== null && (m.streamId === this.publishing.streamId || m.streamId === 0)) {
          this.endPublish('closeStream');
        }
        return;
      case 'deleteStream': {
        // ffmpeg/librtmp send the stream id, rtmp2sink the stream *name*, Wirecast `false`.
        const arg = cmd.args[0];
        const id = typeof arg === 'number' ? arg : (this.publishing?.streamId ?? -1);
        if (this.publishing !== null && id === this.publishing.streamId) this.endPublish('deleteStream');
        this.streams.delete(id);
        return;
      }
      case 'getStreamLength':
        if (txn !== 0) this.send(resultMessage(txn, null, 0));
        return;
      case '_checkbw':
        if (txn !== 0) this.send(resultMessage(txn, null));
        return;
      case 'play':
      case 'play2':
        this.send(
          onStatusMessage(
            m.streamId,
            statusObject('error', NetStatusCode.PlayFailed, 'this server only accepts publishing'),
          ),
        );
        this.closeWith(
          new RtmpRejection(NetStatusCode.PlayFailed, 'this server only accepts publishing'),
          NetStatusCode.PlayFailed,
        );
        return;
      case '_result':
      case '_error':
      case 'onStatus':
      case 'onBWDone':
        return; // replies to calls we never make; answering could loop
      default:
        if (txn !== 0) {
          this.send(
            errorMessage(txn, statusObject('error', NetStatusCode.CallFailed, `unknown command "${clip(cmd.name)}"`)),
          );
        }
    }
  }

  private onConnectCommand(cmd: RtmpCommand): void {
    const txn = cmd.transactionId;
    const obj = cmd.commandObject;
    if (!isAmfObject(obj) || typeof obj.app !== 'string') {
      this.refuseConnect(txn, new RtmpRejection(NetStatusCode.ConnectRejected, 'connect without an app name'));
      return;
    }
    const info: ConnectInfo = {
      app: obj.app,
      objectEncoding: typeof obj.objectEncoding === 'number' ? obj.objectEncoding : 0,
      commandObject: obj,
    };
    if (typeof obj.tcUrl === 'string') info.tcUrl = obj.tcUrl;
    if (typeof obj.flashVer === 'string') info.flashVer = obj.flashVer;
    if (Array.isArray(obj.fourCcList)) {
      info.fourCcList = obj.fourCcList.filter((v): v is string => typeof v === 'string');
    }
    // Sent before the hook runs so flow-controlled clients keep going meanwhile; the chunk size on
    // csid 2 / msid 0 (Larix ignores it elsewhere), and >= 4096 because ffmpeg adopts it.
    this.send(encodeWindowAckSize(this.opts.windowAckSize));
    this.send(encodeSetPeerBandwidth(this.opts.peerBandwidth, PeerBandwidthLimit.Dynamic));
    this.send(encodeSetChunkSize(this.opts.chunkSize));
    this.encoder.setChunkSize(this.opts.chunkSize);
    this.runHook(
      this.opts.onConnect,
      info,
      () => {
        this._connect = info;
        this._state = 'connected';
        this.send(connectResultMessage(txn, info.objectEncoding));
        this.emit('connect', info);
      },
      (err) => this.refuseConnect(txn, err),
    );
  }

  private refuseConnect(txn: number, err: unknown): void {
    const rejection = asRejection(err);
    const description = rejection?.description ?? 'internal error';
    this.send(errorMessage(txn, statusObject('error', NetStatusCode.ConnectRejected, description)));
    this.closeWith(
      rejection ?? new RtmpError('ERR_RTMP_HOOK_FAILED', `onConnect hook failed: ${errorText(err)}`, { cause: err }),
      NetStatusCode.ConnectRejected,
    );
  }

  private onCreateStream(txn: number): void {
    if (this.streams.size >= this.opts.maxStreams) {
      this.send(
        errorMessage(
          txn,
          statusObject('error', NetStatusCode.CallFailed, `too many streams (maxStreams ${this.opts.maxStreams})`),
        ),
      );
      return;
    }
    const id = this.nextStreamId++;
    this.streams.add(id);
    this.send(resultMessage(txn, null, id)); // also when txn is 0: the client needs the id
  }

  private onPublishCommand(cmd: RtmpCommand, streamId: number): void {
    const connect = this._connect!;
    const [name, type] = cmd.args;
    if (this.publishing !== null) {
      this.refusePublish(
        streamId,
        new RtmpRejection(NetStatusCode.PublishRejected, 'this connection is already publishing a stream'),
      );
      return;
    }
    if (!this.streams.has(streamId)) {
      this.refusePublish(
        streamId,
        new RtmpRejection(
          NetStatusCode.PublishRejected,
          `publish on stream ${streamId}, which createStream did not create`,
        ),
      );
      return;
    }
    if (typeof name !== 'string' || name === '') {
      this.refusePublish(streamId, new RtmpRejection(NetStatusCode.PublishBadName, 'empty stream name'));
      return;
    }
    const info: PublishInfo = {
      app: connect.app,
      streamName: name,
      publishType: typeof type === 'string' ? type : 'live',
      streamId,
      connect,
    };
    this.runHook(
      this.opts.onPublish,
      info,
      () => {
        this.send(encodeUserControl(UserControlEvent.StreamBegin, streamId));
        this.send(onStatusMessage(streamId, statusObject('status', NetStatusCode.PublishStart, 'Start publishing')));
        if (this.fcPublished) {
          // FMS answers FCPublish with this; nobody waits for it, so it is sent only once the publish is
          // accepted: a "Publish.Start" code must never precede a refusal.
          this.send(commandMessage('onFCPublish', 0, null, [statusObject('status', NetStatusCode.PublishStart, name)]));
        }
        this.publishing = info;
        this._state = 'publishing';
        this.emit('publish', info);
      },
      (err) => this.refusePublish(streamId, err),
    );
  }

  private refusePublish(streamId: number, err: unknown): void {
    const rejection = asRejection(err);
    const status = rejection?.status ?? NetStatusCode.PublishRejected;
    const description = rejection?.description ?? 'internal error';
    this.send(onStatusMessage(streamId, statusObject('error', status, description)));
    this.closeWith(
      rejection ?? new RtmpError('ERR_RTMP_HOOK_FAILED', `onPublish hook failed: ${errorText(err)}`, { cause: err }),
      status,
    );
  }

  private endPublish(reason: string): void {
    const info = this.publishing;
    if (info === null) return;
    this.publishing = null;
    this._state = 'connected';
    this.send(
      onStatusMessage(info.streamId, statusObject('status', NetStatusCode.UnpublishSuccess, 'Stop publishing')),
    );
    this.emit('unpublish', info, reason);
  }
}
