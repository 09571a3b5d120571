/**
 * The native segment producer (`--packager native`): @org/hls's keyframe segmenter and MPEG-TS
 * muxer in the server's process, fed the publisher's FLV tags directly. No child process, no
 * pipe, no second copy of the media: a frame becomes TS packets when it arrives, a segment is
 * cut at the first keyframe at or after the target duration and listed as soon as its file is
 * on disk (segment-files.ts).
 *
 * Each publisher is one segmenter run: its tracks and codec configuration come from the FLV
 * state at its first media tag, its numbering goes on from the last segment reported, and its
 * first segment after an earlier publisher's is a discontinuity (new timeline, new continuity
 * counters). A frame the muxer refuses (too large, malformed NAL units, no configuration yet)
 * is dropped and counted, never fatal: the next keyframe starts clean.
 */
import {
  AudioPacketType,
  type FlvStreamState,
  type FlvTag,
  isFlvError,
  parseAudioTagHeader,
  parseVideoTagHeader,
  type TagRole,
  TagType,
  VideoPacketType,
} from '@org/flv';
import {
  type AudioCodecName,
  HlsSegmenter,
  isHlsError,
  type SegmenterEvent,
  type SegmentInfo,
  type VideoCodecName,
} from '@org/hls';
import type { SegmentReport } from '../hls/live-playlist';
import { segmentName } from '../hls/names';
import { LogLimiter } from '../log-limiter';
import type { Logger } from '../logger';
import { SegmentFiles } from './segment-files';
import type { SegmentProducer, SegmentProducerEvents } from './segment-producer';

export interface NativeProducerOptions {
  /** The stream's directory. */
  dir: string;
  /** Target segment duration, seconds. */
  hlsTime: number;
  /** Bytes of finished segments allowed to wait for the disk (see {@link SegmentFiles}). */
  maxQueuedBytes: number;
  events: SegmentProducerEvents;
  logger: Logger;
  /** Clock for arrival times (ms since the epoch). Default `Date.now`. */
  now?: () => number;
}

/** One publisher's segmenter and what it has made so far. */
interface Run {
  readonly segmenter: HlsSegmenter;
  readonly video: boolean;
  readonly audio: boolean;
  /** The segment being muxed: its chunks and the arrival of its first frame. */
  chunks: Uint8Array[];
  bytes: number;
  startedAt: number;
}

/** Warnings about dropped frames and failed writes: one line per kind and 10 s. */
const LOG_BURST = 1;

const VIDEO_CODECS: ReadonlySet<string> = new Set<VideoCodecName>(['h264']);
const AUDIO_CODECS: ReadonlySet<string> = new Set<AudioCodecName>(['aac', 'mp3']);

export class NativeProducer implements SegmentProducer {
  private readonly o: NativeProducerOptions;
  private readonly now: () => number;
  private readonly files: SegmentFiles;
  private readonly log = new LogLimiter(LOG_BURST);
  private run: Run | undefined;
  /** Whether the stream's directory was made (false: the stream reports why, nothing is written). */
  private dirMade: Promise<boolean> = Promise.resolve(true);
  private nextNumber = 0;
  private dropCount = 0;
  private writeErrorCount = 0;

  constructor(options: NativeProducerOptions) {
    this.o = options;
    this.now = options.now ?? Date.now;
    this.files = new SegmentFiles({
      dir: options.dir,
      maxQueuedBytes: options.maxQueuedBytes,
      failed: (name, err) => this.writeFailed(name, err),
    });
  }

  get restarts(): number {
    return 0;
  }

  get droppedFrames(): number {
    return this.dropCount;
  }

  get pid(): number | undefined {
    return undefined;
  }

  get writeErrors(): number {
    return this.writeErrorCount;
  }

  open(state: FlvStreamState, ready: Promise<void>): void {
    this.finishRun();
    this.dirMade = ready.then(
      () => true,
      () => false,
    );
    const video = state.hasVideo;
    const audio = state.hasAudio;
    const videoCodec = state.videoCodec?.codec ?? 'h264';
    const audioCodec = state.audioCodec?.codec ?? 'aac';
    if ((video && !VIDEO_CODECS.has(videoCodec)) || (audio && !AUDIO_CODECS.has(audioCodec))) {
      this.o.events.fatal?.(`the native packager cannot carry ${video ? videoCodec : ''} ${audio ? audioCodec : ''}`);
      return;
    }
    if (!video && !audio) return; // no media yet to know the tracks by: the next open decides
    const segmenter = new HlsSegmenter({
      ...(video ? { video: videoCodec as VideoCodecName } : {}),
      ...(audio ? { audio: audioCodec as AudioCodecName } : {}),
      targetDuration: this.o.hlsTime,
      firstSequence: this.nextNumber,
    });
    this.run = { segmenter, video, audio, chunks: [], bytes: 0, startedAt: this.now() };
    // A new timeline after an earlier publisher's segments: its first segment says so.
    if (this.nextNumber > 0) segmenter.cut({ discontinuity: true });
    for (const tag of state.primerTags(0))
      this.write(tag, tag.type === TagType.Video ? 'video-config' : 'audio-config');
  }

