/** The stream lifecycle's transition table, every state against every event. */
import { describe, expect, it } from 'vitest';
import { type LifecycleEvent, type LifecycleState, transition } from '../src/streams/lifecycle';

const publish = (o: Partial<{ takeover: boolean; stale: boolean; shuttingDown: boolean }> = {}): LifecycleEvent => ({
  type: 'publish',
  takeover: false,
  stale: false,
  shuttingDown: false,
  ...o,
});

const TABLE: [LifecycleState, LifecycleEvent, LifecycleState, string][] = [
  ['none', publish(), 'live', 'start'],
  ['none', publish({ shuttingDown: true }), 'none', 'refuse-shutdown'],
  ['live', publish(), 'live', 'refuse-duplicate'],
  ['live', publish({ takeover: true }), 'live', 'replace'],
  ['live', publish({ stale: true }), 'live', 'replace'],
  ['live', publish({ takeover: true, shuttingDown: true }), 'live', 'refuse-shutdown'],
  ['reconnecting', publish(), 'live', 'resume'],
  ['reconnecting', publish({ shuttingDown: true }), 'reconnecting', 'refuse-shutdown'],
  ['ending', publish(), 'ending', 'wait-for-removal'],
  ['ending', publish({ takeover: true }), 'ending', 'wait-for-removal'],
  ['ending', publish({ shuttingDown: true }), 'ending', 'refuse-shutdown'],
  ['live', { type: 'leave', hadMedia: true }, 'reconnecting', 'start-grace'],
  ['live', { type: 'leave', hadMedia: false }, 'none', 'drop'],
  ['reconnecting', { type: 'leave', hadMedia: true }, 'reconnecting', 'none'],
  ['ending', { type: 'leave', hadMedia: true }, 'ending', 'none'],
  ['none', { type: 'leave', hadMedia: true }, 'none', 'none'],
  ['reconnecting', { type: 'grace-over' }, 'ending', 'end'],
  ['live', { type: 'grace-over' }, 'live', 'none'],
  ['ending', { type: 'grace-over' }, 'ending', 'none'],
  ['none', { type: 'grace-over' }, 'none', 'none'],
  ['live', { type: 'shutdown' }, 'ending', 'end'],
  ['reconnecting', { type: 'shutdown' }, 'ending', 'end'],
  ['ending', { type: 'shutdown' }, 'ending', 'none'],
  ['none', { type: 'shutdown' }, 'none', 'none'],
  ['ending', { type: 'removed' }, 'none', 'forget'],
  ['live', { type: 'removed' }, 'live', 'none'],
  ['reconnecting', { type: 'removed' }, 'reconnecting', 'none'],
  ['none', { type: 'removed' }, 'none', 'none'],
];

describe('stream lifecycle', () => {
  it.each(TABLE)('%s + %j → %s (%s)', (from, event, to, action) => {
    expect(transition(from, event)).toEqual({ state: to, action });
  });

  it('covers every state with every kind of event', () => {
    const states: LifecycleState[] = ['none', 'live', 'reconnecting', 'ending'];
    const kinds = ['publish', 'leave', 'grace-over', 'shutdown', 'removed'];
    for (const s of states)
      for (const k of kinds)
        expect(
          TABLE.some(([f, e]) => f === s && e.type === k),
          `${s} ${k}`,
        ).toBe(true);
  });
});
