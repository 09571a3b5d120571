/** StreamInfo fixtures and a registry of streams with real playlists, for the HTTP and metrics tests. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LivePlaylist } from '../../src/hls/live-playlist';
import { parseMediaPlaylist } from '../../src/hls/playlist';
import type { HlsSource, StreamInfo, StreamRegistry } from '../../src/streams/registry';

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
    viewers: 0,
    dir,
    ffmpegRestarts: 0,
    droppedFrames: 0,
    lastSegmentAt: undefined,
    ...over,
  };
}

/** A live playlist listing `names` (1 s each, a window as large as the list). */
export function playlistOf(names: readonly string[], programDateTime = Date.parse('2024-01-01T00:00:00Z')) {
  const p = new LivePlaylist({ targetSegmentSeconds: 1, windowSegments: Math.max(1, names.length) });
  names.forEach((name, i) => {
    p.append({ name, duration: 1, discontinuity: false, programDateTime: programDateTime + i * 1000 });
  });
  return p;
}

/** The segments an FFmpeg-written playlist in `dir` lists, as a live playlist of the server's. */
export function playlistFromDisk(dir: string, file = 'live.m3u8'): LivePlaylist {
  const parsed = parseMediaPlaylist(readFileSync(join(dir, file), 'utf8'));
  return playlistOf(parsed.segments.map((s) => s.uri));
}

/** A registry over a set of streams whose viewers are recorded. */
export class FakeRegistry implements StreamRegistry {
  readonly streams = new Map<string, { info: StreamInfo; source: HlsSource }>();
  readonly viewers: [string, string][] = [];

  add(info: StreamInfo, playlist: LivePlaylist = new LivePlaylist({ targetSegmentSeconds: 1, windowSegments: 3 })) {
    const source: HlsSource = {
      username: info.username,
      dir: info.dir,
      playlist,
      noteViewer: (_group, key) => {
        this.viewers.push([info.username, key]);
      },
    };
    this.streams.set(info.username, { info, source });
    return this;
  }

  delete(username: string): void {
    this.streams.get(username)?.source.playlist.close();
    this.streams.delete(username);
  }

  list(): StreamInfo[] {
    return [...this.streams.values()].map((s) => s.info);
  }

  get(username: string): StreamInfo | undefined {
    return this.streams.get(username)?.info;
  }

  hls(username: string): HlsSource | undefined {
    return this.streams.get(username)?.source;
  }
}
