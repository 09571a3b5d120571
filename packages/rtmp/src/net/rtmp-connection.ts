/**
 * One accepted socket wired to an {@link RtmpSession}: bytes both ways, timeouts, write backpressure
 * (a peer that does not read is not read either), read backpressure (session `'pause'` →
 * `socket.pause()`), and event re-emission.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { concatBytes } from '../bytes';
import { RtmpError, RtmpProtocolError } from '../errors';
import type { RtmpSession } from '../session';
import type { RtmpSessionEvents } from '../session/types';
import { ControlBudget } from './control-budget';
import { type MergedReader, MergeGate, type ReadMerger } from './read-merger';

/** Events of {@link RtmpConnection}: the session's application events. */
export type RtmpConnectionEvents = Pick<
  RtmpSessionEvents,
  'connect' | 'publish' | 'metadata' | 'data-message' | 'audio' | 'video' | 'unpublish' | 'close'
> & {
  /** The peer spent its control budget: it is not read for `waitMs` (once per episode). */
  throttle: [waitMs: number];
};

/** Timing and buffering limits of one connection (resolved server options). */
export interface ConnectionLimits {
  handshakeTimeout: number;
  idleTimeout: number;
  publishTimeout: number;
  maxPendingWriteBytes: number;
  closeTimeout: number;
  /** Refill of the peer's control budget ({@link ControlBudget}); 0: unbounded. */
  maxControlBytesPerSecond: number;
}

const REEMITTED = ['connect', 'publish', 'metadata', 'data-message', 'audio', 'video', 'unpublish'] as const;

/**
 * A client connection of an {@link RtmpServer}. Listen to its events (or the session's) to receive
 * the stream; call `pause()`/`resume()` when the consumer of the media cannot keep up (the socket stops
 * being read, so TCP pushes back on the publisher), `close()` to drop the client.
 */
export class RtmpConnection extends EventEmitter<RtmpConnectionEvents> implements MergedReader {
  /** Unique within the server, e.g. "c17". */
  readonly id: string;
  /** Peer address as the socket reported it at accept time ("" if unknown). */
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly session: RtmpSession;
  private readonly socket: Socket;
  private readonly limits: ConnectionLimits;
  private handshakeTimer: NodeJS.Timeout | null = null;
  private readonly controlBudget: ControlBudget | null;
  private controlCharged = 0;
  private throttleTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private closeTimer: NodeJS.Timeout | null = null;
  private publishTimer: NodeJS.Timeout | null = null;
  private lastReadAt = Date.now();
  private appPaused = false;
  private sessionPaused = false;
  /** Our output waits for the peer to read it (past the socket's high-water mark), so we stop reading. */
  private writePaused = false;
  /** Told whenever {@link heldBytes} may have changed (the server's memory budget). */
  private readonly onHeldChange: ((conn: RtmpConnection) => void) | null;
  /** Waiting for the end of a merged-read round (see {@link ReadMerger}). */
  private mergeWaiting = false;
  private readonly merger: ReadMerger | null;
  private readonly mergeGate: MergeGate | null;
  /** Resolves when the socket has fully closed. */
  readonly closed: Promise<void>;
  /**
   * The publisher ended its publish itself (FCUnpublish, deleteStream). One that then closes at once
   * (librtmp does) resets the connection under our reply: that is an ordinary disconnect.
   */
  private peerEnded = false;

  /** @internal Created by {@link RtmpServer}. */
  constructor(
    id: string,
    socket: Socket,
    session: RtmpSession,
    limits: ConnectionLimits,
    merger: ReadMerger | null = null,
    onHeldChange: ((conn: RtmpConnection) => void) | null = null,
  ) {
    super();
    this.onHeldChange = onHeldChange;
    this.merger = merger;
    this.mergeGate = merger === null ? null : new MergeGate(merger.intervalMs);
    this.id = id;
    this.socket = socket;
    this.session = session;
    this.limits = limits;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    const perSecond = limits.maxControlBytesPerSecond;
    this.controlBudget = perSecond > 0 ? new ControlBudget(perSecond, Date.now()) : null;

    socket.setNoDelay(true);
    this.followSession(session);
    this.followSocket(socket, session);

    this.handshakeTimer = setTimeout(() => {
      this.handshakeTimer = null;
      session.close(
        new RtmpProtocolError(
          'ERR_RTMP_HANDSHAKE_TIMEOUT',
          `handshake and connect not completed within ${limits.handshakeTimeout} ms (state ${session.state})`,
        ),
      );
    }, limits.handshakeTimeout);
    if (limits.idleTimeout > 0) this.armIdleTimer(limits.idleTimeout);
  }

