// jest globalTeardown: stops the servers the global setup started, then prints the plain closing line.
import kafkaTeardown from './kafka/global-teardown.mjs';
import { stopPostgresForTests } from './postgres/postgres-process.mjs';

export default async function globalTeardown() {
  try {
    await kafkaTeardown();
  } finally {
    await stopPostgresForTests();
  }
  if (globalThis.__incentiveLedgerTestTotals) process.stdout.write(`${globalThis.__incentiveLedgerTestTotals}\n`);
}
