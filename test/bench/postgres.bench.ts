import { randomBytes } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
import { SqliteEventStore } from '#lib/event-store/embedded/sqlite-event-store.js';
import { ProjectionRunner } from '#lib/projections/projection-runner.js';
import { PostgresReadModelDb } from '#lib/shared/infrastructure/postgres-read-model-db.js';
import { createStatementsProjection } from '#lib/statements/application/statements.projection.js';
import { loadLedgerConfig } from '../../apps/ledger/src/config/ledger-config.js';
import { createLedgerApp } from '../../apps/ledger/src/ledger.app.js';
import { PROJECTION_RUNNER } from '../../apps/ledger/src/ledger.tokens.js';
import { mintToken } from '../../apps/ledger/src/http/auth/bearer-tokens.js';
import type * as PostgresProcess from '../support/postgres/postgres-process.mjs';
import { atLeast, percentile, type BenchFigure } from './bench-types.js';
import { writeOrgLog } from './synthetic-org.js';

export interface PostgresBenchOptions {
  /** Folder for the event store file and the service's data. */
  dir: string;
  payees?: number;
  /** Default 90,000 deals (about 200,000 events), the statements bench's log. */
  deals?: number;
  /** Concurrent statement readers. Default 200. */
  readers?: number;
  /** Timed statement reads per reader. Default 15. */
  readsPerReader?: number;
  /**
   * Pause of each reader between two reads, ms. Default 1000: a reader opening a statement every second, far faster
   * than a person reads one, so 200 readers offer about 200 reads/s.
   */
  thinkMs?: number;
}

/**
 * The read models in PostgreSQL, on a server started for the run (the test setup's, test/support/postgres) or the
 * one LEDGER_BENCH_POSTGRES_URL names:
 * 1. Rebuild of the statements read model from the statements bench's log (about 200,000 events by default) into
 *    PostgreSQL. Target: 20,000 events/s.
 * 2. The whole service over those read models (all its projections caught up), and GET /payees/{id}/statements/{period}
 *    over HTTP from `readers` concurrent readers on keep-alive connections, each a rep with a bearer token of their own
 *    reading their own statements month after month, pausing `thinkMs` between reads. Target: p99 <= 20 ms. The same readers without a pause (saturation: latency is then
 *    concurrency / throughput) are reported besides, without a target.
 * The readers run on a worker thread of this process; service, database server and client share the machine.
 *   npm run bench -- postgres
 */
