import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EventStore, NewEvent } from '#lib/event-store/event-store.port.js';
import { SqliteEventStore } from '#lib/event-store/embedded/sqlite-event-store.js';
import { ProjectionRunner } from '#lib/projections/projection-runner.js';
import { createLedgerProjections } from '#lib/projections/ledger-projections.js';
import { SqliteReadModelDb } from '#lib/shared/infrastructure/sqlite-read-model-db.js';
import type { DomainEvent } from '#lib/shared/domain/decider.js';
import type { CommandContext } from '#lib/shared/application/command-context.js';
import type { PlanVersionInput } from '#lib/commissions/domain/commission-plan.js';
import { dealDecider, dealStreamId, type DealCommand, type DealState } from '#lib/crediting/domain/deal.decider.js';
import { payeeDecider, payeeStreamId, type PayeeCommand, type PayeeState } from '#lib/organization/domain/payee.decider.js';
import { planAssignmentsStreamId, planStreamId } from '#lib/statements/domain/statement-sources.js';
import { approvePayouts, closePeriod, type PayoutDependencies } from '#lib/payouts/application/period-commands.js';
import { trialBalance } from '#lib/ledger/application/ledger-queries.js';
import { percentile, type BenchFigure, type BenchSize } from './bench-types.js';
import { decided, orgSizes, toNewEvents } from './synthetic-org.js';

/**
 * Closing and approving one monthly period at scale, end to end on the real parts (the embedded store file, the
 * read-model file, every ledger projection): 10,000 payees on a monthly plan (10% of bookings, a recoverable draw),
 * each credited by 100 deals in March (deals split four ways, so 250,000 deals, 1,000,000 credits and statement lines).
 *
 * Timed, from the analyst's close to the ledger holding the approval: the close (read models brought up to the head,
 * every statement digested line by line and frozen, every payout priced, one PeriodClosed appended), finance's bulk
 * approval (one PayoutsApproved), and the projections applying both (payouts read model and ledger postings).
 * Target 15 s. Then the trial balance over the whole ledger, p99 of repeated calls, target 200 ms.
 *
 * Building the log and the read models before that is setup, reported but not held to a target.
 * On its own: npm run build && node dist/test/bench/payouts.bench.js [folder]
 */

export interface PayoutsBenchOptions {
  /** Folder for the store and read-model files. */
  dir: string;
  payees?: number;
  /** Credits per payee in the period. Default 100. */
  creditsPerPayee?: number;
  /** Payees sharing each deal (each gets 100 / ways percent). Default 4. */
  splitWays?: number;
  /** Timed trial balance calls. Default 200. */
  samples?: number;
  /** Sets `payees` to the org's size (100, 1,000, 10,000); the targets are set at large, the default. */
  size?: BenchSize;
}

const metadata = { actor: { id: 'bench', role: 'admin' }, correlationId: 'payouts-bench', causationId: null, commandId: null, occurredAt: '2026-03-01T00:00:00.000Z' };
const toNew = (events: readonly DomainEvent[]): NewEvent[] => toNewEvents(events, metadata);
const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

function benchPlan(): PlanVersionInput {
  return {
    id: 'ae-2026@1',
    planId: 'ae-2026',
    version: 1,
    effectiveFrom: '2026-01-01',
    currency: 'USD',
    periodFrequency: 'month',
    components: [{ kind: 'rate_table', id: 'commission', measure: 'bookings', basis: 'amount', mode: 'marginal', tiers: [{ from: '0', to: null, rate: '0.10' }] }],
    capitalizable: false,
    benefitMonths: null,
    draw: { kind: 'recoverable', amountPerPeriod: '140000.00' },
    clawback: { window: { length: 90, unit: 'days' }, windowStartsFrom: 'credit_date', percent: '100', reducesAttainment: false },
  };
}

