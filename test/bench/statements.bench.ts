import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { EventStore, NewEvent } from '#lib/event-store/event-store.port.js';
import { SqliteEventStore } from '#lib/event-store/embedded/sqlite-event-store.js';
import { ProjectionRunner } from '#lib/projections/projection-runner.js';
import { SqliteReadModelDb } from '#lib/shared/infrastructure/sqlite-read-model-db.js';
import type { DomainEvent } from '#lib/shared/domain/decider.js';
import { computeStatement } from '#lib/commissions/domain/commission-engine.js';
import type { PlanAssignmentInput, PlanVersionInput, QuotaInput } from '#lib/commissions/domain/commission-plan.js';
import type { CreditInput, StatementInput } from '#lib/commissions/domain/statement.js';
import { dealDecider, dealStreamId, type Credit, type DealCommand, type DealState } from '#lib/crediting/domain/deal.decider.js';
import { payeeDecider, payeeStreamId, type PayeeCommand, type PayeeState } from '#lib/organization/domain/payee.decider.js';
import { creditInputOf, periodOfId, quotaInputOf } from '#lib/statements/domain/statement-inputs.js';
import { fxStreamId, planAssignmentsStreamId, planStreamId } from '#lib/statements/domain/statement-sources.js';
import { createStatementsProjection } from '#lib/statements/application/statements.projection.js';
import { estimateStatement, explainStatementLine } from '#lib/statements/application/statement-queries.js';
import { statementAsOf } from '#lib/statements/application/statement-as-of.js';
import { atLeast, percentile, type BenchFigure } from './bench-types.js';

/**
 * The statements read model under load:
 * 1. Full recompute of every payee-period with the commission engine: 10,000 payees x 12 monthly periods,
 *    1,000,000 deals (one in five split 70/30, so 1,200,000 credits), a three-tier marginal plan over attainment of a
 *    monthly quota with a period cap. Inputs are built first (the projection's credit shape), then timed, shared
 *    out by payee over worker threads (every payee-period is independent). Target: 10 s.
 * 2. Rebuild of the statements read model from the log (about 200,000 events by default: payees with monthly quotas,
 *    plan, assignments, daily FX, deals closing roughly in date order with some back-dated, 5% in EUR, amendments
 *    and cancellations). Target: 50,000 events/s.
 * 3. Over the rebuilt model: explain and as-of (from the log) latency p99, target 50 ms; estimator p99, target 20 ms.
 *
 * All generated data comes from seeded generators, so every run sees the same log. On its own:
 *   npm run build && node dist/test/bench/statements.bench.js [folder]
 */

/** Park–Miller minimal standard generator: reproducible, and not Math.random. */
function seeded(seed: number): () => number {
  let state = seed % 2147483647;
  if (state <= 0) state += 2147483646;
  return () => {
    state = (state * 16807) % 2147483647;
    return (state - 1) / 2147483646;
  };
}

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');
const daysInMonth2026 = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const money = (cents: number): string => `${Math.floor(cents / 100)}.${pad(cents % 100)}`;

