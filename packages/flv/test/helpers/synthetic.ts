/**
 * Synthetic tag streams with real-looking headers (legacy AVC + AAC) whose payloads carry an id,
 * so tests can tell which frames reached a destination.
 */
import { type FlvTag, TagType } from '../../src/index';

export interface SyntheticOptions {
  /** Video frames per GOP (keyframe first). */
  gop?: number;
  keyframeBytes?: number;
  interBytes?: number;
  audioBytes?: number;
  /** Re-send the video sequence header before every keyframe (some encoders do). */
  repeatConfig?: boolean;
  /** Send metadata every n video frames (GStreamer resends it often). */
  metadataEvery?: number;
  audio?: boolean;
  video?: boolean;
}

/** Reads the id written into a synthetic frame payload (bytes 5–8 for video, 2–5 for audio). */
export function frameId(tag: FlvTag): number {
  const o = tag.type === TagType.Video ? 5 : 2;
  const p = tag.payload;
  return ((p[o]! << 24) | (p[o + 1]! << 16) | (p[o + 2]! << 8) | p[o + 3]!) >>> 0;
}

function withId(size: number, head: number[], id: number): Uint8Array {
  const p = new Uint8Array(Math.max(size, head.length + 4));
  p.set(head);
  const o = head.length;
  p[o] = id >>> 24;
  p[o + 1] = id >>> 16;
  p[o + 2] = id >>> 8;
  p[o + 3] = id;
  return p;
}

/** A metadata script tag ("onMetaData" + empty ECMA array), as bytes. */
export const METADATA_PAYLOAD = new Uint8Array([
  0x02,
  0x00,
  0x0a,
  0x6f,
  0x6e,
  0x4d,
  0x65,
  0x74,
  0x61,
  0x44,
  0x61,
  0x74,
  0x61, // "onMetaData"
  0x08,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x09, // ECMA array, 0 entries, end
]);

/** `count` video frames (30 fps) with AAC frames (48 kHz, 1024 samples) interleaved by time. */
export function* syntheticStream(count: number, o: SyntheticOptions = {}): Generator<FlvTag> {
  const gop = o.gop ?? 30;
  const video = o.video ?? true;
  const audio = o.audio ?? true;
  yield { type: TagType.Script, timestamp: 0, payload: METADATA_PAYLOAD };
  // AVC sequence header: key | AVC, packet type 0, CTS 0, a tiny record
  if (video) yield { type: TagType.Video, timestamp: 0, payload: new Uint8Array([0x17, 0, 0, 0, 0, 1, 66, 0, 30]) };
  // AAC sequence header: AAC 44k 16-bit stereo flags, packet type 0, LC 48 kHz stereo
  if (audio) yield { type: TagType.Audio, timestamp: 0, payload: new Uint8Array([0xaf, 0, 0x11, 0x90]) };
  let audioIndex = 0;
  for (let i = 0; i < count; i++) {
    const ts = Math.round((i * 1000) / 30);
    while (audio && (audioIndex * 1024 * 1000) / 48000 <= ts) {
      const ats = Math.round((audioIndex * 1024 * 1000) / 48000);
      yield { type: TagType.Audio, timestamp: ats, payload: withId(o.audioBytes ?? 200, [0xaf, 1], audioIndex) };
      audioIndex++;
    }
    if (!video) continue;
    if (o.metadataEvery && i > 0 && i % o.metadataEvery === 0) {
      yield { type: TagType.Script, timestamp: 0, payload: METADATA_PAYLOAD };
    }
    const key = i % gop === 0;
    if (key && o.repeatConfig && i > 0) {
      yield { type: TagType.Video, timestamp: ts, payload: new Uint8Array([0x17, 0, 0, 0, 0, 1, 66, 0, 30]) };
    }
    yield {
      type: TagType.Video,
      timestamp: ts,
      payload: withId(key ? (o.keyframeBytes ?? 5000) : (o.interBytes ?? 1000), [key ? 0x17 : 0x27, 1, 0, 0, 0], i),
    };
  }
}
