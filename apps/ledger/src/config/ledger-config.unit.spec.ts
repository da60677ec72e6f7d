import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadLedgerConfig } from './ledger-config.js';

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
