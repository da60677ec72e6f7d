/**
 * The command line with the read models in PostgreSQL: `rebuild` folds the log into the database the service uses,
 * and refuses while a projector holds the projector lease.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, jest } from '@jest/globals';
import { PostgresReadModelDb } from '#lib/shared/infrastructure/postgres-read-model-db.js';
import { runCli } from '../../apps/cli/src/main.js';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/postgres/postgres-test-db.js';

describeWithPostgres('cli rebuild with PostgreSQL read models', () => {
  let dataDir: string;
  let database: TestDatabase;
  let environment: Record<string, string>;
  const output: string[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-cli-pg-'));
    database = await createTestDatabase('cli');
    environment = { LEDGER_DATA_DIR: dataDir, LEDGER_READ_MODELS: 'postgres', LEDGER_POSTGRES_URL: database.url };
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => output.push(String(chunk)) > 0);
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => output.push(String(chunk)) > 0);
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('rebuilds the read models into PostgreSQL from the log', async () => {
    expect(await runCli(['seed-demo', '--payees', '10', '--deals', '120', '--seed', '5'], environment)).toBe(0);
    expect(await runCli(['rebuild'], environment)).toBe(0);
    expect(output.join('')).toMatch(/Rebuilt .*deals.* from position 0 to \d+/);
    const db = await PostgresReadModelDb.open({ connectionString: database.url });
    try {
      expect(await db.read((reader) => reader.get('SELECT count(*) AS count FROM deals'))).toEqual({ count: 120 });
    } finally {
      await db.close();
    }
  });

  it('refuses while a projector holds the lease', async () => {
    const projector = await PostgresReadModelDb.open({ connectionString: database.url });
    try {
      expect(await projector.projectorLease({ holder: 'a running projector' }).tryAcquire()).toBe(true);
      output.length = 0;
      expect(await runCli(['rebuild'], environment)).toBe(3);
      expect(output.join('')).toContain('stop the projector processes');
    } finally {
      await projector.close();
    }
  });
});
