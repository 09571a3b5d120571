/**
 * A bounded FIFO of FLV tags with a drop-until-keyframe policy, for a destination that cannot keep
 * up (FFmpeg stalled, a slow consumer). Pure data structure: no I/O, no timers.
 *
 * Policy, for every pushed tag:
 * 1. Essential tags (metadata, decoder configuration, end of sequence) are always queued. When
 *    they do not fit, queued frames are evicted from the newest backwards until they do (evicting
 *    starts dropping, see 3); if only essential tags are queued, older ones of the same role are
 *    superseded. If it still does not fit, ERR_FLV_QUEUE_OVERFLOW (maxQueuedBytes is too small).
 * 2. A frame that fits is queued; one that does not is dropped and dropping starts.
 * 3. While dropping, frames are dropped until a video keyframe arrives that fits (or, in a stream
 *    that has shown no video, any audio frame that fits): decoding cannot resume on a frame that
 *    references dropped ones.
 * So `bytes` never exceeds `maxQueuedBytes`.
 */
import { FlvUsageError } from './errors';
import { tagWireSize } from './flv-muxer';
import { type FlvTag, isEssentialRole, type TagRole, tagRole } from './tag';

/** Options of {@link FlvDropQueue}. */
export interface FlvDropQueueOptions {
  /**
   * Upper bound of queued wire bytes (11 + payload + 4 per tag). Default
   * {@link DEFAULT_MAX_QUEUED_BYTES}; at least {@link MIN_MAX_QUEUED_BYTES}.
   */
  maxQueuedBytes?: number;
  /** Called for every dropped frame (on arrival or evicted). */
  onDrop?: (tag: FlvTag, role: TagRole) => void;
}

/** 8 MiB: about 25 s of a 2.5 Mb/s stream, longer than any FFmpeg restart we wait for. */
export const DEFAULT_MAX_QUEUED_BYTES = 8 * 1024 * 1024;
/** 64 KiB: room for metadata and sequence headers (a few hundred bytes each) with margin. */
export const MIN_MAX_QUEUED_BYTES = 64 * 1024;

interface Entry {
  tag: FlvTag;
  size: number;
  role: TagRole;
  essential: boolean;
}

/** Bounded tag queue that drops frames until the next keyframe when full. */
export class FlvDropQueue {
  /** The configured limit. */
  readonly maxQueuedBytes: number;
  private readonly onDrop: ((tag: FlvTag, role: TagRole) => void) | undefined;
  /** Consumed slots (before `head`) are undefined. */
  private entries: (Entry | undefined)[] = [];
  private head = 0;
  private queuedBytes = 0;
  private isDropping = false;
  private sawVideo = false;
  private dropCount = 0;
  private dropBytes = 0;

  /** @throws FlvUsageError ERR_FLV_INVALID_OPTION */
  constructor(options: FlvDropQueueOptions = {}) {
    const max = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    if (!Number.isSafeInteger(max) || max < MIN_MAX_QUEUED_BYTES) {
      throw new FlvUsageError(
        'ERR_FLV_INVALID_OPTION',
        `maxQueuedBytes must be an integer ≥ ${MIN_MAX_QUEUED_BYTES}, got ${max}`,
      );
    }
    this.maxQueuedBytes = max;
    this.onDrop = options.onDrop;
  }

  /** Tags queued. */
  get length(): number {
    return this.entries.length - this.head;
  }

  /** Wire bytes queued (≤ maxQueuedBytes). */
  get bytes(): number {
    return this.queuedBytes;
  }

  /** True while frames are dropped until the next keyframe. */
  get dropping(): boolean {
    return this.isDropping;
  }

  /** Frames dropped so far. */
  get droppedFrames(): number {
    return this.dropCount;
  }

  /** Wire bytes of the frames dropped so far. */
  get droppedBytes(): number {
    return this.dropBytes;
  }

  private drop(tag: FlvTag, size: number, role: TagRole): void {
    this.dropCount++;
    this.dropBytes += size;
    this.onDrop?.(tag, role);
  }

