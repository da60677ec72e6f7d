import { randomBytes } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { INestApplication } from '@nestjs/common';
import type { ProjectionRunner } from '#lib/projections/projection-runner.js';
import type { ReadModelDb } from '#lib/projections/read-model.port.js';
import { disputeQueue, type DisputeQueueQuery } from '#lib/disputes/application/dispute-queries.js';
import { loadLedgerConfig } from '../../apps/ledger/src/config/ledger-config.js';
import { createLedgerApp } from '../../apps/ledger/src/ledger.app.js';
import { PROJECTION_RUNNER, READ_MODEL_DB } from '../../apps/ledger/src/ledger.tokens.js';
import { mintToken } from '../../apps/ledger/src/http/auth/bearer-tokens.js';
import type { Role } from '../../apps/ledger/src/http/auth/roles.js';
import { atLeast, percentile, type BenchFigure, type BenchSize } from './bench-types.js';

export interface DisputesBenchOptions {
  /** Folder for the service's data (a real disk: filings are durable commits). */
  dir: string;
  /** Disputes filed in the timed run, all left open for the queue. Default 10,000. */
  disputes?: number;
  /** Requests in flight at once while filing. Default 64. */
  concurrency?: number;
  /** Queue queries timed (after a warm-up of 100). Default 1,000. */
  queries?: number;
  /** Sets `disputes` to a tenth of the org's deals (1,000, 10,000, 100,000) and the payees filing them to its payees; the targets are set at medium, the default. */
  size?: BenchSize;
}

const disputesBySize: Record<BenchSize, number> = { small: 1_000, medium: 10_000, large: 100_000 };

/** Payees filing (each with a token) and deals for a quarter of the disputes to be about, by size; medium is the default. */
const payeesBySize: Record<BenchSize, number> = { small: 100, medium: 1_000, large: 10_000 };
const ANALYSTS = 8;
/** The categories a dispute about a whole period can have (the credit ones are about a deal). */
const periodCategories = ['wrong_rate', 'clawback', 'other'] as const;

/**
 * Disputes under load, through the whole service on a loopback socket:
 * 1. Filing throughput over HTTP: `disputes` POST /disputes from `concurrency` keep-alive connections, each request
 *    from the rep whose pay it is, with a bearer token verified (HS256) and the rep's payee scope checked, validated
 *    (class-validator DTO, then the decider's rules), its payee and subject looked up (a quarter are about a deal, read
 *    from its stream) and appended durably. The service clock moves one day every tenth of the run, so the
 *    disputes are spread over ten filing dates and their due dates. Target 1,000 disputes/s.
 * 2. The analyst queue over those open disputes (40% assigned among eight analysts): GET /disputes with a rotation of
 *    filters (status, category, assignee, overdue, escalated, age, their combinations, a second page), one request at
 *    a time. Target p99 <= 50 ms. The same queries straight on the read model are reported besides.
 * The filing client runs on a worker thread of this process, as a client would run apart from the service; the
 * figures are for the shared two-core machine, client included.
 */
