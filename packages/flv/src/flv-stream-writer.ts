/**
 * Writes FLV into a Node `Writable` (a file, FFmpeg's stdin, a socket) with backpressure.
 *
 * `FlvStreamWriter` writes every tag at once and returns the `write()` boolean: `false` means the
 * destination is above its highWaterMark and the caller should pause its source (or drop by
 * policy) until `'drain'` — {@link FlvStreamWriter.drained} waits for it.
 * `BufferedFlvWriter` applies a policy itself: a bounded queue in front of the destination that,
 * once full, drops frames until the next video keyframe but never drops sequence headers or
 * metadata (see {@link FlvDropQueue}).
 */
import type { Writable } from 'node:stream';
import { FlvUsageError } from './errors';
import { FlvDropQueue, type FlvDropQueueOptions } from './flv-drop-queue';
import { encodeTagInto, type FlvHeaderFlags, FlvMuxer, tagWireSize } from './flv-muxer';
import type { FlvTag } from './tag';

/** Options of {@link FlvStreamWriter}. */
export interface FlvStreamWriterOptions {
  /** Muxer to encode with (share one to share its slab). Default: a new `FlvMuxer`. */
  muxer?: FlvMuxer;
}

/**
 * Writes the FLV header and tags into a Writable. The three buffers of a tag are written inside
 * `cork()`; the matching `uncork()` runs on the next tick, so all tags written in one tick reach a
 * `_writev`-capable destination (fs, net, child stdin) as one vectored write.
 */
export class FlvStreamWriter {
  /** The destination stream. */
  readonly destination: Writable;
  private readonly muxer: FlvMuxer;
  private headerDone = false;
  private corked = false;
  private bytes = 0;
  private tags = 0;

  constructor(destination: Writable, options: FlvStreamWriterOptions = {}) {
    this.destination = destination;
    this.muxer = options.muxer ?? new FlvMuxer();
  }

  /** True once {@link writeHeader} ran. */
  get headerWritten(): boolean {
    return this.headerDone;
  }

  /** Bytes handed to the destination so far. */
  get bytesWritten(): number {
    return this.bytes;
  }

  /** Tags handed to the destination so far. */
  get tagsWritten(): number {
    return this.tags;
  }

  /** True while the destination is above its highWaterMark (wait for 'drain'). */
  get needDrain(): boolean {
    return this.destination.writableNeedDrain;
  }

  private corkOnce(): void {
    if (this.corked) return;
    this.corked = true;
    this.destination.cork();
    process.nextTick(() => {
      this.corked = false;
      this.destination.uncork();
    });
  }

  /**
   * Writes the 13-byte FLV header. Must come first, once.
   * @returns the `write()` result: false = destination full
   * @throws FlvUsageError ERR_FLV_HEADER_ALREADY_WRITTEN
   */
  writeHeader(flags: FlvHeaderFlags): boolean {
    if (this.headerDone)
      throw new FlvUsageError('ERR_FLV_HEADER_ALREADY_WRITTEN', 'the FLV header was already written');
    this.headerDone = true;
    const header = this.muxer.header(flags);
    this.corkOnce();
    this.bytes += header.length;
    return this.destination.write(header);
  }

  /**
   * Writes one tag (three buffers, payload not copied; do not modify it afterwards).
   * @returns the `write()` result: false = destination full, pause or drop until 'drain'
   * @throws FlvUsageError ERR_FLV_HEADER_NOT_WRITTEN, ERR_FLV_INVALID_ARGUMENT
   */
  writeTag(tag: FlvTag): boolean {
    if (!this.headerDone) throw new FlvUsageError('ERR_FLV_HEADER_NOT_WRITTEN', 'write the FLV header first');
    const [h, p, t] = this.muxer.tag(tag);
    this.corkOnce();
    const d = this.destination;
    d.write(h);
    if (p.length > 0) d.write(p);
    const ok = d.write(t);
    this.bytes += h.length + p.length + t.length;
    this.tags++;
    return ok;
  }

  /**
   * Writes bytes that already hold `tagCount` whole encoded tags (see `encodeTagInto`), counting
   * them. `done` runs once the destination has taken the bytes (they may be reused from then on).
   * Not corked (one buffer needs no gathering): a socket or pipe with room takes the bytes during
   * the call, and `destination.writableLength` is 0 right after it.
   * @returns the `write()` result: false = destination full
   * @throws FlvUsageError ERR_FLV_HEADER_NOT_WRITTEN
   */
  writeEncoded(bytes: Uint8Array, tagCount: number, done?: (err?: Error | null) => void): boolean {
    if (!this.headerDone) throw new FlvUsageError('ERR_FLV_HEADER_NOT_WRITTEN', 'write the FLV header first');
    this.bytes += bytes.length;
    this.tags += tagCount;
    return this.destination.write(bytes, done);
  }

  /** Writes several tags; returns the last `write()` result. */
  writeTags(tags: Iterable<FlvTag>): boolean {
    let ok = !this.needDrain;
    for (const tag of tags) ok = this.writeTag(tag);
    return ok;
  }

