/**
 * Just enough media parsing to match a keyframe the publisher sent with the first frame of an HLS
 * segment: HLS media playlists, MPEG-TS (PAT → PMT → first H.264 PES) and the IDR NAL unit inside
 * an FLV AVC video tag or an Annex B byte stream.
 *
 * Both sides are hashed over the same bytes: the first {@link IDR_HASH_BYTES} bytes of the first
 * IDR NAL unit, NAL header included. Remuxing with `-c copy` (ours, NMS) and nginx-rtmp's own HLS
 * writer keep NAL payloads byte for byte; only the framing (length prefix vs. start code) changes.
 */
import { createHash } from 'node:crypto';

/** Bytes of the IDR NAL hashed on both sides: past the slice header into macroblock data. */
export const IDR_HASH_BYTES = 128;
const NAL_IDR = 5;
const TS_PACKET = 188;
const STREAM_TYPE_H264 = 0x1b;

/**
 * Parses an HLS media playlist.
 * @returns {{mediaSequence: number, segments: {uri: string, duration: number, sequence: number}[], endList: boolean, targetDuration: number|null}}
 */
export function parsePlaylist(text) {
  let mediaSequence = 0;
  let targetDuration = null;
  let endList = false;
  let duration = 0;
  const segments = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) mediaSequence = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-TARGETDURATION:')) targetDuration = Number(line.slice(22));
    else if (line.startsWith('#EXTINF:')) duration = Number.parseFloat(line.slice(8));
    else if (line === '#EXT-X-ENDLIST') endList = true;
    else if (!line.startsWith('#')) {
      segments.push({ uri: line, duration, sequence: mediaSequence + segments.length });
      duration = 0;
    }
  }
  return { mediaSequence, segments, endList, targetDuration };
}

function hashBytes(bytes) {
  return createHash('sha1').update(bytes).digest('hex').slice(0, 20);
}

/**
 * Hash of the IDR NAL unit in an FLV AVC video tag body, or null when it is not a keyframe NALU tag.
 *   byte 0: frame type (bits 7–4, 1 = key) | codec id (bits 3–0, 7 = AVC)
 *   byte 1: AVCPacketType (1 = NAL units)   bytes 2–4: composition time
 *   then NAL units, each with a 4-byte big-endian length prefix.
 */
export function flvIdrHash(body) {
  if (body.length < 5 || body[0] !== 0x17 || body[1] !== 1) return null;
  let off = 5;
  while (off + 4 <= body.length) {
    const len = ((body[off] << 24) | (body[off + 1] << 16) | (body[off + 2] << 8) | body[off + 3]) >>> 0;
    off += 4;
    if (len === 0 || off + len > body.length) return null;
    if ((body[off] & 0x1f) === NAL_IDR) {
      return hashBytes(body.subarray(off, off + Math.min(len, IDR_HASH_BYTES)));
    }
    off += len;
  }
  return null;
}

/** Hash of the first IDR NAL unit in an Annex B byte stream (start codes 00 00 01 / 00 00 00 01). */
export function annexBIdrHash(bytes) {
  const n = bytes.length;
  for (let i = 0; i + 3 < n; i++) {
    if (bytes[i] !== 0 || bytes[i + 1] !== 0 || bytes[i + 2] !== 1) continue;
    const start = i + 3;
    if ((bytes[start] & 0x1f) === NAL_IDR) {
      let end = Math.min(n, start + IDR_HASH_BYTES);
      for (let j = start; j + 2 < end; j++) {
        if (bytes[j] === 0 && bytes[j + 1] === 0 && bytes[j + 2] <= 1) {
          end = j;
          break;
        }
      }
      return hashBytes(bytes.subarray(start, end));
    }
    i = start - 1;
  }
  return null;
}

/**
 * The payload of the first H.264 PES packet of an MPEG-TS segment (its first video access unit),
 * found through PAT and PMT; null when there is none.
 *   TS packet: 0x47 | TEI PUSI prio PID(13) | scrambling(2) adaptation(2) counter(4) | [adaptation] payload
 */
export function firstVideoPes(ts) {
  let pmtPid = -1;
  let videoPid = -1;
  const parts = [];
  let collecting = false;
  for (let off = 0; off + TS_PACKET <= ts.length; off += TS_PACKET) {
    if (ts[off] !== 0x47) return null;
    const pusi = (ts[off + 1] & 0x40) !== 0;
    const pid = ((ts[off + 1] & 0x1f) << 8) | ts[off + 2];
    const afc = (ts[off + 3] >> 4) & 3;
    if ((afc & 1) === 0) continue;
    let p = off + 4 + (afc & 2 ? 1 + ts[off + 4] : 0);
    const end = off + TS_PACKET;
    if (p >= end) continue;
    if (pid === 0 && pusi && pmtPid < 0) {
      p += 1 + ts[p]; // pointer field
      const sectionLength = ((ts[p + 1] & 0x0f) << 8) | ts[p + 2];
      const last = Math.min(end, p + 3 + sectionLength - 4);
      for (let q = p + 8; q + 4 <= last; q += 4) {
        const program = (ts[q] << 8) | ts[q + 1];
        if (program !== 0) {
          pmtPid = ((ts[q + 2] & 0x1f) << 8) | ts[q + 3];
          break;
        }
      }
    } else if (pid === pmtPid && pusi && videoPid < 0) {
      p += 1 + ts[p];
      const sectionLength = ((ts[p + 1] & 0x0f) << 8) | ts[p + 2];
      const last = Math.min(end, p + 3 + sectionLength - 4);
      const programInfoLength = ((ts[p + 10] & 0x0f) << 8) | ts[p + 11];
      for (let q = p + 12 + programInfoLength; q + 5 <= last; ) {
        const type = ts[q];
        const esPid = ((ts[q + 1] & 0x1f) << 8) | ts[q + 2];
        const infoLength = ((ts[q + 3] & 0x0f) << 8) | ts[q + 4];
        if (type === STREAM_TYPE_H264) {
          videoPid = esPid;
          break;
        }
        q += 5 + infoLength;
      }
    } else if (pid === videoPid) {
      if (pusi) {
        if (collecting) break;
        collecting = true;
        // PES: 00 00 01 stream_id | length(2) | flags(2) | header_data_length | header data
        if (ts[p] !== 0 || ts[p + 1] !== 0 || ts[p + 2] !== 1) return null;
        p += 9 + ts[p + 8];
      }
      if (collecting && p < end) parts.push(ts.subarray(p, end));
    }
  }
  return parts.length ? Buffer.concat(parts) : null;
}

/** Hash of the IDR that starts an MPEG-TS segment, or null. */
export function segmentIdrHash(ts) {
  const pes = firstVideoPes(ts);
  return pes ? annexBIdrHash(pes) : null;
}
