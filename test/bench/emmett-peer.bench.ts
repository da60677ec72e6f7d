import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Decimal } from 'decimal.js';
import { getSQLiteEventStore, readMessagesBatch, sqliteConnection, type SQLiteEventStore } from '@event-driven-io/emmett-sqlite';
import type { EventStore, NewEvent } from '#lib/event-store/event-store.port.js';
import { SqliteEventStore } from '#lib/event-store/embedded/sqlite-event-store.js';
import type { BenchFigure, BenchSize } from './bench-types.js';
import { dealClosedWon, round2 } from './event-store.bench.js';

/**
 * The same event-store workload on our embedded store and on Emmett's SQLite event store
 * (@event-driven-io/emmett-sqlite, on the sqlite3 driver), in the same process, on the same disk, one after the other:
 * 1. appends of one event by one writer (each append awaited before the next: a command handler's shape);
 * 2. appends of one event by 64 concurrent writers, each on its own stream, in rounds (all 64 in flight, then the next);
 * 3. appends of 100 events by one writer, one stream per append (an import);
 * 4. reading each of those streams whole;
 * 5. aggregating each stream (a fold summing the decimal amounts, as a command handler rebuilds state);
 * 6. a catch-up of the whole log from global position 0 through each store's subscription API (ours: a catch-up
 *    subscription; Emmett: a consumer with one processor, which stores its checkpoint with every event);
 * 7. the same log read in batches of 1,000 by global position with no subscription around it (ours: readAllPages;
 *    Emmett: readMessagesBatch).
 * Both stores commit durably: WAL with synchronous=FULL (ours sets it; Emmett leaves SQLite's default, FULL, which
 * the bench reads back and prints). Events are the event-store bench's DealClosedWon, same data and metadata.
 * Each figure is throughput; the ratio rows are ours / Emmett's (above 1: ours is faster).
 */
export interface EmmettPeerBenchOptions {
  dir: string;
  size?: BenchSize;
}

/** Single-event appends and 100-event streams per size: Emmett opens a connection per call, about 5 ms an append. */
const workloadBySize: Record<BenchSize, { singleAppends: number; streams: number }> = {
  small: { singleAppends: 200, streams: 100 },
  medium: { singleAppends: 2_000, streams: 1_000 },
  large: { singleAppends: 20_000, streams: 10_000 },
};
const EVENTS_PER_STREAM = 100;
const CONCURRENT_WRITERS = 64;

interface Side {
  /** `retry`: whether a transient failure is retried (counted), as an application would; not while probing concurrency. */
  appendOne(streamId: string, event: NewEvent, expected: number | null, retry: boolean): Promise<number>;
  appendMany(streamId: string, events: NewEvent[]): Promise<void>;
  readStream(streamId: string): Promise<number>;
  aggregate(streamId: string): Promise<Decimal>;
  /** Events in the whole log. */
  catchUpTotal(): Promise<number>;
  catchUp(total: number): Promise<number>;
  /** The whole log read in batches of 1,000 by global position, with no subscription or processor around it. */
  readAllInBatches(): Promise<number>;
  close(): Promise<void>;
}

export async function runEmmettPeerBench(options: EmmettPeerBenchOptions): Promise<BenchFigure[]> {
  const workload = workloadBySize[options.size ?? 'medium'];
  busyRetries = 0;
  const ours = await measure((name) => oursSide(join(options.dir, `ours-${name}.sqlite`)), workload, 'ours');
  const emmett = await measure((name) => emmettSide(join(options.dir, `emmett-${name}.sqlite`)), workload, 'emmett');
  const emmettPath = join(options.dir, 'emmett-main.sqlite');
  const durability = await emmettDurability(emmettPath);

  const figures: BenchFigure[] = [];
  const compare = (name: string, unit: string, ourValue: number, peerValue: number | string) => {
    figures.push({ name: `${name}: ours`, value: ourValue, unit });
    if (typeof peerValue === 'string') {
      figures.push({ name: `${name}: Emmett`, value: Number.NaN, unit, note: peerValue });
      figures.push({ name: `${name}: ratio ours/Emmett`, value: Number.NaN, unit: 'x', note: 'n/a (the peer cannot do it)' });
    } else {
      figures.push({ name: `${name}: Emmett`, value: peerValue, unit });
      figures.push({ name: `${name}: ratio ours/Emmett`, value: round2(ourValue / peerValue), unit: 'x' });
    }
  };
  compare(`append 1 event, one writer (${workload.singleAppends} appends)`, 'events/s', ours.single, emmett.single);
  compare(`append 1 event, ${CONCURRENT_WRITERS} concurrent writers (${Math.ceil(workload.singleAppends / CONCURRENT_WRITERS) * CONCURRENT_WRITERS} appends)`, 'events/s', ours.concurrent as number, emmett.concurrent);
  compare(`append ${EVENTS_PER_STREAM} events per append, one writer (${workload.streams * EVENTS_PER_STREAM} events)`, 'events/s', ours.batched, emmett.batched);
  compare(`read a ${EVENTS_PER_STREAM}-event stream whole (${workload.streams} streams)`, 'events/s', ours.read, emmett.read);
  compare(`aggregate a ${EVENTS_PER_STREAM}-event stream: read + fold summing decimals (${workload.streams} streams)`, 'events/s', ours.aggregate, emmett.aggregate);
  const logEvents = workload.singleAppends + workload.streams * EVENTS_PER_STREAM;
  compare(`catch-up of the whole log from position 0, subscription / consumer processor (${logEvents} events)`, 'events/s', ours.catchUp, emmett.catchUp);
  compare(`read the whole log in batches of 1,000, readAllPages / readMessagesBatch (${logEvents} events)`, 'events/s', ours.readAll, emmett.readAll);
  figures.push({ name: 'Emmett appends retried after SQLITE_BUSY (rolled back, then retried)', value: busyRetries, unit: 'appends' });
  figures.push({ name: `durability: ours WAL + synchronous=FULL; Emmett ${durability}`, value: Number.NaN, unit: '', note: 'stated' });
  return figures;
}

