/**
 * Server configuration: defaults from the design, overridden by a JSON config file, then by
 * environment variables, then by command-line flags. Every value is validated once, here,
 * with one pointed message naming the option and where it came from.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface ServerConfig {
  /** RTMP listen port (0 = ephemeral). */
  rtmpPort: number;
  rtmpHost: string;
  /** HTTP listen port (0 = ephemeral). */
  httpPort: number;
  httpHost: string;
  /** Root of the HLS output: `{outputDir}/{username}/live.m3u8`. Absolute after loading. */
  outputDir: string;
  /** Authorized publish URL patterns, first match wins. */
  patterns: string[];
  /** How long a dropped publisher's stream waits for the same username to come back. */
  reconnectGraceMs: number;
  /** Delay between stopping FFmpeg after the grace and removing the stream's directory. */
  cleanupDelayMs: number;
  /** A newer publisher for a live username replaces the older one instead of being refused. */
  takeover: boolean;
  /** HLS target segment duration in seconds. */
  hlsTime: number;
  /** Segments kept in the rolling playlist window. */
  hlsListSize: number;
  /** Handshake and `connect` must complete within this many ms. */
  handshakeTimeoutMs: number;
  /** A connection that sends nothing for this many ms is dropped. */
  idleTimeoutMs: number;
  /** Merged reads: a publishing RTMP socket is read at most once per round of this many ms (0: at once). */
  mergedReadMs: number;
  /** `Access-Control-Allow-Origin` on HLS responses. */
  corsOrigin: string;
  /** Bytes queued per stream in front of a slow FFmpeg before frames are dropped until a keyframe. */
  streamQueueBytes: number;
  /** Memory for playlists and segments served from RAM (all streams); beyond it they come from disk. */
  hlsCacheBytes: number;
  /** FFmpeg restarts allowed per stream within `ffmpegRestartWindowMs`; one more crash drops the publisher. */
  ffmpegMaxRestarts: number;
  /** Sliding window of `ffmpegMaxRestarts`, ms. */
  ffmpegRestartWindowMs: number;
  /** Explicit ffmpeg binary (else PATH, else the optional npm package). */
  ffmpegPath: string | undefined;
  /** Explicit ffprobe binary (same resolution order as ffmpeg). */
  ffprobePath: string | undefined;
  logLevel: LogLevel;
  /** Optional publish-authorization settings passed to @org/auth (config file only). */
  auth: Record<string, unknown> | undefined;
  /** The config file that was read, if any. */
  configFile: string | undefined;
}

/** Raised for any invalid configuration; `message` is one line naming the problem. */
export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Kind = 'port' | 'int' | 'number' | 'string' | 'bool' | 'list' | 'level' | 'path' | 'object';