export async function runDisputesBench(options: DisputesBenchOptions): Promise<BenchFigure[]> {
  const disputes = options.disputes ?? disputesBySize[options.size ?? 'medium'];
  const payees = payeesBySize[options.size ?? 'medium'];
  const concurrency = options.concurrency ?? 64;
  const queries = options.queries ?? (options.size === 'small' ? 200 : 1_000);
  // While filing, the clock moves one day every tenth of the run, by the count of disputes sent so far.
  const sent = new Int32Array(new SharedArrayBuffer(4));
  const perDay = Math.ceil(disputes / 10);
  const filingStart = Date.parse('2026-03-02T10:00:00.000Z');
  let fixedNow: Date | null = new Date(filingStart);
  const now = () => fixedNow ?? new Date(filingStart + Math.floor(Atomics.load(sent, 0) / perDay) * 86_400_000);
  const secret = randomBytes(32).toString('base64url');
  const config = loadLedgerConfig({
    LEDGER_DATA_DIR: options.dir,
    LEDGER_LOG_LEVEL: 'error',
    LEDGER_AUTH_SECRET: secret,
    LEDGER_DISPUTE_PROCESS_MS: '3600000',
    LEDGER_READ_WAIT_MS: '120000',
  });
  const app = await createLedgerApp(config, { clock: { now } });
  await app.listen(0, '127.0.0.1');
  const token = (subject: string, role: Role, payeeId?: string) => mintToken(config.auth, secret, { subject, role, payeeId, ttlSeconds: 3600 });
  const port = (app.getHttpServer().address() as AddressInfo).port;
  const client = new BenchClient(port, concurrency);
  try {
    const admin = await token('bench-admin', 'admin');
    const analyst = await token('analyst-bench', 'analyst');
    const repTokens = await Promise.all(Array.from({ length: payees }, (_, index) => token(`rep-${index}`, 'rep', `P-${index}`)));
    await seed(client, admin, payees);


    // Warm-up: the routes, the prepared statements and the JIT.
    const asRep = (index: number) => repTokens[index % payees];
    await client.each(Math.min(500, disputes / 2), (index) => client.send('POST', '/disputes', { ...disputeBody(index, payees), disputeId: `DSP-warm-${index}` }, 201, asRep(index)));

    const filing = await startFilingClient({ port, concurrency, disputes, payees, repTokens, sent });
    fixedNow = null;
    const started = performance.now();
    const cpuAtStart = process.cpuUsage();
    const loadAtStart = loadavg()[0];
    const latencies = await filing.run();
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuAtStart);
    const filingRate = Math.round(disputes / seconds);

    // Give the queue some shape: 40% assigned, and the clock three weeks on so the earliest are overdue.
    await client.each(Math.floor(disputes * 0.4), (index) =>
      client.send('PUT', `/disputes/DSP-${index * 2 + (index % 2)}/assignee`, { assigneeId: `analyst-${index % ANALYSTS}` }, 200, analyst),
    );
    fixedNow = new Date('2026-03-30T10:00:00.000Z');
    const runner = app.get<ProjectionRunner>(PROJECTION_RUNNER);
    await runner.caughtUp({ timeoutMs: 120_000 });

    const filters: string[] = [
      '',
      'status=filed',
      'status=under_review',
      'category=wrong_rate',
      'category=missing_credit,wrong_split',
      'assigneeId=analyst-3',
      'unassigned=true',
      'overdue=true',
      'overdue=false&category=other',
      'escalated=false&status=under_review&category=clawback',
      'minAgeDays=25',
      'maxAgeDays=22&assigneeId=analyst-5',
      'status=filed&category=wrong_rate&overdue=true&minAgeDays=20',
      'limit=200',
    ];
    const firstPage = await client.get('/disputes?limit=50', analyst);
    filters.push(`limit=50&after=${encodeURIComponent(firstPage.nextAfter as string)}`);
    for (let index = 0; index < 100; index++) await client.get(`/disputes?${filters[index % filters.length]}`, analyst);
    const queueLatencies: number[] = [];
    let itemsSeen = 0;
    for (let index = 0; index < queries; index++) {
      const queryStarted = performance.now();
      const page = await client.get(`/disputes?${filters[index % filters.length]}`, analyst);
      queueLatencies.push(performance.now() - queryStarted);
      itemsSeen += (page.items as unknown[]).length;
    }

    const db = app.get<ReadModelDb>(READ_MODEL_DB);
    const direct: DisputeQueueQuery[] = [{}, { statuses: ['filed'] }, { categories: ['wrong_rate'] }, { assigneeId: 'analyst-3' }, { overdue: true }, { minAgeDays: 25, categories: ['other'] }];
    const directLatencies: number[] = [];
    for (let index = 0; index < queries; index++) {
      const queryStarted = performance.now();
      await disputeQueue(db, direct[index % direct.length], '2026-03-30');
      directLatencies.push(performance.now() - queryStarted);
    }
    const openCount = (await db.read((reader) => reader.get<{ open: number }>("SELECT COUNT(*) AS open FROM disputes WHERE status IN ('filed', 'under_review', 'info_requested')")))!.open;

    const round = (value: number) => Math.round(value * 100) / 100;
    const queueP99 = round(percentile(queueLatencies, 99));
    return [
      atLeast(`file disputes over HTTP (${disputes}, ${concurrency} connections, bearer tokens and validation on)`, filingRate, 'disputes/s', 1_000, 'medium'),
      { name: 'filing latency p50 (same run)', value: round(percentile(latencies, 50)), unit: 'ms' },
      { name: 'filing latency p99 (same run)', value: round(percentile(latencies, 99)), unit: 'ms' },
      { name: 'CPU per filing, all threads, service and client (same run)', value: Math.round((cpu.user + cpu.system) / disputes), unit: 'µs' },
      { name: 'load average (1 min) when filing started', value: round(loadAtStart), unit: '' },
      {
        name: `analyst queue over HTTP, ${openCount} open disputes, ${filters.length} filter sets, p99`,
        value: queueP99,
        unit: 'ms',
        target: '<= 50',
        pass: queueP99 <= 50,
        targetSize: 'medium',
      },
      { name: 'analyst queue over HTTP p50 (same run)', value: round(percentile(queueLatencies, 50)), unit: 'ms' },
      { name: 'items per queue page, mean', value: Math.round(itemsSeen / queries), unit: '' },
      { name: 'analyst queue on the read model, no HTTP, p99', value: round(percentile(directLatencies, 99)), unit: 'ms' },
    ];
  } finally {
    client.close();
    await app.close();
  }
}

