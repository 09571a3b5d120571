/**
 * The public view of a stream, shared by `/api/streams`, `GET /` (JSON) and the status page.
 * Deliberately leaves out `dir`: the server's filesystem layout is nobody's business.
 */
import type { StreamCodecInfo, StreamInfo, StreamState } from '../streams/registry';

export interface PublicStream {
  username: string;
  app: string | null;
  state: StreamState;
  /** ISO 8601 start of the current publish. */
  since: string;
  uptimeSeconds: number;
  codecs: StreamCodecInfo;
  /** `WIDTHxHEIGHT`, when the video codec reported it. */
  resolution: string | null;
  /** Inbound bits per second over the last few seconds. */
  bitrate: number;
  bytesIn: number;
  viewers: number;
  ffmpegRestarts: number;
  droppedFrames: number;
  /** Path of the HLS playlist. */
  playlist: string;
  /** Path of the player page. */
  watch: string;
}

export function toPublicStream(info: StreamInfo, now: number): PublicStream {
  const u = encodeURIComponent(info.username);
  const v = info.codecs.video;
  return {
    username: info.username,
    app: info.app ?? null,
    state: info.state,
    since: new Date(info.since).toISOString(),
    uptimeSeconds: Math.max(0, Math.floor((now - info.since) / 1000)),
    codecs: info.codecs,
    resolution: v?.width !== undefined && v.height !== undefined ? `${v.width}x${v.height}` : null,
    bitrate: info.bitrate,
    bytesIn: info.bytesIn,
    viewers: info.viewers,
    ffmpegRestarts: info.ffmpegRestarts,
    droppedFrames: info.droppedFrames,
    playlist: `/stream/${u}/live.m3u8`,
    watch: `/watch/${u}`,
  };
}

/** Streams sorted by username, for a stable page. */
export function listPublicStreams(streams: readonly StreamInfo[], now: number): PublicStream[] {
  return streams
    .map((s) => toPublicStream(s, now))
    .sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0));
}
