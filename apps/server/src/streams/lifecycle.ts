/**
 * The life of one username's stream as a state machine, its transitions in one table:
 * ```
 *   none ──publish──▶ live ──publisher leaves──▶ reconnecting ──grace over──▶ ending ──removed──▶ none
 *                      ▲  │                           │
 *                      │  └─publish: refused, or       └──publish: resume──▶ live
 *                      │    replace (takeover, stale)
 *                      └── a publish during `ending` waits for the removal, then starts afresh
 * ```
 * A publisher that leaves before sending any media leaves nothing to keep: `live → none`.
 * Shutdown ends every live or reconnecting stream (and refuses new publishers). Pure: the owner
 * applies the action (timers, producer, playlist).
 */

export type StreamState = 'live' | 'reconnecting' | 'ending';
export type LifecycleState = StreamState | 'none';

export type LifecycleEvent =
  | { type: 'publish'; takeover: boolean; stale: boolean; shuttingDown: boolean }
  | { type: 'leave'; hadMedia: boolean }
  | { type: 'grace-over' }
  | { type: 'removed' }
  | { type: 'shutdown' };

export type LifecycleAction =
  /** A new stream for the username. */
  | 'start'
  /** The publisher is back within the grace: same playlist, discontinuity. */
  | 'resume'
  /** The newer publisher replaces the live one (takeover, or the live one went silent). */
  | 'replace'
  | 'refuse-duplicate'
  | 'refuse-shutdown'
  /** The old stream is being ended: wait until it is gone, then publish again. */
  | 'wait-for-removal'
  /** The publisher left: keep the stream for the reconnect grace. */
  | 'start-grace'
  /** The publisher left before any media: forget the stream at once. */
  | 'drop'
  /** ENDLIST now, removal after the cleanup delay. */
  | 'end'
  /** The stream is gone. */
  | 'forget'
  | 'none';

export interface Transition {
  readonly state: LifecycleState;
  readonly action: LifecycleAction;
}

const stay = (state: LifecycleState): Transition => ({ state, action: 'none' });

export function transition(state: LifecycleState, event: LifecycleEvent): Transition {
  switch (event.type) {
    case 'publish':
      if (event.shuttingDown) return { state, action: 'refuse-shutdown' };
      if (state === 'none') return { state: 'live', action: 'start' };
      if (state === 'reconnecting') return { state: 'live', action: 'resume' };
      if (state === 'ending') return { state, action: 'wait-for-removal' };
      return { state, action: event.takeover || event.stale ? 'replace' : 'refuse-duplicate' };
    case 'leave':
      if (state !== 'live') return stay(state);
      return event.hadMedia ? { state: 'reconnecting', action: 'start-grace' } : { state: 'none', action: 'drop' };
    case 'grace-over':
      return state === 'reconnecting' ? { state: 'ending', action: 'end' } : stay(state);
    case 'shutdown':
      return state === 'live' || state === 'reconnecting' ? { state: 'ending', action: 'end' } : stay(state);
    case 'removed':
      return state === 'ending' ? { state: 'none', action: 'forget' } : stay(state);
  }
}
