/**
 * What RFC 8216 requires of a server across the reloads of one live media playlist, checked on
 * every reload a test feeds in (§6.2.1, §6.2.2, §4.3.3.1):
 *
 * - the playlist only grows at the end and loses segments at the start, and nothing changes once
 *   it carries `#EXT-X-ENDLIST`;
 * - a segment keeps its URI, EXTINF, discontinuity sequence number and program date-time under
 *   its media sequence number on every reload;
 * - `EXT-X-TARGETDURATION` never changes and every EXTINF, rounded, is at most it;
 * - every segment carries `EXT-X-PROGRAM-DATE-TIME`.
 *
 * Breaches are collected as sentences (a test expects none); segments that left the playlist are
 * reported to `onRemoved` with what their availability time depends on.
 */
import { type MediaPlaylist, parseMediaPlaylist } from '../../../src/hls/playlist';

export interface ObservedSegment {
  readonly mediaSequence: number;
  readonly uri: string;
  readonly duration: number;
  readonly discontinuitySequence: number;
  readonly programDateTime: number | undefined;
  /** Duration (s) of the longest observed playlist that listed the segment. */
  longestPlaylist: number;
}

export interface RemovedSegment extends ObservedSegment {
  /** When a reload first lacked it (ms). */
  readonly removedSeenAt: number;
}

export class PlaylistRules {
  readonly violations: string[] = [];
  /** Every segment seen, by media sequence number. */
  readonly segments = new Map<number, ObservedSegment>();
  reloads = 0;
  /** The highest `EXT-X-DISCONTINUITY-SEQUENCE` seen. */
  highestDiscontinuitySequence = 0;
  /** Duration (s) of the longest playlist seen. */
  longestPlaylist = 0;
  private last: { playlist: MediaPlaylist; text: string } | undefined;
  private targetDuration: number | undefined;

  constructor(private readonly onRemoved: (segment: RemovedSegment) => void = () => {}) {}

  get lastPlaylist(): MediaPlaylist | undefined {
    return this.last?.playlist;
  }

  /** Checks one reload against everything seen before. */
  observe(text: string, at = Date.now()): MediaPlaylist {
    const p = parseMediaPlaylist(text);
    this.reloads++;
    const where = `reload ${this.reloads} (MSN ${p.mediaSequence})`;
    this.checkTargetDuration(p, where);
    this.checkSegments(p, where);
    const last = this.last;
    if (last !== undefined) this.checkAgainst(last, { playlist: p, text }, where, at);
    this.highestDiscontinuitySequence = Math.max(this.highestDiscontinuitySequence, p.discontinuitySequence);
    this.last = { playlist: p, text };
    return p;
  }

  private violate(message: string): void {
    if (this.violations.length < 50) this.violations.push(message);
  }

  private checkTargetDuration(p: MediaPlaylist, where: string): void {
    this.targetDuration ??= p.targetDuration;
    if (p.targetDuration !== this.targetDuration) {
      this.violate(`${where}: EXT-X-TARGETDURATION ${p.targetDuration}, was ${this.targetDuration}`);
    }
    for (const s of p.segments) {
      if (Math.round(s.duration) > p.targetDuration) {
        this.violate(`${where}: ${s.uri} EXTINF ${s.duration} exceeds the target duration ${p.targetDuration}`);
      }
    }
  }

  private checkSegments(p: MediaPlaylist, where: string): void {
    const total = p.segments.reduce((sum, s) => sum + s.duration, 0);
    this.longestPlaylist = Math.max(this.longestPlaylist, total);
    let dsn = p.discontinuitySequence;
    const uris = new Set<string>();
    p.segments.forEach((s, i) => {
      if (s.discontinuity) dsn++;
      const msn = p.mediaSequence + i;
      if (uris.has(s.uri)) this.violate(`${where}: ${s.uri} listed twice`);
      uris.add(s.uri);
      if (s.programDateTime === undefined) this.violate(`${where}: ${s.uri} has no EXT-X-PROGRAM-DATE-TIME`);
      const seen = this.segments.get(msn);
      if (seen === undefined) {
        this.segments.set(msn, {
          mediaSequence: msn,
          uri: s.uri,
          duration: s.duration,
          discontinuitySequence: dsn,
          programDateTime: s.programDateTime,
          longestPlaylist: total,
        });
        return;
      }
      seen.longestPlaylist = Math.max(seen.longestPlaylist, total);
      const now = { uri: s.uri, duration: s.duration, discontinuitySequence: dsn, programDateTime: s.programDateTime };
      for (const key of Object.keys(now) as (keyof typeof now)[]) {
        if (seen[key] !== now[key]) this.violate(`${where}: MSN ${msn} ${key} ${now[key]}, was ${seen[key]}`);
      }
    });
  }

  private checkAgainst(
    before: { playlist: MediaPlaylist; text: string },
    now: { playlist: MediaPlaylist; text: string },
    where: string,
    at: number,
  ): void {
    const a = before.playlist;
    const b = now.playlist;
    if (a.endList && now.text !== before.text) this.violate(`${where}: the playlist changed after EXT-X-ENDLIST`);
    const aEnd = a.mediaSequence + a.segments.length;
    const bEnd = b.mediaSequence + b.segments.length;
    if (b.mediaSequence < a.mediaSequence) this.violate(`${where}: media sequence went back from ${a.mediaSequence}`);
    if (bEnd < aEnd) this.violate(`${where}: segments lost at the end (ended at ${aEnd}, now ${bEnd})`);
    if (b.mediaSequence > aEnd) this.violate(`${where}: the window jumped past every segment of the last reload`);
    for (let msn = a.mediaSequence; msn < Math.min(b.mediaSequence, aEnd); msn++) {
      const seen = this.segments.get(msn);
      if (seen !== undefined) this.onRemoved({ ...seen, removedSeenAt: at });
    }
  }
}
