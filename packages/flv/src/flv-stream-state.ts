/**
 * What a fresh FLV stream needs to start decoding mid-broadcast: the latest metadata and decoder
 * configuration (AVC/HEVC/AV1/VP sequence headers, AAC/Opus/FLAC sequence headers), kept as tags
 * pass by. A restarted FFmpeg or a new consumer gets header + metadata + sequence headers
 * ({@link FlvStreamState.primer}), then live tags through a {@link KeyframeGate} that opens on the
 * next video keyframe.
 * Specs: Adobe FLV/F4V 10.1 §E.4.2.2 / §E.4.3.2 (AAC and AVC sequence headers must precede raw
 * data); Enhanced RTMP v1/v2 (SequenceStart, MultichannelConfig, Metadata packet types).
 */
import type { AmfValue } from '@org/rtmp';
import { parseAudioTagHeader } from './codec/audio-tag';
import { type AudioCodecInfo, inspectAudioTag, inspectVideoTag, type VideoCodecInfo } from './codec/inspect';
import { parseVideoTagHeader } from './codec/video-tag';
import { TagType } from './constants';
import { type FlvError, isFlvError } from './errors';
import { type FlvHeaderFlags, FlvMuxer } from './flv-muxer';
import { decodeScriptData, isOnMetaData, metadataTag, stripSetDataFrame } from './script-data';
import { type FlvTag, isEssentialRole, type TagRole, tagRole } from './tag';

/** Key of a configuration tag: track id and packet type (sequence start vs. multichannel / HDR). */
function configKey(tag: FlvTag): string {
  const p = tag.payload;
  const b0 = p[0]!;
  const enhanced = tag.type === TagType.Video ? (b0 & 0x80) !== 0 : b0 >>> 4 === 9;
  if (!enhanced) return '0:0';
  try {
    const h = tag.type === TagType.Video ? parseVideoTagHeader(p) : parseAudioTagHeader(p);
    return `${h.multitrack?.trackId ?? 0}:${h.packetType}`;
  } catch {
    return '0:0'; // tagRole() already parsed this header successfully; unreachable in practice
  }
}

/**
 * The tag with a payload of its own when it is a view into a larger buffer. Kept tags live as
 * long as the publish, and a live payload is usually a view into a socket read (up to 64 KiB) or
 * a chunk decoder slab (256 KiB): keeping the view would keep that whole buffer alive.
 */
function ownTag(tag: FlvTag): FlvTag {
  const p = tag.payload;
  return p.byteLength === p.buffer.byteLength ? tag : { ...tag, payload: new Uint8Array(p) };
}

/** Options of {@link FlvStreamState.primer}. */
export interface PrimerOptions {
  /** Timestamp of the primer tags. Default 0. */
  timestamp?: number;
  /** Header flags. Default {@link FlvStreamState.headerFlags}. */
  flags?: FlvHeaderFlags;
  /** Muxer to encode with. Default: a new one. */
  muxer?: FlvMuxer;
}

/**
 * Caches metadata and sequence headers of one published stream and summarises its codecs.
 * Feed every tag to {@link observe} (or metadata objects to {@link setMetadata}).
 */
export class FlvStreamState {
  private meta: FlvTag | undefined;
  private readonly videoConfigs = new Map<string, FlvTag>();
  private readonly audioConfigs = new Map<string, FlvTag>();
  private videoInfo: VideoCodecInfo | undefined;
  private audioInfo: AudioCodecInfo | undefined;
  private sawVideo = false;
  private sawAudio = false;
  private metaVideo = false;
  private metaAudio = false;
  private lastError: FlvError | undefined;

  /** The latest onMetaData tag (timestamp as observed). */
  get metadata(): FlvTag | undefined {
    return this.meta;
  }

  /** The latest video sequence header of the first track, if any. */
  get videoConfig(): FlvTag | undefined {
    return this.videoConfigs.get('0:0');
  }

  /** The latest audio sequence header of the first track, if any. */
  get audioConfig(): FlvTag | undefined {
    return this.audioConfigs.get('0:0');
  }

  /** Video codec summary (size, profile, level once a sequence header was seen). */
  get videoCodec(): VideoCodecInfo | undefined {
    return this.videoInfo;
  }

  /** Audio codec summary (rate, channels once a sequence header was seen). */
  get audioCodec(): AudioCodecInfo | undefined {
    return this.audioInfo;
  }

  /** The last error met while inspecting a tag's codec data (the tag itself was still kept). */
  get codecError(): FlvError | undefined {
    return this.lastError;
  }

  /** True once video was seen (a video tag, or videocodecid in onMetaData). */
  get hasVideo(): boolean {
    return this.sawVideo || this.metaVideo;
  }

  /** True once audio was seen (an audio tag, or audiocodecid in onMetaData). */
  get hasAudio(): boolean {
    return this.sawAudio || this.metaAudio;
  }

