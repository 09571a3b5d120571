/**
 * Memory for reassembled message payloads: a bump allocator over fixed-size slabs, as Node's own
 * Buffer pool does at 8 KiB. One pool can serve many {@link ChunkDecoder}s of one thread, which
 * then share a slab instead of each keeping its own partly used one for the whole connection.
 */
import { DEFAULT_PAYLOAD_SLAB_SIZE, integerOption } from '../options';

export class PayloadSlabPool {
  /** Bytes per slab; payloads above a quarter of it get a buffer of their own. */
  readonly slabSize: number;
  private slab: Buffer | null = null;
  private offset = 0;

  /**
   * @param slabSize bytes per slab, 4..2^30 (default 256 KiB)
   * @throws RtmpUsageError ERR_RTMP_INVALID_OPTION
   */
  constructor(slabSize: number = DEFAULT_PAYLOAD_SLAB_SIZE) {
    this.slabSize = integerOption('slabSize', slabSize, DEFAULT_PAYLOAD_SLAB_SIZE, 4, 2 ** 30);
  }

  /**
   * `length` bytes of uninitialised memory (callers fill every byte before anyone reads it; that
   * saves a zero-fill pass). The returned Buffer keeps its slab alive: copy payloads kept for long.
   */
  allocate(length: number): Buffer {
    const slabSize = this.slabSize;
    if (length > slabSize >>> 2) return Buffer.allocUnsafeSlow(length);
    let slab = this.slab;
    if (slab === null || this.offset + length > slabSize) {
      slab = this.slab = Buffer.allocUnsafeSlow(slabSize);
      this.offset = 0;
    }
    const out = Buffer.from(slab.buffer, slab.byteOffset + this.offset, length);
    // Keep the next payload 8-byte aligned, like Node's pool.
    this.offset = (this.offset + length + 7) & ~7;
    return out;
  }
}
