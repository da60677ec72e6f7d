/**
 * Proves the client we ship (kafkajs 2.2.4) works against the broker we pin (deploy/kafka/pom.xml):
 * admin, an idempotent acks=all producer, and a consumer-group consumer with committed offsets.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import kafkajs from 'kafkajs';
import type { Admin, Consumer, KafkaMessage, Producer } from 'kafkajs';
import { describeWithKafka } from './kafka-broker.js';

const { Kafka, Partitioners, logLevel } = kafkajs;

/** kafkajs internals, read-only, to compare its protocol versions with the broker's (kafkajs is pinned). */
const requireFromHere = createRequire(import.meta.url);
interface ApiRange {
  minVersion: number;
  maxVersion: number;
}
interface KafkajsInternals {
  apiKeys: Record<string, number>;
  requests: Record<string, { versions: string[] }>;
}
function kafkajsInternals(): KafkajsInternals {
  const apiKeys = requireFromHere('kafkajs/src/protocol/requests/apiKeys.js') as Record<string, number>;
  const { requests } = requireFromHere('kafkajs/src/protocol/requests/index.js') as Pick<KafkajsInternals, 'requests'>;
  return { apiKeys, requests };
}
interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  brokerPool: { seedBroker: { versions: Record<number, ApiRange> } };
}
async function brokerApiVersions(brokers: string[]): Promise<Record<number, ApiRange>> {
  const kafka = new Kafka({ clientId: 'incentive-ledger-api-versions', brokers, logLevel: logLevel.NOTHING });
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  if (!symbol) throw new Error('kafkajs internals changed: no private:Kafka:createCluster');
  const createCluster = (kafka as unknown as Record<symbol, (options: object) => InternalCluster>)[symbol]!;
  const cluster = createCluster.call(kafka, {});
  await cluster.connect();
  try {
    return cluster.brokerPool.seedBroker.versions;
  } finally {
    await cluster.disconnect();
  }
}

interface Received {
  partition: number;
  message: KafkaMessage;
}

function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (predicate()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      setTimeout(tick, 50);
    };
    tick();
  });
}

function headerText(message: KafkaMessage, name: string): string | undefined {
  const value = message.headers?.[name];
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value[0] : value)?.toString('utf8');
}

describeWithKafka('kafkajs 2.2.4 against the local Kafka broker', (brokers) => {
  const runId = randomUUID();
  const topic = `it.commission-events.${runId}`;
  const groupId = `it-ledger-projector-${runId}`;
  const participantId = 'participant-42';

  let admin: Admin;
  let producer: Producer;
  let consumer: Consumer;

  beforeAll(async () => {
    const kafka = new Kafka({ clientId: 'incentive-ledger-int-test', brokers, logLevel: logLevel.WARN });
    admin = kafka.admin();
    producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    consumer = kafka.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 1000, maxWaitTimeInMs: 250 });
    await admin.connect();
    await producer.connect();
    await consumer.connect();
  });

  afterAll(async () => {
    await consumer?.disconnect();
    await producer?.disconnect();
    if (admin) {
      await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
  });

  it('negotiates a broker-supported version for every protocol API kafkajs implements', async () => {
    // kafkajs picks min(its newest version, broker max) and ignores the broker minimum. Kafka 4.0 dropped
    // old protocol versions (KIP-896); a broker upgrade that drops more would break kafkajs here first.
    const versions = await brokerApiVersions(brokers);
    const { apiKeys, requests } = kafkajsInternals();
    const unusable: string[] = [];
    let checked = 0;
    for (const [name, key] of Object.entries(apiKeys)) {
      const implemented = (requests[name]?.versions ?? []).map(Number);
      const range = versions[key];
      if (implemented.length === 0 || !range) continue;
      checked += 1;
      const chosen = Math.min(Math.max(...implemented), range.maxVersion);
      if (chosen < range.minVersion) {
        unusable.push(`${name}: kafkajs would send v${chosen}, broker accepts v${range.minVersion}-v${range.maxVersion}`);
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(unusable).toEqual([]);
  });

  it('describes the cluster and creates a topic', async () => {
    const cluster = await admin.describeCluster();
    expect(cluster.brokers.length).toBeGreaterThanOrEqual(1);
    expect(cluster.clusterId).toEqual(expect.any(String));

    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    expect(created).toBe(true);
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0]?.partitions).toHaveLength(3);
  });

  it('produces keyed messages with headers and consumes them back in key order through a consumer group', async () => {
    const events = ['SaleBooked', 'CommissionAccrued', 'CommissionPaid'].map((type, i) => ({
      key: participantId,
      value: JSON.stringify({ type, seq: i + 1, amount: `${(i + 1) * 100}.00` }),
      headers: { 'event-type': type, 'event-seq': String(i + 1), 'content-type': 'application/json' },
    }));

    const acks = await producer.send({ topic, acks: -1, messages: events });
    expect(acks).toHaveLength(1); // same key: one partition
    expect(acks[0]?.errorCode).toBe(0);

    const received: Received[] = [];
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        received.push({ partition, message });
      },
    });
    await waitFor(() => received.length >= events.length, 30000, `${events.length} messages on ${topic}`);

    expect(received).toHaveLength(events.length);
    // All messages for one key sit in one partition, in the order they were produced.
    expect(new Set(received.map((r) => r.partition)).size).toBe(1);
    expect(received[0]?.partition).toBe(acks[0]?.partition);
    expect(received.map((r) => r.message.offset)).toEqual(['0', '1', '2']);
    expect(received.map((r) => r.message.key?.toString('utf8'))).toEqual([participantId, participantId, participantId]);
    expect(received.map((r) => JSON.parse(r.message.value?.toString('utf8') ?? 'null'))).toEqual([
      { type: 'SaleBooked', seq: 1, amount: '100.00' },
      { type: 'CommissionAccrued', seq: 2, amount: '200.00' },
      { type: 'CommissionPaid', seq: 3, amount: '300.00' },
    ]);
    expect(received.map((r) => headerText(r.message, 'event-type'))).toEqual([
      'SaleBooked',
      'CommissionAccrued',
      'CommissionPaid',
    ]);
    expect(received.map((r) => headerText(r.message, 'event-seq'))).toEqual(['1', '2', '3']);
    expect(received.every((r) => headerText(r.message, 'content-type') === 'application/json')).toBe(true);

    // The group commits its position: stopping the consumer commits, and the broker reports offset 3.
    await consumer.stop();
    const partition = received[0]!.partition;
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    const offsets = committed[0]?.partitions.find((p) => p.partition === partition);
    expect(offsets?.offset).toBe('3');

    const groups = await admin.describeGroups([groupId]);
    expect(groups.groups[0]?.groupId).toBe(groupId);
    expect(groups.groups[0]?.protocolType).toBe('consumer');
  });
});