interface Measured {
  single: number;
  concurrent: number | string;
  batched: number;
  read: number;
  aggregate: number;
  catchUp: number;
  readAll: number;
}

async function measure(open: (name: string) => Side, workload: { singleAppends: number; streams: number }, label: string): Promise<Measured> {
  const side = open('main');
  try {
    const streamOf = (index: number) => `deal-${label}-${index}`;
    // 1. One writer, one event per append, each awaited: the stream's revision passed as expected.
    let expected: number | null = null;
    const single = await rate(workload.singleAppends, async () => {
      for (let index = 0; index < workload.singleAppends; index++) expected = await side.appendOne(`deal-single-${label}`, dealClosedWon(0, index), expected, true);
    });
    // 2. Concurrent writers, each on its own stream.
    // On a store of its own: a store whose concurrent appends fail may be left unusable.
    let concurrent: number | string;
    const concurrentSide = open('concurrent');
    try {
      const perWriter = Math.max(1, Math.ceil(workload.singleAppends / CONCURRENT_WRITERS));
      concurrent = await rate(perWriter * CONCURRENT_WRITERS, async () => {
        // In rounds: every writer appends once, the round settles, the next starts. The first round with a failure
        // ends the figure: a store that cannot take concurrent appends is not timed on them (its failed calls can
        // otherwise take seconds to settle).
        const revisions: (number | null)[] = Array.from({ length: CONCURRENT_WRITERS }, () => null);
        for (let round = 0; round < perWriter; round++) {
          const outcomes = await Promise.allSettled(
            revisions.map(async (revision, writer) => {
              revisions[writer] = await concurrentSide.appendOne(`deal-writer-${label}-${writer}`, dealClosedWon(writer, round), revision, false);
            }),
          );
          const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
          if (failed !== undefined) throw failed.reason;
        }
      });
    } catch (error) {
      concurrent = `not supported: concurrent appends on one store fail (${errorCode(error)})`;
    } finally {
      await concurrentSide.close();
    }
    // 3.-5. Streams of 100 events: appended, read whole, aggregated.
    const batched = await rate(workload.streams * EVENTS_PER_STREAM, async () => {
      for (let stream = 0; stream < workload.streams; stream++) {
        await side.appendMany(streamOf(stream), Array.from({ length: EVENTS_PER_STREAM }, (_, index) => dealClosedWon(stream, index)));
      }
    });
    let readCount = 0;
    const read = await rate(workload.streams * EVENTS_PER_STREAM, async () => {
      for (let stream = 0; stream < workload.streams; stream++) readCount += await side.readStream(streamOf(stream));
    });
    if (readCount !== workload.streams * EVENTS_PER_STREAM) throw new Error(`${label}: read ${readCount} events`);
    let checksum = new Decimal(0);
    const aggregate = await rate(workload.streams * EVENTS_PER_STREAM, async () => {
      for (let stream = 0; stream < workload.streams; stream++) checksum = checksum.plus(await side.aggregate(streamOf(stream)));
    });
    if (checksum.isZero()) throw new Error(`${label}: aggregated nothing`);
    const total = await side.catchUpTotal();
    const catchUp = await rate(total, async () => {
      const received = await side.catchUp(total);
      if (received !== total) throw new Error(`${label}: caught up ${received} of ${total} events`);
    });
    let batchedCount = 0;
    const readAll = await rate(total, async () => {
      batchedCount = await side.readAllInBatches();
    });
    if (batchedCount !== total) throw new Error(`${label}: read ${batchedCount} of ${total} events in batches`);
    return { single, concurrent, batched, read, aggregate, catchUp, readAll };
  } finally {
    await side.close();
  }
}

async function rate(events: number, work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return Math.round(events / ((performance.now() - started) / 1000));
}

const sumAmounts = (state: Decimal, event: { data: unknown }): Decimal => state.plus((event.data as { amount: string }).amount);

