/**
 * The certificate and key of RTMPS and HTTPS, read from the files `--tls-cert` / `--tls-key` name (PEM; the
 * certificate file may carry its chain). Read at start, where a bad pair stops the server with
 * one line, and again on SIGHUP or when either file changes, where a bad pair is logged and the
 * one in use is kept: a renewal (certbot, an operator) never drops a live stream.
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { ServerConfig } from './config';
import type { Logger } from './logger';

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

/** The pair the configuration names, checked to make a TLS context; undefined without RTMPS and HTTPS. */
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

/** How often the files are looked at (a stat each): a renewal is picked up within this. */
export const TLS_FILE_POLL_MS = 2000;
/** A renewal writes two files: wait for both before reloading. */
const SETTLE_MS = 500;

/** Rereads the pair on demand (SIGHUP) and when either file changes, applying it through `apply`. */
export class TlsReloader {
  private timer: NodeJS.Timeout | undefined;
  private readonly paths: string[];

  constructor(
    private readonly config: Pick<ServerConfig, 'tlsCert' | 'tlsKey'>,
    private readonly apply: (tls: TlsFiles) => void,
    private readonly logger: Logger,
  ) {
    this.paths = [config.tlsCert, config.tlsKey].filter((p): p is string => p !== undefined);
  }

  /** Rereads and applies the pair now; a bad one is logged and the one in use kept. */
  reload(trigger: string): boolean {
    try {
      const tls = readTlsFiles(this.config);
      if (tls === undefined) return false;
      this.apply(tls);
      this.logger.info({ trigger }, 'TLS certificate reloaded (new RTMPS and HTTPS connections use it)');
      return true;
    } catch (err) {
      this.logger.warn({ trigger, err }, `keeping the TLS certificate in use: ${(err as Error).message}`);
      return false;
    }
  }

  /** Polls both files (a stat every {@link TLS_FILE_POLL_MS}; it never keeps the process alive). */
  watch(): this {
    for (const path of this.paths) {
      watchFile(path, { interval: TLS_FILE_POLL_MS, persistent: false }, (now, before) => {
        if (now.mtimeMs === before.mtimeMs && now.size === before.size && now.ino === before.ino) return;
        if (this.timer) clearTimeout(this.timer);
        this.timer = setTimeout(() => this.reload('file change'), SETTLE_MS);
        this.timer.unref();
      });
    }
    return this;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const path of this.paths) unwatchFile(path);
  }
}
