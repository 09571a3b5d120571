/**
 * Finds the ffmpeg binary to run: an explicit path (flag or FFMPEG_PATH) first,
 * then (ffmpeg only) the lean static build `scripts/build-ffmpeg.sh` leaves in `.ffmpeg/bin` of
 * the repository, then the first executable on PATH, then the binary shipped inside the optional npm package
 * (@ffmpeg-installer/ffmpeg: the binary is inside the package, so
 * it installs without network access). Never spawns a shell.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type BinaryName = 'ffmpeg';
export type BinarySource = 'explicit' | 'build' | 'path' | 'npm';

export interface ResolvedBinary {
  name: BinaryName;
  path: string;
  source: BinarySource;
  /** First line of `-version`, e.g. "ffmpeg version 5.1.6-0+deb12u1". */
  version: string;
}

export class BinaryNotFoundError extends Error {
  readonly code = 'ERR_BINARY_NOT_FOUND';
  constructor(message: string) {
    super(message);
    this.name = 'BinaryNotFoundError';
  }
}

const NPM_PACKAGES: Record<BinaryName, string> = {
  ffmpeg: '@ffmpeg-installer/ffmpeg',
};
const ENV_VARS: Record<BinaryName, string> = { ffmpeg: 'FFMPEG_PATH' };

export interface ResolveOptions {
  /** Explicit path from a flag or config; wins over everything. */
  explicit?: string | undefined;
  /** Environment (for PATH); default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Returns the path of the repository's own build or undefined; injectable for tests. */
  buildLookup?: (name: BinaryName) => string | undefined;
  /** Returns the path of the npm-shipped binary or undefined; injectable for tests. */
  npmLookup?: (name: BinaryName) => string | undefined;
  /** Reads the version line; injectable for tests. */
  probeVersion?: (path: string) => Promise<string>;
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Looks a command up on a PATH string the way a shell would, without running one. */
export function findOnPath(name: string, pathValue: string | undefined): string | undefined {
  if (!pathValue) return undefined;
  for (const dir of pathValue.split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/**
 * The lean static FFmpeg of `scripts/build-ffmpeg.sh`, at `.ffmpeg/bin/ffmpeg` of the repository
 * this file runs from (apps/server/src or apps/server/dist: three levels down), if it was built.
 */
export function buildBinary(_name: BinaryName): string | undefined {
  const candidate = fileURLToPath(new URL('../../../.ffmpeg/bin/ffmpeg', import.meta.url));
  return isExecutableFile(candidate) ? candidate : undefined;
}

/** The binary inside the optional npm package, if that package is installed for this platform. */
export function npmBinary(name: BinaryName): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const mod = require(NPM_PACKAGES[name]) as { path?: unknown };
    return typeof mod.path === 'string' && isExecutableFile(mod.path) ? mod.path : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `<bin> -version` (no shell) and returns its first line. */
export function readVersion(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(path, ['-hide_banner', '-version'], { timeout: 10_000, maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err) {
        reject(err);
        return;
      }
      resolvePromise(String(stdout).split('\n')[0]?.trim() ?? '');
    });
  });
}

/** Resolves `name` or throws BinaryNotFoundError whose message names all three ways to fix it. */
export async function resolveBinary(name: BinaryName, options: ResolveOptions = {}): Promise<ResolvedBinary> {
  const env = options.env ?? process.env;
  const probe = options.probeVersion ?? readVersion;
  const envVar = ENV_VARS[name];
  const flag = '--ffmpeg';
  const explicit = options.explicit ?? env[envVar];
  if (explicit) {
    if (!isExecutableFile(explicit)) {
      throw new BinaryNotFoundError(`${name}: ${explicit} (from ${flag} or ${envVar}) is not an executable file`);
    }
    return { name, path: explicit, source: 'explicit', version: await probeOrThrow(name, explicit, probe) };
  }
  const built = (options.buildLookup ?? buildBinary)(name);
  if (built) return { name, path: built, source: 'build', version: await probeOrThrow(name, built, probe) };
  const onPath = findOnPath(name, env.PATH);
  if (onPath) return { name, path: onPath, source: 'path', version: await probeOrThrow(name, onPath, probe) };
  const fromNpm = (options.npmLookup ?? npmBinary)(name);
  if (fromNpm) return { name, path: fromNpm, source: 'npm', version: await probeOrThrow(name, fromNpm, probe) };
  throw new BinaryNotFoundError(
    `${name} not found. Fix it one of three ways: (1) pass ${flag} /path/to/${name} or set ${envVar}; ` +
      `(2) install it on PATH (Debian: apt-get install -y ffmpeg); ` +
      `(3) install the optional npm package ${NPM_PACKAGES[name]} (pnpm install without --no-optional).`,
  );
}

async function probeOrThrow(name: BinaryName, path: string, probe: (p: string) => Promise<string>): Promise<string> {
  try {
    return await probe(path);
  } catch (err) {
    throw new BinaryNotFoundError(`${name}: ${path} failed to run -version: ${(err as Error).message}`);
  }
}
