/**
 * A plain kafkajs consumer for tests: reads topics from the beginning and keeps every record with its partition,
 * offset, key and headers, as a payroll or forecasting system would see them. Nothing of the ledger's own Kafka code.
 */
import { randomUUID } from 'node:crypto';
import kafkajs from 'kafkajs';
import type { Consumer, KafkaMessage } from 'kafkajs';

const { Kafka, logLevel } = kafkajs;

export interface ReadRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  value: Uint8Array;
  headers: Record<string, string>;
  /** When this reader received it (ms, performance.now()). */
  receivedAt: number;
}

export interface TopicReader {
  records: ReadRecord[];
  /** Resolves when `predicate` holds for the records read so far; rejects after `timeoutMs`. */
  waitFor(predicate: (records: ReadRecord[]) => boolean, timeoutMs: number, what: string): Promise<void>;
  close(): Promise<void>;
}

const headerText = (message: KafkaMessage): Record<string, string> =>
  Object.fromEntries(
    Object.entries(message.headers ?? {}).map(([name, value]) => [name, (Array.isArray(value) ? value[0] : value)?.toString('utf8') ?? '']),
  );

/** Reads `topics` from their beginning; creates those that do not exist yet (with `partitions`, default 3). */
export async function readTopics(brokers: string[], topics: string[], options: { maxWaitTimeInMs?: number; partitions?: number } = {}): Promise<TopicReader> {
  const kafka = new Kafka({ clientId: 'test-topic-reader', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length > 0) await admin.createTopics({ waitForLeaders: true, topics: missing.map((topic) => ({ topic, numPartitions: options.partitions ?? 3 })) });
  } finally {
    await admin.disconnect();
  }
  const consumer: Consumer = kafka.consumer({ groupId: `test-reader-${randomUUID()}`, maxWaitTimeInMs: options.maxWaitTimeInMs ?? 100, sessionTimeout: 10000, heartbeatInterval: 1000 });
  await consumer.connect();
  // A topic the service has just created in the background may be listed before its partitions have a leader.
  for (let attempt = 1; ; attempt++) {
    try {
      await consumer.subscribe({ topics, fromBeginning: true });
      break;
    } catch (error) {
      if ((error as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION' || attempt >= 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const records: ReadRecord[] = [];
  const listeners = new Set<() => void>();
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      records.push({
        topic,
        partition,
        offset: message.offset,
        key: message.key?.toString('utf8') ?? '',
        value: new Uint8Array(message.value ?? Buffer.alloc(0)),
        headers: headerText(message),
        receivedAt: performance.now(),
      });
      for (const listener of listeners) listener();
    },
  });
  return {
    records,
    waitFor(predicate, timeoutMs, what) {
      if (predicate(records)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${records.length} records read)`));
        }, timeoutMs);
        const listener = (): void => {
          if (!predicate(records)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve();
        };
        listeners.add(listener);
      });
    },
    async close() {
      await consumer.disconnect();
    },
  };
}