  write(tag: FlvTag, role: TagRole): void {
    const run = this.run;
    if (run === undefined || tag.type === TagType.Script) return;
    try {
      this.handle(run, this.mux(run, tag, role));
    } catch (err) {
      if (!isHlsError(err) && !isFlvError(err)) throw err;
      this.dropCount++;
      this.o.events.drop?.(1);
      const fields = { code: (err as { code?: string }).code, err: (err as Error).message, dropped: this.dropCount };
      this.log.log(this.o.logger, 'warn', 'drop', fields, 'native packager dropped a frame');
    }
  }

  /** The segmenter's events for one tag (none for tags of no track of this run). */
  private mux(run: Run, tag: FlvTag, role: TagRole): SegmenterEvent[] {
    const p = tag.payload;
    if (tag.type === TagType.Video) {
      if (!run.video || role === 'video-command' || role === 'video-end' || role === 'malformed') return [];
      const h = parseVideoTagHeader(p);
      const body = p.subarray(h.bodyOffset, h.bodyEnd);
      if (h.packetType === VideoPacketType.SequenceStart) {
        run.segmenter.setVideoConfig(body);
        return [];
      }
      if (h.packetType !== VideoPacketType.CodedFrames && h.packetType !== VideoPacketType.CodedFramesX) return [];
      const keyframe = role === 'video-keyframe';
      return run.segmenter.writeVideo({ dts: tag.timestamp, cts: h.compositionTime, keyframe, data: body });
    }
    if (!run.audio || role === 'audio-end' || role === 'malformed') return [];
    const h = parseAudioTagHeader(p);
    const body = p.subarray(h.bodyOffset);
    if (h.packetType === AudioPacketType.SequenceStart) {
      run.segmenter.setAudioConfig(body);
      return [];
    }
    if (h.packetType !== AudioPacketType.CodedFrames) return [];
    return run.segmenter.writeAudio({ pts: tag.timestamp, data: body });
  }

  private handle(run: Run, events: readonly SegmenterEvent[]): void {
    for (const e of events) {
      if (e.type === 'segment-start') {
        run.chunks = [];
        run.bytes = 0;
        run.startedAt = this.now();
      } else if (e.type === 'data') {
        run.chunks.push(e.data);
        run.bytes += e.data.length;
      } else {
        this.finished(run, e.segment);
      }
    }
  }

  /** A segment is complete in memory: onto disk, then reported. */
  private finished(run: Run, segment: SegmentInfo): void {
    const name = segmentName(segment.sequence);
    const report: SegmentReport = {
      name,
      duration: segment.duration,
      discontinuity: segment.discontinuity,
      programDateTime: run.startedAt,
    };
    this.nextNumber = segment.sequence + 1;
    const { chunks, bytes } = run;
    run.chunks = [];
    run.bytes = 0;
    // The directory exists before the first segment is written (a new stream empties it first).
    void this.dirMade.then((made) => {
      if (made) this.files.add(name, chunks, bytes, () => this.o.events.segment(report));
    });
  }

  private writeFailed(name: string, err: unknown): void {
    this.writeErrorCount++;
    this.o.events.writeErrors?.(1);
    const fields = { segment: name, err, writeErrors: this.writeErrorCount };
    const msg = err === undefined ? 'segment dropped: the disk is behind' : 'cannot write a segment';
    this.log.log(this.o.logger, 'warn', 'write', fields, msg);
  }

  /** Ends the current run's open segment (it is written and reported). */
  private finishRun(): void {
    const run = this.run;
    this.run = undefined;
    if (run !== undefined) this.handle(run, run.segmenter.end());
  }

  async close(): Promise<void> {
    this.finishRun();
    await this.dirMade;
    await this.files.idle();
  }

  killNow(): void {
    this.run = undefined;
  }
}
