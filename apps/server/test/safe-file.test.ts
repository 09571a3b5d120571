/**
 * The two ways the server opens a stream's files: a validated name proven inside the output root
 * (symlinks followed, an escape reported), and a whole-file read bounded in size that refuses a
 * final symlink.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWholeFile, resolveInsideRoot } from '../src/storage/safe-file';

let tmp: string;
let outputDir: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'safe-file-test-'));
  outputDir = join(tmp, 'streams');
  await mkdir(join(outputDir, 'alice'), { recursive: true });
  await writeFile(join(outputDir, 'alice', 'live.m3u8'), '#EXTM3U\n');
  await writeFile(join(tmp, 'secret.txt'), 'secret');
  await symlink(join(tmp, 'secret.txt'), join(outputDir, 'alice', 'live_999.ts'));
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('file reading helpers', () => {
  it('resolveInsideRoot returns the real path relative to the real root, or why not', async () => {
    const r = await resolveInsideRoot(outputDir, ['alice', 'live.m3u8']);
    expect(typeof r === 'object' && r.relative).toBe('alice/live.m3u8');
    expect(await resolveInsideRoot(outputDir, ['alice', 'live_999.ts'])).toBe('escape');
    expect(await resolveInsideRoot(outputDir, ['alice'])).toBe('missing');
    expect(await resolveInsideRoot(join(tmp, 'absent'), ['a'])).toBe('missing');
  });

  it('readWholeFile reads a file whole, refuses big files and final symlinks', async () => {
    const dir = await mkdtemp(join(tmp, 'read-'));
    const big = Buffer.alloc(10_000, 0x61);
    await writeFile(join(dir, 'f'), big);
    expect((await readWholeFile(join(dir, 'f'), 20_000))?.body.equals(big)).toBe(true);
    expect((await readWholeFile(join(dir, 'f'), 20_000, { firstRead: 4096 }))?.body.equals(big)).toBe(true);
    expect((await readWholeFile(join(dir, 'f'), 20_000, { firstRead: 20_000 }))?.body.equals(big)).toBe(true);
    expect(await readWholeFile(join(dir, 'f'), 9_999)).toBeUndefined();
    await symlink(join(dir, 'f'), join(dir, 'link'));
    expect(await readWholeFile(join(dir, 'link'), 20_000)).toBeUndefined();
    expect(await readWholeFile(join(dir, 'gone'), 20_000)).toBeUndefined();
  });
});