  /** FLV header flags announcing what the stream carries. */
  headerFlags(): FlvHeaderFlags {
    return { audio: this.hasAudio, video: this.hasVideo };
  }

  private inspect(tag: FlvTag): void {
    try {
      if (tag.type === TagType.Video) this.videoInfo = inspectVideoTag(tag.payload);
      else this.audioInfo = inspectAudioTag(tag.payload);
    } catch (err) {
      if (!isFlvError(err)) throw err;
      this.lastError = err;
    }
  }

  /**
   * Records a tag passing by: keeps metadata and sequence headers, updates codec summaries.
   * Never throws on malformed bytes (see {@link codecError}).
   * @returns the tag's role
   */
  observe(tag: FlvTag): TagRole {
    const role = tagRole(tag);
    if (tag.type === TagType.Script) {
      if (isOnMetaData(tag.payload))
        this.keepMetadata({ ...tag, timestamp: 0, payload: stripSetDataFrame(tag.payload) });
      return role;
    }
    if (tag.type === TagType.Video) {
      this.sawVideo = true;
      if (role === 'video-config') {
        this.videoConfigs.set(configKey(tag), ownTag(tag));
        this.inspect(tag);
      } else if (this.videoInfo === undefined && role !== 'malformed') {
        this.inspect(tag); // legacy codecs without sequence headers (VP6, H.263) name themselves here
      }
    } else if (tag.type === TagType.Audio) {
      this.sawAudio = true;
      if (role === 'audio-config') {
        this.audioConfigs.set(configKey(tag), ownTag(tag));
        this.inspect(tag);
      } else if (this.audioInfo === undefined && role !== 'malformed') {
        this.inspect(tag);
      }
    }
    return role;
  }

  private keepMetadata(tag: FlvTag): void {
    this.meta = ownTag(tag);
    try {
      const { value } = decodeScriptData(tag.payload);
      const obj = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
      this.metaVideo = 'videocodecid' in obj;
      this.metaAudio = 'audiocodecid' in obj;
    } catch (err) {
      if (!isFlvError(err)) throw err;
      this.lastError = err;
    }
  }

  /** Records metadata given as an object (e.g. an RTMP session's `metadata` event). */
  setMetadata(metadata: { readonly [key: string]: AmfValue }): void {
    this.keepMetadata(metadataTag(metadata));
  }

  /**
   * What a new stream starts with: metadata (at 0, as FFmpeg requires), then video and audio
   * configuration at `timestamp`.
   */
  primerTags(timestamp = 0): FlvTag[] {
    const tags: FlvTag[] = [];
    if (this.meta) tags.push({ ...this.meta, timestamp: 0 });
    for (const t of this.videoConfigs.values()) tags.push({ ...t, timestamp });
    for (const t of this.audioConfigs.values()) tags.push({ ...t, timestamp });
    return tags;
  }

  /** Buffers of a new FLV stream's start: the file header, then {@link primerTags}. */
  primer(options: PrimerOptions = {}): Uint8Array[] {
    const muxer = options.muxer ?? new FlvMuxer();
    return [muxer.header(options.flags ?? this.headerFlags()), ...muxer.tags(this.primerTags(options.timestamp))];
  }

  /** A gate for live tags after a primer: closed until the next video keyframe (open for audio-only). */
  createGate(): KeyframeGate {
    return new KeyframeGate({ waitForVideoKeyframe: this.hasVideo });
  }

  /** Forgets everything (the publisher left). */
  reset(): void {
    this.meta = undefined;
    this.videoConfigs.clear();
    this.audioConfigs.clear();
    this.videoInfo = undefined;
    this.audioInfo = undefined;
    this.sawVideo = false;
    this.sawAudio = false;
    this.metaVideo = false;
    this.metaAudio = false;
    this.lastError = undefined;
  }
}

/** Options of {@link KeyframeGate}. */
export interface KeyframeGateOptions {
  /** Hold media back until a video keyframe. False for audio-only streams (the gate starts open). */
  waitForVideoKeyframe: boolean;
}

/**
 * Decides which live tags a freshly primed stream may receive: metadata and decoder configuration
 * always; media only from the first video keyframe on (audio before it is held back too, so both
 * start together). Once open it stays open.
 */
export class KeyframeGate {
  private isOpen: boolean;

  constructor(options: KeyframeGateOptions) {
    this.isOpen = !options.waitForVideoKeyframe;
  }

  /** True once normal flow has resumed. */
  get open(): boolean {
    return this.isOpen;
  }

  /** True when `tag` should be written; a video keyframe opens the gate. */
  admit(tag: FlvTag): boolean {
    if (this.isOpen) return true;
    const role = tagRole(tag);
    if (isEssentialRole(role)) return true;
    if (role === 'video-keyframe') {
      this.isOpen = true;
      return true;
    }
    return false;
  }
}
