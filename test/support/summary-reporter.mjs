// Keeps the run's totals for test/support/global-teardown.mjs, which prints them as the run's very last line,
// e.g. "Tests: 460 passed, 0 failed, 0 skipped", after jest's own summary and after the servers have stopped.
export default class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    globalThis.__incentiveLedgerTestTotals = `Tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped`;
  }
}