  /**
   * Resolves when the destination can take more (at once if it is not full). Rejects when the
   * destination closes or errors first.
   */
  drained(): Promise<void> {
    const d = this.destination;
    if (d.destroyed || d.writableEnded) return Promise.reject(new Error('destination is ended or destroyed'));
    if (!d.writableNeedDrain) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        d.off('drain', onDrain);
        d.off('close', onClose);
        d.off('error', onError);
      };
      const onDrain = () => {
        cleanup();
        resolve();
      };
      const onClose = () => {
        cleanup();
        reject(new Error('destination closed before drain'));
      };
      const onError = (err: Error) => {
        cleanup();
        reject(err);
      };
      d.on('drain', onDrain);
      d.on('close', onClose);
      d.on('error', onError);
    });
  }
}

/** Options of {@link BufferedFlvWriter}. */
export interface BufferedFlvWriterOptions extends FlvDropQueueOptions, FlvStreamWriterOptions {
  /**
   * Size of the buffer {@link BufferedFlvWriter.hold} copies tags into (0: none, held tags wait in
   * the queue as they are). Copying lets the caller's payload buffers (e.g. socket reads) go at
   * once instead of staying alive, and so surviving garbage collections, for as long as tags are
   * held. The buffer is reused once the destination has taken its bytes: at once when a pipe or
   * socket with room takes them during the write (one buffer per writer), else when it calls back
   * (at most two per writer: one filling while the last batch is written). Use it only with a
   * destination that is done with a chunk by then: a socket, a pipe (a child's stdin) or a file,
   * not a PassThrough or anything that keeps chunks by reference. Default 0.
   */
  holdBufferBytes?: number;
}

/** What {@link BufferedFlvWriter.write} did with a tag. */
export type BufferedWriteResult = 'written' | 'queued' | 'dropped';

/**
 * A writer that never blocks its caller: while the destination is full, tags wait in a
 * {@link FlvDropQueue} bounded by `maxQueuedBytes`; past that, frames are dropped until the next
 * video keyframe (sequence headers and metadata are kept). Queued tags are written on 'drain'.
 * Memory held: the destination's own buffer (≈ its highWaterMark + one tag) + at most
 * `maxQueuedBytes` here.
 */
export class BufferedFlvWriter {
  private readonly writer: FlvStreamWriter;
  private readonly queue: FlvDropQueue;
  private readonly onDrain = () => this.flush();
  private closed = false;
  private readonly holdSize: number;
  /** Encoded held tags (only ever while the queue is empty, so order is kept). */
  private holdBuf: Buffer | undefined;
  private holdUsed = 0;
  private holdCount = 0;
  /** A hold buffer the destination has given back, for the next batch. */
  private spare: Buffer | undefined;
  /** Writes of each hold buffer whose callback has not run yet. */
  private readonly pendingWrites = new WeakMap<Buffer, number>();

  /** @throws FlvUsageError ERR_FLV_INVALID_OPTION (see {@link FlvDropQueue}; `holdBufferBytes`) */
  constructor(destination: Writable, options: BufferedFlvWriterOptions = {}) {
    this.queue = new FlvDropQueue(options);
    this.writer = new FlvStreamWriter(destination, options);
    const hold = options.holdBufferBytes ?? 0;
    if (!Number.isSafeInteger(hold) || hold < 0 || hold > 2 ** 30) {
      throw new FlvUsageError('ERR_FLV_INVALID_OPTION', `holdBufferBytes must be an integer in 0..2^30, got ${hold}`);
    }
    this.holdSize = hold;
    destination.on('drain', this.onDrain);
  }

  /** The underlying direct writer (counters, `needDrain`). */
  get streamWriter(): FlvStreamWriter {
    return this.writer;
  }

  /** Bytes (wire size) waiting: in the queue (never above `maxQueuedBytes`) and in the hold buffer. */
  get queuedBytes(): number {
    return this.queue.bytes + this.holdUsed;
  }

  /** Tags waiting, in the queue and in the hold buffer. */
  get queuedTags(): number {
    return this.queue.length + this.holdCount;
  }

  /** Frames dropped so far (refused on arrival or evicted from the queue). */
  get droppedFrames(): number {
    return this.queue.droppedFrames;
  }

  /** Wire bytes of the dropped frames. */
  get droppedBytes(): number {
    return this.queue.droppedBytes;
  }

  /** True while frames are being dropped until the next video keyframe. */
  get dropping(): boolean {
    return this.queue.dropping;
  }

  /** Writes the FLV header directly (it must precede every tag). */
  writeHeader(flags: FlvHeaderFlags): boolean {
    return this.writer.writeHeader(flags);
  }

