/**
 * Fakes at the stream's two seams (segment producer, stream directory) that log their calls into
 * one list per stream, and the FLV messages of a usual publish start.
 */
import type { FlvStreamState, FlvTag, TagRole } from '@org/flv';
import type { SegmentProducer, SegmentProducerEvents } from '../../src/output/segment-producer';
import type { StreamFiles } from '../../src/storage/stream-dir';
import type { PublisherHandle, PublishSession } from '../../src/streams/publisher-session';

export class FakeProducer implements SegmentProducer {
  written: { tag: FlvTag; role: TagRole }[] = [];
  opened: FlvStreamState[] = [];
  restarts = 0;
  droppedFrames = 0;
  pid: number | undefined;
  /** How long close() takes. */
  closeDelayMs = 0;
  private next = 0;
  constructor(
    readonly dir: string,
    readonly events: SegmentProducerEvents,
    readonly calls: string[],
  ) {}
  open(state: FlvStreamState) {
    this.calls.push('open');
    this.opened.push(state);
    this.pid = 1000 + this.opened.length;
  }
  write(tag: FlvTag, role: TagRole) {
    this.written.push({ tag, role });
  }
  async close() {
    this.calls.push('close');
    this.pid = undefined;
    if (this.closeDelayMs) await new Promise((r) => setTimeout(r, this.closeDelayMs));
  }
  killNow() {
    this.calls.push('kill');
  }
  /** Reports a finished segment as the real producer would. */
  segment(duration: number, discontinuity = false, programDateTime = Date.now()) {
    const name = `live_${String(this.next++).padStart(3, '0')}.ts`;
    this.events.segment({ name, duration, discontinuity, programDateTime });
    return name;
  }
}

export class FakeDir implements StreamFiles {
  playlists: string[] = [];
  deleted: string[] = [];
  constructor(
    readonly path: string,
    readonly calls: string[],
  ) {}
  async prepare() {
    this.calls.push('prepare');
  }
  async writePlaylist(body: Buffer) {
    this.playlists.push(body.toString());
  }
  async deleteFile(name: string) {
    this.deleted.push(name);
  }
  async flush() {
    this.calls.push('flush');
  }
  async remove() {
    this.calls.push('remove');
  }
}

export class FakePublisher implements PublisherHandle {
  disconnects: { reason: string; status?: { code: string; description: string } }[] = [];
  constructor(readonly id: string) {}
  disconnect(reason: string, status?: { code: string; description: string }) {
    this.disconnects.push(status ? { reason, status } : { reason });
  }
}

// Legacy FLV AVC: the sequence header x264 wrote for a 320x240 clip (Constrained Baseline 1.3), a
// keyframe, an inter frame.
export const AVC_CONFIG = Uint8Array.from([
  0x17, 0x00, 0x00, 0x00, 0x00, 0x01, 0x42, 0xc0, 0x0d, 0xff, 0xe1, 0x00, 0x16, 0x67, 0x42, 0xc0, 0x0d, 0xda, 0x05,
  0x07, 0xec, 0x04, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x0c, 0xa3, 0xc5, 0x0a, 0xa8, 0x01, 0x00, 0x04,
  0x68, 0xce, 0x0f, 0xc8,
]);
export const KEYFRAME = Uint8Array.from([0x17, 0x01, 0, 0, 0, 0, 0, 0, 2, 0x65, 0x88]);
export const INTER = Uint8Array.from([0x27, 0x01, 0, 0, 0, 0, 0, 0, 2, 0x41, 0x9a]);
// AAC LC 44.1 kHz stereo AudioSpecificConfig, then a raw frame.
export const AAC_CONFIG = Uint8Array.from([0xaf, 0x00, 0x12, 0x10]);
export const AAC_FRAME = Uint8Array.from([0xaf, 0x01, 0x21, 0x00, 0x49, 0x90]);
// Enhanced RTMP: ExHeader | keyframe | SequenceStart, FourCC "hvc1", a (truncated) hvcC.
export const HEVC_CONFIG = Uint8Array.from([0x90, 0x68, 0x76, 0x63, 0x31, 0x01, 0x01, 0x60]);
// Enhanced RTMP AV1 sequence start, FourCC "av01".
export const AV1_CONFIG = Uint8Array.from([0x90, 0x61, 0x76, 0x30, 0x31, 0x81, 0x08, 0x0c, 0x00]);

/** Sends the usual start of a publish: sequence headers, then a keyframe and a frame of audio. */
export function startPublish(s: PublishSession, t = 0) {
  s.metadata({ width: 320, height: 240, videocodecid: 7, audiocodecid: 10 });
  s.video(t, AVC_CONFIG);
  s.audio(t, AAC_CONFIG);
  s.video(t, KEYFRAME);
  s.audio(t + 10, AAC_FRAME);
}
