/**
 * Public shapes of {@link RtmpSession}: what hooks receive, what events carry, and the options.
 */
import type { AmfObject, AmfValue } from '../amf';
import type { RtmpError } from '../errors';
import type { HandshakeOptions } from '../handshake';
import type { Amf0DecodeOptions, ChunkDecoderOptions } from '../options';
import type { MediaMessage } from '../protocol';

/** What the client said in `connect`. */
export interface ConnectInfo {
  /** Application path, e.g. "live/test" for `rtmp://host/live/test/name` (ffmpeg, rtmp2sink, librtmp). */
  app: string;
  /** The URL the client says it connected to. Informational: clients disagree on its form. */
  tcUrl?: string;
  /** Client identification, e.g. "FMLE/3.0 (compatible; Lavf59.27.100)". librtmp omits it. */
  flashVer?: string;
  /** 0 (AMF0) or 3 (AMF3); 0 when absent. Our replies are AMF0 either way. */
  objectEncoding: number;
  /** Enhanced RTMP codec list (`fourCcList`), when the client sent one. */
  fourCcList?: string[];
  /** The whole command object as decoded (null prototype). */
  commandObject: AmfObject;
}

/** What the client asked for in `publish`. */
export interface PublishInfo {
  /** The connect's app. */
  app: string;
  /** The publish name exactly as sent, including any `?query` (e.g. "johndoe?key=abc"). */
  streamName: string;
  /** Second publish argument: "live", "record" or "append"; "live" when absent. */
  publishType: string;
  /** Message stream id the media will arrive on. */
  streamId: number;
  /** The connection's connect info. */
  connect: ConnectInfo;
}

/** A data message other than onMetaData (onFI, onTextData, onCuePoint, …) on the published stream. */
export interface DataMessage {
  streamId: number;
  timestamp: number;
  /** Handler name, with any `@setDataFrame` wrapper removed. */
  name: string;
  /** The values after the name. */
  values: AmfValue[];
}

/** Lifecycle of a session. */
export type RtmpSessionState =
  /** Waiting for C0/C1/C2. */
  | 'handshake'
  /** Handshake done; waiting for `connect` (or for the onConnect hook). */
  | 'connect'
  /** Connect accepted; no stream is being published. */
  | 'connected'
  /** Publish accepted (NetStream.Publish.Start sent); media is flowing. */
  | 'publishing'
  /** Closed; every later `feed` is ignored. */
  | 'closed';

/** Events of {@link RtmpSession}. */
export type RtmpSessionEvents = {
  /** Bytes to send to the peer, in order (a `writev`-friendly list). */
  data: [chunks: Uint8Array[]];
  /** Connect accepted (after its `_result` was queued). */
  connect: [info: ConnectInfo];
  /** Publish accepted (after NetStream.Publish.Start was queued). */
  publish: [info: PublishInfo];
  /** `onMetaData` (plain or through `@setDataFrame`); repeated sends emit again with the new object. */
  metadata: [data: AmfObject];
  /** Other data messages on the published stream (onFI, onTextData, onCuePoint, …). */
  'data-message': [message: DataMessage];
  audio: [message: MediaMessage];
  video: [message: MediaMessage];
  /**
   * Publishing ended: "FCUnpublish", "closeStream" or "deleteStream" from the client, otherwise the
   * close reason (an error code such as "ERR_RTMP_IDLE_TIMEOUT", or the reason given to `close`).
   */
  unpublish: [info: PublishInfo, reason: string];
  /** Stop reading from the peer (application pause, or too much queued behind a pending hook). */
  pause: [];
  /** Reading may continue. */
  resume: [];
  /** The session ended; `err` says why when it was not a normal close. Emitted once. */
  close: [err?: RtmpError];
};

/** Options of {@link RtmpSession}. Every field is optional; defaults suit a public ingest server. */
export interface RtmpSessionOptions extends ChunkDecoderOptions {
  /**
   * Chunk size we send with (announced with Set Chunk Size before the connect `_result`); ffmpeg adopts
   * the server's value for its own sending, so this also sets how ffmpeg chunks its media. 1..2^31 − 1.
   * @default 4096
   */
  chunkSize?: number;
  /**
   * Window Acknowledgement Size we announce: the peer should acknowledge every this many bytes.
   * @default 5000000 (what nginx-rtmp and rtmp2sink use)
   */
  windowAckSize?: number;
  /** Set Peer Bandwidth window we announce (limit type dynamic). Must be positive. @default windowAckSize */
  peerBandwidth?: number;
  /** Streams one connection may create with createStream. @default 16 */
  maxStreams?: number;
  /**
   * Bytes of messages queued while an onConnect/onPublish hook is pending before the session asks the
   * transport to stop reading ('pause'); twice this closes with `ERR_RTMP_QUEUE_FULL`.
   * @default 1048576 (1 MiB)
   */
  maxQueuedBytes?: number;
  /** Limits of the AMF0 decoder for commands and data. */
  amf?: Amf0DecodeOptions;
  /** Clock and randomness of the handshake (tests pin them). */
  handshake?: HandshakeOptions;
  /**
   * Called on `connect`, before the reply. Throw (or reject with) an {@link RtmpRejection} to refuse:
   * the client gets `_error` NetConnection.Connect.Rejected with the rejection's description, then the
   * session closes. Any other error refuses with a generic "internal error". Messages arriving
   * meanwhile are queued and processed in order once it settles.
   */
  onConnect?(info: ConnectInfo): void | Promise<void>;
  /**
   * Called on `publish`, before NetStream.Publish.Start. Throw an {@link RtmpRejection} to refuse with
   * its status (NetStream.Publish.BadName, .Unauthorized, .Rejected, …) and description, level "error";
   * the session then closes. Any other error refuses with NetStream.Publish.Rejected "internal error".
   */
  onPublish?(info: PublishInfo): void | Promise<void>;
}