function oursSide(path: string): Side {
  const store: EventStore = SqliteEventStore.open({ path });
  return {
    async appendOne(streamId, event, expected) {
      return (await store.append(streamId, [event], expected ?? 'no_stream')).nextExpectedRevision;
    },
    async appendMany(streamId, events) {
      await store.append(streamId, events, 'no_stream');
    },
    async readStream(streamId) {
      return (await store.readStream(streamId)).length;
    },
    async aggregate(streamId) {
      return (await store.readStream(streamId)).reduce(sumAmounts, new Decimal(0));
    },
    catchUpTotal: async () => store.headPosition(),
    async catchUp(total) {
      let received = 0;
      for await (const event of store.subscribeToAll({ afterPosition: 0 })) {
        received++;
        if (event.position >= total) break;
      }
      return received;
    },
    async readAllInBatches() {
      let received = 0;
      for await (const page of store.readAllPages({ afterPosition: 0, pageSize: 1_000 })) received += page.length;
      return received;
    },
    close: () => store.close(),
  };
}

function emmettSide(fileName: string): Side {
  const store: SQLiteEventStore = getSQLiteEventStore({ fileName });
  const asEmmett = (event: NewEvent) => ({ type: event.type, data: event.data as Record<string, unknown>, metadata: { ...event.metadata, eventId: event.eventId, schemaVersion: event.schemaVersion } });
  return {
    async appendOne(streamId, event, expected, retry) {
      // Emmett's versions are 1-based counts of the stream's events; 0n: the stream must not exist.
      const result = await retryingBusy(() => store.appendToStream(streamId, [asEmmett(event)], { expectedStreamVersion: expected === null ? 0n : BigInt(expected) }), retry);
      return Number(result.nextExpectedStreamVersion);
    },
    async appendMany(streamId, events) {
      await retryingBusy(() => store.appendToStream(streamId, events.map(asEmmett), { expectedStreamVersion: 0n }), true);
    },
    async readStream(streamId) {
      return (await store.readStream(streamId)).events.length;
    },
    async aggregate(streamId) {
      return (await store.aggregateStream(streamId, { evolve: sumAmounts, initialState: () => new Decimal(0) })).state;
    },
    async catchUpTotal() {
      const connection = sqliteConnection({ fileName });
      try {
        return (await connection.querySingle<{ count: number }>('SELECT COUNT(*) AS count FROM emt_messages'))!.count;
      } finally {
        connection.close();
      }
    },
    async catchUp(total) {
      // The public catch-up API: a consumer with one processor from the beginning, stopped after the last event.
      // Pulled 1,000 at a time without pauses (the default pulls 100 every 50 ms, for live tailing).
      const consumer = store.consumer({ pulling: { batchSize: 1_000, pullingFrequencyInMs: 0 } });
      let received = 0;
      consumer.processor({
        processorId: `bench-${randomUUID()}`,
        startFrom: 'BEGINNING',
        eachMessage: (message) => {
          received++;
          if ((message.data as { amount?: string }).amount === undefined) throw new Error('no amount decoded');
        },
        stopAfter: () => received >= total,
      });
      await consumer.start();
      void consumer.close();
      return received;
    },
    async readAllInBatches() {
      const connection = sqliteConnection({ fileName });
      try {
        let received = 0;
        let after = 0n;
        for (;;) {
          const batch = await readMessagesBatch(connection, { after, batchSize: 1_000 });
          received += batch.messages.length;
          if (batch.messages.length < 1_000) return received;
          after = batch.currentGlobalPosition;
        }
      } finally {
        connection.close();
      }
    },
    close: async () => undefined,
  };
}

/**
 * Emmett's appends now and then fail with SQLITE_BUSY ("cannot commit transaction - SQL statements in progress": the
 * stream-position statement is still open on the connection when COMMIT runs). The transaction is rolled back, so the
 * bench retries the append, as an application would, and counts it.
 */
let busyRetries = 0;
async function retryingBusy<Result>(call: () => Promise<Result>, retry: boolean): Promise<Result> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await quietly(call);
    } catch (error) {
      if (!retry || attempt >= 5 || (error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
      busyRetries++;
    }
  }
}

/** Emmett's transaction helper logs a failed append on the console; a bench probing what fails keeps the table clean. */
let quietCalls = 0;
const consoleLog = console.log;
async function quietly<Result>(call: () => Promise<Result>): Promise<Result> {
  if (quietCalls++ === 0) console.log = () => undefined;
  try {
    return await call();
  } finally {
    if (--quietCalls === 0) console.log = consoleLog;
  }
}

async function emmettDurability(fileName: string): Promise<string> {
  const connection = sqliteConnection({ fileName });
  try {
    const mode = await connection.querySingle<{ journal_mode: string }>('PRAGMA journal_mode');
    const sync = await connection.querySingle<{ synchronous: number }>('PRAGMA synchronous');
    const names = ['OFF', 'NORMAL', 'FULL', 'EXTRA'];
    return `${mode?.journal_mode.toUpperCase()} + synchronous=${names[sync?.synchronous ?? -1] ?? sync?.synchronous} (SQLite's default, read back)`;
  } finally {
    connection.close();
  }
}

function errorCode(error: unknown): string {
  if (error instanceof Error) return (error as Error & { code?: string }).code ?? error.message.slice(0, 60);
  return String(error).slice(0, 60);
}
