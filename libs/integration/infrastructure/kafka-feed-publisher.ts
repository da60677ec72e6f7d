import kafkajs, { type Kafka, type Message, type Producer } from 'kafkajs';
import type { FeedMessage, FeedPublisher } from '../application/feed-message.js';

const { Partitioners } = kafkajs;

export interface KafkaFeedPublisherOptions {
  /** Topics created at first connection when missing (an existing topic is left as it is). */
  topics: readonly string[];
  /** Partitions of a topic the publisher creates. Default 6. */
  topicPartitions?: number;
  /** Replication factor of a topic the publisher creates. Default 1 (a single broker); 3 in production. */
  topicReplicationFactor?: number;
  /**
   * Most bytes of values sent in one produce request. The broker refuses a record batch over `message.max.bytes`
   * (1 MiB by default), and kafkajs puts a request's records for one partition into one batch. Default 900 KiB.
   */
  maxBytesPerRequest?: number;
}

/**
 * Sends feed messages through an idempotent kafkajs producer with acks=all and one request in flight, so that
 * records of one key land in the order given, even when a request is retried. Uses the Java client's partitioner
 * (murmur2 of the key), so every client agrees on which partition holds a payee.
 *
 * After a failure the producer is dropped and a fresh one is connected on the next publish: a producer that lost its
 * broker mid-request may have sequence numbers the broker no longer agrees with.
 */
export class KafkaFeedPublisher implements FeedPublisher {
  private producer: Producer | null = null;
  private topicsEnsured = false;
  private readonly maxBytesPerRequest: number;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: KafkaFeedPublisherOptions,
  ) {
    this.maxBytesPerRequest = options.maxBytesPerRequest ?? 900 * 1024;
  }

  async publish(messages: readonly FeedMessage[]): Promise<void> {
    try {
      const producer = await this.connected();
      for (const chunk of this.chunks(messages)) {
        const byTopic = new Map<string, Message[]>();
        for (const message of chunk) {
          let list = byTopic.get(message.topic);
          if (list === undefined) byTopic.set(message.topic, (list = []));
          list.push({ key: message.key, value: Buffer.from(message.value.buffer, message.value.byteOffset, message.value.byteLength), headers: { ...message.headers } });
        }
        await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, topicMessages]) => ({ topic, messages: topicMessages })) });
      }
    } catch (error) {
      await this.dropProducer();
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.dropProducer();
  }

  private async connected(): Promise<Producer> {
    if (!this.topicsEnsured) {
      await ensureTopics(this.kafka, this.options.topics, this.options.topicPartitions ?? 6, this.options.topicReplicationFactor ?? 1);
      this.topicsEnsured = true;
    }
    if (this.producer === null) {
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      this.producer = producer;
    }
    return this.producer;
  }

  private async dropProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = null;
    await producer?.disconnect().catch(() => undefined);
  }

  private *chunks(messages: readonly FeedMessage[]): Generator<FeedMessage[]> {
    let chunk: FeedMessage[] = [];
    let bytes = 0;
    for (const message of messages) {
      const size = message.value.byteLength + message.key.length + 200;
      if (chunk.length > 0 && bytes + size > this.maxBytesPerRequest) {
        yield chunk;
        chunk = [];
        bytes = 0;
      }
      chunk.push(message);
      bytes += size;
    }
    if (chunk.length > 0) yield chunk;
  }
}

/** Creates the topics that do not exist yet. */
export async function ensureTopics(kafka: Kafka, topics: readonly string[], partitions: number, replicationFactor: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = [...new Set(topics)].filter((topic) => !existing.has(topic));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor })),
    });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
