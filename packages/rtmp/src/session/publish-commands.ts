/**
 * The command side of a server session: the NetConnection / NetStream commands of the publish flow
 * (connect, releaseStream, FCPublish, createStream, publish, FCUnpublish, closeStream, deleteStream,
 * and the refusals). It owns what those commands establish — the accepted connect, the streams
 * created, the active publish — and reaches the session only through {@link CommandFlowHost}.
 * Peer behaviour per the project's wire-behaviour checklist §4.
 */
import { decodeCommand, isAmfObject, type RtmpCommand } from '../amf';
import { PeerBandwidthLimit, type RtmpMessage, UserControlEvent } from '../constants';
import { asRejection, errorText, RtmpError, RtmpProtocolError, RtmpRejection } from '../errors';
import {
  commandMessage,
  connectResultMessage,
  encodeSetChunkSize,
  encodeSetPeerBandwidth,
  encodeUserControl,
  encodeWindowAckSize,
  errorMessage,
  NetStatusCode,
  onStatusMessage,
  resultMessage,
  safeDescription,
  statusObject,
} from '../protocol';
import type { ResolvedSessionOptions } from './session-options';
import type { ConnectInfo, PublishInfo } from './types';

/** What the command flow needs from its session: output, hooks, closing, and the lifecycle events. */
export interface CommandFlowHost {
  /** Queues a message for the peer. */
  send(msg: RtmpMessage): void;
  /** Switches our outgoing chunk size (its Set Chunk Size message has been queued). */
  setChunkSize(size: number): void;
  /** Runs an application hook; a promise holds the session's input until it settles. */
  runHook<T>(
    hook: ((info: T) => void | Promise<void>) | undefined,
    info: T,
    accept: () => void,
    refuse: (err: unknown) => void,
  ): void;
  /** Flushes and closes the session. */
  closeWith(err: RtmpError | undefined, reason: string): void;
  /** Connect accepted (its `_result` is queued). */
  connected(info: ConnectInfo): void;
  /** Publish accepted (NetStream.Publish.Start is queued). */
  publishStarted(info: PublishInfo): void;
  /** Publish ended by the client (NetStream.Unpublish.Success is queued). */
  publishEnded(info: PublishInfo, reason: string): void;
}

/** A peer-supplied string shortened for log messages and replies. */
function clip(s: string, max = 64): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** The publish-flow commands of one connection. */
export class PublishCommands {
  private _connect: ConnectInfo | null = null;
  private readonly streams = new Set<number>();
  private nextStreamId = 1;
  private publishing: PublishInfo | null = null;
  /** The client sent FCPublish (it gets onFCPublish once a publish is accepted). */
  private fcPublished = false;

  constructor(
    private readonly opts: ResolvedSessionOptions,
    private readonly host: CommandFlowHost,
  ) {}

  /** The accepted connect, or null before. */
  get connectInfo(): ConnectInfo | null {
    return this._connect;
  }

  /** The stream being published, or null. */
  get publishInfo(): PublishInfo | null {
    return this.publishing;
  }

  /** Forgets the active publish (the session is closing) and returns it, if there was one. */
  detachPublish(): PublishInfo | null {
    const info = this.publishing;
    this.publishing = null;
    return info;
  }

  /** Handles one command message (type 20 or 17). */
  handle(m: RtmpMessage): void {
    const cmd = decodeCommand(m.payload, m.type, this.opts.amf);
    if (this._connect === null) {
      if (cmd.name !== 'connect') {
        throw new RtmpProtocolError('ERR_RTMP_UNEXPECTED_COMMAND', `"${clip(cmd.name)}" before connect`);
      }
      this.onConnect(cmd);
      return;
    }
    if (this.handleStreamCommand(cmd, m.streamId)) return;
    this.handleOtherCommand(cmd, m.streamId);
  }

  /** The commands that create, publish and end streams. False: not one of them. */
  private handleStreamCommand(cmd: RtmpCommand, streamId: number): boolean {
    const txn = cmd.transactionId;
    switch (cmd.name) {
      case 'releaseStream':
        if (txn !== 0) this.host.send(resultMessage(txn, null));
        return true;
      case 'FCPublish':
        if (txn !== 0) this.host.send(resultMessage(txn, null));
        this.fcPublished = true;
        return true;
      case 'createStream':
        this.onCreateStream(txn);
        return true;
      case 'publish':
        this.onPublish(cmd, streamId);
        return true;
      case 'FCUnpublish':
        if (txn !== 0) this.host.send(resultMessage(txn, null));
        this.endPublish('FCUnpublish');
        return true;
      case 'closeStream':
        if (this.publishing !== null && (streamId === this.publishing.streamId || streamId === 0)) {
          this.endPublish('closeStream');
        }
        return true;
      case 'deleteStream': {
        // ffmpeg/librtmp send the stream id, rtmp2sink the stream *name*, Wirecast `false`.
        const arg = cmd.args[0];
        const id = typeof arg === 'number' ? arg : (this.publishing?.streamId ?? -1);
        if (this.publishing !== null && id === this.publishing.streamId) this.endPublish('deleteStream');
        this.streams.delete(id);
        return true;
      }
      default:
        return false;
    }
  }

