/**
 * The open-file budget: the connection caps, at their fullest, must leave the descriptors that every
 * live stream's FFmpeg and the server's own files need, or a flood of connections makes the process
 * hit its open-file limit and fail everything else (`accept` resets every new peer, `spawn` of a
 * crashed FFmpeg fails with EMFILE and the stream is given up).
 *
 * What the server holds, in descriptors (Linux, measured with `ls /proc/PID/fd`):
 *
 * - per HTTP connection: its socket, plus the segment file it may be streaming from disk;
 * - per RTMP connection: its socket, plus, since any connection may publish, one stream: FFmpeg's
 *   three pipes (stdin, stdout, stderr), the playlist being rewritten (temporary file, renamed),
 *   and the segments the segment cache reads when the stream is first watched (its whole window);
 * - once: a spawn, which briefly holds the child's ends of the three pipes and libuv's exec-error
 *   pipe before the child runs (spawns are synchronous: one at a time);
 * - once: the base reserve, for what the server holds whatever the load (stdio, listeners, libuv's
 *   epoll/eventfd/signal pipes and thread pool, about 30 at idle) and what it opens besides peers
 *   (auth webhook checks, at most 64 in flight, DNS, config and asset reads).
 *
 * Caps that do not fit are lowered, both by the same factor, with a warning: a server with less
 * room than configured still serves, while one that trusts its caps fails every peer at once when
 * they fill. Only a limit too low for even {@link MIN_HTTP_CONNECTIONS} and
 * {@link MIN_RTMP_CONNECTIONS} refuses to start ({@link FdBudgetError}).
 */
import { readFileSync } from 'node:fs';

/** Default base reserve: ~30 descriptors at idle, room for 64 webhook checks, DNS and reads. */
export const DEFAULT_FD_RESERVE = 128;
/** Held briefly by one spawn: the child's three pipe ends and the exec-error pipe, rounded up. */
export const FD_SPAWN_RESERVE = 8;
/** FFmpeg's stdin, stdout and stderr pipes, held for as long as it runs. */
export const FDS_PER_FFMPEG = 3;
/** A socket and the segment file it may be streaming from disk. */
export const FDS_PER_HTTP_CONNECTION = 2;
/** Fewest HTTP connections a lowered cap keeps (a few viewers, `/healthz`, `/metrics`). */
export const MIN_HTTP_CONNECTIONS = 16;
/** Fewest RTMP connections a lowered cap keeps (a publisher and one reconnecting). */
export const MIN_RTMP_CONNECTIONS = 2;

/** The caps the budget checks (the names of the server options). */
export interface FdCaps {
  httpMaxConnections: number;
  httpMaxConnectionsPerAddress: number;
  rtmpMaxConnections: number;
  rtmpMaxConnectionsPerAddress: number;
}

export interface FdBudgetInput extends FdCaps {
  /** The process's open-file limit (soft; Node raises it to the hard limit at startup). */
  openFileLimit: number;
  /** Segments in a playlist window: what the segment cache reads at once when a stream is first watched. */
  hlsListSize: number;
  /** Base reserve. Default {@link DEFAULT_FD_RESERVE}. */
  fdReserve?: number;
}

export interface FdBudget {
  openFileLimit: number;
  /** Descriptors the configured caps would use at their fullest, reserves included. */
  requested: number;
  /** Descriptors the (possibly lowered) caps can use at their fullest, reserves included. */
  needed: number;
  /** The caps to run with: the configured ones, or lowered to fit. */
  caps: FdCaps;
  /** Each cap that was lowered, with the configured value. */
  lowered: { option: keyof FdCaps; from: number; to: number }[];
}

/** The open-file limit is too low for even the smallest caps. */
export class FdBudgetError extends Error {
  readonly code = 'ERR_FD_BUDGET';
  constructor(message: string) {
    super(message);
    this.name = 'FdBudgetError';
  }
}

/** Descriptors one RTMP connection may cost: its socket and the stream it may publish. */
export function fdsPerRtmpConnection(hlsListSize: number): number {
  return 1 + FDS_PER_FFMPEG + 1 + hlsListSize;
}

