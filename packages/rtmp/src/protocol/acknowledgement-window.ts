/**
 * The receiving side of RTMP flow control: once the bytes received since the last Acknowledgement
 * reach the window the peer announced (Window Acknowledgement Size), one is due.
 * Spec: Adobe RTMP Specification 1.0 (December 2012), §5.4.3 (Acknowledgement), §5.4.4 (Window
 * Acknowledgement Size). rtmp2sink stalls when it gets no acknowledgements (checklist §3).
 */
import type { RtmpMessage } from '../constants';
import { encodeAcknowledgement } from './control';

const TWO_POW_32 = 0x100000000;

/** When to acknowledge the peer, for one connection. Used by the server session and the client. */
export class AcknowledgementWindow {
  /** Window the peer announced (0 = none: send no acknowledgements). */
  private window = 0;
  /** Bytes received when the last Acknowledgement was sent. */
  private lastAckAt = 0;

  /** Applies the peer's Window Acknowledgement Size. */
  setWindow(size: number): void {
    this.window = size;
  }

  /**
   * The Acknowledgement to send now that `bytesReceived` bytes have arrived in total, or null when
   * none is due. The sequence number is the total mod 2^32 (it wraps after 4 GiB).
   */
  due(bytesReceived: number): RtmpMessage | null {
    if (this.window === 0 || bytesReceived - this.lastAckAt < this.window) return null;
    this.lastAckAt = bytesReceived;
    return encodeAcknowledgement(bytesReceived % TWO_POW_32);
  }
}
