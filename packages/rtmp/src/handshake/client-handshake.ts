/**
 * Client side of the RTMP handshake (spec §5.2; digest variant in digest.ts).
 *
 *   client → C0 + C1 (start())
 *   server → S0 + S1 + S2
 *   client → C2 as soon as S1 is complete
 */
import { randomBytes } from 'node:crypto';
import { HANDSHAKE_SIZE, RTMP_VERSION } from '../constants';
import { RtmpProtocolError } from '../errors';
import {
  FMS_KEY_TEXT_LENGTH,
  FP_KEY_TEXT_LENGTH,
  findDigest,
  GENUINE_FMS_KEY,
  GENUINE_FP_KEY,
  makeDigestHandshakeBlock,
  makeS2Digest,
  verifyS2Digest,
} from './digest';
import { PeerBlocks } from './peer-blocks';
import type { HandshakeOptions, HandshakeStep } from './server-handshake';

/** Options of {@link ClientHandshake}. */
export interface ClientHandshakeOptions extends HandshakeOptions {
  /**
   * Send a Flash-style digest C1 (as ffmpeg does). The server's S2 signature is then verified when the
   * server answered with a digest S1. @default false (plain C1, as OBS and librtmp send)
   */
  digest?: boolean;
}

/** Version bytes of a digest C1: Flash Player 9.0.124.2, the version ffmpeg announces. */
const CLIENT_VERSION = [9, 0, 124, 2] as const;

/** Byte-driven client handshake: send `start()`, then push server bytes until `done`. */
export class ClientHandshake {
  private readonly now: () => number;
  private readonly random: (n: number) => Uint8Array;
  private readonly useDigest: boolean;
  private readonly peer = new PeerBlocks('S0', true);
  private started = false;
  /** Digest of our C1 (digest mode). */
  private c1Digest: Uint8Array | null = null;
  /** The server answered with a valid digest S1, so its S2 must be signed. */
  private serverSigned = false;

  constructor(options: ClientHandshakeOptions = {}) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? ((n) => randomBytes(n));
    this.useDigest = options.digest ?? false;
  }

  /** True once S2 has been received. */
  get done(): boolean {
    return this.peer.done;
  }

  /** C0 + C1, to send first. Call once. */
  start(): Uint8Array {
    if (this.started) throw new RtmpProtocolError('ERR_RTMP_HANDSHAKE', 'ClientHandshake.start() called twice');
    this.started = true;
    const out = new Uint8Array(1 + HANDSHAKE_SIZE);
    out[0] = RTMP_VERSION;
    const time = this.now() >>> 0;
    if (this.useDigest) {
      const c1 = makeDigestHandshakeBlock({
        time,
        version: CLIENT_VERSION,
        key: GENUINE_FP_KEY.subarray(0, FP_KEY_TEXT_LENGTH),
        scheme: 0,
        random: this.random(HANDSHAKE_SIZE - 8),
      });
      this.c1Digest = c1.digest;
      out.set(c1.block, 1);
    } else {
      out[1] = time >>> 24;
      out[2] = time >>> 16;
      out[3] = time >>> 8;
      out[4] = time;
      out.set(this.random(HANDSHAKE_SIZE - 8).subarray(0, HANDSHAKE_SIZE - 8), 9);
    }
    return out;
  }

  /**
   * Feeds server bytes.
   * @throws RtmpProtocolError `ERR_RTMP_BAD_VERSION` when S0 is not 3; `ERR_RTMP_HANDSHAKE` when a
   * signed S2 does not verify (digest mode) or `start()` was not called. After an error every call
   * throws it again.
   */
  push(bytes: Uint8Array): HandshakeStep {
    if (!this.started) throw new RtmpProtocolError('ERR_RTMP_HANDSHAKE', 'ClientHandshake.push() before start()');
    return this.peer.step(
      bytes,
      () => this.makeC2(),
      () => {
        if (this.serverSigned && !verifyS2Digest(this.peer.second!, this.c1Digest!, GENUINE_FMS_KEY)) {
          throw new RtmpProtocolError('ERR_RTMP_HANDSHAKE', 'S2 signature does not match our C1 digest');
        }
      },
    );
  }

  private makeC2(): Uint8Array {
    const s1 = this.peer.first.subarray(1);
    if (this.useDigest && (s1[4] !== 0 || s1[5] !== 0 || s1[6] !== 0 || s1[7] !== 0)) {
      const found = findDigest(s1, GENUINE_FMS_KEY.subarray(0, FMS_KEY_TEXT_LENGTH));
      if (found !== null) {
        this.serverSigned = true;
        return makeS2Digest(found.digest, GENUINE_FP_KEY, this.random(HANDSHAKE_SIZE - 32));
      }
    }
    return s1.slice();
  }
}