/** Descriptors the caps can use at their fullest, reserves included. */
export function fdsNeeded(
  caps: Pick<FdCaps, 'httpMaxConnections' | 'rtmpMaxConnections'>,
  hlsListSize: number,
  fdReserve = DEFAULT_FD_RESERVE,
): number {
  return (
    fdReserve +
    FD_SPAWN_RESERVE +
    caps.httpMaxConnections * FDS_PER_HTTP_CONNECTION +
    caps.rtmpMaxConnections * fdsPerRtmpConnection(hlsListSize)
  );
}

/**
 * The caps that fit the open-file limit: the configured ones when they fit; else each keeps its
 * minimum and the part above it is scaled by one factor, so both shrink in proportion; the
 * per-address caps are then at most their totals. Throws {@link FdBudgetError} when not even the
 * minimums fit.
 */
export function fitToFdBudget(input: FdBudgetInput): FdBudget {
  const reserve = input.fdReserve ?? DEFAULT_FD_RESERVE;
  const perHttp = FDS_PER_HTTP_CONNECTION;
  const perRtmp = fdsPerRtmpConnection(input.hlsListSize);
  const http = input.httpMaxConnections;
  const rtmp = input.rtmpMaxConnections;
  const requested = fdsNeeded(input, input.hlsListSize, reserve);
  const caps: FdCaps = {
    httpMaxConnections: http,
    httpMaxConnectionsPerAddress: input.httpMaxConnectionsPerAddress,
    rtmpMaxConnections: rtmp,
    rtmpMaxConnectionsPerAddress: input.rtmpMaxConnectionsPerAddress,
  };
  const openFileLimit = input.openFileLimit;
  if (requested <= openFileLimit) return { openFileLimit, requested, needed: requested, caps, lowered: [] };

  const room = input.openFileLimit - reserve - FD_SPAWN_RESERVE;
  const minHttp = Math.min(http, MIN_HTTP_CONNECTIONS);
  const minRtmp = Math.min(rtmp, MIN_RTMP_CONNECTIONS);
  const fixed = minHttp * perHttp + minRtmp * perRtmp;
  if (room < fixed) {
    throw new FdBudgetError(
      `open-file limit ${input.openFileLimit} is too low: at least ${fixed + reserve + FD_SPAWN_RESERVE} ` +
        `descriptors are needed (${minHttp} HTTP × ${perHttp} + ${minRtmp} RTMP × ${perRtmp} + reserve ` +
        `${reserve} + spawn ${FD_SPAWN_RESERVE}); raise it (ulimit -n, systemd LimitNOFILE) or lower --fd-reserve`,
    );
  }
  const factor = (room - fixed) / ((http - minHttp) * perHttp + (rtmp - minRtmp) * perRtmp);
  caps.httpMaxConnections = minHttp + Math.floor((http - minHttp) * factor);
  caps.rtmpMaxConnections = minRtmp + Math.floor((rtmp - minRtmp) * factor);
  caps.httpMaxConnectionsPerAddress = Math.min(caps.httpMaxConnectionsPerAddress, caps.httpMaxConnections);
  caps.rtmpMaxConnectionsPerAddress = Math.min(caps.rtmpMaxConnectionsPerAddress, caps.rtmpMaxConnections);
  const lowered = (Object.keys(caps) as (keyof FdCaps)[])
    .filter((option) => caps[option] !== input[option])
    .map((option) => ({ option, from: input[option], to: caps[option] }));
  return { openFileLimit, requested, needed: fdsNeeded(caps, input.hlsListSize, reserve), caps, lowered };
}

/**
 * The soft "Max open files" limit from `/proc/self/limits` text (Linux); undefined when the text
 * has no such line or the limit is `unlimited`.
 */
export function parseOpenFileLimit(limits: string): number | undefined {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  if (m === null || m[1] === 'unlimited') return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** This process's open-file limit, or undefined where `/proc/self/limits` cannot be read (not Linux). */
export function readOpenFileLimit(path = '/proc/self/limits'): number | undefined {
  try {
    return parseOpenFileLimit(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}
