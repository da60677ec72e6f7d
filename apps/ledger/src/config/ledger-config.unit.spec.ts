import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadLedgerConfig } from './ledger-config.js';

describe('ledger configuration: the event store', () => {
  it('is the embedded file unless LEDGER_STORE says otherwise', () => {
    expect(loadLedgerConfig({}, '/srv')).toMatchObject({ storeKind: 'embedded', eventStoreDbConnectionString: null, dataDir: '/srv/.data' });
  });

  it('is an EventStoreDB server with LEDGER_STORE=eventstoredb and its connection string', () => {
    const config = loadLedgerConfig({ LEDGER_STORE: 'eventstoredb', LEDGER_EVENTSTOREDB_CONNECTION_STRING: 'esdb://events:2113?tls=false' });
    expect(config).toMatchObject({ storeKind: 'eventstoredb', eventStoreDbConnectionString: 'esdb://events:2113?tls=false' });
    const cluster = loadLedgerConfig({ LEDGER_STORE: 'eventstoredb', LEDGER_EVENTSTOREDB_CONNECTION_STRING: 'esdb+discover://cluster.internal:2113' });
    expect(cluster.eventStoreDbConnectionString).toBe('esdb+discover://cluster.internal:2113');
  });

  it('refuses an unknown store, and EventStoreDB without a usable connection string, naming each problem', () => {
    const problemsOf = (environment: Record<string, string>) => {
      try {
        loadLedgerConfig(environment);
      } catch (error) {
        if (error instanceof ConfigError) return error.problems;
        throw error;
      }
      throw new Error('Expected a ConfigError');
    };
    expect(problemsOf({ LEDGER_STORE: 'postgres' })).toEqual(['LEDGER_STORE must be one of embedded, eventstoredb, got "postgres"']);
    expect(problemsOf({ LEDGER_STORE: 'eventstoredb' })).toEqual([expect.stringContaining('LEDGER_EVENTSTOREDB_CONNECTION_STRING is required')]);
    expect(problemsOf({ LEDGER_STORE: 'eventstoredb', LEDGER_EVENTSTOREDB_CONNECTION_STRING: 'http://events:2113' })).toEqual([
      expect.stringContaining('must be an EventStoreDB connection string'),
    ]);
  });
});
