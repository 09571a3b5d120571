/**
 * A publisher in the test process: @org/rtmp's client sending an FLV clip's tags at their own
 * pace, looped with growing timestamps, and noting when each keyframe left (on loopback, when the
 * server received it). What the server writes as `EXT-X-PROGRAM-DATE-TIME` is checked against
 * these times.
 */
import type { FlvReadTag } from '@org/flv';
import { RtmpClient } from '@org/rtmp';

const TICK_MS = 5;

function isSequenceHeader(t: FlvReadTag): boolean {
  // AVC/HEVC packet type 0 (video) and AAC packet type 0 (audio) are the decoder configurations.
  if (t.type === 9) return (t.payload[0] as number) >> 4 === 1 && t.payload[1] === 0;
  return t.type === 8 && (t.payload[0] as number) >> 4 === 10 && t.payload[1] === 0;
}

function isKeyframe(t: FlvReadTag): boolean {
  return t.type === 9 && (t.payload[0] as number) >> 4 === 1 && t.payload[1] === 1;
}

export class PacedPublisher {
  /** Wall-clock times (ms) at which keyframes were sent, oldest first. */
  readonly keyframesSentAt: number[] = [];
  private readonly media: FlvReadTag[];
  private readonly loopMs: number;
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private next = 0;
  private loop = 0;
  private closed = false;

  private constructor(
    private readonly client: RtmpClient,
    tags: readonly FlvReadTag[],
  ) {
    this.media = tags.filter((t) => (t.type === 8 || t.type === 9) && !isSequenceHeader(t));
    const last = this.media.at(-1)?.timestamp ?? 0;
    this.loopMs = last + 40;
    client.on('close', () => this.halt());
  }

  /** Connects, publishes `name` under `app` and starts sending in real time. */
  static async start(port: number, app: string, name: string, tags: readonly FlvReadTag[]): Promise<PacedPublisher> {
    const client = await RtmpClient.connect({ host: '127.0.0.1', port, app });
    await client.publish(name);
    const p = new PacedPublisher(client, tags);
    for (const t of tags) {
      if (!isSequenceHeader(t)) continue;
      if (t.type === 9) client.sendVideo(0, t.payload);
      else client.sendAudio(0, t.payload);
    }
    p.startedAt = Date.now();
    p.timer = setInterval(() => p.tick(), TICK_MS);
    p.tick();
    return p;
  }

  /** True once the server closed the connection or {@link stop} was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Unpublishes and closes, as ffmpeg does at its end. */
  async stop(): Promise<void> {
    this.halt();
    await this.client.close();
  }

  private halt(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const elapsed = Date.now() - this.startedAt;
    while (!this.closed) {
      const t = this.media[this.next] as FlvReadTag;
      const ts = t.timestamp + this.loop * this.loopMs;
      if (ts > elapsed) return;
      if (isKeyframe(t)) this.keyframesSentAt.push(Date.now());
      if (t.type === 9) this.client.sendVideo(ts, t.payload);
      else this.client.sendAudio(ts, t.payload);
      if (++this.next === this.media.length) {
        this.next = 0;
        this.loop++;
      }
    }
  }
}
