import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { EventStore, NewEvent } from '#lib/event-store/event-store.port.js';
import { SqliteEventStore } from '#lib/event-store/embedded/sqlite-event-store.js';
import { atLeast, percentile, type BenchFigure, type BenchSize } from './bench-types.js';

export interface EventStoreBenchOptions {
  /** Folder for the store files (a real disk: the figures are for durable commits). */
  dir: string;
  /** Events written by each append figure, and read back by the catch-up figure. Default 100,000. */
  events?: number;
  /** Each figure is the median of this many runs on fresh files. Default 3. */
  runs?: number;
  /** Sets `events`: 10,000 (small), 100,000 (medium: the size the targets are set at), 1,000,000 (large). */
  size?: BenchSize;
}

const eventsBySize: Record<BenchSize, number> = { small: 10_000, medium: 100_000, large: 1_000_000 };

const SINGLE_EVENT_WRITERS = 64;
const BATCH_WRITERS = 16;
const EVENTS_PER_BATCH = 100;

/**
 * Throughput of the embedded store on durable commits: many writers appending one event each (the
 * command-handler shape), writers appending batches (imports, replays), and a catch-up subscription
 * decoding the whole log (a projection rebuild). Each figure is a median over runs because fsync
 * latency on shared virtual disks swings by a factor of two or three from one second to the next.
 */
export async function runEventStoreBench(options: EventStoreBenchOptions): Promise<BenchFigure[]> {
  const events = options.events ?? eventsBySize[options.size ?? 'medium'];
  const runs = options.runs ?? 3;
  const singleRuns: AppendMeasurement[] = [];
  const batchedRuns: AppendMeasurement[] = [];
  const readRuns: number[] = [];
  for (let run = 0; run < runs; run++) {
    const singlePath = join(options.dir, `single-event-appends-${run}.sqlite`);
    singleRuns.push(await withStore(singlePath, (store) => appendFromWriters(store, SINGLE_EVENT_WRITERS, 1, events)));
    removeStoreFile(singlePath);

    const batchPath = join(options.dir, `batched-appends-${run}.sqlite`);
    batchedRuns.push(await withStore(batchPath, (store) => appendFromWriters(store, BATCH_WRITERS, EVENTS_PER_BATCH, events)));
    readRuns.push(await withStore(batchPath, async (store) => catchUp(store, await store.headPosition())));
    removeStoreFile(batchPath);
  }

  const single = medianBy(singleRuns, (run) => run.eventsPerSecond);
  const batched = medianBy(batchedRuns, (run) => run.eventsPerSecond);
  return [
    atLeast(`append 1 event, ${SINGLE_EVENT_WRITERS} concurrent writers`, single.eventsPerSecond, 'events/s', 50_000, 'medium'),
    { name: 'append latency p50 (same run)', value: single.latencyMsP50, unit: 'ms' },
    { name: 'append latency p99 (same run)', value: single.latencyMsP99, unit: 'ms' },
    { name: 'CPU per event, all threads (same run as the 1-event appends)', value: single.cpuMicrosecondsPerEvent, unit: 'µs' },
    atLeast(`append ${EVENTS_PER_BATCH} events, ${BATCH_WRITERS} concurrent writers`, batched.eventsPerSecond, 'events/s', 100_000, 'medium'),
    { name: 'CPU per event, all threads (same run as the 100-event appends)', value: batched.cpuMicrosecondsPerEvent, unit: 'µs' },
    atLeast(`catch-up subscription read + decode of ${events} events`, medianBy(readRuns, (value) => value), 'events/s', 150_000, 'medium'),
  ];
}

