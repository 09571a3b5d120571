/**
 * Public shapes of {@link RtmpClient}: its options with their defaults, and its events.
 */
import type { AmfObject } from '../amf';
import type { RtmpError } from '../errors';
import type { ClientHandshakeOptions } from '../handshake';
import type { ChunkDecoderOptions } from '../options';

/** Default outgoing chunk size: few chunk headers per video frame. */
export const DEFAULT_CLIENT_CHUNK_SIZE = 4096;
/** Default time for TCP connect + handshake + connect, and for createStream + publish. */
export const DEFAULT_CLIENT_TIMEOUT = 10_000;

/** Options of {@link RtmpClient.connect}. */
export interface RtmpClientOptions extends ChunkDecoderOptions {
  /** Chunk size we send with (announced before connect). @default 4096 */
  chunkSize?: number;
  /** Milliseconds for connect (TCP, handshake, connect) and for publish to be answered. @default 10000 */
  timeout?: number;
  /** flashVer sent in connect. @default "FMLE/3.0 (compatible; @org/rtmp)" */
  flashVer?: string;
  /** Handshake options; `digest: true` sends an ffmpeg-style digest C1. */
  handshake?: ClientHandshakeOptions;
  /** Local address to connect from (a host with several addresses). @default the system's choice */
  localAddress?: string;
}

/** Events of {@link RtmpClient}. */
export type RtmpClientEvents = {
  /** onStatus messages from the server after publish started (e.g. an unpublish notification). */
  status: [info: AmfObject];
  /** The socket's write buffer drained (after a send returned false). */
  drain: [];
  /** The connection ended; `err` says why when it was not a normal close. */
  close: [err?: RtmpError];
};
