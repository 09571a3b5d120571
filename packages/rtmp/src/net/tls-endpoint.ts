/**
 * RTMPS: RTMP inside TLS (what OBS, FFmpeg and GStreamer's rtmp2sink send to `rtmps://`, port 1936 by
 * convention). The listener accepts plain TCP, so a connection takes its slot in the connection
 * table (per-address cap, handshake cap) before any TLS work is spent on it; the admitted socket is
 * then wrapped in a server-side TLS socket and the RTMP handshake timer, started at once, covers the
 * TLS handshake too. The certificate can be replaced while connections are open: new connections
 * get the new one, open ones keep theirs.
 */
import type { Socket } from 'node:net';
import { createSecureContext, type SecureContext, type SecureContextOptions, TLSSocket } from 'node:tls';

export class TlsEndpoint {
  private context: SecureContext;

  /** @throws what `tls.createSecureContext` throws for a bad certificate or key */
  constructor(options: SecureContextOptions) {
    this.context = createSecureContext(options);
  }

  /** Replaces the certificate for new connections; throws (keeping the old one) when it is bad. */
  setSecureContext(options: SecureContextOptions): void {
    this.context = createSecureContext(options);
  }

  /** The server side of TLS over an accepted TCP socket. */
  wrap(socket: Socket): TLSSocket {
    return new TLSSocket(socket, { isServer: true, secureContext: this.context });
  }
}
