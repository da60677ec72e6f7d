import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { cpuUsage } from 'node:process';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import kafkajs from 'kafkajs';
import { fromBinary } from '@bufbuild/protobuf';
import type { EventStore, NewEvent } from '#lib/event-store/event-store.port.js';
import { SqliteEventStore } from '#lib/event-store/embedded/sqlite-event-store.js';
import type { CommandContext } from '#lib/shared/application/command-context.js';
import type { DomainEvent } from '#lib/shared/domain/decider.js';
import { periodDeciderOpeningOnDemand, periodStreamId, type PeriodCommand, type PeriodEvent, type PeriodState } from '#lib/payouts/domain/period.decider.js';
import type { ProjectionRunner } from '#lib/projections/projection-runner.js';
import { loadLedgerConfig } from '../../apps/ledger/src/config/ledger-config.js';
import { createLedgerApp } from '../../apps/ledger/src/ledger.app.js';
import { EVENT_STORE, KAFKA_INTEGRATION, PROJECTION_RUNNER } from '../../apps/ledger/src/ledger.tokens.js';
import { mintToken } from '../../apps/ledger/src/http/auth/bearer-tokens.js';
import type { KafkaIntegration } from '../../apps/ledger/src/kafka/kafka-integration.js';
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
 * 2. Latency, end to end, through the whole service: finance's approvals over HTTP (bearer token, validation, the
 *    approval use case: read, decide, append with fsync) at a steady rate with the service's relay live; for each, the
 *    time from the HTTP response to the moment a plain kafkajs consumer holds the message. Target p99 <= 250 ms at
 *    500 approvals/s.
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
      { name: 'approval HTTP response time p99 (same run)', value: latency.commandMsP99, unit: 'ms' },
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
 * Periods closed with `payees` statements, then approved one payee per event, as finance approving payee by payee
 * records them. Every event is decided by the period decider (the close opening the period in the same append, each
 * approval on the state the ones before it give); the events are appended 100 at a time, with the expected revision.
 */
