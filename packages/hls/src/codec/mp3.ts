/**
 * MP3 in MPEG-TS: FLV carries whole MPEG audio frames (ISO/IEC 11172-3 §2.4.1), which are the
 * elementary stream as is. stream_type 0x03 (MPEG-1 audio); decoders take MPEG-2/2.5 low sampling
 * rate frames under it too (FFmpeg's muxer does the same).
 */
import { HlsUsageError } from '../errors';
import type { AudioCodec } from './codec';

/** The MP3 {@link AudioCodec}: no configuration, frames pass through. */
export class Mp3Codec implements AudioCodec {
  readonly name = 'mp3';
  readonly streamType = 0x03;
  readonly needsConfig = false;
  readonly configured = true;

  configure(_config: Uint8Array): void {
    throw new HlsUsageError('ERR_HLS_INVALID_ARGUMENT', 'MP3 has no decoder configuration');
  }

  frame(data: Uint8Array): Uint8Array[] {
    return [data];
  }
}
