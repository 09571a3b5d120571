/**
 * The HTTPS options: the port (on with a certificate, as RTMPS is), HSTS and the HTTP/2 limits.
 * Part of {@link OPTIONS} (config-options.ts); the certificate is `--tls-cert` / `--tls-key`.
 */
import type { OptionSpec } from './config-options';
import { DEFAULT_HTTPS_PORT } from './http/https-listener';

/** Ten years: more than any HSTS preload list asks for, and it must still fit a 32-bit integer. */
const MAX_HSTS_MAX_AGE = 315_360_000;

export const HTTPS_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'httpsPort',
    flag: '--https-port',
    env: 'HTTPS_PORT',
    kind: 'port',
    description: `HTTPS (HTTP/2 and HTTP/1.1) listen port, every HTTP route (needs --tls-cert and --tls-key; ${DEFAULT_HTTPS_PORT} when they are given; 0: off)`,
  },
  {
    key: 'hstsMaxAge',
    flag: '--hsts-max-age',
    env: 'HSTS_MAX_AGE',
    kind: 'int',
    min: 0,
    max: MAX_HSTS_MAX_AGE,
    description: 'Strict-Transport-Security max-age in seconds on HTTPS responses (0: no header)',
  },
  {
    key: 'http2MaxConcurrentStreams',
    flag: '--http2-max-concurrent-streams',
    env: 'HTTP2_MAX_CONCURRENT_STREAMS',
    kind: 'int',
    min: 1,
    max: 1000,
    description: 'requests in flight at once on one HTTP/2 connection',
  },
  {
    key: 'http2MaxSessionMemoryMb',
    flag: '--http2-max-session-memory-mb',
    env: 'HTTP2_MAX_SESSION_MEMORY_MB',
    kind: 'int',
    min: 1,
    max: 1024,
    description: 'memory one HTTP/2 connection may use, MB; past it its new requests are refused',
  },
];
