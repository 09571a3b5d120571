#!/usr/bin/env node
// Runs the whole Vitest suite (every project of vitest.workspace.ts), then fails when
// Vitest failed, when any project ran no test, or when nothing ran at all. Prints a
// closing line "tests: N passed, N failed, N skipped" that CI reads.
// Extra arguments go to Vitest (e.g. `--project rtmp`).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const summaryPath = join(root, '.vitest-results', 'summary.json');
rmSync(summaryPath, { force: true });

const vitestBin = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const args = process.argv.slice(2);
const run = spawnSync(process.execPath, [vitestBin, 'run', ...args], { cwd: root, stdio: 'inherit' });
const vitestCode = run.status ?? 1;

if (!existsSync(summaryPath)) {
  console.error('run-tests: Vitest wrote no summary (it crashed or collected nothing).');
  console.log('tests: 0 passed, 1 failed');
  process.exit(1);
}
const summary = JSON.parse(readFileSync(summaryPath, 'utf8'));
const selected = new Set();
for (let i = 0; i < args.length; i++) if (args[i] === '--project' && args[i + 1]) selected.add(args[i + 1]);

let passed = 0;
let failed = 0;
let skipped = 0;
const empty = [];
console.log('\nPer-project results:');
for (const [name, c] of Object.entries(summary.projects)) {
  if (selected.size > 0 && !selected.has(name)) continue;
  passed += c.passed;
  failed += c.failed;
  skipped += c.skipped;
  console.log(`  ${name.padEnd(12)} ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
  if (c.passed + c.failed === 0) empty.push(name);
}
let code = vitestCode;
if (empty.length > 0) {
  console.error(`run-tests: these projects ran no test: ${empty.join(', ')}`);
  code = code || 1;
}
if (passed + failed === 0) {
  console.error('run-tests: no test ran');
  code = code || 1;
}
if (summary.moduleErrors > 0 || summary.unhandledErrors > 0) {
  console.error(
    `run-tests: ${summary.moduleErrors} test files failed to load, ${summary.unhandledErrors} unhandled errors`,
  );
  code = code || 1;
}
if (code !== 0 && failed === 0) failed = 1;
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(code);
