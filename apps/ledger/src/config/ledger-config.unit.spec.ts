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

describe('ledger configuration: read models and roles', () => {
  const problemsOf = (environment: Record<string, string>) => {
    try {
      loadLedgerConfig(environment);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    throw new Error('Expected a ConfigError');
  };

  it('keeps the read models in the local SQLite file and runs every role unless told otherwise', () => {
    expect(loadLedgerConfig({}, '/srv')).toMatchObject({ readModelsKind: 'sqlite', postgresUrl: null, roles: ['api', 'projector', 'relay'], leasePollMs: 1000 });
  });

  it('puts them in PostgreSQL with LEDGER_READ_MODELS=postgres and its URL', () => {
    const config = loadLedgerConfig({ LEDGER_READ_MODELS: 'postgres', LEDGER_POSTGRES_URL: 'postgres://ledger:secret@db:5432/ledger', LEDGER_POSTGRES_POOL_SIZE: '20' });
    expect(config).toMatchObject({ readModelsKind: 'postgres', postgresUrl: 'postgres://ledger:secret@db:5432/ledger', postgresPoolSize: 20 });
    expect(problemsOf({ LEDGER_READ_MODELS: 'postgres' })).toEqual([expect.stringContaining('LEDGER_POSTGRES_URL is required')]);
    expect(problemsOf({ LEDGER_READ_MODELS: 'mysql' })).toEqual(['LEDGER_READ_MODELS must be one of sqlite, postgres, got "mysql"']);
    expect(problemsOf({ LEDGER_READ_MODELS: 'postgres', LEDGER_POSTGRES_URL: 'db:5432' })).toEqual([expect.stringContaining('must be a PostgreSQL connection URL')]);
  });

  it('runs the roles LEDGER_ROLES lists, once each, and refuses an unknown one', () => {
    expect(loadLedgerConfig({ LEDGER_ROLES: 'api' }).roles).toEqual(['api']);
    expect(loadLedgerConfig({ LEDGER_ROLES: ' projector , relay,projector' }).roles).toEqual(['projector', 'relay']);
    expect(loadLedgerConfig({ LEDGER_ROLES: 'all' }).roles).toEqual(['api', 'projector', 'relay']);
    expect(problemsOf({ LEDGER_ROLES: 'api,worker' })).toEqual([expect.stringContaining('"worker" is not one')]);
  });
});

describe('ledger configuration: Kafka', () => {
  it('turns Kafka off without brokers', () => {
    expect(loadLedgerConfig({}, '/srv').kafka).toBeNull();
    expect(loadLedgerConfig({ LEDGER_KAFKA_BROKERS: ' ' }, '/srv').kafka).toBeNull();
  });

  it('reads brokers, roles and topic names with their defaults and prefix', () => {
    const kafka = loadLedgerConfig({ LEDGER_KAFKA_BROKERS: 'kafka-0:9092, kafka-1:9092', LEDGER_KAFKA_TOPIC_PREFIX: 'acme.' }, '/srv').kafka;
    expect(kafka).toEqual({
      brokers: ['kafka-0:9092', 'kafka-1:9092'],
      clientId: 'incentive-ledger',
      groupId: 'incentive-ledger',
      roles: new Set(['relay', 'crm-intake', 'payroll-confirmations']),
      topics: {
        payouts: 'acme.icm.payouts.v1',
        attainment: 'acme.icm.attainment.v1',
        crmDeals: 'acme.crm.deals.v1',
        crmDealsDeadLetter: 'acme.crm.deals.v1.dlq',
        payrollConfirmations: 'acme.payroll.confirmations.v1',
        payrollConfirmationsDeadLetter: 'acme.payroll.confirmations.v1.dlq',
      },
      topicPartitions: 6,
      topicReplicationFactor: 1,
      relayBatchSize: 2000,
      retryMaxMs: 10000,
    });
    expect(loadLedgerConfig({ LEDGER_KAFKA_BROKERS: '127.0.0.1:9092', LEDGER_KAFKA_ROLES: 'relay' }, '/srv').kafka?.roles).toEqual(new Set(['relay']));
  });

  it('lists every bad Kafka setting at once', () => {
    let error: unknown;
    try {
      loadLedgerConfig({ LEDGER_KAFKA_BROKERS: 'kafka-0', LEDGER_KAFKA_ROLES: 'relay,projector', LEDGER_KAFKA_TOPIC_PARTITIONS: '0' }, '/srv');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'LEDGER_KAFKA_BROKERS must list host:port entries, got "kafka-0"',
      'LEDGER_KAFKA_ROLES may list relay, crm-intake, payroll-confirmations, got "projector"',
      'LEDGER_KAFKA_TOPIC_PARTITIONS must be an integer from 1 to 1000, got "0"',
    ]);
  });
});
