import type { Reporter, TestModule } from 'vitest/node';

/**
 * Ends a run with the plain line "N passed, N failed, N skipped", which CI reads in any language
 * to tell a run that executed tests from one that executed none.
 */
export class ClosingLineReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const count = (state: 'passed' | 'failed' | 'skipped') =>
      testModules.reduce((sum, module) => sum + [...module.children.allTests(state)].length, 0);
    process.stdout.write(`\n${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped\n`);
  }
}
