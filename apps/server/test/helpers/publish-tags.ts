/** Plays FLV tags into a segment producer the way a stream's pipeline does, for the producer tests. */
import { FlvStreamState, type FlvTag } from '@org/flv';
import type { SegmentProducer } from '../../src/output/segment-producer';

/**
 * One publisher whose message with timestamp `ts` arrives at `offset + ts` on `clock`: the state
 * observes every tag, the producer is opened at the first media tag and gets media from there
 * (through `mangle`, when a test alters a tag on its way).
 */
export function publishTags(
  target: { producer: SegmentProducer; clock: { t: number } },
  tags: readonly FlvTag[],
  offset: number,
  mangle: (tag: FlvTag) => FlvTag = (tag) => tag,
): FlvStreamState {
  const state = new FlvStreamState();
  let opened = false;
  for (const tag of tags) {
    const role = state.observe(tag);
    if (role === 'metadata') continue;
    if (!opened && role !== 'video-config' && role !== 'audio-config') {
      target.producer.open(state, Promise.resolve());
      opened = true;
    }
    target.clock.t = offset + tag.timestamp;
    if (opened) target.producer.write(mangle(tag), role);
  }
  return state;
}