interface OptionSpec {
  key: keyof ServerConfig;
  flag?: string;
  env?: string;
  kind: Kind;
  /** Inclusive bounds for numbers. */
  min?: number;
  max?: number;
  description: string;
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const DEFAULT_CONFIG: Readonly<ServerConfig> = Object.freeze({
  rtmpPort: 1935,
  rtmpHost: '0.0.0.0',
  httpPort: 8080,
  httpHost: '0.0.0.0',
  outputDir: './streams',
  patterns: ['/live/{app}/{username}'],
  reconnectGraceMs: 5000,
  cleanupDelayMs: 2000,
  takeover: false,
  hlsTime: 1,
  hlsListSize: 3,
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 30_000,
  mergedReadMs: 0,
  corsOrigin: '*',
  streamQueueBytes: 8 * 1024 * 1024,
  hlsCacheBytes: 256 * 1024 * 1024,
  ffmpegMaxRestarts: 5,
  ffmpegRestartWindowMs: 60_000,
  ffmpegPath: undefined,
  ffprobePath: undefined,
  logLevel: 'info',
  auth: undefined,
  configFile: undefined,
});

/** Every option: its flag, environment variable, type and description. `--help` prints this. */
export const OPTIONS: readonly OptionSpec[] = [
  { key: 'configFile', flag: '--config', env: 'CONFIG_FILE', kind: 'path', description: 'JSON config file' },
  { key: 'rtmpPort', flag: '--rtmp-port', env: 'RTMP_PORT', kind: 'port', description: 'RTMP listen port' },
  { key: 'rtmpHost', flag: '--rtmp-host', env: 'RTMP_HOST', kind: 'string', description: 'RTMP listen address' },
  { key: 'httpPort', flag: '--http-port', env: 'HTTP_PORT', kind: 'port', description: 'HTTP listen port' },
  { key: 'httpHost', flag: '--http-host', env: 'HTTP_HOST', kind: 'string', description: 'HTTP listen address' },
  { key: 'outputDir', flag: '--output-dir', env: 'OUTPUT_DIR', kind: 'path', description: 'HLS output root' },
  {
    key: 'patterns',
    flag: '--pattern',
    env: 'PUBLISH_PATTERNS',
    kind: 'list',
    description: 'authorized publish path pattern (repeat the flag, or comma-separate in the env var)',
  },
  {
    key: 'reconnectGraceMs',
    flag: '--reconnect-grace-ms',
    env: 'RECONNECT_GRACE_MS',
    kind: 'int',
    min: 0,
    max: 3_600_000,
    description: 'keep a dropped stream this long for the publisher to come back',
  },
  {
    key: 'cleanupDelayMs',
    flag: '--cleanup-delay-ms',
    env: 'CLEANUP_DELAY_MS',
    kind: 'int',
    min: 0,
    max: 3_600_000,
    description: 'after FFmpeg stops, remove the stream directory this much later',
  },
  {
    key: 'takeover',
    flag: '--takeover',
    env: 'TAKEOVER',
    kind: 'bool',
    description: 'a second publisher for a live username replaces the first (else it is refused)',
  },
  {
    key: 'hlsTime',
    flag: '--hls-time',
    env: 'HLS_TIME',
    kind: 'number',
    min: 0.1,
    max: 60,
    description: 'HLS target segment duration in seconds',
  },
  {
    key: 'hlsListSize',
    flag: '--hls-list-size',
    env: 'HLS_LIST_SIZE',
    kind: 'int',
    min: 1,
    max: 100,
    description: 'segments in the rolling playlist window',
  },
  {
    key: 'handshakeTimeoutMs',
    flag: '--handshake-timeout-ms',
    env: 'HANDSHAKE_TIMEOUT_MS',
    kind: 'int',
    min: 100,
    max: 600_000,
    description: 'RTMP handshake and connect must complete within this time',
  },
  {
    key: 'idleTimeoutMs',
    flag: '--idle-timeout-ms',
    env: 'IDLE_TIMEOUT_MS',
    kind: 'int',
    min: 100,
    max: 3_600_000,
    description: 'drop an RTMP connection silent for this long',
  },
  {
    key: 'mergedReadMs',
    flag: '--merged-read-ms',
    env: 'MERGED_READ_MS',
    kind: 'int',
    min: 0,
    max: 1000,
    description:
      'read each publishing RTMP socket at most once per this many ms (less CPU, that much more latency); 0 reads at once',
  },
  {
    key: 'corsOrigin',
    flag: '--cors-origin',
    env: 'CORS_ORIGIN',
    kind: 'string',
    description: 'Access-Control-Allow-Origin for HLS responses',
  },
  {
    key: 'streamQueueBytes',
    flag: '--stream-queue-bytes',
    env: 'STREAM_QUEUE_BYTES',
    kind: 'int',
    min: 64 * 1024,
    max: 1024 * 1024 * 1024,
    description: 'per-stream queue in front of a slow ffmpeg; beyond it frames are dropped until a keyframe',
  },
  {
    key: 'hlsCacheBytes',
    flag: '--hls-cache-bytes',
    env: 'HLS_CACHE_BYTES',
    kind: 'int',
    min: 0,
    max: 64 * 1024 * 1024 * 1024,
    description: 'memory for HLS files served from RAM across all streams (0: always from disk)',
  },
  {
    key: 'ffmpegMaxRestarts',
    flag: '--ffmpeg-max-restarts',
    env: 'FFMPEG_MAX_RESTARTS',
    kind: 'int',
    min: 0,
    max: 1000,
    description: 'ffmpeg restarts allowed per stream within the restart window, then the publisher is dropped',
  },
  {
    key: 'ffmpegRestartWindowMs',
    flag: '--ffmpeg-restart-window-ms',
    env: 'FFMPEG_RESTART_WINDOW_MS',
    kind: 'int',
    min: 1000,
    max: 3_600_000,
    description: 'sliding window for --ffmpeg-max-restarts',
  },
  { key: 'ffmpegPath', flag: '--ffmpeg', env: 'FFMPEG_PATH', kind: 'path', description: 'ffmpeg binary to use' },
  { key: 'ffprobePath', flag: '--ffprobe', env: 'FFPROBE_PATH', kind: 'path', description: 'ffprobe binary to use' },
  {
    key: 'logLevel',
    flag: '--log-level',
    env: 'LOG_LEVEL',
    kind: 'level',
    description: `log level (${LOG_LEVELS.join(', ')})`,
  },
  { key: 'auth', kind: 'object', description: 'publish authorization settings for @org/auth (config file only)' },
];

const BY_KEY = new Map(OPTIONS.map((o) => [o.key as string, o]));
const BY_FLAG = new Map(OPTIONS.filter((o) => o.flag).map((o) => [o.flag as string, o]));

function convert(spec: OptionSpec, raw: unknown, where: string): unknown {
  const name = `${spec.flag ?? spec.key} (${where})`;
  const show = typeof raw === 'string' ? JSON.stringify(raw) : String(raw);
  switch (spec.kind) {
    case 'port':
    case 'int':
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
      const min = spec.kind === 'port' ? 0 : (spec.min ?? Number.NEGATIVE_INFINITY);
      const max = spec.kind === 'port' ? 65535 : (spec.max ?? Number.POSITIVE_INFINITY);
      if (!Number.isFinite(n) || (spec.kind !== 'number' && !Number.isInteger(n)) || n < min || n > max) {
        const what = spec.kind === 'port' ? 'a port' : spec.kind === 'int' ? 'an integer' : 'a number';
        throw new ConfigError(`invalid ${name}: ${show} is not ${what} in ${min}..${max}`);
      }
      return n;
    }
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1' || raw === 'yes') return true;
      if (raw === 'false' || raw === '0' || raw === 'no') return false;
      throw new ConfigError(`invalid ${name}: ${show} is not a boolean (true/false)`);
    }
    case 'string':
    case 'path': {
      if (typeof raw !== 'string' || raw.length === 0 || raw.includes('\0')) {
        throw new ConfigError(`invalid ${name}: expected a non-empty string, got ${show}`);
      }
      return raw;
    }
    case 'level': {
      if (typeof raw !== 'string' || !LOG_LEVELS.includes(raw as LogLevel)) {
        throw new ConfigError(`invalid ${name}: ${show} is not one of ${LOG_LEVELS.join(', ')}`);
      }
      return raw;
    }
    case 'list': {
      const list = Array.isArray(raw)
        ? raw
        : typeof raw === 'string'
          ? raw
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : null;
      if (!list || list.length === 0 || !list.every((s) => typeof s === 'string' && s.length > 0)) {
        throw new ConfigError(`invalid ${name}: expected one or more non-empty strings, got ${show}`);
      }
      return list;
    }
    case 'object': {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        throw new ConfigError(`invalid ${name}: expected an object`);
      }
      return raw;
    }
  }
}

