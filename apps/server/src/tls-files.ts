/**
 * The certificate and key of RTMPS, read from the files `--tls-cert` / `--tls-key` name (PEM; the
 * certificate file may carry its chain). Read at start, where a bad pair stops the server with
 * one line, and again on SIGHUP, where a bad pair is logged and the one in use is kept: a
 * renewal (certbot, an operator) never drops a live stream.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { ServerConfig } from './config';

/** Default RTMPS port once a certificate is configured (OBS's and the peers' convention). */
export const DEFAULT_RTMPS_PORT = 1936;

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

export class TlsFilesError extends Error {
  readonly code = 'ERR_TLS_FILES';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TlsFilesError';
  }
}

/** The pair the configuration names, checked to make a TLS context; undefined without RTMPS. */
export function readTlsFiles(config: Pick<ServerConfig, 'tlsCert' | 'tlsKey'>): TlsFiles | undefined {
  const { tlsCert, tlsKey } = config;
  if (tlsCert === undefined || tlsKey === undefined) return undefined;
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new TlsFilesError(`cannot read the TLS ${what} ${path}: ${(err as Error).message}`, { cause: err });
    }
  };
  const files = { cert: read(tlsCert, 'certificate'), key: read(tlsKey, 'key') };
  try {
    createSecureContext(files);
  } catch (err) {
    // Node's message names what is wrong (no start line, key does not match…), never the key.
    throw new TlsFilesError(`TLS certificate ${tlsCert} and key ${tlsKey} unusable: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return files;
}
