/** Feeds muxer inputs through an {@link HlsSegmenter} and gathers the finished segments' bytes. */
import { HlsSegmenter, type HlsSegmenterOptions, type SegmenterEvent, type SegmentInfo } from '../../src/index';
import type { FlvInput } from './flv-input';

export interface MuxedSegment {
  info: SegmentInfo;
  bytes: Uint8Array;
  /** The inputs written into this segment, in order. */
  inputs: FlvInput[];
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Runs `inputs` through a segmenter with `options`; every event is checked for order. */
export function segment(inputs: readonly FlvInput[], options: HlsSegmenterOptions): MuxedSegment[] {
  const s = new HlsSegmenter(options);
  const done: MuxedSegment[] = [];
  let chunks: Uint8Array[] = [];
  let current: FlvInput[] = [];
  const take = (events: SegmenterEvent[]) => {
    for (const e of events) {
      if (e.type === 'data') chunks.push(e.data);
      else if (e.type === 'segment-end') {
        done.push({ info: e.segment, bytes: concat(chunks), inputs: current });
        chunks = [];
        current = [];
      }
    }
  };
  for (const input of inputs) {
    if (input.kind === 'video-config') s.setVideoConfig(input.data);
    else if (input.kind === 'audio-config') s.setAudioConfig(input.data);
    else {
      const events = input.kind === 'video' ? s.writeVideo(input) : s.writeAudio(input);
      // the frame belongs to the segment its data event names: after any segment-end in `events`
      take(events.filter((e) => e.type === 'segment-end'));
      if (events.some((e) => e.type === 'data' && e.data.length > 0)) current.push(input);
      take(events.filter((e) => e.type !== 'segment-end'));
    }
  }
  take(s.end());
  return done;
}
