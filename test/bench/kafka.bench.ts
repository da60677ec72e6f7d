import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { cpuUsage } from 'node:process';
import kafkajs from 'kafkajs';
import { fromBinary } from '@bufbuild/protobuf';
import type { EventStore, NewEvent } from '#lib/event-store/event-store.port.js';
import { SqliteEventStore } from '#lib/event-store/embedded/sqlite-event-store.js';
import type { CommandContext } from '#lib/shared/application/command-context.js';
import { foldEvents, type DomainEvent } from '#lib/shared/domain/decider.js';
import { periodDecider, periodStreamId, type PeriodCommand, type PeriodEvent } from '#lib/payouts/domain/period.decider.js';
import { payoutIdFor } from '#lib/payouts/domain/payout-id.js';
import { writeSyntheticLedger } from '#lib/projections/bench/synthetic-ledger.js';
import { OutboundRelay } from '#lib/integration/application/outbound-relay.js';
import type { FeedTopics } from '#lib/integration/application/feed-message.js';
import { createKafkaClient } from '#lib/integration/infrastructure/kafka-client.js';
import { KafkaFeedPublisher } from '#lib/integration/infrastructure/kafka-feed-publisher.js';
import { SqliteRelayStateStore } from '#lib/integration/infrastructure/sqlite-relay-state.js';
import { PayoutEventSchema } from '#lib/integration/contracts/generated/incentive_ledger/payouts/v1/payout_events_pb.js';
import { atLeast, percentile, type BenchFigure } from './bench-types.js';
import { PeriodDriver, frozenStatement } from './period-driver.js';

const { Kafka, logLevel } = kafkajs;

export interface KafkaBenchOptions {
  dir: string;
  /** Broker list; default KAFKA_BROKERS. */
  brokers?: string[];
  /** Periods x payees approved one payee per event, for the throughput figure. Default 40 x 1000. */
  throughputPeriods?: number;
  throughputPayees?: number;
  /** Deals in the mixed log (each credits two reps and a manager, so it moves nine attainment rows). Default 10,000. */
  mixedDeals?: number;
  /** Approval commands per second and for how long, for the latency figure. Default 500/s for 20 s. */
  approvalsPerSecond?: number;
  latencySeconds?: number;
}

/**
 * The relay against a real broker (KAFKA_BROKERS):
 * 1. Throughput of a catch-up: a log of payout approvals (one payee per event, as finance approves payee by payee)
 *    relayed from position 0 to the head, every message acknowledged by the broker (acks=all, idempotent producer,
 *    one request in flight) and the checkpoint stored. Target 20,000 events/s. Also the same for a mixed log (payees,
 *    quotas, deals credited to two reps and a manager, amended and cancelled: several attainment messages per event),
 *    reported without a target.
 * 2. Latency, end to end: approval commands at a steady rate through the command loop (read, decide, append with
 *    fsync) with the relay live; for each, the time from the command's acknowledgement to the moment a plain kafkajs
 *    consumer holds the message. Target p99 <= 250 ms at 500 approvals/s.
 */
export async function runKafkaBench(options: KafkaBenchOptions): Promise<BenchFigure[]> {
  const brokers = options.brokers ?? (process.env.KAFKA_BROKERS ?? '').split(',').filter((broker) => broker.trim() !== '');
  if (brokers.length === 0) {
    return [{ name: 'not run: KAFKA_BROKERS is not set (deploy/kafka/kafka.sh start)', value: 0, unit: '', target: 'a broker', pass: false }];
  }
  const runId = randomUUID().slice(0, 8);
  const kafka = createKafkaClient({ brokers, clientId: `bench-${runId}` });
  const createdTopics: string[] = [];
  const topicsFor = (name: string): FeedTopics => {
    const topics = { payouts: `bench-${runId}-${name}.icm.payouts.v1`, attainment: `bench-${runId}-${name}.icm.attainment.v1` };
    createdTopics.push(topics.payouts, topics.attainment);
    return topics;
  };
  try {
    const payouts = await catchUpThroughput(options.dir, brokers, topicsFor('payouts'), (store) => writeApprovals(store, options.throughputPeriods ?? 40, options.throughputPayees ?? 1000));
    const mixed = await catchUpThroughput(options.dir, brokers, topicsFor('mixed'), async (store) => {
      const written = await writeSyntheticLedger(store, { payees: 1000, deals: options.mixedDeals ?? 10_000 });
      return written + (await writeApprovals(store, 10, 1000));
    });
    const latency = await approvalLatency(options.dir, brokers, topicsFor('latency'), options.approvalsPerSecond ?? 500, options.latencySeconds ?? 20);
    return [
      atLeast(`relay catch-up, ${payouts.events} payout approval events`, payouts.eventsPerSecond, 'events/s', 20_000),
      { name: 'messages acknowledged (same run)', value: payouts.messagesPerSecond, unit: 'messages/s' },
      { name: 'CPU per event, this process (same run)', value: payouts.cpuMicrosecondsPerEvent, unit: 'µs' },
      { name: `relay catch-up, mixed log of ${mixed.events} events (deals, quotas, approvals)`, value: mixed.eventsPerSecond, unit: 'events/s' },
      { name: 'messages acknowledged (same run)', value: mixed.messagesPerSecond, unit: 'messages/s' },
      { name: 'CPU per message, this process (same run)', value: mixed.cpuMicrosecondsPerMessage, unit: 'µs' },
      { name: `approvals sent, ${latency.rate}/s for ${latency.seconds} s`, value: latency.approvals, unit: 'commands' },
      { name: 'command latency p99 (same run)', value: latency.commandMsP99, unit: 'ms' },
      { name: 'acknowledged -> readable latency p50 (same run)', value: latency.latencyMsP50, unit: 'ms' },
      { name: 'acknowledged -> readable latency p99', value: latency.latencyMsP99, unit: 'ms', target: '<= 250', pass: latency.latencyMsP99 <= 250 },
    ];
  } finally {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: createdTopics }).catch(() => undefined);
    await admin.disconnect();
  }
}

