/**
 * Server side of the RTMP handshake. Spec: Adobe RTMP Specification 1.0, §5.2; digest variant in
 * digest.ts.
 *
 *   client → C0 (1 byte, version 3) + C1 (1536 bytes)
 *   server → S0 + S1 + S2 (sent together once C1 is complete)
 *   client → C2 (1536 bytes, checked for length only), often followed in the same read by `connect`
 */
import { randomBytes } from 'node:crypto';
import { HANDSHAKE_SIZE, RTMP_VERSION } from '../constants';
import {
  FMS_KEY_TEXT_LENGTH,
  FP_KEY_TEXT_LENGTH,
  findDigest,
  GENUINE_FMS_KEY,
  GENUINE_FP_KEY,
  makeDigestHandshakeBlock,
  makeS2Digest,
} from './digest';
import { PeerBlocks } from './peer-blocks';

/** Injectable clock and randomness (tests pin them). */
export interface HandshakeOptions {
  /** Milliseconds for the time field of S1/C1. @default Date.now */
  now?: () => number;
  /** Source of `n` random bytes. @default crypto.randomBytes */
  random?: (n: number) => Uint8Array;
}

/** Result of feeding bytes to a handshake. */
export interface HandshakeStep {
  /** Bytes to send to the peer, in order (possibly none). */
  output: Uint8Array[];
  /** True once the handshake is complete. */
  done: boolean;
  /** Bytes that followed the handshake in this push (the first chunk stream bytes); empty until done. */
  rest: Uint8Array;
}

/** Version bytes of our digest S1 (any non-zero value marks a digest block). */
const SERVER_VERSION = [5, 0, 3, 1] as const;

/**
 * Byte-driven server handshake: push whatever the socket delivers, send `output`, and once `done`
 * hand `rest` to the chunk decoder. A plain C1 (bytes 4–7 zero, or no valid digest) gets S1 = time +
 * zeros + random and S2 = C1 echoed; a digest C1 gets a signed S1 and S2 as Flash Media Server sends.
 * The timeout is the caller's job.
 */
export class ServerHandshake {
  private readonly now: () => number;
  private readonly random: (n: number) => Uint8Array;
  private readonly peer = new PeerBlocks('C0', false);
  private _digest = false;

  constructor(options: HandshakeOptions = {}) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? ((n) => randomBytes(n));
  }

  /** True once C2 has been received. */
  get done(): boolean {
    return this.peer.done;
  }

  /** True when the client sent a valid digest C1 and got a digest answer. */
  get digest(): boolean {
    return this._digest;
  }

  /**
   * Feeds client bytes.
   * @throws RtmpProtocolError `ERR_RTMP_BAD_VERSION` as soon as C0 is not 3 (and on every call after).
   */
  push(bytes: Uint8Array): HandshakeStep {
    return this.peer.step(bytes, () => this.respond());
  }

  /** S0 + S1 + S2 for the complete C0 + C1. */
  private respond(): Uint8Array {
    const c1 = this.peer.first.subarray(1);
    const out = new Uint8Array(1 + 2 * HANDSHAKE_SIZE);
    out[0] = RTMP_VERSION;
    const time = this.now() >>> 0;
    const isDigest = c1[4] !== 0 || c1[5] !== 0 || c1[6] !== 0 || c1[7] !== 0;
    const found = isDigest ? findDigest(c1, GENUINE_FP_KEY.subarray(0, FP_KEY_TEXT_LENGTH)) : null;
    if (found !== null) {
      this._digest = true;
      const s1 = makeDigestHandshakeBlock({
        time,
        version: SERVER_VERSION,
        key: GENUINE_FMS_KEY.subarray(0, FMS_KEY_TEXT_LENGTH),
        scheme: found.scheme,
        random: this.random(HANDSHAKE_SIZE - 8),
      });
      out.set(s1.block, 1);
      out.set(makeS2Digest(found.digest, GENUINE_FMS_KEY, this.random(HANDSHAKE_SIZE - 32)), 1 + HANDSHAKE_SIZE);
    } else {
      out[1] = time >>> 24;
      out[2] = time >>> 16;
      out[3] = time >>> 8;
      out[4] = time;
      out.set(this.random(HANDSHAKE_SIZE - 8).subarray(0, HANDSHAKE_SIZE - 8), 9);
      out.set(c1, 1 + HANDSHAKE_SIZE);
    }
    return out;
  }
}
