import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import type { EventStore } from '#lib/event-store/event-store.port.js';
import { applyCrmDealEvent } from '#lib/integration/application/crm-deal-intake.js';
import type { IntakeOutcome } from '#lib/integration/application/intake.js';
import { OutboundRelay, type RelayStatus } from '#lib/integration/application/outbound-relay.js';
import { applyPayrollConfirmation } from '#lib/integration/application/payroll-confirmation-intake.js';
import { createKafkaClient } from '#lib/integration/infrastructure/kafka-client.js';
import { KafkaFeedPublisher } from '#lib/integration/infrastructure/kafka-feed-publisher.js';
import { KafkaIntakeConsumer } from '#lib/integration/infrastructure/kafka-intake-consumer.js';
import { SqliteRelayStateStore } from '#lib/integration/infrastructure/sqlite-relay-state.js';
import type { KafkaConfig } from '../config/ledger-config.js';

export interface KafkaIntegrationStatus {
  relay: { status: RelayStatus; position: number; lastError: string | null } | null;
  consumers: string[];
}

const describeError = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * The service's Kafka side, as configured (LEDGER_KAFKA_*): the outbound relay (payout and attainment feeds) and the
 * inbound consumers (CRM deals, payroll confirmations). Everything starts in the background and retries while the
 * broker is away: the service starts and takes commands whether or not Kafka answers.
 */
export class KafkaIntegration {
  private readonly logger = new Logger('Kafka');
  private readonly relay: OutboundRelay | null = null;
  private readonly relayState: SqliteRelayStateStore | null = null;
  private readonly publisher: KafkaFeedPublisher | null = null;
  private readonly consumers: { name: string; consumer: KafkaIntakeConsumer }[] = [];

  constructor(
    readonly config: KafkaConfig,
    store: EventStore,
    dataDir: string,
    /** The service clock: the business time of events recorded from a message that carries none. */
    clock: () => Date,
  ) {
    const kafka = createKafkaClient({
      brokers: config.brokers,
      clientId: config.clientId,
      log: (level, message) => (level === 'warn' ? this.logger.warn(message) : this.logger.debug(message)),
    });
    const { topics } = config;
    if (config.roles.has('relay')) {
      this.relayState = new SqliteRelayStateStore(join(dataDir, 'relay.sqlite'));
      this.publisher = new KafkaFeedPublisher({
        brokers: config.brokers,
        clientId: config.clientId,
        topics: [topics.payouts, topics.attainment],
        topicPartitions: config.topicPartitions,
        topicReplicationFactor: config.topicReplicationFactor,
      });
      this.relay = new OutboundRelay(store, this.relayState, this.publisher, {
        topics: { payouts: topics.payouts, attainment: topics.attainment },
        batchSize: config.relayBatchSize,
        retryMaxDelayMs: config.retryMaxMs,
        onPublishFailed: (error, attempt, retryInMs) =>
          this.logger.warn(`Relay could not publish (attempt ${attempt}): ${describeError(error)}; trying the same batch again in ${retryInMs} ms`),
        onFailed: (error) => this.logger.error(`Relay stopped: ${describeError(error)}`),
      });
    }
    const intake = (name: string, topic: string, deadLetterTopic: string, handler: (value: Uint8Array) => Promise<IntakeOutcome>): void => {
      const consumer = new KafkaIntakeConsumer(kafka, {
        topic,
        deadLetterTopic,
        groupId: `${config.groupId}-${name}`,
        handler,
        topicPartitions: config.topicPartitions,
        topicReplicationFactor: config.topicReplicationFactor,
        retryMaxDelayMs: config.retryMaxMs,
        onOutcome: (outcome, where) => {
          if (outcome.status === 'rejected') this.logger.warn(`${topic}[${where.partition}]@${where.offset} dead-lettered: ${outcome.code}: ${outcome.reason}`);
        },
        onConnectFailed: (error, retryInMs) => this.logger.warn(`${name} could not connect: ${describeError(error)}; retrying in ${retryInMs} ms`),
      });
      this.consumers.push({ name, consumer });
    };
    if (config.roles.has('crm-intake')) intake('crm-intake', topics.crmDeals, topics.crmDealsDeadLetter, (value) => applyCrmDealEvent(store, value, clock));
    if (config.roles.has('payroll-confirmations')) {
      intake('payroll-confirmations', topics.payrollConfirmations, topics.payrollConfirmationsDeadLetter, (value) => applyPayrollConfirmation(store, value, clock));
    }
  }

  /** The relay, when this process runs it (for tests and benchmarks that wait on its checkpoint). */
  get outboundRelay(): OutboundRelay | null {
    return this.relay;
  }

  async start(): Promise<void> {
    await this.relay?.start();
    for (const { consumer } of this.consumers) consumer.start();
    this.logger.log(`Kafka on ${this.config.brokers.join(',')}: ${[...this.config.roles].join(', ')}`);
  }

  async stop(): Promise<void> {
    await Promise.all(this.consumers.map(({ consumer }) => consumer.stop()));
    await this.relay?.stop();
    await this.publisher?.close();
    this.relayState?.close();
  }

  status(): KafkaIntegrationStatus {
    return {
      relay: this.relay === null ? null : { status: this.relay.status, position: this.relay.position, lastError: this.relay.lastError === null ? null : describeError(this.relay.lastError) },
      consumers: this.consumers.map(({ name }) => name),
    };
  }
}
