// jest globalSetup: starts the servers the integration suites need, unless the environment names them already:
// a Kafka broker (KAFKA_BROKERS) and a PostgreSQL server (LEDGER_TEST_POSTGRES_URL). Pair with global-teardown.mjs.
import kafkaSetup from './kafka/global-setup.mjs';
import { startPostgresForTests } from './postgres/postgres-process.mjs';

export default async function globalSetup() {
  await startPostgresForTests();
  await kafkaSetup();
}