async function writeApprovals(store: EventStore, periods: number, payees: number): Promise<number> {
  let written = 0;
  const payeeIds = Array.from({ length: payees }, (_, index) => `p${index}`);
  for (let periodIndex = 0; periodIndex < periods; periodIndex++) {
    const periodId = `2025-${String((periodIndex % 12) + 1).padStart(2, '0')}-${periodIndex}`;
    const statements = payeeIds.map((payeeId, index) => frozenStatement(payeeId, `${1000 + index}.${String(index % 100).padStart(2, '0')}`, { periodId }));
    const decider = periodDeciderOpeningOnDemand({ calendarId: 'bench', periodId, startsOn: '2025-01-01', endsOn: '2025-01-31', openedBy: 'analyst-1' });
    let state: PeriodState = decider.initialState();
    const decide = (command: PeriodCommand): PeriodEvent[] => {
      const events = decider.decide(command, state);
      state = events.reduce(decider.evolve, state);
      return events;
    };
    const streamId = periodStreamId('bench', periodId);
    const closed = decide({ type: 'ClosePeriod', data: { preparedBy: 'analyst-1', statements, previousPeriod: null } });
    await store.append(streamId, toNew(closed), 'no_stream');
    let revision = closed.length - 1;
    written += closed.length;
    for (let start = 0; start < payees; start += 100) {
      const approvals = payeeIds.slice(start, start + 100).flatMap((payeeId) => decide({ type: 'ApprovePayouts', data: { approvedBy: 'finance-1', payeeIds: [payeeId] } }));
      await store.append(streamId, toNew(approvals), revision);
      revision += approvals.length;
      written += approvals.length;
    }
  }
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

/**
 * Approvals over HTTP through the whole service with its relay on: `rate` plan calendars each hold a closed March of
 * `ceil(rate x seconds / rate)` payees (written before the service starts, by the period decider); a client on a worker
 * thread, apart from the service's event loop, sends finance's POST .../approvals for one payee at a time at `rate`/s
 * over keep-alive connections, and a plain kafkajs consumer on the same thread reads the payout topic. Latency is from
 * the approval's HTTP response to the consumer holding the message. One calendar per approval a second keeps each
 * period stream at about one command a second, as when finance approves across many calendars at once.
 */
async function approvalLatency(dir: string, brokers: string[], topics: FeedTopics, rate: number, seconds: number): Promise<Latency> {
  const name = randomUUID();
  const dataDir = join(dir, `latency-${name}`);
  mkdirSync(dataDir, { recursive: true });
  const approvals = rate * seconds;
  const calendars = Array.from({ length: rate }, (_, index) => `bench-${String(index).padStart(3, '0')}`);
  const payeeIds = Array.from({ length: Math.ceil(approvals / calendars.length) }, (_, index) => `p${index}`);
  const setup = SqliteEventStore.open({ path: join(dataDir, 'events.sqlite') });
  try {
    for (const calendarId of calendars) {
      await new PeriodDriver(setup, calendarId, '2026-03').openAndClose(
        payeeIds.map((payeeId, index) => frozenStatement(payeeId, `${100 + index}.00`)),
        context({ id: 'analyst-1', role: 'analyst' }),
      );
    }
  } finally {
    await setup.close();
  }

  // The payroll consumer subscribes before anything is published: the topics exist first, as on a managed cluster.
  const admin = createKafkaClient({ brokers, clientId: `bench-${name}` }).admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [topics.payouts, topics.attainment].map((topic) => ({ topic, numPartitions: 6, replicationFactor: 1 })) });
  await admin.disconnect();

  const secret = randomBytes(32).toString('base64url');
  const config = loadLedgerConfig({
    LEDGER_DATA_DIR: dataDir,
    LEDGER_LOG_LEVEL: 'error',
    LEDGER_AUTH_SECRET: secret,
    LEDGER_KAFKA_BROKERS: brokers.join(','),
    LEDGER_KAFKA_ROLES: 'relay',
    LEDGER_KAFKA_TOPIC_PREFIX: topics.payouts.slice(0, -'icm.payouts.v1'.length),
    LEDGER_KAFKA_TOPIC_PARTITIONS: '6',
  });
  const app = await createLedgerApp(config);
  await app.listen(0, '127.0.0.1');
  try {
    const relay = app.get<KafkaIntegration | null>(KAFKA_INTEGRATION)?.outboundRelay;
    if (relay === null || relay === undefined) throw new Error('The service runs no relay');
    await relay.waitForPosition(await app.get<EventStore>(EVENT_STORE).headPosition());
    await app.get<ProjectionRunner>(PROJECTION_RUNNER).caughtUp({ timeoutMs: 120_000 });
    const token = await mintToken(config.auth, secret, { subject: 'finance-1', role: 'finance', ttlSeconds: 3600 });
    const port = (app.getHttpServer().address() as AddressInfo).port;
    const client = await startLatencyClient({ port, token, brokers, topic: topics.payouts, calendars, payeeIds, rate, approvals });
    const result = await client.run();
    return { rate, seconds, ...result };
  } finally {
    await app.close();
  }
}

const context = (actor: { id: string; role: string }): CommandContext => ({
  actor,
  correlationId: randomUUID(),
  causationId: null,
  commandId: randomUUID(),
  now: () => new Date(),
  newId: () => randomUUID(),
});

interface LatencyClientData {
  kind: 'kafka-latency-client';
  port: number;
  token: string;
  brokers: string[];
  topic: string;
  calendars: string[];
  payeeIds: string[];
  rate: number;
  approvals: number;
}

type LatencyResult = Omit<Latency, 'rate' | 'seconds'>;

/** Starts the approval client and payroll consumer on a worker thread; `run()` sends every approval and answers the figures. */
async function startLatencyClient(data: Omit<LatencyClientData, 'kind'>): Promise<{ run(): Promise<LatencyResult> }> {
  const execArgv = process.execArgv.filter((flag) => !flag.startsWith('--input-type') && flag !== '-e' && flag !== '--eval');
  const worker = new Worker(fileURLToPath(import.meta.url), { execArgv, workerData: { kind: 'kafka-latency-client', ...data } satisfies LatencyClientData });
  const first = new Promise<{ error?: string; result?: LatencyResult; ready?: true }>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', resolve);
  });
  const ready = await first;
  if (ready.error !== undefined) {
    await worker.terminate();
    throw new Error(ready.error);
  }
  return {
    run: () =>
      new Promise<LatencyResult>((resolve, reject) => {
        worker.once('error', reject);
        worker.once('message', (message: { result?: LatencyResult; error?: string }) => {
          void worker.terminate();
          if (message.error !== undefined || message.result === undefined) reject(new Error(message.error ?? 'no result'));
          else resolve(message.result);
        });
        worker.postMessage('go');
      }),
  };
}

