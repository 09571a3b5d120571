/**
 * When each keyframe fed to one FFmpeg run arrived at the server, by its timestamp on the run's
 * timeline. FFmpeg cuts segments at keyframes, and a segment's start on the run's timeline is the
 * sum of the durations before it, so the keyframe nearest to that sum is the one the segment
 * starts with: its arrival is the segment's `EXT-X-PROGRAM-DATE-TIME`.
 */

/** A segment's start and its keyframe may differ by FFmpeg's rounding and A/V interleaving, never by a frame interval. */
const MATCH_TOLERANCE_MS = 100;
/** Keyframes remembered at most (bounded memory if segments stop being reported). */
const MAX_KEYFRAMES = 4096;

export class KeyframeClock {
  private readonly timestamps: number[] = [];
  private readonly arrivals: number[] = [];

  /** A keyframe at `timestampMs` (run timeline) arrived at `arrivalMs` (epoch). */
  note(timestampMs: number, arrivalMs: number): void {
    if (this.timestamps.length >= MAX_KEYFRAMES) {
      this.timestamps.shift();
      this.arrivals.shift();
    }
    this.timestamps.push(timestampMs);
    this.arrivals.push(arrivalMs);
  }

  /**
   * Arrival of the keyframe at `timestampMs`, or an estimate from the nearest earlier one when no
   * keyframe is that close (undefined when none was noted). Keyframes before the match are
   * forgotten: segments are dated in order.
   */
  arrivalAt(timestampMs: number): number | undefined {
    let best = -1;
    for (let i = 0; i < this.timestamps.length; i++) {
      const d = Math.abs((this.timestamps[i] as number) - timestampMs);
      if (best < 0 || d < Math.abs((this.timestamps[best] as number) - timestampMs)) best = i;
      if ((this.timestamps[i] as number) > timestampMs) break;
    }
    if (best < 0) return undefined;
    const ts = this.timestamps[best] as number;
    const at = this.arrivals[best] as number;
    this.timestamps.splice(0, best);
    this.arrivals.splice(0, best);
    return Math.abs(ts - timestampMs) <= MATCH_TOLERANCE_MS ? at : at + (timestampMs - ts);
  }
}
