/**
 * Server configuration: defaults from the design, overridden by a JSON config file, then by
 * environment variables, then by command-line flags. Every value is validated once, here,
 * with one pointed message naming the option and where it came from.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_CONFIG, OPTIONS, type OptionSpec, type ServerConfig } from './config-options';

export { DEFAULT_CONFIG, type LogLevel, OPTIONS, type ServerConfig } from './config-options';

/** Raised for any invalid configuration; `message` is one line naming the problem. */
export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

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
    case 'choice': {
      const choices = spec.choices ?? [];
      if (typeof raw !== 'string' || !choices.includes(raw)) {
        throw new ConfigError(`invalid ${name}: ${show} is not one of ${choices.join(', ')}`);
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
  if (config.tlsCert) config.tlsCert = resolve(cwd, config.tlsCert);
  if (config.tlsKey) config.tlsKey = resolve(cwd, config.tlsKey);
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new ConfigError('--tls-cert and --tls-key go together: give both for RTMPS and HTTPS, or neither');
  }
  // Port 0 turns a listener off for a person configuring the server; only code asks for ephemeral ports.
  if (config.rtmpPort === 0) config.rtmpPort = null;
  if (config.rtmpsPort === 0) config.rtmpsPort = null;
  if (config.httpsPort === 0) config.httpsPort = null;
  if (typeof config.rtmpsPort === 'number' && config.tlsCert === undefined) {
    throw new ConfigError('--rtmps-port needs a certificate: give --tls-cert and --tls-key');
  }
  if (config.rtmpPort === null && (config.tlsCert === undefined || config.rtmpsPort === null)) {
    throw new ConfigError('no publisher could connect: --rtmp-port 0 turns plain RTMP off, and RTMPS is not on');
  }
  if (typeof config.httpsPort === 'number' && config.tlsCert === undefined) {
    throw new ConfigError('--https-port needs a certificate: give --tls-cert and --tls-key');
  }
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
        ? spec.key === 'ffmpegPath'
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
