/**
 * Options of {@link RtmpSession}: defaults (each says why that number) and the one-time validation
 * that turns {@link RtmpSessionOptions} into the resolved values the session and its command flow read.
 */
import { RtmpError } from '../errors';
import { type Amf0DecodeOptions, integerOption, resolveAmf0DecodeOptions } from '../options';
import type { RtmpSessionOptions } from './types';

/** Default outgoing chunk size: ffmpeg adopts ours, and 4096 keeps header overhead under 0.5 %. */
export const DEFAULT_SESSION_CHUNK_SIZE = 4096;
/** Default window we ask the peer to acknowledge, the value nginx-rtmp and rtmp2sink use. */
export const DEFAULT_WINDOW_ACK_SIZE = 5_000_000;
/** Default createStream limit per connection: publishers create one; a few spare for retries. */
export const DEFAULT_MAX_STREAMS = 16;
/** Default bytes queued behind a pending hook before we stop reading (publishers wait for replies anyway). */
export const DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024;

/** Session options with defaults filled in and ranges checked. */
export interface ResolvedSessionOptions {
  chunkSize: number;
  windowAckSize: number;
  peerBandwidth: number;
  maxStreams: number;
  maxQueuedBytes: number;
  amf: Amf0DecodeOptions | undefined;
  onConnect: RtmpSessionOptions['onConnect'];
  onPublish: RtmpSessionOptions['onPublish'];
}

/** Fills in defaults and validates each option once; a bad one throws `ERR_RTMP_INVALID_OPTION` naming it. */
export function resolveSessionOptions(o: RtmpSessionOptions): ResolvedSessionOptions {
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
