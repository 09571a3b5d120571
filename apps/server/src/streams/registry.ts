/**
 * What the HTTP layer and the metrics may know about live streams. The stream manager implements
 * it; routes, pages and metrics only read through it (events flow from the streams to HTTP, never
 * back).
 */
import type { LivePlaylist } from '../hls/live-playlist';
import type { StreamState } from './lifecycle';

export type { StreamState };

export interface StreamCodecInfo {
  video?: { codec: string; width?: number; height?: number; profile?: string; level?: string };
  audio?: { codec: string; sampleRate?: number; channels?: number };
}

/** A snapshot of one stream, for pages, the API and the metrics. */
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
  /** Media payload bytes received over the stream's life. */
  bytesIn: number;
  /** Distinct viewers seen recently. */
  viewers: number;
  /** Directory holding the stream's files. */
  dir: string;
  ffmpegRestarts: number;
  droppedFrames: number;
  /** When the newest segment was listed (ms since epoch), if any was. */
  lastSegmentAt: number | undefined;
}

/** What the HLS routes serve for one stream; cheap to get on every request. */
export interface HlsSource {
  readonly username: string;
  /** Directory holding the segment files. */
  readonly dir: string;
  /** The playlist players see; also says which segments may be served. */
  readonly playlist: LivePlaylist;
  /**
   * Counts a viewer (called on each playlist or segment request that is answered): `key` tells
   * viewers apart, `addressGroup` the unit one client holds (an IPv4 address, an IPv6 /64: `addressGroup()` in net-address.ts).
   */
  noteViewer(addressGroup: string, key: string): void;
}

export interface StreamRegistry {
  list(): StreamInfo[];
  get(username: string): StreamInfo | undefined;
  /** The stream's HLS side, while it exists. */
  hls(username: string): HlsSource | undefined;
}