async function withStore<Result>(path: string, use: (store: EventStore) => Promise<Result>): Promise<Result> {
  const store = SqliteEventStore.open({ path });
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

function removeStoreFile(path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
}

function medianBy<Item>(items: readonly Item[], value: (item: Item) => number): Item {
  const sorted = [...items].sort((left, right) => value(left) - value(right));
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

interface AppendMeasurement {
  eventsPerSecond: number;
  latencyMsP50: number;
  latencyMsP99: number;
  /** Process CPU time (every thread: main, the store's writer thread, GC helpers) per appended event. */
  cpuMicrosecondsPerEvent: number;
}

/** Each writer owns one stream and appends with the correct expected revision, as a command handler does. */
async function appendFromWriters(
  store: EventStore,
  writers: number,
  eventsPerAppend: number,
  totalEvents: number,
): Promise<AppendMeasurement> {
  const appendsPerWriter = Math.ceil(totalEvents / (writers * eventsPerAppend));
  const latenciesMs: number[] = [];
  const cpuAtStart = process.cpuUsage();
  const startedAt = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      const streamId = `deal-${randomUUID()}`;
      let expected: number | 'no_stream' = 'no_stream';
      for (let round = 0; round < appendsPerWriter; round++) {
        const batch = Array.from({ length: eventsPerAppend }, (_, index) => dealClosedWon(writer, round * eventsPerAppend + index));
        const appendStartedAt = process.hrtime.bigint();
        const result = await store.append(streamId, batch, expected);
        latenciesMs.push(Number(process.hrtime.bigint() - appendStartedAt) / 1e6);
        expected = result.nextExpectedRevision;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  const cpu = process.cpuUsage(cpuAtStart);
  const events = writers * appendsPerWriter * eventsPerAppend;
  return {
    eventsPerSecond: Math.round(events / seconds),
    latencyMsP50: round2(percentile(latenciesMs, 50)),
    latencyMsP99: round2(percentile(latenciesMs, 99)),
    cpuMicrosecondsPerEvent: round2((cpu.user + cpu.system) / events),
  };
}

async function catchUp(store: EventStore, headPosition: number): Promise<number> {
  const startedAt = process.hrtime.bigint();
  let received = 0;
  let amountChecksum = 0;
  const subscription = store.subscribeToAll({ afterPosition: 0 });
  for await (const event of subscription) {
    received++;
    // Touch the decoded payload so the decode cannot be skipped.
    amountChecksum += (event.data as { amount: string }).amount.length;
    if (event.position >= headPosition) break;
  }
  const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  if (amountChecksum === 0) throw new Error('catch-up read decoded nothing');
  return Math.round(received / seconds);
}

/** The deal event every event-store workload appends (the peer benchmark appends the same to Emmett's store). */
export function dealClosedWon(writer: number, sequence: number): NewEvent {
  const dealId = `deal-${writer}-${sequence}`;
  return {
    eventId: randomUUID(),
    type: 'DealClosedWon',
    schemaVersion: 1,
    data: {
      dealId,
      crmDealId: `0065g00000${String(sequence).padStart(8, '0')}`,
      accountId: `acct-${writer % 50}`,
      ownerRepId: `rep-${writer}`,
      closeDate: '2026-03-31',
      amount: `${(sequence % 97) * 1013 + 1250}.75`,
      currency: 'USD',
      measures: { bookings: `${(sequence % 97) * 1013 + 1250}.75`, revenue: `${(sequence % 89) * 877 + 990}.10` },
      lines: [
        { sku: 'PLAT-ANNUAL', quantity: 12, unitPrice: '99.00', discountRate: '0.05' },
        { sku: 'SUPPORT-GOLD', quantity: 1, unitPrice: '1200.00', discountRate: '0' },
      ],
      splits: [
        { payeeId: `rep-${writer}`, sharePercent: '60' },
        { payeeId: `rep-${(writer + 1) % 64}`, sharePercent: '40' },
      ],
    },
    metadata: {
      actor: { id: 'crm-integration', role: 'system' },
      correlationId: randomUUID(),
      causationId: null,
      commandId: `crm-${dealId}`,
      occurredAt: '2026-03-31T16:42:11.000Z',
    },
  };
}

export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
