/**
 * A Vitest reporter that records, per project, how many tests passed, failed and were
 * skipped, and writes it to `.vitest-results/summary.json`. `scripts/run-tests.mjs`
 * reads it to fail a run in which any configured project collected no test: Vitest
 * itself exits 0 when one project's tests silently vanish.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Reporter, TestModule, Vitest } from 'vitest/node';

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

export default class RequireTestsReporter implements Reporter {
  private ctx: Vitest | undefined;

  onInit(ctx: Vitest): void {
    this.ctx = ctx;
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    const ctx = this.ctx;
    if (!ctx) return;
    const projects: Record<string, Counts> = {};
    for (const p of ctx.projects) projects[p.name] = { passed: 0, failed: 0, skipped: 0 };
    let moduleErrors = 0;
    for (const mod of testModules) {
      const counts = projects[mod.project.name] ?? { passed: 0, failed: 0, skipped: 0 };
      projects[mod.project.name] = counts;
      if (mod.state() === 'failed' && [...mod.children.allTests()].length === 0) moduleErrors++;
      for (const t of mod.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') counts.passed++;
        else if (state === 'failed') counts.failed++;
        else counts.skipped++;
      }
    }
    const dir = join(ctx.config.root, '.vitest-results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'summary.json'),
      JSON.stringify({ projects, moduleErrors, unhandledErrors: unhandledErrors.length }, null, 2),
    );
  }
}
