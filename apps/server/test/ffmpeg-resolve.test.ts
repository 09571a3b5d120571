import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BinaryNotFoundError,
  buildBinary,
  findOnPath,
  npmBinary,
  readVersion,
  resolveBinary,
} from '../src/ffmpeg-resolve';

const dir = mkdtempSync(join(tmpdir(), 'resolve-test-'));
function fakeBinary(sub: string, name: string, versionLine: string): string {
  const d = join(dir, sub);
  mkdirSync(d, { recursive: true });
  const p = join(d, name);
  writeFileSync(p, `#!/bin/sh\necho "${versionLine}"\necho second line\n`);
  chmodSync(p, 0o755);
  return p;
}
const a = fakeBinary('a', 'ffmpeg', 'ffmpeg version A');
const b = fakeBinary('b', 'ffmpeg', 'ffmpeg version B');
const notExec = join(dir, 'plain', 'ffmpeg');
mkdirSync(join(dir, 'plain'), { recursive: true });
writeFileSync(notExec, 'x');

describe('resolveBinary', () => {
  it('prefers an explicit path, then FFMPEG_PATH, then PATH, then npm', async () => {
    const env = { PATH: [join(dir, 'plain'), join(dir, 'b')].join(':'), FFMPEG_PATH: a };
    const npmLookup = () => '/nonexistent/npm/ffmpeg';
    const buildLookup = () => undefined;
    expect(await resolveBinary('ffmpeg', { explicit: b, env, npmLookup })).toMatchObject({
      path: b,
      source: 'explicit',
      version: 'ffmpeg version B',
    });
    expect(await resolveBinary('ffmpeg', { env, npmLookup })).toMatchObject({ path: a, source: 'explicit' });
    expect(await resolveBinary('ffmpeg', { env: { PATH: env.PATH }, npmLookup, buildLookup })).toMatchObject({
      path: b,
      source: 'path',
    });
    expect(
      await resolveBinary('ffmpeg', { env: { PATH: join(dir, 'plain') }, npmLookup: () => a, buildLookup }),
    ).toMatchObject({
      path: a,
      source: 'npm',
      version: 'ffmpeg version A',
    });
  });

  it("puts the repository's own build (scripts/build-ffmpeg.sh) after an explicit path, before PATH", async () => {
    const env = { PATH: join(dir, 'b') };
    const buildLookup = () => a;
    expect(await resolveBinary('ffmpeg', { env, buildLookup })).toMatchObject({ path: a, source: 'build' });
    expect(await resolveBinary('ffmpeg', { env, buildLookup, explicit: b })).toMatchObject({ source: 'explicit' });
    // The default lookup: .ffmpeg/bin/ffmpeg three levels above apps/server/src.
    const built = join(import.meta.dirname, '../../../.ffmpeg/bin/ffmpeg');
    expect(buildBinary('ffmpeg')).toBe(existsSync(built) ? built : undefined);
  });

  it('skips non-executable files and relative PATH entries', () => {
    expect(findOnPath('ffmpeg', `${join(dir, 'plain')}:relative/dir:${join(dir, 'a')}`)).toBe(a);
    expect(findOnPath('ffmpeg', join(dir, 'plain'))).toBeUndefined();
    expect(findOnPath('ffmpeg', undefined)).toBeUndefined();
  });

  it('names all three fixes when nothing is found', async () => {
    const err = await resolveBinary('ffmpeg', {
      env: { PATH: join(dir, 'plain') },
      npmLookup: () => undefined,
      buildLookup: () => undefined,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BinaryNotFoundError);
    const msg = (err as Error).message;
    expect(msg).toContain('--ffmpeg');
    expect(msg).toContain('FFMPEG_PATH');
    expect(msg).toContain('PATH');
    expect(msg).toContain('@ffmpeg-installer/ffmpeg');
  });

  it('rejects an explicit path that is not executable', async () => {
    await expect(resolveBinary('ffmpeg', { explicit: notExec, env: {} })).rejects.toThrow(/not an executable file/);
  });

  it('reads the real version line of the ffmpeg on this machine', async () => {
    const real = await resolveBinary('ffmpeg');
    expect(real.version).toMatch(/^ffmpeg version /);
    expect(await readVersion(real.path)).toBe(real.version);
  });

  it('finds the binary shipped inside the optional npm package', async () => {
    const p = npmBinary('ffmpeg');
    expect(p, 'optional dependency @ffmpeg-installer/ffmpeg should be installed').toBeTruthy();
    expect(await readVersion(p as string)).toMatch(/^ffmpeg version /);
  });
});
