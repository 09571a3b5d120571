/**
 * What the HTTP layer may know about live streams. The stream manager implements it; the
 * HTTP routes, the status page and the metrics only read through it.
 */

export type StreamState = 'live' | 'reconnecting' | 'ending';

export interface StreamCodecInfo {
  video?: { codec: string; width?: number; height?: number; profile?: string; level?: string };
  audio?: { codec: string; sampleRate?: number; channels?: number };
}

export interface StreamInfo {
  /** Safe single path segment (validated by @org/auth). */
  username: string;
  /** The `{app}` variable of the matched pattern, if any. */
  app: string | undefined;
  state: StreamState;
  /** When the current publish started (ms since epoch). */
  since: number;
  codecs: StreamCodecInfo;
  /** Inbound media bitrate over the last few seconds, bits per second. */
  bitrate: number;
  bytesIn: number;
  /** Distinct viewers seen recently, if known. */
  viewers: number | undefined;
  /** Directory holding live.m3u8 and its segments. */
  dir: string;
  ffmpegRestarts: number;
  droppedFrames: number;
}

export interface StreamRegistry {
  list(): StreamInfo[];
  get(username: string): StreamInfo | undefined;
  /** Hook for the HTTP layer to count viewers (called on each playlist/segment request). */
  noteViewer?(username: string, viewerKey: string): void;
}
