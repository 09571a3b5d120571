/**
 * The peer's half of a handshake, collected across pushes in the order it arrives: the version
 * byte and first block (C0 + C1 on the server, S0 + S1 on the client), then the second block (C2 or
 * S2). The version byte is checked as soon as it arrives. Shared by both sides, which differ only
 * in what they send back and whether they keep the second block.
 */
import { HANDSHAKE_SIZE } from '../constants';
import type { HandshakeStep } from './server-handshake';
import { checkVersion } from './version';

const EMPTY = new Uint8Array(0);

export class PeerBlocks {
  /** Version byte + first block; complete once `firstComplete`. */
  readonly first = new Uint8Array(1 + HANDSHAKE_SIZE);
  /** The second block, kept only when asked for (the client verifies S2; the server ignores C2). */
  readonly second: Uint8Array | null;
  private firstLength = 0;
  private secondLength = 0;
  private failure: Error | null = null;
  private _done = false;

  constructor(
    private readonly versionByte: 'C0' | 'S0',
    keepSecond: boolean,
  ) {
    this.second = keepSecond ? new Uint8Array(HANDSHAKE_SIZE) : null;
  }

  /** True once the second block is complete and accepted. */
  get done(): boolean {
    return this._done;
  }

  /**
   * Feeds peer bytes: `answer()` is sent once the first block is complete, `accept()` (which may
   * throw) runs once the second is. After `done`, bytes pass through as `rest`. An error thrown here
   * is thrown again by every later call.
   */
  step(bytes: Uint8Array, answer: () => Uint8Array, accept?: () => void): HandshakeStep {
    if (this.failure !== null) throw this.failure;
    if (this._done) return { output: [], done: true, rest: bytes };
    const output: Uint8Array[] = [];
    try {
      let off = 0;
      if (!this.firstComplete) {
        off = this.takeFirst(bytes);
        if (!this.firstComplete) return { output, done: false, rest: EMPTY };
        output.push(answer());
      }
      off = this.takeSecond(bytes, off);
      if (!this.secondComplete) return { output, done: false, rest: EMPTY };
      accept?.();
      this._done = true;
      return { output, done: true, rest: off === bytes.length ? EMPTY : bytes.subarray(off) };
    } catch (err) {
      this.failure = err as Error;
      throw err;
    }
  }

  get firstComplete(): boolean {
    return this.firstLength === this.first.length;
  }

  get secondComplete(): boolean {
    return this.secondLength === HANDSHAKE_SIZE;
  }

  /**
   * Takes what the first block still needs from `bytes`; returns how many bytes it consumed.
   * @throws RtmpProtocolError `ERR_RTMP_BAD_VERSION` when the version byte is not 3.
   */
  takeFirst(bytes: Uint8Array): number {
    const take = Math.min(this.first.length - this.firstLength, bytes.length);
    if (take === 0) return 0;
    if (this.firstLength === 0) checkVersion(bytes[0]!, this.versionByte);
    this.first.set(bytes.subarray(0, take), this.firstLength);
    this.firstLength += take;
    return take;
  }

  /** Takes what the second block still needs from `bytes` starting at `offset`; returns the new offset. */
  takeSecond(bytes: Uint8Array, offset: number): number {
    const take = Math.min(HANDSHAKE_SIZE - this.secondLength, bytes.length - offset);
    this.second?.set(bytes.subarray(offset, offset + take), this.secondLength);
    this.secondLength += take;
    return offset + take;
  }
}
