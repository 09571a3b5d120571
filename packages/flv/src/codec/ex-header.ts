/**
 * Pieces of the Enhanced RTMP extended header shared by audio and video tags (Enhanced RTMP v2,
 * veovera/enhanced-rtmp): the ModEx prefix and the multitrack / FourCC part. Both kinds lay them
 * out identically; only the packet type numbers differ (ModEx is 7 for both, Multitrack 5 for
 * audio and 6 for video).
 */
import { AvMultitrackType } from '../constants';
import { FlvFormatError } from '../errors';

/** Reads 4 ASCII bytes as a FourCC string. */
export function readFourCc(p: Uint8Array, o: number): string {
  return String.fromCharCode(p[o]!, p[o + 1]!, p[o + 2]!, p[o + 3]!);
}

function truncated(what: string, field: string): FlvFormatError {
  return new FlvFormatError('ERR_FLV_TRUNCATED_TAG_HEADER', `${what}: truncated ${field}`);
}

const MOD_EX = 7;

/**
 * Skips ModEx prefixes starting at `start` (just after the byte whose packet type was ModEx).
 * ```
 * ModEx:  size UI8 (+1; 256 → UI16 + 1 follows), data[size], modExType UB4 | packetType UB4
 * ```
 * Each round consumes at least 3 bytes, so the loop ends within the payload. `nano` is the
 * TimestampOffsetNano (modExType 0): the first 3 bytes of its data, a UI24 count of nanoseconds.
 */
export function skipModEx(
  p: Uint8Array,
  start: number,
  what: string,
): { offset: number; packetType: number; nano: number | undefined } {
  let o = start;
  let packetType = MOD_EX;
  let nano: number | undefined;
  while (packetType === MOD_EX) {
    if (o + 1 > p.length) throw truncated(what, 'ModEx size');
    let size = p[o++]! + 1;
    if (size === 256) {
      if (o + 2 > p.length) throw truncated(what, 'ModEx size');
      size = ((p[o]! << 8) | p[o + 1]!) + 1;
      o += 2;
    }
    if (o + size + 1 > p.length) throw truncated(what, 'ModEx');
    const data = o;
    o += size;
    const modExType = p[o]! >>> 4;
    packetType = p[o]! & 0x0f;
    o++;
    if (modExType === 0 && size >= 3) nano = (p[data]! << 16) | (p[data + 1]! << 8) | p[data + 2]!;
  }
  return { offset: o, packetType, nano };
}

/** What {@link readTrackHeader} found. */
export interface TrackHeader {
  fourCc: string;
  /** The packet type of the (first) track: the multitrack byte's low nibble, else unchanged. */
  packetType: number;
  multitrack: { type: number; trackId: number } | undefined;
  /** Offset just after the header. */
  offset: number;
  /** End of the first track's body (the payload's end unless a track size was given). */
  bodyEnd: number;
}

/**
 * Reads the FourCC part of an extended header at `start`, or, when `packetType` is the kind's
 * Multitrack value, the multitrack header of the first track:
 * ```
 * Multitrack: AvMultitrackType UB4 | packetType UB4, FourCC (4), trackId UI8,
 *             [sizeOfTrack UI24 unless OneTrack]
 * otherwise:  FourCC (4)
 * ```
 */
export function readTrackHeader(
  p: Uint8Array,
  start: number,
  packetType: number,
  multitrackPacketType: number,
  kind: 'audio' | 'video',
): TrackHeader {
  const what = `${kind} tag`;
  let o = start;
  if (packetType !== multitrackPacketType) {
    if (o + 4 > p.length) throw truncated(what, 'FourCC');
    return { fourCc: readFourCc(p, o), packetType, multitrack: undefined, offset: o + 4, bodyEnd: p.length };
  }
  if (o + 1 > p.length) throw truncated(what, 'multitrack type');
  const type = p[o]! >>> 4;
  const trackPacketType = p[o]! & 0x0f;
  o++;
  if (type > AvMultitrackType.ManyTracksManyCodecs) {
    throw new FlvFormatError('ERR_FLV_BAD_TAG_HEADER', `${what}: AvMultitrackType ${type}`);
  }
  if (trackPacketType === multitrackPacketType || trackPacketType === MOD_EX) {
    throw new FlvFormatError('ERR_FLV_BAD_TAG_HEADER', `${what}: packet type ${trackPacketType} inside multitrack`);
  }
  if (o + 5 > p.length) throw truncated(what, 'multitrack FourCC / track id');
  const fourCc = readFourCc(p, o);
  o += 4;
  const trackId = p[o++]!;
  let bodyEnd = p.length;
  if (type !== AvMultitrackType.OneTrack) {
    const sizeField = kind === 'audio' ? 'sizeOfAudioTrack' : 'sizeOfVideoTrack';
    if (o + 3 > p.length) throw truncated(what, sizeField);
    const size = (p[o]! << 16) | (p[o + 1]! << 8) | p[o + 2]!;
    o += 3;
    if (o + size > p.length) throw truncated(what, `${kind} track (${size} bytes)`);
    bodyEnd = o + size;
  }
  return { fourCc, packetType: trackPacketType, multitrack: { type, trackId }, offset: o, bodyEnd };
}