/** The worker: a kafkajs consumer of the payout topic joined first, then the approvals at the steady rate. */
async function runLatencyClient(data: LatencyClientData): Promise<void> {
  const consumer = new Kafka({ clientId: 'bench-payroll', brokers: data.brokers, logLevel: logLevel.NOTHING }).consumer({ groupId: `bench-payroll-${randomUUID()}`, maxWaitTimeInMs: 100 });
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const readableAt = new Map<string, number>();
  const acknowledgedAt = new Map<string, number>();
  try {
    await consumer.connect();
    // From the beginning: the topic holds only this run's approvals (closing the periods publishes nothing).
    await consumer.subscribe({ topics: [data.topic], fromBeginning: true });
    let assigned!: () => void;
    const joined = new Promise<void>((resolve) => (assigned = resolve));
    consumer.on(consumer.events.GROUP_JOIN, () => assigned());
    await consumer.run({
      eachMessage: async ({ message }) => {
        const now = performance.now();
        const payout = fromBinary(PayoutEventSchema, message.value!);
        if (payout.change.case === 'approved') readableAt.set(`${payout.calendarId}/${payout.payeeId}`, now);
      },
    });
    await joined;
    await new Promise<void>((resolve) => {
      parentPort!.once('message', () => resolve());
      parentPort!.postMessage({ ready: true });
    });

    const approve = (calendarId: string, payeeId: string): Promise<void> =>
      new Promise((resolve, reject) => {
        const payload = JSON.stringify({ payeeIds: [payeeId] });
        const outgoing = httpRequest(
          {
            host: '127.0.0.1',
            port: data.port,
            method: 'POST',
            path: `/calendars/${calendarId}/periods/2026-03/approvals`,
            agent,
            headers: { authorization: `Bearer ${data.token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => {
              if (response.statusCode !== 200) reject(new Error(`approval answered ${response.statusCode}: ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`));
              else resolve();
            });
          },
        );
        outgoing.on('error', reject);
        outgoing.end(payload);
      });

    const commandMs: number[] = [];
    const periods = data.calendars.length;
    const started = performance.now();
    const pending: Promise<void>[] = [];
    for (let index = 0; index < data.approvals; index++) {
      const due = started + (index * 1000) / data.rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      const calendarId = data.calendars[index % periods];
      const payeeId = data.payeeIds[Math.floor(index / periods)];
      const sent = performance.now();
      pending.push(
        approve(calendarId, payeeId).then(() => {
          const now = performance.now();
          commandMs.push(now - sent);
          acknowledgedAt.set(`${calendarId}/${payeeId}`, now);
        }),
      );
    }
    await Promise.all(pending);
    const deadline = performance.now() + 30_000;
    while (readableAt.size < data.approvals && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const latencies = [...acknowledgedAt].map(([key, acknowledged]) => (readableAt.get(key) ?? Number.POSITIVE_INFINITY) - acknowledged);
    parentPort!.postMessage({
      result: {
        approvals: data.approvals,
        commandMsP99: Math.round(percentile(commandMs, 99) * 10) / 10,
        latencyMsP50: Math.round(percentile(latencies, 50) * 10) / 10,
        latencyMsP99: Math.round(percentile(latencies, 99) * 10) / 10,
      } satisfies LatencyResult,
    });
  } catch (error) {
    parentPort!.postMessage({ error: error instanceof Error ? `${error.message}` : String(error) });
  } finally {
    agent.destroy();
    await consumer.disconnect().catch(() => undefined);
  }
}

if (!isMainThread && (workerData as { kind?: string } | null)?.kind === 'kafka-latency-client') void runLatencyClient(workerData as LatencyClientData);