  /** Relays the session: its output to the socket, its flow control to reading, its events to ours. */
  private followSession(session: RtmpSession): void {
    session.on('data', (chunks) => this.write(chunks));
    session.on('pause', () => {
      this.sessionPaused = true;
      this.updateReading();
    });
    session.on('resume', () => {
      this.sessionPaused = false;
      this.lastReadAt = Date.now(); // time spent paused is not idle time
      this.updateReading();
    });
    for (const name of REEMITTED) {
      session.on(name, (...args: unknown[]) => (this.emit as (n: string, ...a: unknown[]) => boolean)(name, ...args));
    }
    const gate = this.mergeGate;
    if (gate !== null) {
      session.on('video', (m) => {
        if (((m.payload[0] ?? 0) & 0x70) === 0x10) gate.keyframe(Date.now()); // frame type 1: keyframe
      });
    }
    session.on('connect', () => {
      this.clearHandshakeTimer();
      this.armPublishTimer();
    });
    session.on('publish', () => this.clearPublishTimer());
    session.on('close', (err) => this.onSessionClose(err));
    session.on('unpublish', (_info: unknown, reason: string) => {
      if (reason === 'FCUnpublish' || reason === 'deleteStream') this.peerEnded = true;
      this.armPublishTimer();
    });
  }

