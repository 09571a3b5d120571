/**
 * Where a client connects: `rtmp://` URLs and explicit targets, resolved to host, port, app and tcUrl.
 * App/name split per the project's wire-behaviour checklist §6 (the whole URL path is the app).
 */
import { RtmpError } from '../errors';

/** Default RTMP port. */
export const DEFAULT_RTMP_PORT = 1935;

/** Where to connect when not given a URL. */
export interface RtmpClientTarget {
  host: string;
  /** @default 1935 */
  port?: number;
  /** Application path sent in connect, e.g. "live/test". */
  app: string;
  /** tcUrl sent in connect. @default `rtmp://host:port/app` */
  tcUrl?: string;
}

/**
 * Parses `rtmp://host[:port]/app/path`: the whole path is the app (the stream name is given to
 * `publish`), so `rtmp://h/live/test` + `publish("johndoe")` publishes `live/test` / `johndoe`.
 */
export function parseRtmpUrl(url: string): Required<RtmpClientTarget> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RtmpError('ERR_RTMP_INVALID_OPTION', `not a URL: ${url}`);
  }
  if (u.protocol !== 'rtmp:') {
    throw new RtmpError('ERR_RTMP_INVALID_OPTION', `only rtmp:// URLs are supported, got ${u.protocol}//`);
  }
  const port = u.port === '' ? DEFAULT_RTMP_PORT : Number(u.port);
  const app = decodeURIComponent(u.pathname).replace(/^\/+|\/+$/g, '');
  if (app === '') throw new RtmpError('ERR_RTMP_INVALID_OPTION', `no application path in ${url}`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return { host, port, app, tcUrl: `rtmp://${u.host}/${app}` };
}

/** A target with its defaults filled in: port 1935, tcUrl `rtmp://host:port/app`. */
export function resolveRtmpTarget(target: string | RtmpClientTarget): Required<RtmpClientTarget> {
  if (typeof target === 'string') return parseRtmpUrl(target);
  const port = target.port ?? DEFAULT_RTMP_PORT;
  return {
    host: target.host,
    port,
    app: target.app,
    tcUrl: target.tcUrl ?? `rtmp://${target.host}:${port}/${target.app}`,
  };
}
