/**
 * The live media playlist of one stream, owned by the server (RFC 8216 §6.2.1, §6.2.2). A producer
 * (FFmpeg, or a native packager) reports each finished segment; this model decides everything a
 * player sees:
 *
 * - the playlist only grows at the end and loses segments at the start; a segment keeps its media
 *   sequence number, EXTINF and discontinuity sequence number on every reload;
 * - `EXT-X-TARGETDURATION` is fixed by the first segment and never changes (§6.2.1 allows no
 *   other change than appending, removing from the start and ENDLIST);
 * - the window holds `windowSegments` segments, and more while fewer would last less than three
 *   target durations (§6.2.2);
 * - removing a segment that starts with `EXT-X-DISCONTINUITY` increments
 *   `EXT-X-DISCONTINUITY-SEQUENCE` (§6.2.2);
 * - a removed segment stays available for its duration plus the duration of the longest playlist
 *   that contained it (§6.2.2), then `expired` tells the owner its file may go;
 * - every segment carries `EXT-X-PROGRAM-DATE-TIME` (its first frame's arrival).
 *
 * No I/O; one timer, for the availability deadlines.
 */
import { type MediaSegment, PLAYLIST_VERSION, serializeMediaPlaylist } from './playlist';

/** A finished segment as its producer reports it. */
export interface SegmentReport {
  /** File name beside the playlist (a segment name from `names.ts`). */
  readonly name: string;
  /** Seconds. */
  readonly duration: number;
  /** The segment starts a new timeline (new publisher, restarted producer). */
  readonly discontinuity: boolean;
  /** Arrival of its first frame at the server, ms since the epoch. */
  readonly programDateTime: number;
}

/** A segment as the playlist lists (or listed) it. */
export interface ListedSegment extends SegmentReport {
  readonly mediaSequence: number;
  readonly discontinuitySequence: number;
}

export interface LivePlaylistListener {
  /** The text changed (segment appended or removed, ENDLIST). */
  changed?(): void;
  /** A segment joined the playlist. */
  appended?(segment: ListedSegment): void;
  /** A removed segment's availability time passed: nothing may serve it any more. */
  expired?(name: string): void;
  /** The stream is gone: nothing of it may be served any more. */
  closed?(): void;
}

export interface LivePlaylistOptions {
  /** The configured target segment duration, seconds (the lower bound of the target duration). */
  targetSegmentSeconds: number;
  /** Segments in the window (at least; see the class comment). */
  windowSegments: number;
  /** Clock, ms. Default `Date.now`. */
  now?: () => number;
}

/** What {@link LivePlaylist#lookup} knows of a segment name. */
export type SegmentAvailability = 'listed' | 'retained';

interface Entry extends ListedSegment {
  /** Duration of the longest playlist that listed this segment, seconds. */
  longestPlaylist: number;
}

interface Retained {
  readonly name: string;
  readonly until: number;
}

export class LivePlaylist {
  private readonly o: Required<LivePlaylistOptions>;
  private readonly listed: Entry[] = [];
  private readonly retained: Retained[] = [];
  private readonly byName = new Map<string, SegmentAvailability>();
  private readonly listeners = new Set<LivePlaylistListener>();
  private target: number | undefined;
  private nextSequence = 0;
  private nextDiscontinuitySequence = 0;
  private firstDiscontinuitySequence = 0;
  private ended = false;
  private closed = false;
  private text: Buffer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = 0;
  private lastAppend: number | undefined;

  constructor(options: LivePlaylistOptions) {
    if (!(options.targetSegmentSeconds > 0)) throw new RangeError('targetSegmentSeconds must be > 0');
    if (!Number.isInteger(options.windowSegments) || options.windowSegments < 1) {
      throw new RangeError('windowSegments must be an integer ≥ 1');
    }
    this.o = { now: Date.now, ...options };
  }

  /** `EXT-X-TARGETDURATION`, once the first segment fixed it. */
  get targetDuration(): number | undefined {
    return this.target;
  }

  /** True once `#EXT-X-ENDLIST` is written. */
  get hasEnded(): boolean {
    return this.ended;
  }

  /** When the newest segment was appended (ms), if any was. */
  get lastAppendAt(): number | undefined {
    return this.lastAppend;
  }

  /** The segments listed now, oldest first. */
  get segments(): readonly ListedSegment[] {
    return this.listed;
  }

  /** The playlist's text, or undefined before the first segment (there is no playlist yet). */
  body(): Buffer | undefined {
    if (this.listed.length === 0) return undefined;
    this.text ??= Buffer.from(serializeMediaPlaylist(this.model()));
    return this.text;
  }

  /** Milliseconds until the last removed segment's availability time has passed (0 when none waits). */
  msUntilRetainedExpire(): number {
    let latest = 0;
    for (const r of this.retained) latest = Math.max(latest, r.until);
    return Math.max(0, latest - this.o.now());
  }

