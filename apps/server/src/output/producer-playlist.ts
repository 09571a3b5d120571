/**
 * How the server learns that FFmpeg finished a segment: FFmpeg renames its private playlist
 * (`temp_file`) into place after every cut, `fs.watch` on the stream directory reports the rename,
 * and the playlist is read (two thread-pool round trips) and parsed. Reads never overlap: an event
 * during a read makes one more read after it, which sees the newest file. If the directory cannot
 * be watched, the file is polled instead.
 */
import { type FSWatcher, watch } from 'node:fs';
import { join } from 'node:path';
import { segmentNumber } from '../hls/names';
import { parseMediaPlaylist } from '../hls/playlist';
import type { Logger } from '../logger';
import { readWholeFile } from '../storage/safe-file';
import { PRODUCER_PLAYLIST_SIZE } from './ffmpeg-args';

/** A finished segment as FFmpeg's playlist lists it. */
export interface ProducedSegment {
  readonly name: string;
  readonly number: number;
  /** EXTINF, seconds. */
  readonly duration: number;
}

/** Replaces `fs.watch` (tests): calls `onEvent` with the file name of each change. */
export type WatchDir = (dir: string, onEvent: (file: string | null) => void) => FSWatcher;

export interface ProducerPlaylistOptions {
  dir: string;
  /** File name of the playlist inside `dir`. */
  name: string;
  /** Every read that parsed: the segments listed, oldest first. */
  onSegments(segments: readonly ProducedSegment[]): void;
  logger: Logger;
  watchDir?: WatchDir;
}

/** Largest producer playlist read: a window of a few segments is a few hundred bytes. */
const MAX_PRODUCER_PLAYLIST_BYTES = 64 * 1024;
/** First read of the playlist, enough for the whole window in one go. */
const FIRST_READ_BYTES = 4096;
/** Poll period when the directory cannot be watched. */
const POLL_MS = 250;

export class ProducerPlaylist {
  private readonly o: ProducerPlaylistOptions;
  private readonly path: string;
  private watcher: FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(options: ProducerPlaylistOptions) {
    this.o = options;
    this.path = join(options.dir, options.name);
  }

  /** Starts watching; the directory must exist. */
  start(): void {
    const onEvent = (file: string | null) => {
      if (file === null || file === this.o.name) this.refresh();
    };
    try {
      this.watcher = (this.o.watchDir ?? defaultWatch)(this.o.dir, onEvent);
      this.watcher.on('error', (err) => this.fallBackToPolling(err));
    } catch (err) {
      this.fallBackToPolling(err);
    }
  }

  private fallBackToPolling(err: unknown): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.closed || this.poller) return;
    this.o.logger.warn({ err }, 'cannot watch the stream directory; polling the ffmpeg playlist instead');
    this.poller = setInterval(() => this.refresh(), POLL_MS);
    this.poller.unref();
  }

  /** Reads the playlist now (or once more after the read in progress). */
  refresh(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = this.readLoop().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async readLoop(): Promise<void> {
    do {
      this.again = false;
      const file = await readWholeFile(this.path, MAX_PRODUCER_PLAYLIST_BYTES, { firstRead: FIRST_READ_BYTES });
      if (file === undefined || this.closed) continue;
      let segments: ProducedSegment[];
      try {
        segments = parseSegments(file.body.toString('latin1'));
      } catch (err) {
        this.o.logger.warn({ err }, 'unreadable ffmpeg playlist');
        continue;
      }
      this.o.onSegments(segments);
    } while (this.again && !this.closed);
  }

  /** Reads one last time (what FFmpeg wrote as it exited), then stops. */
  async finish(): Promise<void> {
    this.stopWatching();
    await this.reading;
    await this.refresh();
    this.closed = true;
  }

  /** Stops without reading. */
  close(): void {
    this.closed = true;
    this.stopWatching();
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.poller) clearInterval(this.poller);
    this.poller = undefined;
  }
}

function defaultWatch(dir: string, onEvent: (file: string | null) => void): FSWatcher {
  return watch(dir, { persistent: false }, (_event, file) => onEvent(file));
}

/** The finished segments a producer playlist lists; names that are not segment names are skipped. */
export function parseSegments(text: string): ProducedSegment[] {
  const playlist = parseMediaPlaylist(text, { maxSegments: PRODUCER_PLAYLIST_SIZE * 4 });
  const out: ProducedSegment[] = [];
  for (const s of playlist.segments) {
    const number = segmentNumber(s.uri);
    if (number !== undefined) out.push({ name: s.uri, number, duration: s.duration });
  }
  return out;
}
