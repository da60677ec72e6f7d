// jest globalTeardown: stops the servers the global setup started, then prints the plain closing line.
import kafkaTeardown from './kafka/global-teardown.mjs';

export default async function globalTeardown() {
  await kafkaTeardown();
  if (globalThis.__incentiveLedgerTestTotals) process.stdout.write(`${globalThis.__incentiveLedgerTestTotals}\n`);
}