const metadata = {
  actor: { id: 'bench', role: 'finance' },
  correlationId: 'bench',
  causationId: null,
  commandId: null,
  occurredAt: '2026-04-01T00:00:00.000Z',
};
const toNew = (events: DomainEvent[]): NewEvent[] => events.map((event) => ({ eventId: randomUUID(), type: event.type, schemaVersion: 1, data: event.data, metadata }));

/**
 * Periods closed with `payees` statements, then approved one payee per event. Opening and closing are decided by the
 * period decider; the approvals are written as it would write them (one payout each, its id derived from payee,
 * period and digest) without folding the period once per approval, which would make writing the log quadratic.
 */
async function writeApprovals(store: EventStore, periods: number, payees: number): Promise<number> {
  let written = 0;
  const payeeIds = Array.from({ length: payees }, (_, index) => `p${index}`);
  await Promise.all(
    Array.from({ length: periods }, async (_, periodIndex) => {
      const periodId = `2025-${String((periodIndex % 12) + 1).padStart(2, '0')}-${periodIndex}`;
      const statements = payeeIds.map((payeeId, index) => frozenStatement(payeeId, `${1000 + index}.${String(index % 100).padStart(2, '0')}`));
      const commands: PeriodCommand[] = [
        { type: 'OpenPeriod', data: { calendarId: 'bench', periodId, startsOn: '2025-01-01', endsOn: '2025-01-31', openedBy: 'analyst-1' } },
        { type: 'ClosePeriod', data: { preparedBy: 'analyst-1', statements } },
      ];
      const opened: PeriodEvent[] = [];
      for (const command of commands) opened.push(...periodDecider.decide(command, foldEvents(periodDecider, opened)));
      const streamId = periodStreamId('bench', periodId);
      await store.append(streamId, toNew(opened), 'no_stream');
      let revision = opened.length - 1;
      written += opened.length;
      for (let start = 0; start < payees; start += 100) {
        const approvals: PeriodEvent[] = statements.slice(start, start + 100).map(({ payeeId, statementDigest, currency, netPayable }) => ({
          type: 'PayoutsApproved',
          data: { approvedBy: 'finance-1', payouts: [{ payeeId, payoutId: payoutIdFor({ payeeId, periodId, statementDigest }), statementDigest, currency, netPayable }] },
        }));
        await store.append(streamId, toNew(approvals), revision);
        revision += approvals.length;
        written += approvals.length;
      }
    }),
  );
  return written;
}

interface Throughput {
  events: number;
  eventsPerSecond: number;
  messagesPerSecond: number;
  cpuMicrosecondsPerEvent: number;
  cpuMicrosecondsPerMessage: number;
}

async function catchUpThroughput(dir: string, brokers: string[], topics: FeedTopics, write: (store: EventStore) => Promise<number>): Promise<Throughput> {
  const name = randomUUID();
  const store = SqliteEventStore.open({ path: join(dir, `${name}.events.sqlite`) });
  const state = new SqliteRelayStateStore(join(dir, `${name}.relay.sqlite`));
  const publisher = new KafkaFeedPublisher({ brokers, clientId: `bench-${name}`, topics: [topics.payouts, topics.attainment], topicPartitions: 6 });
  try {
    await write(store);
    const head = await store.headPosition();
    const events = (await store.readAll({ afterPosition: 0 })).length;
    // Connect and create the topics before the clock starts.
    await publisher.publish([]);
    const relay = new OutboundRelay(store, state, publisher, { topics, batchSize: 5000 });
    const cpuBefore = cpuUsage();
    const started = performance.now();
    await relay.start();
    await relay.waitForPosition(head);
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuUsage(cpuBefore);
    const messages = relay.messagesPublished;
    await relay.stop();
    return {
      events,
      eventsPerSecond: Math.round(events / seconds),
      messagesPerSecond: Math.round(messages / seconds),
      cpuMicrosecondsPerEvent: Math.round((cpu.user + cpu.system) / events),
      cpuMicrosecondsPerMessage: Math.round((cpu.user + cpu.system) / Math.max(1, messages)),
    };
  } finally {
    await publisher.close();
    state.close();
    await store.close();
  }
}