/** Writes the log: the plan, the payees and their assignments, and the deals of March. Returns the events written. */
export async function writeLog(store: EventStore, payees: number, creditsPerPayee: number, splitWays: number): Promise<number> {
  const plan = benchPlan();
  let appended = 0;
  await store.append(planStreamId(plan.planId), toNew([{ type: 'PlanVersionPublished', data: { planId: plan.planId, version: 1, planVersion: plan } }]), 'no_stream');
  appended++;
  const payeeIds = Array.from({ length: payees }, (_, index) => `p${pad(index, 5)}`);
  for (let start = 0; start < payees; start += 500) {
    await Promise.all(
      payeeIds.slice(start, start + 500).map(async (payeeId) => {
        const onboard: PayeeCommand = { type: 'OnboardPayee', payeeId, name: `Payee ${payeeId}`, managerId: null, territory: 'NA', currency: 'USD', startDate: '2026-01-01', manager: { found: false, managersAbove: [] } };
        await store.append(payeeStreamId(payeeId), toNew(decided<PayeeCommand, DomainEvent, PayeeState>(payeeDecider as never, [onboard])), 'no_stream');
        await store.append(
          planAssignmentsStreamId(payeeId),
          toNew([{ type: 'PlanAssigned', data: { assignmentId: 'ae-2026@2026-01-01', payeeId, planId: 'ae-2026', effectiveFrom: '2026-01-01', effectiveUntil: null } }]),
          'no_stream',
        );
      }),
    );
    appended += Math.min(500, payees - start) * 2;
  }
  // Round r, group g: the deal shared by payees g*ways .. g*ways + ways - 1, shifted by r; every round credits every payee once.
  const groups = Math.floor(payees / splitWays);
  const share = String(100 / splitWays);
  const deals: { round: number; group: number }[] = [];
  for (let round = 0; round < creditsPerPayee; round++) for (let group = 0; group < groups; group++) deals.push({ round, group });
  for (let start = 0; start < deals.length; start += 1000) {
    const counts = await Promise.all(
      deals.slice(start, start + 1000).map(async ({ round, group }) => {
        const members = Array.from({ length: splitWays }, (_, index) => payeeIds[(group * splitWays + index + round) % payees]!);
        const dealId = `d-${round}-${group}`;
        const command: DealCommand = {
          type: 'CloseDealWon',
          dealId,
          ownerPayeeId: members[0]!,
          amount: `${10_000 + ((round * 7919 + group * 104_729) % 90_000)}.00`,
          currency: 'USD',
          closeDate: `2026-03-${pad(1 + ((round + group) % 31))}`,
          product: 'platform',
          dealType: 'new_business',
          primarySplits: members.map((payeeId) => ({ payeeId, sharePercent: share })),
          overlays: [],
          knownPayeeIds: members,
        };
        const events = decided<DealCommand, DomainEvent, DealState>(dealDecider as never, [command]);
        await store.append(dealStreamId(dealId), toNew(events), 'no_stream');
        return events.length;
      }),
    );
    for (const count of counts) appended += count;
  }
  return appended;
}

const context = (id: string, role: string): CommandContext => ({
  actor: { id, role },
  correlationId: randomUUID(),
  causationId: null,
  commandId: null,
  now: () => new Date(),
  newId: () => randomUUID(),
});

const seconds = (ms: number): number => Math.round(ms) / 1000;
const cpuSeconds = (usage: NodeJS.CpuUsage): number => Math.round((usage.user + usage.system) / 1000) / 1000;