/** The n-th dispute of the run: a quarter about a deal (a credit category), the rest about the period. */
const disputeBody = (index: number, payees: number) => ({
  disputeId: `DSP-${index}`,
  payeeId: `P-${index % payees}`,
  subject: index % 4 === 0 ? { kind: 'deal', dealId: `D-${index % (payees / 4)}` } : { kind: 'period', periodId: '2026-03' },
  category: index % 4 === 0 ? (index % 8 === 0 ? 'missing_credit' : 'wrong_split') : periodCategories[index % periodCategories.length],
  amountClaimed: `${100 + (index % 900)}.${String(index % 100).padStart(2, '0')}`,
  currency: 'USD',
  description: 'Commission on this line is below what the plan pays',
  evidenceReferences: [`doc:evidence-${index}`],
});

/** Payees, and deals for a quarter of the disputes to be about. */
async function seed(client: BenchClient, admin: string, payees: number): Promise<void> {
  await client.each(payees, (index) =>
    client.send('POST', '/payees', { payeeId: `P-${index}`, name: `Payee ${index}`, managerId: null, territory: 'NA', currency: 'USD', startDate: '2026-01-01' }, 201, admin),
  );
  await client.each(payees / 4, (index) =>
    client.send(
      'POST',
      '/deals',
      { dealId: `D-${index}`, ownerPayeeId: `P-${(index * 7) % payees}`, amount: '40000.00', currency: 'USD', closeDate: '2026-03-02', product: 'platform', dealType: 'new_business', overlays: [] },
      201,
      admin,
    ),
  );
}

/** A keep-alive HTTP client that keeps `concurrency` requests in flight. */
class BenchClient {
  private readonly agent: Agent;
  private readonly headers: Record<string, string> = { 'content-type': 'application/json' };


  constructor(
    private readonly port: number,
    private readonly concurrency: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  }

  /** Runs `count` requests, `concurrency` at a time; returns each one's latency in ms. */
  async each(count: number, send: (index: number) => Promise<unknown>): Promise<number[]> {
    const latencies: number[] = new Array(count);
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const index = next++;
        const started = performance.now();
        await send(index);
        latencies[index] = performance.now() - started;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, count) }, worker));
    return latencies;
  }

  async get(path: string, token: string): Promise<Record<string, unknown>> {
    return JSON.parse(await this.send('GET', path, undefined, 200, token)) as Record<string, unknown>;
  }

  send(method: string, path: string, body: unknown, expectedStatus: number, token: string): Promise<string> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const authorization = { authorization: `Bearer ${token}` };
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest(
        {
          host: '127.0.0.1',
          port: this.port,
          method,
          path,
          agent: this.agent,
          headers: payload === undefined ? authorization : { ...this.headers, ...authorization, 'content-length': Buffer.byteLength(payload) },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (response.statusCode !== expectedStatus) reject(new Error(`${method} ${path} answered ${response.statusCode}: ${text.slice(0, 300)}`));
            else resolve(text);
          });
        },
      );
      outgoing.on('error', reject);
      if (payload !== undefined) outgoing.write(payload);
      outgoing.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

interface FilingClientData {
  kind: 'dispute-filing-client';
  port: number;
  concurrency: number;
  disputes: number;
  payees: number;
  repTokens: string[];
  sent: Int32Array;
}

/** Starts the filing client on a worker thread; `run()` files every dispute and answers each one's latency. */
async function startFilingClient(data: Omit<FilingClientData, 'kind'>): Promise<{ run(): Promise<number[]> }> {
  // Flags such as --input-type (for a caller's `node -e`) do not apply to a worker loaded from a file.
  const execArgv = process.execArgv.filter((flag) => !flag.startsWith('--input-type') && flag !== '-e' && flag !== '--eval');
  const worker = new Worker(fileURLToPath(import.meta.url), { execArgv, workerData: { kind: 'dispute-filing-client', ...data } satisfies FilingClientData });
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', () => resolve());
  });
  return {
    run: () =>
      new Promise<number[]>((resolve, reject) => {
        worker.once('error', reject);
        worker.once('message', (message: { latencies?: number[]; error?: string }) => {
          void worker.terminate();
          if (message.error !== undefined) reject(new Error(message.error));
          else resolve(message.latencies ?? []);
        });
        worker.postMessage('go');
      }),
  };
}

function runFilingClient(data: FilingClientData): void {
  const client = new BenchClient(data.port, data.concurrency);
  parentPort!.once('message', () => {
    client
      .each(data.disputes, (index) => {
        Atomics.store(data.sent, 0, index);
        return client.send('POST', '/disputes', disputeBody(index, data.payees), 201, data.repTokens[index % data.payees]);
      })
      .then(
        (latencies) => parentPort!.postMessage({ latencies }),
        (error: unknown) => parentPort!.postMessage({ error: error instanceof Error ? error.message : String(error) }),
      )
      .finally(() => client.close());
  });
  parentPort!.postMessage('ready');
}

if (!isMainThread && (workerData as { kind?: string } | null)?.kind === 'dispute-filing-client') runFilingClient(workerData as FilingClientData);
