/**
 * Entry point: `node apps/server/dist/main.js [options]`, or `… adobe-user <username>` to make an
 * Adobe login entry (adobe-user-command.ts). Exits 2 on a configuration error (one line on stderr),
 * 1 when ffmpeg cannot be found, a port cannot be bound or the open-file limit is too low for any
 * connection caps (fd-budget.ts), and 0 after a clean shutdown on SIGINT/SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { isAuthConfigError } from '@org/auth';
import { runAdobeUserCommand } from './adobe-user-command';
import { type RunningServer, startServer } from './app';
import { ConfigError, helpText, loadConfig, OPTIONS, type ServerConfig } from './config';
import { type FdBudget, FdBudgetError, fitToFdBudget, readOpenFileLimit } from './fd-budget';
import { BinaryNotFoundError, type ResolvedBinary, resolveBinary } from './ffmpeg-resolve';
import { tuneHeap } from './gc-tuning';
import { createLogger, type Logger, LogSink } from './logger';
import { readTlsFiles, TlsFilesError, TlsReloader } from './tls-files';

/**
 * Hard limit for a graceful shutdown. Below the 10 s a supervisor usually allows before SIGKILL;
 * FFmpeg's own stop sequence (stdin close 3 s → SIGTERM 2 s → SIGKILL) fits in it.
 */
const SHUTDOWN_DEADLINE_MS = 9_000;

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

/** The configuration, or undefined when `--help`/`--version` answered; exits 2 on a bad one. */
function configOrExit(): ServerConfig | undefined {
  let loaded: ReturnType<typeof loadConfig>;
  try {
    loaded = loadConfig({ argv: process.argv.slice(2), env: process.env });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (loaded.help) {
    process.stdout.write(`${helpText()}\n`);
    return undefined;
  }
  if (loaded.version) {
    process.stdout.write(`${version()}\n`);
    return undefined;
  }
  return loaded.config;
}

/**
 * The configuration with its connection caps fitted to the open-file limit (one warning naming
 * what was lowered and why); exits 1 when the limit is too low for even the smallest caps.
 */
function fitFdBudgetOrExit(config: ServerConfig, logger: Logger): ServerConfig {
  const openFileLimit = readOpenFileLimit();
  if (openFileLimit === undefined) {
    logger.warn('open-file limit unknown (no /proc/self/limits): connection caps not checked against it');
    return config;
  }
  let budget: FdBudget;
  try {
    budget = fitToFdBudget({ ...config, openFileLimit });
  } catch (err) {
    if (err instanceof FdBudgetError) {
      logger.fatal({ code: err.code, openFileLimit }, err.message);
      process.stderr.write(`error: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const fields = { openFileLimit, fdsRequested: budget.requested, fdsNeeded: budget.needed, ...budget.caps };
  if (budget.lowered.length > 0) {
    const flag = (key: string) => OPTIONS.find((o) => o.key === key)?.flag ?? key;
    const what = budget.lowered.map((l) => `${flag(l.option)} ${l.from} -> ${l.to}`).join(', ');
    logger.warn(
      { ...fields, lowered: budget.lowered },
      `connection caps lowered to fit the open-file limit ${openFileLimit} (as configured they need ` +
        `${budget.requested} descriptors with every live stream's FFmpeg and the reserve): ${what}`,
    );
  } else {
    logger.info(fields, 'file descriptor budget');
  }
  return { ...config, ...budget.caps };
}

async function ffmpegOrExit(config: ServerConfig, logger: Logger): Promise<ResolvedBinary> {
  try {
    const ffmpeg = await resolveBinary('ffmpeg', { explicit: config.ffmpegPath });
    logger.info({ path: ffmpeg.path, source: ffmpeg.source, version: ffmpeg.version }, 'using ffmpeg');
    return ffmpeg;
  } catch (err) {
    if (err instanceof BinaryNotFoundError) {
      logger.fatal(err.message);
      process.stderr.write(`error: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

async function serverOrExit(config: ServerConfig, logger: Logger, ffmpeg: ResolvedBinary): Promise<RunningServer> {
  try {
    return await startServer({ config, logger, ffmpeg, tls: readTlsFiles(config) });
  } catch (err) {
    if (err instanceof TlsFilesError) {
      logger.fatal({ code: err.code }, err.message);
      process.stderr.write(`error: ${err.message}\n`);
      process.exit(2);
    }
    if (isAuthConfigError(err)) {
      logger.fatal({ code: err.code }, `invalid auth configuration: ${err.message}`);
      process.stderr.write(`error: auth: ${err.message}\n`);
      process.exit(2);
    }
    const e = err as NodeJS.ErrnoException;
    logger.fatal({ err: e }, `cannot start: ${e.code ?? ''} ${e.message}`);
    process.exit(1);
  }
}

/** SIGINT/SIGTERM stop the server within the deadline; a crash is logged, flushed, then stops it. */
function stopOnSignalsAndCrashes(server: RunningServer, logger: Logger, sink: LogSink): void {
  let stopping = false;
  const shutdown = (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error('shutdown deadline passed; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    server
      .close()
      .then(() => {
        logger.info('stopped');
        sink.flushSync();
        process.exit(code);
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'error during shutdown');
        process.exit(1);
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT', 0));
  process.on('SIGTERM', () => shutdown('SIGTERM', 0));
  // SIGHUP rereads the RTMPS and HTTPS certificate (and its files are watched): never a reason to stop.
  const tls =
    server.rtmpsPort === undefined ? undefined : new TlsReloader(server.config, server.reloadTls, logger).watch();
  process.on('SIGHUP', () => {
    if (tls) tls.reload('SIGHUP');
    else logger.info('SIGHUP: no TLS certificate to reload');
  });
  // A fatal line is on its way out before anything else can go wrong.
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    sink.flushSync();
    shutdown('uncaughtException', 1);
  });
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled rejection');
    sink.flushSync();
    shutdown('unhandledRejection', 1);
  });
}

async function main(): Promise<void> {
  if (process.argv[2] === 'adobe-user') {
    process.exitCode = await runAdobeUserCommand(process.argv.slice(3));
    return;
  }
  const config = configOrExit();
  if (config === undefined) return;
  const sink = new LogSink();
  const logger = createLogger(config.logLevel, sink);
  // Whatever ends the process, the lines still queued go out first.
  process.on('exit', () => sink.flushSync());
  const heapFlag = tuneHeap();
  logger.debug({ flag: heapFlag ?? 'set on the node command line' }, 'v8 heap growing factor');
  const fitted = fitFdBudgetOrExit(config, logger);
  const ffmpeg = await ffmpegOrExit(fitted, logger);
  const server = await serverOrExit(fitted, logger, ffmpeg);
  // Whatever ends the process (deadline, a crash in a handler), no FFmpeg is left behind: they
  // would exit on their own once stdin closes, but not at once if one is stuck.
  process.on('exit', () => server.killChildren());
  stopOnSignalsAndCrashes(server, logger, sink);
}

void main();