export interface ParsedArgs {
  help: boolean;
  version: boolean;
  values: Map<OptionSpec, unknown[]>;
}

/** Parses `--flag value`, `--flag=value` and bare boolean flags; rejects anything unknown. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { help: false, version: false, values: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') {
      out.help = true;
      continue;
    }
    // `pnpm start -- --flag` passes the separator through; there are no positional arguments.
    if (arg === '--') continue;
    if (arg === '--version') {
      out.version = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const spec = BY_FLAG.get(flag);
    if (!spec) throw new ConfigError(`unknown option ${JSON.stringify(arg)} (see --help)`);
    let value: string;
    if (eq > 0) value = arg.slice(eq + 1);
    else if (spec.kind === 'bool') {
      const next = argv[i + 1];
      if (next === 'true' || next === 'false') {
        value = next;
        i++;
      } else value = 'true';
    } else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new ConfigError(`option ${flag} needs a value`);
      value = next;
      i++;
    }
    const list = out.values.get(spec) ?? [];
    list.push(value);
    out.values.set(spec, list);
  }
  return out;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ConfigError(`cannot read config file ${file}: ${e.code ?? e.message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError(`config file ${file} must contain a JSON object`);
  }
  return data as Record<string, unknown>;
}

export interface LoadConfigInput {
  argv?: readonly string[];
  env?: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths are resolved against (default: process.cwd()). */
  cwd?: string;
}