export async function runPostgresBench(options: PostgresBenchOptions): Promise<BenchFigure[]> {
  const payees = options.payees ?? 1_000;
  const deals = options.deals ?? 90_000;
  const readers = options.readers ?? 200;
  const readsPerReader = options.readsPerReader ?? 15;
  const thinkMs = options.thinkMs ?? 1000;
  const figures: BenchFigure[] = [];
  const server = await postgresServer();
  const databaseUrl = await createDatabase(server.url, `ledger_bench_${randomBytes(4).toString('hex')}`);
  try {
    // The log and the rebuild run on a thread of their own: its heap (the org generated in memory, the rebuild's
    // working set) is not the service's, as the process that serves reads in production never held it.
    const prepared = await runPreparation({ dir: options.dir, databaseUrl, payees, deals });
    const events = prepared.events;
    figures.push(
      atLeast(`rebuild the statements read model into PostgreSQL from ${events} events`, Math.round(events / prepared.seconds), 'events/s', 20_000),
      { name: 'same rebuild, CPU of this process per event', value: Math.round((prepared.cpuSeconds / events) * 1e7) / 10, unit: 'µs' },
    );

    const secret = randomBytes(32).toString('base64url');
    const config = loadLedgerConfig({
      LEDGER_DATA_DIR: options.dir,
      LEDGER_LOG_LEVEL: 'error',
      LEDGER_AUTH_SECRET: secret,
      LEDGER_READ_MODELS: 'postgres',
      LEDGER_POSTGRES_URL: databaseUrl,
      LEDGER_POSTGRES_POOL_SIZE: '16',
      LEDGER_DISPUTE_PROCESS_MS: '3600000',
    });
    const catchUpStarted = performance.now();
    const app = await createLedgerApp(config);
    await app.listen(0, '127.0.0.1');
    try {
      await app.get<ProjectionRunner>(PROJECTION_RUNNER).caughtUp({ timeoutMs: 600_000 });
      const catchUpSeconds = (performance.now() - catchUpStarted) / 1000;
      figures.push({ name: `service start: the other projections catch up from 0 into PostgreSQL (${events} events)`, value: Math.round(catchUpSeconds * 10) / 10, unit: 's' });
      const port = (app.getHttpServer().address() as AddressInfo).port;
      // Each reader a rep with a token of their own, opening their own statements month after month (so the access
      // guard checks the payee scope on every read).
      const spread = Math.max(1, Math.floor(payees / readers));
      const clients: ReaderClient[] = await Promise.all(
        Array.from({ length: readers }, async (_, reader) => {
          const payeeId = `p${(reader * spread) % payees}`;
          const token = await mintToken(config.auth, secret, { subject: `bench-rep-${reader}`, role: 'rep', payeeId, ttlSeconds: 3600 });
          const paths = Array.from({ length: 12 }, (__, month) => `/payees/${payeeId}/statements/2026-${String(1 + ((reader + month) % 12)).padStart(2, '0')}`);
          return { token, paths };
        }),
      );
      // Warm-up: routes, prepared statements, the JIT, the pool's connections.
      await runReaders({ port, clients, readsPerReader: 3, thinkMs: 0 });

      const loadBefore = loadavg()[0];
      // Where a read's time goes: in the service (request in to response finished, on its event loop) and its
      // garbage-collection pauses, against what the readers observe.
      const serverSide: number[] = [];
      const httpServer = app.getHttpServer() as import('node:http').Server;
      const timeRequest = (_request: unknown, response: import('node:http').ServerResponse) => {
        const received = performance.now();
        response.once('finish', () => serverSide.push(performance.now() - received));
      };
      httpServer.prependListener('request', timeRequest);
      const pauses: number[] = [];
      const gcObserver = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) pauses.push(entry.duration);
      });
      gcObserver.observe({ entryTypes: ['gc'] });
      const heapBefore = process.memoryUsage().heapUsed;
      const paced = await runReaders({ port, clients, readsPerReader, thinkMs });
      gcObserver.disconnect();
      httpServer.removeListener('request', timeRequest);
      // Names stay the same from run to run, so that the runner gives each figure's median, min and max.
      const round2 = (value: number) => Math.round(value * 100) / 100;
      figures.push(
        atMost(`GET a statement over HTTP, p99, ${readers} concurrent readers (reps, their own) pausing ${thinkMs} ms (${paced.latencies.length} reads)`, percentile(paced.latencies, 99), 'ms', 20),
        { name: 'same reads, p50', value: round2(percentile(paced.latencies, 50)), unit: 'ms' },
        { name: 'same reads, offered rate', value: Math.round(paced.rate), unit: 'reads/s' },
        { name: 'same reads, load average (1 min) when they began', value: round2(loadBefore), unit: '' },
        { name: 'same reads, time in the service (request received to response sent), p99', value: round2(percentile(serverSide, 99)), unit: 'ms' },
        { name: 'same reads, time in the service, p50', value: round2(percentile(serverSide, 50)), unit: 'ms' },
        { name: 'same reads, service heap when they began', value: Math.round(heapBefore / 2 ** 20), unit: 'MB' },
        { name: 'same reads, longest GC pause in the service', value: round2(Math.max(0, ...pauses)), unit: 'ms' },
      );
      const saturated = await runReaders({ port, clients, readsPerReader: 10, thinkMs: 0 });
      figures.push(
        { name: `capacity: ${readers} concurrent readers without a pause, reads/s`, value: Math.round(saturated.rate), unit: 'reads/s' },
        { name: 'capacity: same, p99 (queueing: concurrency / throughput)', value: round2(percentile(saturated.latencies, 99)), unit: 'ms' },
      );
    } finally {
      await app.close();
    }
    return figures;
  } finally {
    await dropDatabase(server.url, databaseUrl);
    await server.stop();
  }
}

const atMost = (name: string, value: number, unit: string, maximum: number): BenchFigure => ({ name, value: Math.round(value * 100) / 100, unit, target: `<= ${maximum}`, pass: value <= maximum });

/** LEDGER_BENCH_POSTGRES_URL, else a throw-away server started as the test setup starts one, but with durable commits. */
async function postgresServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const given = process.env.LEDGER_BENCH_POSTGRES_URL;
  if (given) return { url: given, stop: async () => undefined };
  // The test support module is plain JavaScript outside the build: loaded from the repository, not from dist/.
  const modulePath = join(fileURLToPath(new URL('../../../', import.meta.url)), 'test/support/postgres/postgres-process.mjs');
  const postgres = (await import(modulePath)) as typeof PostgresProcess;
  // Durable, as in production: the test servers' fsync=off and synchronous_commit=off would flatter every commit.
  const server = await postgres.startPostgresServer({
    settings: { shared_buffers: '256MB', fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on' },
  });
  return { url: server.url, stop: () => server.stop() };
}

