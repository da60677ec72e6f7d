import kafkajs, { type Consumer, type IHeaders, type Kafka, type Producer } from 'kafkajs';
import type { IntakeHandler, IntakeOutcome } from '../application/intake.js';
import { ensureTopics } from './kafka-feed-publisher.js';

const { Partitioners } = kafkajs;

export interface KafkaIntakeConsumerOptions {
  topic: string;
  /** Where rejected messages go, with the reason in headers. */
  deadLetterTopic: string;
  groupId: string;
  handler: IntakeHandler;
  /** Partitions of a topic the consumer creates when missing. Default 6. */
  topicPartitions?: number;
  topicReplicationFactor?: number;
  /** Told about every message handled (for logs and tests). */
  onOutcome?: (outcome: IntakeOutcome, where: { topic: string; partition: number; offset: string }) => void;
  /** Told when connecting fails; the consumer waits and tries again. */
  onConnectFailed?: (error: unknown, retryInMs: number) => void;
  /** Longest wait between connection attempts. Default 10 s. */
  retryMaxDelayMs?: number;
}

/**
 * A consumer group member for an inbound topic: hands each message to the handler, one at a time per partition,
 * and commits the offset after it. A rejected message is copied to the dead-letter topic (same key, value and
 * headers, plus `dlq-reason`, `dlq-code`, `dlq-source-topic`, `dlq-source-partition`, `dlq-source-offset`), acknowledged
 * by the broker before the consumer moves on. A handler that throws (the store failing) makes kafkajs retry the
 * message. Delivery is at least once: handlers are idempotent.
 *
 * `start` returns at once; connecting is retried in the background while the broker is away.
 */
export class KafkaIntakeConsumer {
  private consumer: Consumer | null = null;
  private producer: Producer | null = null;
  private stopped = false;
  private starting: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: KafkaIntakeConsumerOptions,
  ) {}

  start(): void {
    if (this.starting !== null) return;
    this.stopped = false;
    this.starting = this.connectWithRetry();
  }

  /** Resolves once the consumer has joined its group and runs (for tests that must not miss a message). */
  async running(): Promise<void> {
    await this.starting;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.starting;
    this.starting = null;
    await this.disconnect();
  }

  private async connectWithRetry(): Promise<void> {
    let delay = 250;
    while (!this.stopped) {
      try {
        await this.connect();
        return;
      } catch (error) {
        await this.disconnect();
        if (this.stopped) return;
        this.options.onConnectFailed?.(error, delay);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = null;
        delay = Math.min(delay * 2, this.options.retryMaxDelayMs ?? 10_000);
      }
    }
  }

  private async connect(): Promise<void> {
    const { topic, deadLetterTopic, groupId } = this.options;
    await ensureTopics(this.kafka, [topic, deadLetterTopic], this.options.topicPartitions ?? 6, this.options.topicReplicationFactor ?? 1);
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    this.producer = producer;
    await producer.connect();
    const consumer = this.kafka.consumer({ groupId, sessionTimeout: 30_000, heartbeatInterval: 3000, maxWaitTimeInMs: 250 });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic: from, partition, message }) => {
        const outcome = await this.options.handler(new Uint8Array(message.value ?? Buffer.alloc(0)));
        if (outcome.status === 'rejected') {
          const headers: IHeaders = {
            ...(message.headers ?? {}),
            'dlq-reason': `${outcome.code}: ${outcome.reason}`,
            'dlq-code': outcome.code,
            'dlq-source-topic': from,
            'dlq-source-partition': String(partition),
            'dlq-source-offset': message.offset,
          };
          await producer.send({ topic: deadLetterTopic, acks: -1, messages: [{ key: message.key, value: message.value, headers }] });
        }
        this.options.onOutcome?.(outcome, { topic: from, partition, offset: message.offset });
      },
    });
  }

  private async disconnect(): Promise<void> {
    const consumer = this.consumer;
    const producer = this.producer;
    this.consumer = null;
    this.producer = null;
    await consumer?.disconnect().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
  }
}