interface Latency {
  rate: number;
  seconds: number;
  approvals: number;
  commandMsP99: number;
  latencyMsP50: number;
  latencyMsP99: number;
}

async function approvalLatency(dir: string, brokers: string[], topics: FeedTopics, rate: number, seconds: number): Promise<Latency> {
  const name = randomUUID();
  const store = SqliteEventStore.open({ path: join(dir, `${name}.events.sqlite`) });
  const state = new SqliteRelayStateStore(join(dir, `${name}.relay.sqlite`));
  const publisher = new KafkaFeedPublisher({ brokers, clientId: `bench-${name}`, topics: [topics.payouts, topics.attainment], topicPartitions: 6 });
  const relay = new OutboundRelay(store, state, publisher, { topics });
  const consumerClient = new Kafka({ clientId: 'bench-payroll', brokers, logLevel: logLevel.NOTHING });
  const consumer = consumerClient.consumer({ groupId: `bench-payroll-${name}`, maxWaitTimeInMs: 100 });
  const approvals = rate * seconds;
  // One period per approval a second: each period stream takes about one command a second, as when finance
  // approves across many calendars and periods at once, so the figure is not about concurrency conflicts.
  const periods = rate;
  const payeesPerPeriod = Math.ceil(approvals / periods);
  const context = (): CommandContext => ({
    actor: { id: 'finance-1', role: 'finance' },
    correlationId: randomUUID(),
    causationId: null,
    commandId: randomUUID(),
    now: () => new Date(),
    newId: () => randomUUID(),
  });
  try {
    const drivers = Array.from({ length: periods }, (_, index) => new PeriodDriver(store, 'bench', `2026-${String((index % 12) + 1).padStart(2, '0')}-${index}`));
    const payeeIds = Array.from({ length: payeesPerPeriod }, (_, index) => `p${index}`);
    for (const driver of drivers) await driver.openAndClose(payeeIds.map((payeeId) => frozenStatement(payeeId, '100.00')), context());
    await publisher.publish([]);
    await relay.start();
    await relay.waitForPosition(await store.headPosition());

    const acknowledgedAt = new Map<string, number>();
    const readableAt = new Map<string, number>();
    await consumer.connect();
    // From the beginning: the topic holds only this run's approvals (opening and closing periods publishes nothing).
    await consumer.subscribe({ topics: [topics.payouts], fromBeginning: true });
    let assigned!: () => void;
    const joined = new Promise<void>((resolve) => (assigned = resolve));
    consumer.on(consumer.events.GROUP_JOIN, () => assigned());
    await consumer.run({
      eachMessage: async ({ message }) => {
        const now = performance.now();
        const payout = fromBinary(PayoutEventSchema, message.value!);
        readableAt.set(`${payout.periodId}/${payout.payeeId}`, now);
      },
    });
    await joined;

    const commandMs: number[] = [];
    const started = performance.now();
    const pending: Promise<void>[] = [];
    for (let index = 0; index < approvals; index++) {
      const due = started + (index * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      const driver = drivers[index % periods];
      const payeeId = payeeIds[Math.floor(index / periods)];
      const sent = performance.now();
      pending.push(
        driver.approve([payeeId], context()).then(() => {
          const now = performance.now();
          commandMs.push(now - sent);
          acknowledgedAt.set(`${driver.periodId}/${payeeId}`, now);
        }),
      );
    }
    await Promise.all(pending);
    await relay.waitForPosition(await store.headPosition());
    const deadline = performance.now() + 30_000;
    while (readableAt.size < approvals && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const latencies = [...acknowledgedAt].map(([key, acknowledged]) => (readableAt.get(key) ?? Number.POSITIVE_INFINITY) - acknowledged);
    return {
      rate,
      seconds,
      approvals,
      commandMsP99: Math.round(percentile(commandMs, 99) * 10) / 10,
      latencyMsP50: Math.round(percentile(latencies, 50) * 10) / 10,
      latencyMsP99: Math.round(percentile(latencies, 99) * 10) / 10,
    };
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await relay.stop();
    await publisher.close();
    state.close();
    await store.close();
  }
}