/** Three marginal tiers over attainment of a monthly bookings quota, with a period cap. */
function benchPlan(): PlanVersionInput {
  return {
    id: 'ae-2026@1',
    planId: 'ae-2026',
    version: 1,
    effectiveFrom: '2026-01-01',
    currency: 'USD',
    periodFrequency: 'month',
    components: [
      {
        kind: 'rate_table',
        id: 'commission',
        measure: 'bookings',
        basis: 'attainment',
        mode: 'marginal',
        tiers: [
          { from: '0', to: '50', rate: '0.04' },
          { from: '50', to: '100', rate: '0.08' },
          { from: '100', to: null, rate: '0.12' },
        ],
        capPerPeriod: '25000',
      },
    ],
    capitalizable: false,
    benefitMonths: null,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Full recompute

export interface RecomputeBenchOptions {
  payees?: number;
  /** Deals in total; each payee owns the same number. */
  deals?: number;
  /** Worker threads to share the payee-periods over. Default 2. */
  workers?: number;
}

interface RecomputeShape {
  payees: number;
  dealsPerPayee: number;
}

/** A payee's own deals: `(payee + PARTNER_OFFSET) % payees` is the 30% partner of its split deals. */
const PARTNER_OFFSET = 5003;

interface BenchDeal {
  dealId: string;
  amountCents: number;
  closeDate: string;
  split: boolean;
}

function dealsOwnedBy(payee: number, shape: RecomputeShape): BenchDeal[] {
  const random = seeded(payee + 1);
  const deals: BenchDeal[] = [];
  for (let index = 0; index < shape.dealsPerPayee; index++) {
    const month = Math.floor(random() * 12);
    const day = 1 + Math.floor(random() * daysInMonth2026[month]!);
    deals.push({
      dealId: `d-${payee}-${index}`,
      amountCents: 100_000 + Math.floor(random() * 5_900_000),
      closeDate: `2026-${pad(month + 1)}-${pad(day)}`,
      split: random() < 0.2,
    });
  }
  return deals;
}

/** Every statement input of the payees in [from, to), credits in the projection's shape. */
function recomputeInputs(from: number, to: number, shape: RecomputeShape): StatementInput[] {
  const planVersions = [benchPlan()];
  const assignments: PlanAssignmentInput[] = [];
  for (let payee = from; payee < to; payee++) assignments.push({ payeeId: `p${payee}`, planId: 'ae-2026', effectiveFrom: '2026-01-01', effectiveUntil: null });
  const inputs: StatementInput[] = [];
  let position = 0;
  const creditOf = (deal: BenchDeal, payeeId: string, sharePercent: string, kind: 'primary'): CreditInput => {
    const amount = money(deal.amountCents);
    const credit: Credit = { creditId: `${deal.dealId}:${payeeId}:${kind}`, dealId: deal.dealId, payeeId, kind, role: null, sharePercent, currency: 'USD', creditDate: deal.closeDate, amounts: {} };
    return creditInputOf(credit, { dealId: deal.dealId, amount, currency: 'USD', measures: { bookings: amount }, product: 'platform', dealType: 'new_business' }, { eventId: `e-${deal.dealId}`, position: ++position });
  };
  for (let payee = from; payee < to; payee++) {
    const payeeId = `p${payee}`;
    const byMonth: CreditInput[][] = Array.from({ length: 12 }, () => []);
    for (const deal of dealsOwnedBy(payee, shape)) byMonth[Number(deal.closeDate.slice(5, 7)) - 1]!.push(creditOf(deal, payeeId, deal.split ? '70' : '100', 'primary'));
    for (const deal of dealsOwnedBy((payee - PARTNER_OFFSET + shape.payees * 2) % shape.payees, shape)) {
      if (deal.split) byMonth[Number(deal.closeDate.slice(5, 7)) - 1]!.push(creditOf(deal, payeeId, '30', 'primary'));
    }
    const random = seeded(payee + 7);
    for (let month = 1; month <= 12; month++) {
      const periodId = `2026-${pad(month)}`;
      const quotas: QuotaInput[] = [quotaInputOf(periodId, 'bookings', String(200_000 + Math.floor(random() * 10) * 10_000))!];
      inputs.push({ payeeId, period: periodOfId(periodId)!, planVersions, assignments, quotas, fxRates: [], credits: byMonth[month - 1]! });
    }
  }
  return inputs;
}

interface RecomputeWorkerResult {
  statements: number;
  credits: number;
  lines: number;
  elapsedMs: number;
}

function computeAll(inputs: readonly StatementInput[]): Omit<RecomputeWorkerResult, 'elapsedMs'> {
  let lines = 0;
  let credits = 0;
  for (const input of inputs) {
    lines += computeStatement(input).lines.length;
    credits += input.credits.length;
  }
  return { statements: inputs.length, credits, lines };
}

/** Worker side: build its share of inputs, say so, compute them all when told to, answer with the counts. */
function runRecomputeWorker(data: { from: number; to: number; shape: RecomputeShape }): void {
  const inputs = recomputeInputs(data.from, data.to, data.shape);
  parentPort!.once('message', () => {
    const started = performance.now();
    const counts = computeAll(inputs);
    parentPort!.postMessage({ ...counts, elapsedMs: performance.now() - started });
  });
  parentPort!.postMessage('ready');
}

export async function runStatementRecomputeBench(options: RecomputeBenchOptions = {}): Promise<BenchFigure[]> {
  const payees = options.payees ?? 10_000;
  const shape: RecomputeShape = { payees, dealsPerPayee: Math.round((options.deals ?? 1_000_000) / payees) };
  const workerCount = Math.max(1, options.workers ?? 2);
  const slices = Array.from({ length: workerCount }, (_, index) => ({ from: Math.floor((payees * index) / workerCount), to: Math.floor((payees * (index + 1)) / workerCount) }));
  // Flags such as --input-type (for a caller's `node -e`) do not apply to a worker loaded from a file.
  const execArgv = process.execArgv.filter((flag) => !flag.startsWith('--input-type') && flag !== '-e' && flag !== '--eval');
  const workers = slices.map((slice) => new Worker(fileURLToPath(import.meta.url), { execArgv, workerData: { kind: 'statement-recompute', ...slice, shape } }));
  try {
    await Promise.all(workers.map((worker) => new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', () => resolve());
    })));
    const started = performance.now();
    const results = await Promise.all(
      workers.map((worker) => new Promise<RecomputeWorkerResult>((resolve) => {
        worker.once('message', (message: RecomputeWorkerResult) => resolve(message));
        worker.postMessage('go');
      })),
    );
    const wallMs = performance.now() - started;
    const total = results.reduce((sum, result) => ({ statements: sum.statements + result.statements, credits: sum.credits + result.credits, lines: sum.lines + result.lines }), { statements: 0, credits: 0, lines: 0 });
    const seconds = Math.round(wallMs) / 1000;
    return [
      {
        name: `full recompute: ${total.statements} payee-periods, ${total.credits} credits, ${total.lines} lines (${workerCount} worker threads)`,
        value: seconds,
        unit: 's',
        target: '<= 10',
        pass: seconds <= 10,
      },
      { name: 'full recompute: busiest worker\'s engine time', value: Math.round(Math.max(...results.map((result) => result.elapsedMs))) / 1000, unit: 's' },
      { name: 'full recompute: credits per second, all workers', value: Math.round(total.credits / (wallMs / 1000)), unit: 'credits/s' },
    ];
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Rebuild from the log, 3. query latencies

export interface RebuildBenchOptions {
  /** Folder for the store and read-model files. */
  dir: string;
  payees?: number;
  /** About two events each. Default 90,000 (about 200,000 events in all). */
  deals?: number;
  /** The rebuild figure is the best of this many runs. Default 3. */
  runs?: number;
  /** Timed calls per query latency figure. Default 300. */
  samples?: number;
}

const metadata = { actor: { id: 'bench', role: 'admin' }, correlationId: 'statements-bench', causationId: null, commandId: null, occurredAt: '2026-01-01T00:00:00.000Z' };
const toNew = (events: readonly DomainEvent[]): NewEvent[] => events.map((event) => ({ eventId: randomUUID(), type: event.type, schemaVersion: 1, data: event.data, metadata }));

async function inChunks<Item>(items: readonly Item[], size: number, work: (item: Item) => Promise<number>): Promise<number> {
  let appended = 0;
  for (let start = 0; start < items.length; start += size) for (const count of await Promise.all(items.slice(start, start + size).map(work))) appended += count;
  return appended;
}

function decided<Command, Event extends DomainEvent, State>(decider: { decide(command: Command, state: State): Event[]; evolve(state: State, event: Event): State; initialState(): State }, commands: Command[]): Event[] {
  let state = decider.initialState();
  const events: Event[] = [];
  for (const command of commands) {
    const produced = decider.decide(command, state);
    for (const event of produced) state = decider.evolve(state, event);
    events.push(...produced);
  }
  return events;
}

/** Writes the rebuild log (seeded: the same every time); returns how many events it holds. */
export async function writeStatementsLog(store: EventStore, payees: number, deals: number): Promise<number> {
  const random = seeded(2026);
  const plan = benchPlan();
  let appended = 0;
  await store.append(planStreamId(plan.planId), toNew([
    { type: 'PlanVersionDrafted', data: { planId: plan.planId, version: 1, planVersion: plan } },
    { type: 'PlanVersionPublished', data: { planId: plan.planId, version: 1, planVersion: plan } },
  ]), 'no_stream');
  appended += 2;
  const fxEvents: DomainEvent[] = [];
  for (let month = 1; month <= 12; month++) {
    for (let day = 1; day <= daysInMonth2026[month - 1]!; day++) {
      fxEvents.push({ type: 'FxRateRecorded', data: { fromCurrency: 'EUR', toCurrency: 'USD', date: `2026-${pad(month)}-${pad(day)}`, rate: (1.05 + random() / 10).toFixed(4) } });
    }
  }
  await store.append(fxStreamId('EUR', 'USD'), toNew(fxEvents), 'no_stream');
  appended += fxEvents.length;
  const payeeIds = Array.from({ length: payees }, (_, index) => `p${index}`);
  appended += await inChunks(payeeIds, 200, async (payeeId) => {
    const commands: PayeeCommand[] = [
      { type: 'OnboardPayee', payeeId, name: `Payee ${payeeId}`, managerId: null, territory: 'NA', currency: 'USD', startDate: '2026-01-01', manager: { found: false, managersAbove: [] } },
      ...Array.from({ length: 12 }, (_, month): PayeeCommand => ({ type: 'SetQuota', payeeId, periodId: `2026-${pad(month + 1)}`, measure: 'bookings', amount: String(200_000 + (Number(payeeId.slice(1)) % 10) * 10_000), currency: 'USD' })),
    ];
    const events = decided<PayeeCommand, DomainEvent, PayeeState>(payeeDecider as never, commands);
    await store.append(payeeStreamId(payeeId), toNew(events), 'no_stream');
    await store.append(planAssignmentsStreamId(payeeId), toNew([{ type: 'PlanAssigned', data: { assignmentId: 'ae-2026@2026-01-01', payeeId, planId: 'ae-2026', effectiveFrom: '2026-01-01', effectiveUntil: null } }]), 'no_stream');
    return events.length + 1;
  });
  // Deals close in date order over the year, one in ten back-dated by up to two weeks.
  const dealIndexes = Array.from({ length: deals }, (_, index) => index);
  appended += await inChunks(dealIndexes, 500, async (index) => {
    const dayOfYear = Math.min(364, Math.floor((index / deals) * 365) - (random() < 0.1 ? Math.floor(random() * 14) : 0));
    let month = 0;
    let day = Math.max(0, dayOfYear);
    while (day >= daysInMonth2026[month]!) day -= daysInMonth2026[month++]!;
    const owner = payeeIds[Math.floor(random() * payees)]!;
    const partner = payeeIds[Math.floor(random() * payees)]!;
    const split = random() < 0.2 && partner !== owner;
    const dealId = `d${index}`;
    const commands: DealCommand[] = [
      {
        type: 'CloseDealWon',
        dealId,
        ownerPayeeId: owner,
        amount: money(100_000 + Math.floor(random() * 5_900_000)),
        currency: random() < 0.05 ? 'EUR' : 'USD',
        closeDate: `2026-${pad(month + 1)}-${pad(day + 1)}`,
        product: random() < 0.5 ? 'platform' : 'services',
        dealType: 'new_business',
        primarySplits: split ? [{ payeeId: owner, sharePercent: '70' }, { payeeId: partner, sharePercent: '30' }] : undefined,
        overlays: [],
        knownPayeeIds: [owner, partner],
      },
    ];
    if (index % 50 === 7) commands.push({ type: 'AmendDeal', dealId, amount: money(200_000 + Math.floor(random() * 1_000_000)), reason: 'repriced' });
    if (index % 97 === 11) commands.push({ type: 'CancelDeal', dealId, cancelDate: '2026-12-31', reason: 'withdrawn' });
    const events = decided<DealCommand, DomainEvent, DealState>(dealDecider as never, commands);
    await store.append(dealStreamId(dealId), toNew(events), 'no_stream');
    return events.length;
  });
  return appended;
}

async function timeEach(samples: number, call: (index: number) => Promise<unknown>): Promise<number[]> {
  for (let index = 0; index < Math.min(20, samples); index++) await call(samples + index);
  const times: number[] = [];
  for (let index = 0; index < samples; index++) {
    const started = performance.now();
    await call(index);
    times.push(performance.now() - started);
  }
  return times;
}

const atMost = (name: string, value: number, unit: string, maximum: number): BenchFigure => ({ name, value: Math.round(value * 100) / 100, unit, target: `<= ${maximum}`, pass: value <= maximum });

export async function runStatementRebuildBench(options: RebuildBenchOptions): Promise<BenchFigure[]> {
  const payees = options.payees ?? 1_000;
  const deals = options.deals ?? 90_000;
  const runs = options.runs ?? 3;
  const samples = options.samples ?? 300;
  const storePath = join(options.dir, 'statements-bench.events.sqlite');
  const store = SqliteEventStore.open({ path: storePath });
  const figures: BenchFigure[] = [];
  try {
    const events = await writeStatementsLog(store, payees, deals);
    let bestMs = Number.POSITIVE_INFINITY;
    let counts = '';
    let db: SqliteReadModelDb | null = null;
    for (let run = 0; run < runs; run++) {
      await db?.close();
      const readModelPath = join(options.dir, `statements-bench.read-${run}.sqlite`);
      db = SqliteReadModelDb.open({ path: readModelPath });
      const projection = createStatementsProjection();
      const runner = new ProjectionRunner(store, db, [projection]);
      const started = performance.now();
      await runner.rebuild();
      const elapsedMs = performance.now() - started;
      if (elapsedMs < bestMs) {
        bestMs = elapsedMs;
        counts = `${projection.counts.advanced} advanced, ${projection.counts.resumed} resumed, ${projection.counts.recomputed} recomputed`;
      }
    }
    figures.push(atLeast(`rebuild the statements read model from ${events} events (best of ${runs}; ${counts})`, Math.round(events / (bestMs / 1000)), 'events/s', 50_000));

    const reader = db!;
    const random = seeded(99);
    const pick = () => ({ payeeId: `p${Math.floor(random() * payees)}`, periodId: `2026-${pad(1 + Math.floor(random() * 12))}` });
    const lineTargets: { payeeId: string; periodId: string; lineId: string }[] = [];
    while (lineTargets.length < samples + 20) {
      const { payeeId, periodId } = pick();
      const lines = await reader.read((session) => session.all<{ line_id: string }>('SELECT line_id FROM statement_lines WHERE payee_id = ? AND period_id = ?', [payeeId, periodId]));
      if (lines.length > 0) lineTargets.push({ payeeId, periodId, lineId: lines[Math.floor(random() * lines.length)]!.line_id });
    }
    const explainTimes = await timeEach(samples, (index) => explainStatementLine(reader, lineTargets[index]!));
    figures.push(atMost('explain a statement line, p99', percentile(explainTimes, 99), 'ms', 50));
    const asOf = new Date().toISOString();
    const asOfTimes = await timeEach(samples, (index) => statementAsOf(store, reader, { ...lineTargets[index]!, asOf }));
    figures.push(atMost(`statement as of a time, from the log, p99 (about ${Math.round((deals * 1.2) / payees)} deal streams per payee)`, percentile(asOfTimes, 99), 'ms', 50));
    const estimateTimes = await timeEach(samples, (index) => {
      const { payeeId, periodId } = lineTargets[index]!;
      return estimateStatement(reader, {
        payeeId,
        periodId,
        deals: [
          { amount: '25000.00', currency: 'USD', closeDate: `${periodId}-20`, product: 'platform', dealType: 'new_business' },
          { amount: '8000.00', currency: 'EUR', closeDate: `${periodId}-21`, product: 'services', dealType: 'new_business', sharePercent: '50' },
        ],
      });
    });
    figures.push(atMost('estimate with two hypothetical deals, p99', percentile(estimateTimes, 99), 'ms', 20));
    await reader.close();
    return figures;
  } finally {
    await store.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${storePath}${suffix}`, { force: true });
  }
}

/** Every statements figure: the recompute, then the rebuild and the query latencies. */
export async function runStatementsBench(options: RebuildBenchOptions & { recompute?: RecomputeBenchOptions }): Promise<BenchFigure[]> {
  return [...(await runStatementRecomputeBench(options.recompute)), ...(await runStatementRebuildBench(options))];
}

if (!isMainThread && (workerData as { kind?: string } | null)?.kind === 'statement-recompute') {
  runRecomputeWorker(workerData as { from: number; to: number; shape: RecomputeShape });
} else if (isMainThread && process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(process.argv[2] ?? tmpdir(), 'statements-bench-'));
  try {
    for (const figure of await runStatementsBench({ dir })) {
      console.log(`${figure.name}: ${figure.value.toLocaleString('en-US')} ${figure.unit}${figure.target ? ` (target ${figure.target}: ${figure.pass ? 'ok' : 'MISSED'})` : ''}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
