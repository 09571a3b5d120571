/**
 * MPEG-TS muxer for HLS (ISO/IEC 13818-1; RFC 8216 §3.2): one program, a video PID and/or an
 * audio PID, PAT/PMT at the start of every segment, one PES per access unit, PCR on the video PID
 * (on the audio PID when there is no video). Pure: frames in, 188-byte packets out, at once — it
 * never holds more than the access unit being written.
 *
 * Time: frames carry milliseconds (FLV/RTMP); they become 90 kHz ticks mod 2^33 in
 * `timestamp.ts`, once, here at the edge. PCR = DTS of the frame carrying it (27 MHz extension 0).
 */
import type { AudioCodec, AudioCodecName, VideoCodec, VideoCodecName } from './codec/codec';
import { createAudioCodec, createVideoCodec } from './codec/registry';
import {
  AUDIO_PID,
  AUDIO_STREAM_ID,
  DEFAULT_MAX_FRAME_SIZE,
  PAT_PID,
  PMT_PID,
  TS_PACKET_SIZE,
  VIDEO_PID,
  VIDEO_STREAM_ID,
} from './constants';
import { HlsFormatError, HlsUsageError } from './errors';
import { checkMs, msToTicks } from './timestamp';
import { packetize } from './ts/packetizer';
import { pesHeader } from './ts/pes';
import { type PmtStream, patSection, pmtSection, psiPacket } from './ts/psi';

/** Options of {@link TsMuxer}. At least one track. */
export interface TsMuxerOptions {
  /** The video track's codec; none when omitted. */
  video?: VideoCodecName | undefined;
  /** The audio track's codec; none when omitted. */
  audio?: AudioCodecName | undefined;
  /** Largest frame payload accepted, in bytes. Default {@link DEFAULT_MAX_FRAME_SIZE} (8 MiB). */
  maxFrameSize?: number;
}

/** One video access unit as FLV carries it. */
export interface VideoFrame {
  /** Decoding time in ms (any finite number; a 32-bit FLV clock may wrap). */
  dts: number;
  /** Composition time offset (PTS − DTS) in ms; default 0. */
  cts?: number;
  /** A key frame (FLV frame type 1): a random access point. */
  keyframe: boolean;
  /** Length-prefixed NAL units (the AVCC sample format). */
  data: Uint8Array;
}

/** One audio frame as FLV carries it (raw AAC, or an MP3 frame). */
export interface AudioFrame {
  /** Presentation time in ms. */
  pts: number;
  data: Uint8Array;
}

/** MPEG-TS muxer; see the module comment. */
export class TsMuxer {
  readonly #video: VideoCodec | undefined;
  readonly #audio: AudioCodec | undefined;
  readonly #maxFrameSize: number;
  readonly #pat: Uint8Array;
  readonly #pmt: Uint8Array;
  readonly #counters = new Map<number, number>();
  #discontinuityPending = false;

