/**
 * Server side of one RTMP connection, transport-agnostic: bytes in through `feed`, bytes out through
 * `'data'` events, application events for connect / publish / metadata / media / unpublish / close.
 * Spec: Adobe RTMP Specification 1.0 (December 2012) §5.4–§7; peer behaviour per the project's
 * wire-behaviour checklist §3–§6.
 */
import { EventEmitter } from 'node:events';
import { ChunkDecoder, ChunkEncoder } from '../chunk';
import { MessageType, type RtmpMessage, UserControlEvent } from '../constants';
import { asRejection, errorText, isRtmpError, RtmpError, RtmpProtocolError } from '../errors';
import { ServerHandshake } from '../handshake';
import {
  AcknowledgementWindow,
  decodeSetPeerBandwidth,
  decodeU32Control,
  decodeUserControl,
  encodeUserControl,
  onStatusMessage,
  splitAggregate,
  statusObject,
} from '../protocol';
import { CONTROL_MESSAGE_COST, dataMessageEvent } from './data-message';
import { startHook } from './hooks';
import { PublishCommands } from './publish-commands';
import { type ResolvedSessionOptions, resolveSessionOptions } from './session-options';
import type { ConnectInfo, PublishInfo, RtmpSessionEvents, RtmpSessionOptions, RtmpSessionState } from './types';

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
  private _controlCost = 0;
  private outbox: Uint8Array[] = [];
  private queue: RtmpMessage[] = [];
  private queuedBytes = 0;
  private draining = false;
  private hookPending = false;
  private appPaused = false;
  private flowStopped = false;
  private readonly ackWindow = new AcknowledgementWindow();
  private _peerAcknowledged = 0;
  /** The publish-flow commands and what they established (connect, streams, the active publish). */
  private readonly commands: PublishCommands;

  /**
   * @param options see {@link RtmpSessionOptions}; each is validated here and a bad one throws
   * `ERR_RTMP_INVALID_OPTION` naming it.
   */
  constructor(options: RtmpSessionOptions = {}) {
    super();
    this.opts = resolveSessionOptions(options);
    this.handshake = new ServerHandshake(options.handshake);
    this.decoder = new ChunkDecoder(options); // reads only its own fields
    this.commands = new PublishCommands(this.opts, {
      send: (msg) => this.send(msg),
      setChunkSize: (size) => this.encoder.setChunkSize(size),
      runHook: (hook, info, accept, refuse) => this.runHook(hook, info, accept, refuse),
      closeWith: (err, reason) => this.closeWith(err, reason),
      connected: (info) => {
        this._state = 'connected';
        this.emit('connect', info);
      },
      publishStarted: (info) => {
        this._state = 'publishing';
        this.emit('publish', info);
      },
      publishEnded: (info, reason) => {
        this._state = 'connected';
        this.emit('unpublish', info, reason);
      },
    });
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

  /** Cost of the peer's non-media messages so far: payload bytes + {@link CONTROL_MESSAGE_COST} each. */
  get controlCost(): number {
    return this._controlCost;
  }

  /** Last Acknowledgement sequence number the peer sent (bytes it received, mod 2^32). */
  get peerAcknowledged(): number {
    return this._peerAcknowledged;
  }

  /** Bytes of messages begun but not yet complete (the chunk decoder's partial messages). */
  get pendingMessageBytes(): number {
    return this.decoder.pendingMessageBytes;
  }

  /** Peer input held: partial messages (at their declared length) and messages queued behind a hook. */
  get heldBytes(): number {
    return this.decoder.pendingMessageBytes + this.queuedBytes;
  }

  /** True while the transport should not read (see `'pause'`). */
  get isPaused(): boolean {
    return this.flowStopped;
  }

  /** The accepted connect, or null before. */
  get connectInfo(): ConnectInfo | null {
    return this.commands.connectInfo;
  }

  /** The stream being published, or null. */
  get publishInfo(): PublishInfo | null {
    return this.commands.publishInfo;
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
      const publishing = this.commands.publishInfo;
      if (rejection !== null && publishing !== null) {
        // Refusing a publish after it started (e.g. a codec seen in the first video message that the
        // application cannot take): the peer is told why, as for a refusal by the onPublish hook.
        const { status, description } = rejection;
        this.send(onStatusMessage(publishing.streamId, statusObject('error', status, description)));
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
    const pub = this.commands.detachPublish();
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
    const ack = this.ackWindow.due(this._bytesIn);
    if (ack !== null) this.send(ack);
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
    const start = startHook(hook, info);
    if ('settled' in start) {
      if (start.settled === 'accept') accept();
      else refuse(start.error);
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
    start.pending.then(
      () => settle(accept),
      (err: unknown) => settle(() => refuse(err)),
    );
  }

  // ---- messages -------------------------------------------------------------------------------

  private handleMessage(m: RtmpMessage): void {
    if (m.type !== MessageType.Audio && m.type !== MessageType.Video && m.type !== MessageType.Aggregate) {
      this._controlCost += CONTROL_MESSAGE_COST + m.payload.length;
    }
    switch (m.type) {
      case MessageType.SetChunkSize:
      case MessageType.Abort:
        return; // the chunk decoder applied them
      case MessageType.Acknowledgement:
        this._peerAcknowledged = decodeU32Control(m.payload, 'Acknowledgement');
        return;
      case MessageType.WindowAckSize:
        this.ackWindow.setWindow(decodeU32Control(m.payload, 'Window Acknowledgement Size'));
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
        this.commands.handle(m);
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

  /** True when `streamId` is the stream being published (media and data elsewhere are ignored). */
  private isPublishedStream(streamId: number): boolean {
    const publishing = this.commands.publishInfo;
    return publishing !== null && streamId === publishing.streamId;
  }

  private handleMedia(type: number, streamId: number, timestamp: number, payload: Uint8Array): void {
    if (!this.isPublishedStream(streamId)) {
      this._ignored++;
      return;
    }
    this.emit(type === MessageType.Audio ? 'audio' : 'video', { streamId, timestamp, payload });
  }

  private handleData(type: number, streamId: number, timestamp: number, payload: Uint8Array): void {
    const event = this.isPublishedStream(streamId) ? dataMessageEvent(type, payload, this.opts.amf) : null;
    if (event === null) this._ignored++;
    else if ('metadata' in event) this.emit('metadata', event.metadata);
    else this.emit('data-message', { streamId, timestamp, ...event.message });
  }
}