  /** Feeds the socket's bytes to the session (with merged reads) and turns socket ends into closes. */
  private followSocket(socket: Socket, session: RtmpSession): void {
    const gate = this.mergeGate;
    socket.on('data', (buf: Buffer) => {
      this.lastReadAt = Date.now();
      session.feed(buf);
      this.onHeldChange?.(this);
      this.chargeControl(session.controlCost);
      // Publishing: stop reading until the merger's round ends, when the gate allows, so that what
      // the encoder sends meanwhile waits in the kernel and comes in one read.
      if (gate !== null && session.state === 'publishing') {
        const mayWait = gate.afterRead(buf.length, this.lastReadAt, session.pendingMessageBytes);
        if (mayWait && !this.mergeWaiting) {
          this.mergeWaiting = true;
          this.updateReading();
          this.merger?.wait(this);
        }
      }
    });
    socket.on('end', () => session.close('disconnect'));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (this.peerEnded && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) session.close('disconnect');
      else session.close(new RtmpError('ERR_RTMP_SOCKET', `socket error: ${err.message}`, { cause: err }));
    });
    socket.on('close', () => {
      session.close('disconnect');
      this.clearTimers();
    });
  }

  /** Where the session is: 'handshake', 'connect', 'connected', 'publishing' or 'closed'. */
  get phase(): string {
    return this.session.state;
  }

  /**
   * Bytes the peer makes us hold now: its partial and queued messages (see
   * {@link RtmpSession.heldBytes}) and our output it has not read yet.
   */
  get heldBytes(): number {
    return this.session.heldBytes + (this.socket.destroyed ? 0 : this.socket.writableLength);
  }

  /** Bytes read from the peer so far. */
  get bytesIn(): number {
    return this.session.bytesIn;
  }

  /** Bytes handed to the socket so far. */
  get bytesOut(): number {
    return this.session.bytesOut;
  }

  /** Stop reading from the peer (application backpressure). Idle time does not count while paused. */
  pause(): void {
    this.appPaused = true;
    this.updateReading();
  }

  /** Undo {@link pause}. */
  resume(): void {
    this.appPaused = false;
    this.lastReadAt = Date.now(); // time spent paused is not idle time
    this.updateReading();
  }

  /** @internal See {@link MergedReader}. */
  endMergeWait(): void {
    this.mergeWaiting = false;
    this.updateReading();
  }

  /**
   * Closes the connection: the session ends (`'unpublish'` if publishing, then `'close'`), pending
   * output is flushed and the socket is ended, or destroyed if the peer does not take the bytes within
   * the close timeout. `reason` is passed to `'unpublish'`; an {@link RtmpError} also to `'close'`.
   */
  close(reason?: string | RtmpError): void {
    this.session.close(reason ?? 'closed by the server');
  }

  /** Closes the session and destroys the socket at once (no flush). */
  destroy(reason?: string | RtmpError): void {
    this.session.close(reason ?? 'destroyed');
    this.socket.destroy();
  }

  private write(chunks: Uint8Array[]): void {
    const socket = this.socket;
    if (socket.destroyed) return;
    // One buffer per flush: Node keeps a record of a few hundred bytes per queued write, so replies
    // written piece by piece (a ping flood's) would cost far more memory than their bytes.
    socket.write(chunks.length === 1 ? chunks[0]! : concatBytes(chunks));
    if (socket.writableLength > this.limits.maxPendingWriteBytes) {
      // The peer is not reading what we send; nothing we buffer for it will get out.
      const err = new RtmpProtocolError(
        'ERR_RTMP_WRITE_BUFFER_FULL',
        `${socket.writableLength} bytes waiting to be written > maxPendingWriteBytes ${this.limits.maxPendingWriteBytes} (the peer does not read)`,
      );
      this.session.close(err);
      socket.destroy();
      return;
    }
    if (socket.writableNeedDrain && !this.writePaused) {
      // Answer no faster than the peer reads: what it sends next waits in its own buffers, not ours.
      this.writePaused = true;
      this.updateReading();
      socket.once('drain', () => {
        this.writePaused = false;
        this.updateReading();
        this.onHeldChange?.(this);
      });
    }
  }

  /** Charges what the last read's non-media messages cost; past the budget, stops reading a while. */
  private chargeControl(total: number): void {
    const cost = total - this.controlCharged;
    if (cost === 0 || this.controlBudget === null) return;
    this.controlCharged = total;
    const waitMs = this.controlBudget.charge(cost, this.lastReadAt);
    if (waitMs === 0 || this.throttleTimer !== null || this.socket.destroyed) return;
    this.throttleTimer = setTimeout(() => {
      this.throttleTimer = null;
      this.lastReadAt = Date.now(); // time spent throttled is not idle time
      this.updateReading();
    }, waitMs);
    this.updateReading();
    this.emit('throttle', waitMs);
  }

  private updateReading(): void {
    if (this.socket.destroyed) return;
    const throttled = this.throttleTimer !== null;
    if (this.appPaused || this.sessionPaused || this.mergeWaiting || this.writePaused || throttled) this.socket.pause();
    else this.socket.resume();
  }

  /** Connected but not publishing: a slot held for nothing unless a publish follows in time. */
  private armPublishTimer(): void {
    const ms = this.limits.publishTimeout;
    if (ms === 0 || this.publishTimer !== null) return;
    this.publishTimer = setTimeout(() => {
      this.publishTimer = null;
      if (this.session.state !== 'connected') return;
      this.session.close(
        new RtmpProtocolError('ERR_RTMP_PUBLISH_TIMEOUT', `connected but no publish within ${ms} ms (publishTimeout)`),
      );
    }, ms);
  }

  private clearPublishTimer(): void {
    if (this.publishTimer !== null) clearTimeout(this.publishTimer);
    this.publishTimer = null;
  }

  private armIdleTimer(ms: number): void {
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.appPaused || this.sessionPaused || this.throttleTimer !== null) {
        this.armIdleTimer(this.limits.idleTimeout);
        return;
      }
      const idle = Date.now() - this.lastReadAt;
      if (idle >= this.limits.idleTimeout) {
        this.session.close(
          new RtmpProtocolError(
            'ERR_RTMP_IDLE_TIMEOUT',
            `no byte from the peer for ${idle} ms (idleTimeout ${this.limits.idleTimeout})${this.writePaused ? ', nor did it read what we sent' : ''}`,
          ),
        );
      } else {
        this.armIdleTimer(this.limits.idleTimeout - idle);
      }
    }, ms);
  }

  private onSessionClose(err: RtmpError | undefined): void {
    this.clearHandshakeTimer();
    this.clearPublishTimer();
    this.merger?.forget(this);
    this.mergeWaiting = false;
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.emit('close', err);
    const socket = this.socket;
    if (socket.destroyed) return;
    socket.resume(); // let a paused socket see the peer's FIN
    socket.end();
    this.closeTimer = setTimeout(() => socket.destroy(), this.limits.closeTimeout);
  }

  private clearHandshakeTimer(): void {
    if (this.handshakeTimer !== null) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
  }

  private clearTimers(): void {
    this.clearHandshakeTimer();
    this.clearPublishTimer();
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    if (this.closeTimer !== null) clearTimeout(this.closeTimer);
    if (this.throttleTimer !== null) clearTimeout(this.throttleTimer);
    this.idleTimer = null;
    this.closeTimer = null;
    this.throttleTimer = null;
  }
}