export interface LoadedConfig {
  config: ServerConfig;
  help: boolean;
  version: boolean;
}

/** Builds the configuration: defaults < config file < environment < flags. Throws ConfigError. */
export function loadConfig(input: LoadConfigInput = {}): LoadedConfig {
  const argv = input.argv ?? [];
  const env = input.env ?? {};
  const cwd = input.cwd ?? process.cwd();
  const args = parseArgs(argv);
  const config: ServerConfig = { ...DEFAULT_CONFIG, patterns: [...DEFAULT_CONFIG.patterns] };
  const set = (spec: OptionSpec, raw: unknown, where: string) => {
    (config as unknown as Record<string, unknown>)[spec.key] = convert(spec, raw, where);
  };

  const configSpec = BY_KEY.get('configFile') as OptionSpec;
  const fileFlag = args.values.get(configSpec);
  const file = fileFlag ? (fileFlag[fileFlag.length - 1] as string) : env.CONFIG_FILE;
  if (file !== undefined && !args.help) {
    const path = resolve(cwd, String(convert(configSpec, file, fileFlag ? 'flag' : 'env CONFIG_FILE')));
    const data = readConfigFile(path);
    for (const [key, raw] of Object.entries(data)) {
      const spec = BY_KEY.get(key);
      if (!spec || key === 'configFile') {
        throw new ConfigError(`unknown key ${JSON.stringify(key)} in config file ${path}`);
      }
      set(spec, raw, `config file key "${key}"`);
    }
    config.configFile = path;
  }
  for (const spec of OPTIONS) {
    if (!spec.env || spec.key === 'configFile') continue;
    const raw = env[spec.env];
    if (raw !== undefined && raw !== '') set(spec, raw, `env ${spec.env}`);
  }
  for (const [spec, values] of args.values) {
    if (spec.key === 'configFile') continue;
    set(spec, spec.kind === 'list' ? values.flatMap((v) => String(v).split(',')) : values[values.length - 1], 'flag');
  }
  config.outputDir = resolve(cwd, config.outputDir);
  if (config.ffmpegPath) config.ffmpegPath = resolve(cwd, config.ffmpegPath);
  if (config.ffprobePath) config.ffprobePath = resolve(cwd, config.ffprobePath);
  return { config, help: args.help, version: args.version };
}

/** The `--help` text: every option with its flag, environment variable and default. */
export function helpText(): string {
  const lines = [
    'Usage: node apps/server/dist/main.js [options]',
    '',
    'RTMP ingest server: publishers push rtmp://host/live/{app}/{username}, viewers get',
    'http://host:8080/stream/{username}/live.m3u8. Precedence: flags > environment > config file > defaults.',
    '',
    'Options:',
  ];
  for (const spec of OPTIONS) {
    const def = spec.key === 'configFile' ? undefined : DEFAULT_CONFIG[spec.key];
    const shown =
      def === undefined
        ? spec.key === 'ffmpegPath' || spec.key === 'ffprobePath'
          ? 'PATH, then the bundled npm binary'
          : 'none'
        : Array.isArray(def)
          ? def.join(',')
          : String(def);
    const flag = spec.flag ? `${spec.flag}${spec.kind === 'bool' ? '' : ' <value>'}` : `"${spec.key}" in --config`;
    lines.push(`  ${flag.padEnd(34)} ${spec.description}`);
    lines.push(`  ${''.padEnd(34)} default: ${shown}${spec.env ? `; env ${spec.env}` : ''}`);
  }
  lines.push(
    `  ${'--help'.padEnd(34)} print this help and exit`,
    `  ${'--version'.padEnd(34)} print the version and exit`,
  );
  return lines.join('\n');
}