  private append(entry: Entry): void {
    this.entries.push(entry);
    this.queuedBytes += entry.size;
  }

  /**
   * Offers a tag; see the policy in the module comment.
   * @throws FlvUsageError ERR_FLV_QUEUE_OVERFLOW when essential tags alone exceed the limit
   */
  push(tag: FlvTag): 'queued' | 'dropped' {
    const role = tagRole(tag);
    const size = tagWireSize(tag);
    if (role.startsWith('video')) this.sawVideo = true;
    const essential = isEssentialRole(role);
    const entry: Entry = { tag, size, role, essential };
    const fits = this.queuedBytes + size <= this.maxQueuedBytes;
    if (essential) {
      if (!fits) this.makeRoom(size, role);
      this.append(entry);
      return 'queued';
    }
    if (this.isDropping) {
      const resumes = role === 'video-keyframe' || (!this.sawVideo && role === 'audio-frame');
      if (!resumes || !fits) {
        this.drop(tag, size, role);
        return 'dropped';
      }
      this.isDropping = false;
    }
    if (!fits) {
      this.isDropping = true;
      this.drop(tag, size, role);
      return 'dropped';
    }
    this.append(entry);
    return 'queued';
  }

  /** Evicts frames newest first, then superseded essential tags, until `size` more bytes fit. */
  private makeRoom(size: number, role: TagRole): void {
    const keep: (Entry | undefined)[] = this.entries.slice(this.head);
    let bytes = this.queuedBytes;
    for (let i = keep.length - 1; i >= 0 && bytes + size > this.maxQueuedBytes; i--) {
      const e = keep[i]!;
      if (e.essential) continue;
      keep[i] = undefined;
      bytes -= e.size;
      this.isDropping = true;
      this.drop(e.tag, e.size, e.role);
    }
    // Only essential tags left: an older tag of the same role is superseded by the new one.
    for (let i = 0; i < keep.length && bytes + size > this.maxQueuedBytes; i++) {
      const e = keep[i];
      if (e === undefined || e.role !== role) continue;
      keep[i] = undefined;
      bytes -= e.size;
    }
    if (bytes + size > this.maxQueuedBytes) {
      throw new FlvUsageError(
        'ERR_FLV_QUEUE_OVERFLOW',
        `a ${role} tag of ${size} bytes does not fit in maxQueuedBytes ${this.maxQueuedBytes} beside other essential tags`,
      );
    }
    this.entries = keep.filter((e): e is Entry => e !== undefined);
    this.head = 0;
    this.queuedBytes = bytes;
  }

  /**
   * Tells the queue about a tag that went to the destination without passing through it, so that
   * its policy still knows the stream has video (an audio frame then does not end dropping).
   */
  noteBypass(tag: FlvTag): void {
    if (!this.sawVideo && tagRole(tag).startsWith('video')) this.sawVideo = true;
  }

  /** Removes and returns the oldest tag. */
  shift(): FlvTag | undefined {
    if (this.head >= this.entries.length) return undefined;
    const entries = this.entries;
    const e = entries[this.head]!;
    this.queuedBytes -= e.size;
    // A consumed slot must not keep its tag: the payload is usually a view into a 256 KiB chunk
    // decoder slab or a socket read, and a consumed prefix of up to 1024 tags pinned ~4 MiB of
    // such buffers per stream (Node external memory grew by that per published stream).
    if (this.head + 1 === entries.length) {
      // Emptied (the usual case when the destination keeps up): start over.
      entries.length = 0;
      this.head = 0;
      return e.tag;
    }
    entries[this.head] = undefined;
    this.head++;
    // Compact once the consumed prefix dominates, keeping shift O(1) amortised.
    if (this.head >= 1024 && this.head * 2 >= entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    return e.tag;
  }

  /** Forgets every queued tag (counted neither as dropped nor written). Dropping state is kept. */
  clear(): void {
    this.entries = [];
    this.head = 0;
    this.queuedBytes = 0;
  }
}