export async function runPayoutsBench(options: PayoutsBenchOptions): Promise<BenchFigure[]> {
  const payees = options.payees ?? orgSizes[options.size ?? 'large'].payees;
  const creditsPerPayee = options.creditsPerPayee ?? 100;
  const splitWays = options.splitWays ?? 4;
  const samples = options.samples ?? 200;
  const store = SqliteEventStore.open({ path: join(options.dir, 'payouts-bench.events.sqlite') });
  const db = SqliteReadModelDb.open({ path: join(options.dir, 'payouts-bench.read.sqlite') });
  const runner = new ProjectionRunner(store, db, createLedgerProjections());
  const figures: BenchFigure[] = [];
  try {
    const setupStarted = performance.now();
    const events = await writeLog(store, payees, creditsPerPayee, splitWays);
    const logWritten = performance.now();
    await runner.start();
    await runner.caughtUp({ timeoutMs: 30 * 60_000 });
    const setupDone = performance.now();
    figures.push(
      { name: `setup: log of ${events} events (${payees} payees, ${(payees * creditsPerPayee) / splitWays} deals, ${payees * creditsPerPayee} credits) written`, value: seconds(logWritten - setupStarted), unit: 's' },
      { name: 'setup: every read model built from it', value: seconds(setupDone - logWritten), unit: 's' },
    );

    const deps: PayoutDependencies = { store, db, readModelsAt: (position) => runner.waitForPosition(position, { timeoutMs: 10 * 60_000 }) };
    const period = { calendarId: 'monthly', periodId: '2026-03' };
    const load = loadavg();
    const cpuStarted = process.cpuUsage();
    const started = performance.now();
    const closed = await closePeriod(deps, period, context('analyst-1', 'analyst'));
    const closedAt = performance.now();
    const approved = await approvePayouts(store, period, context('finance-1', 'finance'));
    const approvedAt = performance.now();
    await runner.waitForPosition(approved.position, { timeoutMs: 10 * 60_000 });
    const done = performance.now();
    const cpu = process.cpuUsage(cpuStarted);
    if (closed.payeesFrozen !== payees || approved.payouts.length !== payees) {
      throw new Error(`Froze ${closed.payeesFrozen} and approved ${approved.payouts.length} payouts, expected ${payees}`);
    }
    const total = seconds(done - started);
    figures.push(
      { name: `close + approve ${payees} payees x ${creditsPerPayee} credits, end to end (frozen, priced, posted to the ledger)`, value: total, unit: 's', target: '<= 15', pass: total <= 15, targetSize: 'large' },
      { name: '  close: statements digested and frozen, payouts priced, appended', value: seconds(closedAt - started), unit: 's' },
      { name: '  approve: one bulk approval appended', value: seconds(approvedAt - closedAt), unit: 's' },
      { name: '  projections: payouts read model and ledger postings applied', value: seconds(done - approvedAt), unit: 's' },
      { name: '  CPU time of this process (user + system)', value: cpuSeconds(cpu), unit: 's' },
      { name: '  load average (1 min) before the run', value: Math.round(load[0]! * 100) / 100, unit: '' },
    );

    const asOf = '2026-12-31';
    const whole = await trialBalance(db, { asOf });
    if (!whole.balanced) throw new Error('The trial balance does not net to zero');
    for (let index = 0; index < 10; index++) await trialBalance(db, { asOf });
    const times: number[] = [];
    const cpuQueries = process.cpuUsage();
    for (let index = 0; index < samples; index++) {
      const callStarted = performance.now();
      await trialBalance(db, { asOf });
      times.push(performance.now() - callStarted);
    }
    const p99 = percentile(times, 99);
    figures.push(
      { name: `trial balance over the whole ledger (${whole.entryCount} entries), p99 of ${samples}`, value: Math.round(p99 * 100) / 100, unit: 'ms', target: '<= 200', pass: p99 <= 200, targetSize: 'large' },
      { name: '  trial balance p50', value: Math.round(percentile(times, 50) * 100) / 100, unit: 'ms' },
      { name: '  CPU time per trial balance', value: Math.round(((cpuSeconds(process.cpuUsage(cpuQueries)) * 1000) / samples) * 100) / 100, unit: 'ms' },
      { name: `  one payee's trial balance from their entries`, value: Math.round((await timed(() => trialBalance(db, { asOf, payeeId: 'p00042' }))) * 100) / 100, unit: 'ms' },
    );
    return figures;
  } finally {
    await runner.stop();
    await db.close();
    await store.close();
  }
}

async function timed(call: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await call();
  return performance.now() - started;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'payouts-bench-'));
  const payees = process.env.BENCH_PAYEES === undefined ? undefined : Number(process.env.BENCH_PAYEES);
  try {
    for (const figure of await runPayoutsBench({ dir, payees })) console.log(`${figure.name}: ${figure.value} ${figure.unit}${figure.target ? ` (target ${figure.target}: ${figure.pass ? 'ok' : 'MISSED'})` : ''}`);
  } finally {
    if (process.argv[2] === undefined) rmSync(dir, { recursive: true, force: true });
  }
}
