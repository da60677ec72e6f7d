/**
 * PostgreSQL for integration tests: a real server, never a mock.
 *
 * - The jest global setup (test/support/global-setup.mjs) starts one from the machine's PostgreSQL binaries and
 *   exports LEDGER_TEST_POSTGRES_URL; a developer may set that variable to use a server of their own instead.
 * - `createTestDatabase()` makes a fresh database on it (C collation, as the read models require) and drops it again.
 * - `describeWithPostgres(name, fn)` runs a suite when a server is there. Without one it fails when
 *   POSTGRES_REQUIRED=1 (CI); only on a developer machine does it skip, with a banner saying so.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { banner, postgresRequired, testPostgresUrl } from './postgres-process.mjs';

export { postgresRequired, startPostgresServer, testPostgresUrl } from './postgres-process.mjs';

export interface TestDatabase {
  /** The new database's URL. */
  url: string;
  name: string;
  /** Drops the database, ending the sessions still connected to it. */
  drop(): Promise<void>;
}

function urlOf(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** The test server's admin URL; throws, saying how to get one, when there is none. */
export function requireTestPostgresUrl(): string {
  const url = testPostgresUrl();
  if (url === null) {
    throw new Error('No PostgreSQL test server: install PostgreSQL (apt-get install postgresql) or set LEDGER_TEST_POSTGRES_URL');
  }
  return url;
}

/** A fresh, empty database on the test server (or on `adminUrl`), named after `label`. */
export async function createTestDatabase(label = 'test', adminUrl: string = requireTestPostgresUrl()): Promise<TestDatabase> {
  const name = `ledger_${label.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`);
  } finally {
    await admin.end();
  }
  return {
    url: urlOf(adminUrl, name),
    name,
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * A describe block that needs a real PostgreSQL server; the callback receives its admin URL.
 * No server: throws if POSTGRES_REQUIRED=1, otherwise skips the block and says so loudly.
 */
export function describeWithPostgres(name: string, fn: (adminUrl: string) => void): void {
  const url = testPostgresUrl();
  if (url !== null) {
    describe(name, () => fn(url));
    return;
  }
  if (postgresRequired()) {
    throw new Error(
      `PostgreSQL suite "${name}" needs a server but there is none and POSTGRES_REQUIRED=1. ` +
        'Install PostgreSQL (apt-get install postgresql: the test setup starts a server) or set LEDGER_TEST_POSTGRES_URL.',
    );
  }
  console.warn(
    banner([
      `SKIPPED: "${name}" - no PostgreSQL server (no binaries, LEDGER_TEST_POSTGRES_URL not set).`,
      'These integration tests did NOT run. To run them: apt-get install postgresql',
      'CI sets POSTGRES_REQUIRED=1, which turns this skip into a failure.',
    ]),
  );
  describe.skip(name, () => fn(''));
}
