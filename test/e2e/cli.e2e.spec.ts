/**
 * The command line against a data directory as the service uses it: seed a demo org, verify the hash chain,
 * rebuild the read models, and catch a tampered event.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { jest } from '@jest/globals';
import { runCli } from '../../apps/cli/src/main.js';
import { SqliteReadModelDb } from '#lib/shared/infrastructure/sqlite-read-model-db.js';
import { loadLedgerConfig } from '../../apps/ledger/src/config/ledger-config.js';
import { TokenVerifier } from '../../apps/ledger/src/http/auth/bearer-tokens.js';

describe('cli', () => {
  let dataDir: string;
  let output: string[];

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-cli-'));
  });

  beforeEach(() => {
    output = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      output.push(String(chunk));
      return true;
    });
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('seeds a demo org, verifies it, rebuilds read models from it, and names a tampered event', async () => {
    expect(await runCli(['seed-demo', '--data-dir', dataDir, '--payees', '12', '--deals', '150', '--seed', '7'])).toBe(0);
    expect(output.join('')).toMatch(/Seeded 12 payees, \d+ quotas and 150 deals \(\d+ events\)/);

    expect(await runCli(['verify', '--data-dir', dataDir])).toBe(0);
    expect(output.join('')).toMatch(/OK: \d+ events, hash chain intact/);

    expect(await runCli(['rebuild', '--data-dir', dataDir])).toBe(0);
    expect(output.join('')).toMatch(/Rebuilt payee-directory|Rebuilt .*attainment/);
    const readModels = SqliteReadModelDb.open({ path: join(dataDir, 'read-models.sqlite') });
    const deals = await readModels.read((reader) => reader.get<{ count: number }>('SELECT COUNT(*) AS count FROM deals', []));
    await readModels.close();
    expect(deals?.count).toBe(150);

    const database = new Database(join(dataDir, 'events.sqlite'));
    const victim = database.prepare("SELECT position, event_id FROM events WHERE type = 'DealClosedWon' ORDER BY position LIMIT 1 OFFSET 10").get() as {
      position: number;
      event_id: string;
    };
    database.prepare("UPDATE events SET data = replace(data, '\"currency\":\"USD\"', '\"currency\":\"EUR\"') WHERE position = ?").run(victim.position);
    database.close();
    output = [];
    expect(await runCli(['verify', '--data-dir', dataDir])).toBe(1);
    expect(output.join('')).toContain(`MISMATCH at position ${victim.position}: event ${victim.event_id}`);
  });

  it('mints a token with the secret it keeps in the data directory, which the service then verifies', async () => {
    const environment = { LEDGER_DATA_DIR: dataDir };
    expect(await runCli(['token', '--role', 'rep', '--payee', 'P-1', '--ttl', '30m'], environment)).toBe(0);
    const token = output.join('').trim();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const secretFile = join(dataDir, 'auth-secret');
    if (process.platform !== 'win32') expect(statSync(secretFile).mode & 0o777).toBe(0o600);

    const verifier = await TokenVerifier.create(loadLedgerConfig(environment).auth);
    expect(await verifier.verify(token)).toEqual({ actor: { id: 'P-1', role: 'rep' }, payeeId: 'P-1' });
    const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { exp: number; iat: number };
    expect(payload.exp - payload.iat).toBe(1800);
  });

  it('refuses a token for a rep without their payee, or for an unknown role', async () => {
    const errors: string[] = [];
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      errors.push(String(chunk));
      return true;
    });
    expect(await runCli(['token', '--data-dir', dataDir, '--role', 'rep'])).toBe(2);
    expect(await runCli(['token', '--data-dir', dataDir, '--role', 'owner'])).toBe(2);
    expect(await runCli(['token', '--data-dir', dataDir, '--role', 'admin', '--ttl', '90d'])).toBe(2);
    expect(errors.join('')).toMatch(/needs --payee[\s\S]*--role must be one of[\s\S]*--ttl must be/);
    expect(output.join('')).toBe('');
  });

  it('refuses an unknown command with usage', async () => {
    const errors: string[] = [];
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      errors.push(String(chunk));
      return true;
    });
    expect(await runCli(['frobnicate', '--data-dir', dataDir])).toBe(2);
    expect(errors.join('')).toContain('Unknown command "frobnicate"');
  });
});