async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function dropDatabase(adminUrl: string, databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${new URL(databaseUrl).pathname.slice(1)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

interface PreparationData {
  kind: 'postgres-bench-preparation';
  dir: string;
  databaseUrl: string;
  payees: number;
  deals: number;
}

interface Prepared {
  events: number;
  seconds: number;
  cpuSeconds: number;
}

/** Writes the log and rebuilds the statements read model into PostgreSQL, timing the rebuild. */
async function prepare(data: PreparationData): Promise<Prepared> {
  const store = SqliteEventStore.open({ path: join(data.dir, 'events.sqlite') });
  try {
    // The statements rebuild bench's log: the org without managers or disputes.
    const events = await writeOrgLog(store, { payees: data.payees, deals: data.deals, hierarchy: false, disputeEvery: 0 });
    const db = await PostgresReadModelDb.open({ connectionString: data.databaseUrl });
    try {
      const runner = new ProjectionRunner(store, db, [createStatementsProjection()]);
      const cpuAtStart = process.cpuUsage();
      const started = performance.now();
      await runner.rebuild();
      const seconds = (performance.now() - started) / 1000;
      const cpu = process.cpuUsage(cpuAtStart);
      return { events, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
    } finally {
      await db.close();
    }
  } finally {
    await store.close();
  }
}

function runPreparation(data: Omit<PreparationData, 'kind'>): Promise<Prepared> {
  return new Promise((resolve, reject) => {
    const worker = benchWorker({ kind: 'postgres-bench-preparation', ...data } satisfies PreparationData);
    worker.once('error', reject);
    worker.once('message', (message: Prepared & { error?: string }) => {
      void worker.terminate();
      if (message.error !== undefined) reject(new Error(message.error));
      else resolve(message);
    });
  });
}

/**
 * A thread running this file with `workerData`: the bench's own flags, without those of an inline script and the
 * V8 heap and GC flags a thread refuses (its heap is sized by the process's).
 */
function benchWorker(workerData: PreparationData | ReadersData): Worker {
  const execArgv = process.execArgv.filter(
    (flag) => !flag.startsWith('--input-type') && flag !== '-e' && flag !== '--eval' && !/^--(max-semi-space-size|max-old-space-size|expose-gc|trace-gc)/.test(flag),
  );
  return new Worker(fileURLToPath(import.meta.url), { execArgv, workerData });
}

/** One reader: their bearer token and the paths they read in turn. */
interface ReaderClient {
  token: string;
  paths: string[];
}

interface ReadersData {
  kind: 'postgres-bench-readers';
  port: number;
  clients: ReaderClient[];
  readsPerReader: number;
  thinkMs: number;
}

/** Runs the readers on a worker thread: latencies of every read, and reads per second over the run. */
function runReaders(data: Omit<ReadersData, 'kind'>): Promise<{ latencies: number[]; rate: number }> {
  const worker = benchWorker({ kind: 'postgres-bench-readers', ...data } satisfies ReadersData);
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (message: { latencies?: number[]; rate?: number; error?: string }) => {
      void worker.terminate();
      if (message.error !== undefined) reject(new Error(message.error));
      else resolve({ latencies: message.latencies ?? [], rate: message.rate ?? 0 });
    });
  });
}

async function readers(data: ReadersData): Promise<{ latencies: number[]; rate: number }> {
  const readerCount = data.clients.length;
  const agent = new Agent({ keepAlive: true, maxSockets: readerCount });
  const get = (path: string, token: string) =>
    new Promise<void>((resolve, reject) => {
      const outgoing = httpRequest({ host: '127.0.0.1', port: data.port, path, agent, headers: { authorization: `Bearer ${token}` } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          if (response.statusCode !== 200) reject(new Error(`GET ${path} answered ${response.statusCode}: ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`));
          else resolve();
        });
      });
      outgoing.on('error', reject);
      outgoing.end();
    });
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    data.clients.map(async (client, reader) => {
      // Readers start spread over one pause, as people do, not in lockstep.
      if (data.thinkMs > 0) await new Promise((resolve) => setTimeout(resolve, (reader * data.thinkMs) / readerCount));
      for (let read = 0; read < data.readsPerReader; read++) {
        const path = client.paths[read % client.paths.length];
        const readStarted = performance.now();
        await get(path, client.token);
        latencies.push(performance.now() - readStarted);
        if (data.thinkMs > 0) await new Promise((resolve) => setTimeout(resolve, data.thinkMs));
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { latencies, rate: latencies.length / seconds };
}

if (!isMainThread && (workerData as { kind?: string } | null)?.kind === 'postgres-bench-preparation') {
  prepare(workerData as PreparationData).then(
    (result) => parentPort!.postMessage(result),
    (error: unknown) => parentPort!.postMessage({ error: error instanceof Error ? error.stack ?? error.message : String(error) }),
  );
} else if (!isMainThread && (workerData as { kind?: string } | null)?.kind === 'postgres-bench-readers') {
  readers(workerData as ReadersData).then(
    (result) => parentPort!.postMessage(result),
    (error: unknown) => parentPort!.postMessage({ error: error instanceof Error ? error.message : String(error) }),
  );
} else if (isMainThread && process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(process.argv[2] ?? tmpdir(), 'postgres-bench-'));
  console.log(`${cpus().length} cores, load average ${loadavg().map((load) => load.toFixed(2)).join(' ')}`);
  try {
    for (const figure of await runPostgresBench({ dir })) {
      console.log(`${figure.name}: ${figure.value.toLocaleString('en-US')} ${figure.unit}${figure.target ? ` (target ${figure.target}: ${figure.pass ? 'ok' : 'MISSED'})` : ''}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