  /** Everything after connect that is not about publishing: answered, refused or ignored. */
  private handleOtherCommand(cmd: RtmpCommand, streamId: number): void {
    const txn = cmd.transactionId;
    switch (cmd.name) {
      case 'connect':
        if (txn !== 0) {
          this.host.send(errorMessage(txn, statusObject('error', NetStatusCode.CallFailed, 'already connected')));
        }
        return;
      case 'getStreamLength':
        if (txn !== 0) this.host.send(resultMessage(txn, null, 0));
        return;
      case '_checkbw':
        if (txn !== 0) this.host.send(resultMessage(txn, null));
        return;
      case 'play':
      case 'play2': {
        const description = 'this server only accepts publishing';
        this.host.send(onStatusMessage(streamId, statusObject('error', NetStatusCode.PlayFailed, description)));
        this.host.closeWith(new RtmpRejection(NetStatusCode.PlayFailed, description), NetStatusCode.PlayFailed);
        return;
      }
      case '_result':
      case '_error':
      case 'onStatus':
      case 'onBWDone':
        return; // replies to calls we never make; answering could loop
      default:
        if (txn !== 0) {
          const description = `unknown command "${clip(cmd.name)}"`;
          this.host.send(errorMessage(txn, statusObject('error', NetStatusCode.CallFailed, description)));
        }
    }
  }

  private onConnect(cmd: RtmpCommand): void {
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
    this.host.send(encodeWindowAckSize(this.opts.windowAckSize));
    this.host.send(encodeSetPeerBandwidth(this.opts.peerBandwidth, PeerBandwidthLimit.Dynamic));
    this.host.send(encodeSetChunkSize(this.opts.chunkSize));
    this.host.setChunkSize(this.opts.chunkSize);
    this.host.runHook(
      this.opts.onConnect,
      info,
      () => {
        this._connect = info;
        this.host.send(connectResultMessage(txn, info.objectEncoding));
        this.host.connected(info);
      },
      (err) => this.refuseConnect(txn, err),
    );
  }

  private refuseConnect(txn: number, err: unknown): void {
    const rejection = asRejection(err);
    const description = rejection?.description ?? 'internal error';
    const info = rejection?.authChallenge
      ? { level: 'error', code: NetStatusCode.ConnectRejected, description: safeDescription(description, rejection) }
      : statusObject('error', NetStatusCode.ConnectRejected, description);
    this.host.send(errorMessage(txn, info));
    this.host.closeWith(
      rejection ?? new RtmpError('ERR_RTMP_HOOK_FAILED', `onConnect hook failed: ${errorText(err)}`, { cause: err }),
      NetStatusCode.ConnectRejected,
    );
  }

  private onCreateStream(txn: number): void {
    if (this.streams.size >= this.opts.maxStreams) {
      const description = `too many streams (maxStreams ${this.opts.maxStreams})`;
      this.host.send(errorMessage(txn, statusObject('error', NetStatusCode.CallFailed, description)));
      return;
    }
    const id = this.nextStreamId++;
    this.streams.add(id);
    this.host.send(resultMessage(txn, null, id)); // also when txn is 0: the client needs the id
  }

  /** Why a publish on `streamId` named `name` cannot even reach the hook, or null when it can. */
  private publishRefusal(name: unknown, streamId: number): RtmpRejection | null {
    if (this.publishing !== null) {
      return new RtmpRejection(NetStatusCode.PublishRejected, 'this connection is already publishing a stream');
    }
    if (!this.streams.has(streamId)) {
      const description = `publish on stream ${streamId}, which createStream did not create`;
      return new RtmpRejection(NetStatusCode.PublishRejected, description);
    }
    if (typeof name !== 'string' || name === '') {
      return new RtmpRejection(NetStatusCode.PublishBadName, 'empty stream name');
    }
    return null;
  }

  private onPublish(cmd: RtmpCommand, streamId: number): void {
    const connect = this._connect!;
    const [name, type] = cmd.args;
    const refusal = this.publishRefusal(name, streamId);
    if (refusal !== null) {
      this.refusePublish(streamId, refusal);
      return;
    }
    const info: PublishInfo = {
      app: connect.app,
      streamName: name as string,
      publishType: typeof type === 'string' ? type : 'live',
      streamId,
      connect,
    };
    this.host.runHook(
      this.opts.onPublish,
      info,
      () => {
        this.host.send(encodeUserControl(UserControlEvent.StreamBegin, streamId));
        const start = statusObject('status', NetStatusCode.PublishStart, 'Start publishing');
        this.host.send(onStatusMessage(streamId, start));
        if (this.fcPublished) {
          // FMS answers FCPublish with this; nobody waits for it, so it is sent only once the publish is
          // accepted: a "Publish.Start" code must never precede a refusal.
          const status = statusObject('status', NetStatusCode.PublishStart, info.streamName);
          this.host.send(commandMessage('onFCPublish', 0, null, [status]));
        }
        this.publishing = info;
        this.host.publishStarted(info);
      },
      (err) => this.refusePublish(streamId, err),
    );
  }

  private refusePublish(streamId: number, err: unknown): void {
    const rejection = asRejection(err);
    const status = rejection?.status ?? NetStatusCode.PublishRejected;
    const description = rejection?.description ?? 'internal error';
    this.host.send(onStatusMessage(streamId, statusObject('error', status, description)));
    this.host.closeWith(
      rejection ?? new RtmpError('ERR_RTMP_HOOK_FAILED', `onPublish hook failed: ${errorText(err)}`, { cause: err }),
      status,
    );
  }

  private endPublish(reason: string): void {
    const info = this.publishing;
    if (info === null) return;
    this.publishing = null;
    const stop = statusObject('status', NetStatusCode.UnpublishSuccess, 'Stop publishing');
    this.host.send(onStatusMessage(info.streamId, stop));
    this.host.publishEnded(info, reason);
  }
}
