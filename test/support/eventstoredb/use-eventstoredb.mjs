// jest setupFiles of the "e2e on eventstoredb + postgresql" project: every app the end-to-end tests start runs on the
// EventStoreDB adapter, against a fresh EventStoreDB test double, with its read models in a fresh database on the
// PostgreSQL test server (see test/support/ledger-test-app.ts): the scale-out topology. Without a PostgreSQL server
// the read models stay in SQLite and a banner says so; under POSTGRES_REQUIRED=1 (CI) that is an error.
import { banner, postgresRequired, testPostgresUrl } from '../postgres/postgres-process.mjs';

process.env.LEDGER_TEST_STORE = 'eventstoredb';
if (testPostgresUrl() !== null) {
  process.env.LEDGER_TEST_READ_MODELS = 'postgres';
} else if (postgresRequired()) {
  throw new Error('The e2e suite on eventstoredb + postgresql needs a PostgreSQL server and POSTGRES_REQUIRED=1: install PostgreSQL or set LEDGER_TEST_POSTGRES_URL');
} else {
  console.warn(banner(['No PostgreSQL server: this e2e run keeps its read models in SQLite.', 'The PostgreSQL read models are NOT tested end to end.']));
}
