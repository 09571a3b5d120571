/** StreamInfo fixtures for tests that fake the StreamRegistry. */
import type { StreamInfo, StreamRegistry } from '../../src/stream-registry';

/** A live stream with neutral figures; `over` sets what a test cares about. */
export function streamInfo(username: string, dir: string, over: Partial<StreamInfo> = {}): StreamInfo {
  return {
    username,
    app: 'a',
    state: 'live',
    since: 0,
    codecs: {},
    bitrate: 0,
    bytesIn: 0,
    viewers: undefined,
    dir,
    ffmpegRestarts: 0,
    droppedFrames: 0,
    ...over,
  };
}

/** A registry over a fixed set of streams. */
export function fixedRegistry(streams: StreamInfo[]): StreamRegistry {
  const known = new Map(streams.map((s) => [s.username, s]));
  return { list: () => [...known.values()], get: (u) => known.get(u) };
}