  constructor(options: TsMuxerOptions) {
    const maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    if (!Number.isSafeInteger(maxFrameSize) || maxFrameSize < 1) {
      throw new HlsUsageError('ERR_HLS_INVALID_OPTION', `maxFrameSize must be a positive integer, got ${maxFrameSize}`);
    }
    if (options.video === undefined && options.audio === undefined) {
      throw new HlsUsageError('ERR_HLS_INVALID_OPTION', 'a muxer needs a video or an audio track');
    }
    this.#maxFrameSize = maxFrameSize;
    this.#video = options.video === undefined ? undefined : createVideoCodec(options.video);
    this.#audio = options.audio === undefined ? undefined : createAudioCodec(options.audio);
    const streams: PmtStream[] = [];
    if (this.#video) streams.push({ streamType: this.#video.streamType, pid: VIDEO_PID });
    if (this.#audio) streams.push({ streamType: this.#audio.streamType, pid: AUDIO_PID });
    this.#pat = patSection();
    this.#pmt = pmtSection(this.pcrPid, streams);
  }

  /** The PID carrying the PCR: video's, or audio's for an audio-only stream. */
  get pcrPid(): number {
    return this.#video ? VIDEO_PID : AUDIO_PID;
  }

  get hasVideo(): boolean {
    return this.#video !== undefined;
  }

  get hasAudio(): boolean {
    return this.#audio !== undefined;
  }

  /** Whether the tracks that need a configuration have one. */
  get ready(): boolean {
    return (this.#video?.configured ?? true) && (!this.#audio?.needsConfig || this.#audio.configured);
  }

  /** Sets (or replaces) the AVCDecoderConfigurationRecord; its SPS/PPS go before later IDR frames. */
  setVideoConfig(record: Uint8Array): void {
    if (!this.#video) throw new HlsUsageError('ERR_HLS_NO_SUCH_TRACK', 'this muxer has no video track');
    this.#video.configure(record);
  }

  /** Sets (or replaces) the AudioSpecificConfig of an AAC track. */
  setAudioConfig(config: Uint8Array): void {
    if (!this.#audio) throw new HlsUsageError('ERR_HLS_NO_SUCH_TRACK', 'this muxer has no audio track');
    this.#audio.configure(config);
  }

  /** PAT + PMT (two packets): what every segment starts with. */
  segmentStart(): Uint8Array {
    const out = new Uint8Array(2 * TS_PACKET_SIZE);
    out.set(psiPacket(PAT_PID, this.#next(PAT_PID), this.#pat), 0);
    out.set(psiPacket(PMT_PID, this.#next(PMT_PID), this.#pmt), TS_PACKET_SIZE);
    return out;
  }

  /**
   * Sets discontinuity_indicator on the next packet carrying a PCR: a new time base starts there
   * (a publisher reconnected). Continuity counters still continue.
   */
  markDiscontinuity(): void {
    this.#discontinuityPending = true;
  }

  /** One video access unit → its packets (one PES, PCR and random_access_indicator as due). */
  writeVideo(frame: VideoFrame): Uint8Array {
    const codec = this.#video;
    if (!codec) throw new HlsUsageError('ERR_HLS_NO_SUCH_TRACK', 'this muxer has no video track');
    if (!codec.configured) throw new HlsUsageError('ERR_HLS_NOT_CONFIGURED', 'video frame before setVideoConfig');
    const dtsMs = checkMs(frame.dts, 'dts');
    const dts = msToTicks(dtsMs);
    const pts = msToTicks(dtsMs + checkMs(frame.cts ?? 0, 'cts'));
    this.#checkSize(frame.data);
    const es = codec.accessUnit(frame.data, frame.keyframe === true);
    return this.#pes(VIDEO_PID, VIDEO_STREAM_ID, es, pts, dts, frame.keyframe === true);
  }

  /** One audio frame → its packets (one PES; random_access_indicator set, PCR when audio-only). */
  writeAudio(frame: AudioFrame): Uint8Array {
    const codec = this.#audio;
    if (!codec) throw new HlsUsageError('ERR_HLS_NO_SUCH_TRACK', 'this muxer has no audio track');
    if (!codec.configured) throw new HlsUsageError('ERR_HLS_NOT_CONFIGURED', 'audio frame before setAudioConfig');
    const pts = msToTicks(checkMs(frame.pts, 'pts'));
    this.#checkSize(frame.data);
    return this.#pes(AUDIO_PID, AUDIO_STREAM_ID, codec.frame(frame.data), pts, undefined, true);
  }

  #checkSize(data: unknown): void {
    if (!(data instanceof Uint8Array)) {
      throw new HlsUsageError('ERR_HLS_INVALID_ARGUMENT', 'frame data must be a Uint8Array');
    }
    if (data.length === 0) throw new HlsFormatError('ERR_HLS_EMPTY_FRAME', 'a frame has no bytes');
    if (data.length > this.#maxFrameSize) {
      throw new HlsFormatError('ERR_HLS_FRAME_TOO_LARGE', `${data.length} bytes > maxFrameSize ${this.#maxFrameSize}`, {
        details: { size: data.length, maxFrameSize: this.#maxFrameSize },
      });
    }
  }

  #pes(pid: number, streamId: number, es: Uint8Array[], pts: number, dts: number | undefined, rai: boolean) {
    let length = 0;
    for (const p of es) length += p.length;
    const header = pesHeader(streamId, pts, dts, length, pid === VIDEO_PID);
    const carriesPcr = pid === this.pcrPid;
    const discontinuity = carriesPcr && this.#discontinuityPending;
    if (carriesPcr) this.#discontinuityPending = false;
    const { packets, nextCounter } = packetize(pid, this.#counters.get(pid) ?? 0, [header, ...es], {
      pcr: carriesPcr ? (dts ?? pts) : undefined,
      randomAccess: rai,
      discontinuity,
    });
    this.#counters.set(pid, nextCounter);
    return packets;
  }

  #next(pid: number): number {
    const cc = this.#counters.get(pid) ?? 0;
    this.#counters.set(pid, (cc + 1) & 0x0f);
    return cc;
  }
}