  /** Whether a segment may be served: listed now, or removed but still within its availability. */
  lookup(name: string): SegmentAvailability | undefined {
    return this.byName.get(name);
  }

  subscribe(listener: LivePlaylistListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Adds a finished segment at the end, then removes from the start what the window no longer
   * needs. Ignored after {@link end} or {@link close}, and for a name already known.
   * @returns true when the segment is longer than the target duration allows (it is listed anyway:
   *   the producer cut it at the publisher's keyframe, and nothing shorter exists)
   */
  append(report: SegmentReport): boolean {
    if (this.ended || this.closed || this.byName.has(report.name)) return false;
    const first = this.target === undefined;
    this.target ??= Math.max(Math.ceil(this.o.targetSegmentSeconds), Math.round(report.duration));
    // A discontinuity before the first segment ever would separate it from nothing.
    const discontinuity = report.discontinuity && !first;
    if (discontinuity) this.nextDiscontinuitySequence++;
    const entry: Entry = {
      name: report.name,
      duration: report.duration,
      discontinuity,
      programDateTime: report.programDateTime,
      mediaSequence: this.nextSequence++,
      discontinuitySequence: this.nextDiscontinuitySequence,
      longestPlaylist: 0,
    };
    this.listed.push(entry);
    this.byName.set(entry.name, 'listed');
    this.lastAppend = this.o.now();
    this.trimWindow();
    this.noteLongest();
    this.text = undefined;
    for (const l of this.listeners) l.appended?.(entry);
    this.emitChanged();
    return Math.round(report.duration) > this.target;
  }

  /** Writes `#EXT-X-ENDLIST`: the playlist is final. Idempotent. */
  end(): void {
    if (this.ended || this.closed) return;
    this.ended = true;
    this.text = undefined;
    this.emitChanged();
  }

  /** The stream is gone: stops the availability timer; `closed` is the last event. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const l of [...this.listeners]) l.closed?.();
    this.listeners.clear();
  }

  private model() {
    return {
      version: PLAYLIST_VERSION,
      targetDuration: this.target ?? Math.ceil(this.o.targetSegmentSeconds),
      mediaSequence: this.listed[0]?.mediaSequence ?? this.nextSequence,
      discontinuitySequence: this.firstDiscontinuitySequence,
      independentSegments: true,
      segments: this.listed.map(
        (s): MediaSegment => ({
          uri: s.name,
          duration: s.duration,
          discontinuity: s.discontinuity,
          programDateTime: s.programDateTime,
        }),
      ),
      endList: this.ended,
    };
  }

  private trimWindow(): void {
    const minDuration = 3 * (this.target as number);
    let total = 0;
    for (const s of this.listed) total += s.duration;
    while (this.listed.length > this.o.windowSegments) {
      const oldest = this.listed[0] as Entry;
      if (total - oldest.duration < minDuration) break;
      this.listed.shift();
      total -= oldest.duration;
      // Its EXT-X-DISCONTINUITY leaves with it: the count it contributed moves into the header.
      if (oldest.discontinuity) this.firstDiscontinuitySequence++;
      this.retain(oldest);
    }
  }

  /** Every listed segment has now been in a playlist this long. */
  private noteLongest(): void {
    let total = 0;
    for (const s of this.listed) total += s.duration;
    for (const s of this.listed) if (total > s.longestPlaylist) s.longestPlaylist = total;
  }

  private retain(entry: Entry): void {
    const until = this.o.now() + Math.ceil((entry.duration + entry.longestPlaylist) * 1000);
    this.retained.push({ name: entry.name, until });
    this.byName.set(entry.name, 'retained');
    this.schedule();
  }

  /** (Re)arms the timer for the earliest deadline: a later removal may have an earlier one. */
  private schedule(): void {
    if (this.retained.length === 0 || this.closed) return;
    let soonest = Number.POSITIVE_INFINITY;
    for (const r of this.retained) soonest = Math.min(soonest, r.until);
    if (this.timer !== undefined && this.timerDue <= soonest) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerDue = soonest;
    this.timer = setTimeout(() => this.expire(), Math.max(0, soonest - this.o.now()));
    this.timer.unref();
  }

  private expire(): void {
    this.timer = undefined;
    const t = this.o.now();
    for (let i = 0; i < this.retained.length; ) {
      const r = this.retained[i] as Retained;
      if (r.until > t) {
        i++;
        continue;
      }
      this.retained.splice(i, 1);
      this.byName.delete(r.name);
      for (const l of this.listeners) l.expired?.(r.name);
    }
    this.schedule();
  }

  private emitChanged(): void {
    for (const l of this.listeners) l.changed?.();
  }
}