  /**
   * Offers a tag. It is written at once when the destination has room and nothing waits, queued
   * when the destination is full, or dropped by the policy.
   * @throws FlvUsageError ERR_FLV_HEADER_NOT_WRITTEN, ERR_FLV_QUEUE_OVERFLOW
   */
  write(tag: FlvTag): BufferedWriteResult {
    if (!this.writer.headerWritten) throw new FlvUsageError('ERR_FLV_HEADER_NOT_WRITTEN', 'write the FLV header first');
    if (this.closed) return 'dropped';
    if (this.queue.push(tag) === 'dropped') return 'dropped';
    this.flush();
    // The tag went in last, so it has been written exactly when the queue is empty again.
    return this.queue.length === 0 ? 'written' : 'queued';
  }

  /**
   * Queues a tag without writing it, under the same drop policy as {@link write}. It goes out with
   * the next {@link flush}, {@link write} or 'drain'. For callers that batch several tags into one
   * vectored write, e.g. to wake the process reading a pipe less often; the queue's bound still
   * applies to what is held.
   * @throws FlvUsageError ERR_FLV_HEADER_NOT_WRITTEN, ERR_FLV_QUEUE_OVERFLOW
   */
  hold(tag: FlvTag): 'queued' | 'dropped' {
    if (!this.writer.headerWritten) throw new FlvUsageError('ERR_FLV_HEADER_NOT_WRITTEN', 'write the FLV header first');
    if (this.closed) return 'dropped';
    const size = tagWireSize(tag);
    // The hold buffer takes tags only while nothing waits in the queue and nothing is being
    // dropped: the queue's policy and the order of tags stay as without it.
    if (this.holdSize === 0 || this.queue.length > 0 || this.queue.dropping) return this.queue.push(tag);
    if (this.holdUsed + size > this.holdSize) this.writeHeld();
    if (size > this.holdSize || this.writer.needDrain) return this.queue.push(tag);
    let buf = this.holdBuf;
    if (buf === undefined) {
      buf = this.holdBuf = this.spare ?? Buffer.allocUnsafeSlow(this.holdSize);
      this.spare = undefined;
    }
    encodeTagInto(tag, buf, this.holdUsed);
    this.queue.noteBypass(tag);
    this.holdUsed += size;
    this.holdCount++;
    return 'queued';
  }

  /** Writes the hold buffer's tags; the buffer comes back for reuse once the destination took it. */
  private writeHeld(): void {
    const buf = this.holdBuf;
    if (buf === undefined || this.holdUsed === 0) return;
    const used = this.holdUsed;
    const count = this.holdCount;
    this.holdBuf = undefined;
    this.holdUsed = 0;
    this.holdCount = 0;
    const d = this.writer.destination;
    const pending = this.pendingWrites;
    pending.set(buf, (pending.get(buf) ?? 0) + 1);
    this.writer.writeEncoded(buf.subarray(0, used), count, () => {
      const left = (pending.get(buf) ?? 1) - 1;
      pending.set(buf, left);
      // A callback runs a tick after its write, when the buffer may be filling again or be in a
      // later write the destination has not taken yet: only when none is left is it free. Kept even
      // while a newer buffer fills, so two take turns instead of one new one per batch.
      if (left === 0 && !this.closed && this.spare === undefined && this.holdBuf !== buf) this.spare = buf;
    });
    // A pipe or socket with room took the bytes during the call: nothing is left in the Writable
    // (no earlier write either), so the buffer serves the next batch at once; one per writer.
    if (d.writableLength === 0 && !this.closed) this.spare = buf;
  }

  /** Writes queued tags while the destination has room. Runs by itself on 'drain'. */
  flush(): void {
    if (this.closed) return;
    this.writeHeld(); // held tags precede anything queued after them
    while (this.queue.length > 0 && !this.writer.needDrain) {
      const tag = this.queue.shift();
      if (tag !== undefined) this.writer.writeTag(tag);
    }
  }

  /**
   * Writes every queued tag (waiting for 'drain' as needed), then ends the destination. Resolves
   * on its 'finish'; rejects if it closes or errors first. Tags offered meanwhile are still taken.
   */
  async end(): Promise<void> {
    const d = this.writer.destination;
    while (this.queuedTags > 0 && !this.closed) {
      this.flush();
      if (this.queuedTags > 0) await this.writer.drained();
    }
    this.close();
    if (d.writableFinished) return;
    if (d.destroyed) throw new Error('destination destroyed before finishing');
    await new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        d.off('finish', onFinish);
        d.off('close', onClose);
        d.off('error', onError);
      };
      const onFinish = () => {
        cleanup();
        resolve();
      };
      const onClose = () => {
        cleanup();
        if (d.writableFinished) resolve();
        else reject(new Error('destination closed before finishing'));
      };
      const onError = (err: Error) => {
        cleanup();
        reject(err);
      };
      d.on('finish', onFinish);
      d.on('close', onClose);
      d.on('error', onError);
      d.end();
    });
  }

  /** Stops listening for 'drain' and forgets queued tags. Does not end the destination. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.writer.destination.off('drain', this.onDrain);
    this.queue.clear();
    this.holdBuf = undefined;
    this.spare = undefined;
    this.holdUsed = 0;
    this.holdCount = 0;
  }
}
