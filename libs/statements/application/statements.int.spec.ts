import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { SqliteEventStore } from '#lib/event-store/embedded/sqlite-event-store.js';
import { ProjectionRunner } from '#lib/projections/projection-runner.js';
import type { Projection } from '#lib/projections/projection.js';
import { SqliteReadModelDb } from '#lib/shared/infrastructure/sqlite-read-model-db.js';
import { dumpReadModel } from '#lib/shared/testing/read-model-dump.js';
import { createTempDir } from '#lib/shared/testing/temp-dir.js';
import { testCommandContext } from '#lib/shared/testing/test-command-context.js';
import { onboardPayee, setQuota } from '#lib/organization/application/payee-commands.js';
import { amendDeal, cancelDeal, closeDealWon, type CloseDealWonInput } from '#lib/crediting/application/deal-commands.js';
import type { Statement, StatementLine } from '#lib/commissions/domain/statement.js';
import { dealDecider } from '#lib/crediting/domain/deal.decider.js';
import type { DomainEvent } from '#lib/shared/domain/decider.js';
import { randomUUID } from 'node:crypto';
import { createStatementsProjection, type StatementsProjection } from './statements.projection.js';
import { estimateStatement, explainStatementLine, getStatement, modelPlanVersion } from './statement-queries.js';
import { statementAsOf, statementAtPosition } from './statement-as-of.js';
import { assignPlan, draftPlanVersion, endAssignment, monthlyPlan, publishPlanVersion, recordFxRate, tieredPlan } from '../testing/statement-sources.fixtures.js';

/**
 * The statements read model over the real parts: the embedded store file, a read-model file and the projection
 * runner. Plans, assignments and FX rates are appended as their contexts record them; payees and deals go through
 * the application functions. Every read waits on the runner's checkpoint.
 */

const temp = createTempDir('statements');
afterAll(() => temp.remove());

interface Ledger {
  store: SqliteEventStore;
  db: SqliteReadModelDb;
  projections: Projection[];
  runner: ProjectionRunner;
  /** Another read model over the same store, rebuilt from the log on demand. */
  freshReadModel(): Promise<{ db: SqliteReadModelDb; projections: Projection[] }>;
  settle(): Promise<void>;
  close(): Promise<void>;
}

let opened = 0;
async function openLedger(options: { engineStatesCached?: number } = {}): Promise<Ledger> {
  const name = `ledger-${++opened}`;
  // A clock a second apart per append, so that "as of" a recorded time separates every append.
  let tick = Date.parse('2026-03-01T09:00:00.000Z');
  const store = SqliteEventStore.open({ path: temp.file(`${name}.events.sqlite`), pollIntervalMs: 10, now: () => new Date((tick += 1000)) });
  const others: { db: SqliteReadModelDb; runner: ProjectionRunner }[] = [];
  const db = SqliteReadModelDb.open({ path: temp.file(`${name}.read.sqlite`) });
  const projections = [createStatementsProjection(options)];
  const runner = new ProjectionRunner(store, db, projections, { batchSize: 3 });
  await runner.start();
  return {
    store,
    db,
    projections,
    runner,
    async freshReadModel() {
      const freshDb = SqliteReadModelDb.open({ path: temp.file(`${name}.read-${others.length}.sqlite`) });
      const freshProjections = [createStatementsProjection(options)];
      const freshRunner = new ProjectionRunner(store, freshDb, freshProjections);
      others.push({ db: freshDb, runner: freshRunner });
      await freshRunner.rebuild({ timeoutMs: 20_000 });
      return { db: freshDb, projections: freshProjections };
    },
    settle: () => runner.caughtUp({ timeoutMs: 20_000 }),
    async close() {
      await runner.stop();
      await db.close();
      for (const other of others) {
        await other.runner.stop();
        await other.db.close();
      }
      await store.close();
    },
  };
}

let ledger: Ledger;
beforeEach(async () => {
  ledger = await openLedger();
});
afterEach(async () => {
  await ledger.close();
});

const context = () => testCommandContext();
const testMetadata = { actor: { id: 'analyst-1', role: 'analyst' }, correlationId: 'statements-test', causationId: null, commandId: null, occurredAt: '2026-03-01T00:00:00.000Z' };

async function onboard(...payeeIds: string[]): Promise<void> {
  for (const payeeId of payeeIds) {
    await onboardPayee(ledger.store, { payeeId, name: `Payee ${payeeId}`, managerId: null, territory: 'NA', currency: 'USD', startDate: '2026-01-01' }, context());
  }
}

async function onPlan(planVersion = monthlyPlan(), ...payeeIds: string[]): Promise<void> {
  await publishPlanVersion(ledger.store, planVersion);
  // Assignment ids are unique per payee only, as the plans context makes them.
  for (const payeeId of payeeIds) await assignPlan(ledger.store, { assignmentId: `${planVersion.planId}@2026-01-01`, payeeId, planId: planVersion.planId, effectiveFrom: '2026-01-01' });
}

const deal = (overrides: Partial<CloseDealWonInput> & { dealId: string }): CloseDealWonInput => ({
  ownerPayeeId: 'ada',
  amount: '10000.00',
  currency: 'USD',
  closeDate: '2026-03-10',
  product: 'platform',
  dealType: 'new_business',
  ...overrides,
});

async function statement(payeeId: string, periodId: string) {
  await ledger.settle();
  return getStatement(ledger.db, { payeeId, periodId });
}

/** Lines without the log coordinates of their sources, which differ between two logs that record the same facts. */
const withoutSources = (lines: readonly StatementLine[]) => lines.map(({ sources: _sources, ...line }) => line);

/** The reference: the statement computed from the log up to now (the as-of reconstruction). */
async function fromLog(payeeId: string, periodId: string): Promise<Statement> {
  return (await statementAsOf(ledger.store, ledger.db, { payeeId, periodId, asOf: '2100-01-01T00:00:00Z' })).statement;
}

describe('statements read model', () => {
  it('pays a 70/30 split of $80,000 at 10%: 5,600.00 and 2,400.00', async () => {
    await onboard('ada', 'bob');
    await onPlan(monthlyPlan(), 'ada', 'bob');
    await closeDealWon(
      ledger.store,
      deal({ dealId: 'D-1', amount: '80000.00', primarySplits: [{ payeeId: 'ada', sharePercent: '70' }, { payeeId: 'bob', sharePercent: '30' }] }),
      context(),
    );
    const ada = await statement('ada', '2026-03');
    const bob = await statement('bob', '2026-03');
    expect(ada.lines.map((line) => [line.kind, line.amount, line.formula])).toEqual([['commission', '5600.00', expect.stringContaining('80000.00 USD × share 0.7')]]);
    expect(ada.totals.payable).toBe('5600.00');
    expect(bob.lines.map((line) => line.amount)).toEqual(['2400.00']);
    expect(bob.totals.payable).toBe('2400.00');
    expect(ada.lines[0]).toMatchObject({ creditId: 'D-1:ada:primary', dealId: 'D-1', planVersionId: 'ae-2026-v1', componentKey: 'ae-2026/commission', tier: 1, rate: '0.1' });
    expect(ada.lines[0]!.sources).toEqual([{ eventId: expect.any(String), position: expect.any(Number) }]);
    expect(ada).toMatchObject({ status: 'computed', currency: 'USD', creditCount: 1 });
  });

  it('follows tiers over attainment, holds what it cannot price, and gives the same statement for back-dated credits as the log does', async () => {
    await onboard('ada');
    await onPlan(tieredPlan(), 'ada');
    await setQuota(ledger.store, { payeeId: 'ada', periodId: '2026-03', measure: 'bookings', amount: '100000', currency: 'USD' }, context());
    // Recorded out of credit-date order: the 20th first, then the 5th and the 12th.
    for (const [dealId, closeDate, amount] of [
      ['D-3', '2026-03-20', '40000.00'],
      ['D-1', '2026-03-05', '30000.00'],
      ['D-2', '2026-03-12', '45000.00'],
    ] as const) {
      await closeDealWon(ledger.store, deal({ dealId, closeDate, amount }), context());
      await ledger.settle();
    }
    await closeDealWon(ledger.store, deal({ dealId: 'D-EUR', closeDate: '2026-03-25', amount: '1000.00', currency: 'EUR' }), context());
    const live = await statement('ada', '2026-03');
    const reference = await fromLog('ada', '2026-03');
    expect(withoutSources(live.lines)).toEqual(withoutSources(reference.lines));
    expect(live.totals).toEqual(reference.totals);
    // In credit-date order: D-1 30,000 at 5%; D-2 20,000 at 5% then 25,000 at 10%; D-3 25,000 at 10% then 15,000 at 15%.
    expect(live.lines.map((line) => `${line.creditId} t${line.tier} ${line.amount}`)).toEqual([
      'D-1:ada:primary t1 1500.00',
      'D-2:ada:primary t1 1000.00',
      'D-2:ada:primary t2 2500.00',
      'D-3:ada:primary t2 2500.00',
      'D-3:ada:primary t3 2250.00',
    ]);
    expect(live.totals.payable).toBe('9750.00');
    // D-3 first, then D-1 and D-2 dated before it: each back-dated credit recomputes the period; D-EUR, dated last, is appended.
    expect((ledger.projections[0] as StatementsProjection).counts).toMatchObject({ advanced: 1, recomputed: 3 });
    expect(live.attainment).toEqual([{ measure: 'bookings', credited: '115000.00', quota: '100000.00', percent: '115.00' }]);
    expect(live.heldCredits).toEqual([expect.objectContaining({ creditId: 'D-EUR:ada:primary', reason: 'FX_RATE_MISSING' })]);

    // The rate arrives: the held credit is priced, at the top tier it now reaches.
    await recordFxRate(ledger.store, { fromCurrency: 'EUR', toCurrency: 'USD', date: '2026-03-25', rate: '1.10' });
    const priced = await statement('ada', '2026-03');
    expect(priced.heldCredits).toEqual([]);
    expect(priced.lines.at(-1)).toMatchObject({ creditId: 'D-EUR:ada:primary', amount: '165.00', formula: 'tier 3 [100%, ∞) rate 0.15: (1000.00 EUR × fx 1.1) = 1100 × 0.15 = 165' });
    expect(withoutSources(priced.lines)).toEqual(withoutSources((await fromLog('ada', '2026-03')).lines));
  });

  it('gives the same statement whether credits arrive in credit-date order or not', async () => {
    const dealsInOrder = [
      deal({ dealId: 'D-1', closeDate: '2026-03-05', amount: '30000.00' }),
      deal({ dealId: 'D-2', closeDate: '2026-03-12', amount: '45000.00' }),
      deal({ dealId: 'D-3', closeDate: '2026-03-20', amount: '40000.00' }),
    ];
    const results: Statement[] = [];
    for (const order of [dealsInOrder, [dealsInOrder[2]!, dealsInOrder[0]!, dealsInOrder[1]!]]) {
      const other = await openLedger();
      const previous = ledger;
      ledger = other;
      try {
        await onboard('ada');
        await onPlan(tieredPlan(), 'ada');
        await setQuota(ledger.store, { payeeId: 'ada', periodId: '2026-03', measure: 'bookings', amount: '100000', currency: 'USD' }, context());
        for (const input of order) {
          await closeDealWon(ledger.store, input, context());
          await ledger.settle();
        }
        results.push(await statement('ada', '2026-03'));
      } finally {
        ledger = previous;
        await other.close();
      }
    }
    expect(withoutSources(results[1]!.lines)).toEqual(withoutSources(results[0]!.lines));
    expect(results[1]!.totals).toEqual(results[0]!.totals);
    expect(results[1]!.attainment).toEqual(results[0]!.attainment);
  });

  it('changes the statement when a deal is amended, moved to another month, or cancelled', async () => {
    await onboard('ada', 'bob');
    await onPlan(monthlyPlan(), 'ada', 'bob');
    await closeDealWon(ledger.store, deal({ dealId: 'D-1', amount: '80000.00', primarySplits: [{ payeeId: 'ada', sharePercent: '70' }, { payeeId: 'bob', sharePercent: '30' }] }), context());
    await closeDealWon(ledger.store, deal({ dealId: 'D-2', amount: '1000.00', closeDate: '2026-03-11' }), context());
    expect((await statement('ada', '2026-03')).totals.payable).toBe('5700.00');
    expect((ledger.projections[0] as StatementsProjection).counts).toMatchObject({ advanced: 1, recomputed: 2 });

    await amendDeal(ledger.store, { dealId: 'D-1', amount: '90000.00', reason: 'price corrected' }, context());
    expect((await statement('ada', '2026-03')).lines.map((line) => line.amount)).toEqual(['6300.00', '100.00']);
    expect((await statement('bob', '2026-03')).totals.payable).toBe('2700.00');

    await amendDeal(ledger.store, { dealId: 'D-1', closeDate: '2026-04-02', reason: 'signed in April' }, context());
    expect((await statement('ada', '2026-03')).totals.payable).toBe('100.00');
    expect((await statement('ada', '2026-04')).totals.payable).toBe('6300.00');
    // Bob's March statement lost its only credit: it is gone, and March reads as an empty statement.
    expect(await statement('bob', '2026-03')).toMatchObject({ status: 'empty', lines: [], totals: expect.objectContaining({ payable: '0.00' }) });

    await cancelDeal(ledger.store, { dealId: 'D-2', cancelDate: '2026-03-30', reason: 'customer withdrew' }, context());
    expect(await statement('ada', '2026-03')).toMatchObject({ status: 'empty', lines: [] });
    await cancelDeal(ledger.store, { dealId: 'D-1', cancelDate: '2026-04-05', reason: 'customer withdrew' }, context());
    expect((await statement('ada', '2026-04')).totals.payable).toBe('0.00');
  });

  it('regroups and reprices when a plan version is published, an assignment ends, or a quota is set', async () => {
    await onboard('ada');
    // No plan yet: the credit is held, in a monthly statement.
    await closeDealWon(ledger.store, deal({ dealId: 'D-1', closeDate: '2026-02-10' }), context());
    await closeDealWon(ledger.store, deal({ dealId: 'D-2', closeDate: '2026-03-10' }), context());
    expect((await statement('ada', '2026-02')).heldCredits).toEqual([expect.objectContaining({ reason: 'NO_PLAN_ASSIGNED' })]);

    // A quarterly plan: both credits move to 2026-Q1.
    await onPlan(monthlyPlan({ periodFrequency: 'quarter' }), 'ada');
    const quarter = await statement('ada', '2026-Q1');
    expect(quarter.lines.map((line) => line.amount)).toEqual(['1000.00', '1000.00']);
    // Stored by the read model (a statement computed on the fly for want of a stored one has no log position).
    expect(quarter).toMatchObject({ status: 'computed', creditCount: 2, lastPosition: expect.any(Number) });
    expect(quarter.lastPosition).toBeGreaterThan(0);
    expect((await dumpReadModel(ledger.db, ledger.projections)).statements!.map((row) => (row as { period_id: string }).period_id)).toEqual(['2026-Q1']);
    expect(await statement('ada', '2026-02').catch((error: { code: string }) => error.code)).toBe('STATEMENT.PERIOD_NOT_OF_PLAN');

    // Version 2 from March pays 12%.
    await publishPlanVersion(ledger.store, monthlyPlan({ id: 'ae-2026-v2', version: 2, effectiveFrom: '2026-03-01', periodFrequency: 'quarter', components: [{ ...monthlyPlan().components[0]!, tiers: [{ from: '0', to: null, rate: '0.12' }] } as never] }));
    expect((await statement('ada', '2026-Q1')).lines.map((line) => `${line.planVersionId} ${line.amount}`)).toEqual(['ae-2026-v1 1000.00', 'ae-2026-v2 1200.00']);

    // The assignment ends on 1 March: the March credit is no longer on any plan.
    await endAssignment(ledger.store, { assignmentId: 'ae-2026@2026-01-01', payeeId: 'ada', planId: 'ae-2026', effectiveUntil: '2026-03-01' });
    const ended = await statement('ada', '2026-Q1');
    expect(ended.lines.map((line) => line.amount)).toEqual(['1000.00']);
    expect(await statement('ada', '2026-03')).toMatchObject({ heldCredits: [expect.objectContaining({ creditId: 'D-2:ada:primary', reason: 'NO_PLAN_ASSIGNED' })] });

    await setQuota(ledger.store, { payeeId: 'ada', periodId: '2026-Q1', measure: 'bookings', amount: '40000', currency: 'USD' }, context());
    expect((await statement('ada', '2026-Q1')).attainment).toEqual([{ measure: 'bookings', credited: '10000.00', quota: '40000.00', percent: '25.00' }]);
  });

  it('rebuilds from zero to the live read model, and a second replay changes nothing', async () => {
    await onboard('ada', 'bob', 'cy');
    await onPlan(tieredPlan(), 'ada', 'bob');
    await setQuota(ledger.store, { payeeId: 'ada', periodId: '2026-03', measure: 'bookings', amount: '50000', currency: 'USD' }, context());
    await recordFxRate(ledger.store, { fromCurrency: 'EUR', toCurrency: 'USD', date: '2026-03-18', rate: '1.0850' });
    const dates = ['2026-03-14', '2026-03-02', '2026-03-28', '2026-04-03', '2026-03-18', '2026-03-09'];
    for (const [index, closeDate] of dates.entries()) {
      await closeDealWon(
        ledger.store,
        deal({
          dealId: `D-${index}`,
          closeDate,
          amount: `${(index + 1) * 7333}.33`,
          currency: closeDate === '2026-03-18' ? 'EUR' : 'USD',
          primarySplits: index % 2 === 0 ? [{ payeeId: 'ada', sharePercent: '70' }, { payeeId: 'bob', sharePercent: '30' }] : undefined,
          overlays: [{ payeeId: 'cy', sharePercent: '100', role: 'manager' }],
        }),
        context(),
      );
      if (index % 2 === 1) await ledger.settle();
    }
    await amendDeal(ledger.store, { dealId: 'D-0', amount: '9000.00', reason: 'discount' }, context());
    await cancelDeal(ledger.store, { dealId: 'D-3', cancelDate: '2026-04-10', reason: 'lost' }, context());
    await publishPlanVersion(ledger.store, tieredPlan({ id: 'ae-2026-v2', version: 2, effectiveFrom: '2026-03-15' }));
    await ledger.settle();
    const live = await dumpReadModel(ledger.db, ledger.projections);
    expect(live.statement_lines!.length).toBeGreaterThan(5);

    const fresh = await ledger.freshReadModel();
    expect(await dumpReadModel(fresh.db, fresh.projections)).toEqual(live);

    await ledger.runner.rebuild({ timeoutMs: 20_000 });
    expect(await dumpReadModel(ledger.db, ledger.projections)).toEqual(live);
    await ledger.runner.rebuild({ timeoutMs: 20_000 });
    expect(await dumpReadModel(ledger.db, ledger.projections)).toEqual(live);

    for (const payeeId of ['ada', 'bob', 'cy']) {
      const stored = await getStatement(ledger.db, { payeeId, periodId: '2026-03' });
      expect(withoutSources(stored.lines)).toEqual(withoutSources((await fromLog(payeeId, '2026-03')).lines));
    }
  });

  it('keeps a closed deal\'s amounts across a restart that falls between its closing and its credits', async () => {
    await onboard('ada');
    await onPlan(monthlyPlan(), 'ada');
    // The deal's two events, appended apart so that the read model stops between them.
    const decided = dealDecider.decide({ type: 'CloseDealWon', ...deal({ dealId: 'D-1', amount: '25000.00', overlays: [] }), knownPayeeIds: ['ada'] }, dealDecider.initialState());
    const toNew = (event: DomainEvent) => ({ eventId: randomUUID(), type: event.type, schemaVersion: 1, data: event.data, metadata: { ...testMetadata } });
    await ledger.store.append('deal-D-1', [toNew(decided[0]!)], 'no_stream');
    await ledger.settle();
    await ledger.runner.stop();
    await ledger.store.append('deal-D-1', [toNew(decided[1]!)], 0);
    const restarted = createStatementsProjection();
    const runner = new ProjectionRunner(ledger.store, ledger.db, [restarted]);
    await runner.start();
    await runner.caughtUp({ timeoutMs: 20_000 });
    await runner.stop();
    expect((await getStatement(ledger.db, { payeeId: 'ada', periodId: '2026-03' })).totals.payable).toBe('2500.00');
    expect((await dumpReadModel(ledger.db, [restarted])).statement_pending_deals).toEqual([]);
    const fresh = await ledger.freshReadModel();
    expect(await dumpReadModel(fresh.db, fresh.projections)).toEqual(await dumpReadModel(ledger.db, [restarted]));
  });

  it('rebuilds an evicted engine state from the stored credits and only appends the new lines', async () => {
    const small = await openLedger({ engineStatesCached: 1 });
    const previous = ledger;
    ledger = small;
    try {
      await onboard('ada', 'bob');
      await onPlan(tieredPlan(), 'ada', 'bob');
      for (let index = 0; index < 6; index++) {
        await closeDealWon(ledger.store, deal({ dealId: `D-${index}`, ownerPayeeId: index % 2 === 0 ? 'ada' : 'bob', closeDate: `2026-03-1${index}`, amount: '20000.00' }), context());
        await ledger.settle();
      }
      // Each deal alternates payees, so the one cached state is always the other payee's.
      expect((ledger.projections[0] as StatementsProjection).counts).toMatchObject({ advanced: 0, resumed: 4, recomputed: 2 });
      const live = await dumpReadModel(ledger.db, ledger.projections);
      const fresh = await ledger.freshReadModel();
      expect(await dumpReadModel(fresh.db, fresh.projections)).toEqual(live);
    } finally {
      ledger = previous;
      await small.close();
    }
  });

  it('explains a line down to its credit, deal, plan version, tier, rounding and events', async () => {
    await onboard('ada', 'bob');
    await onPlan(monthlyPlan({ components: [{ ...monthlyPlan().components[0]!, tiers: [{ from: '0', to: null, rate: '0.0333' }] } as never] }), 'ada', 'bob');
    const closed = await closeDealWon(
      ledger.store,
      deal({ dealId: 'D-1', amount: '80000.00', primarySplits: [{ payeeId: 'ada', sharePercent: '70' }, { payeeId: 'bob', sharePercent: '30' }] }),
      context(),
    );
    const ada = await statement('ada', '2026-03');
    const explanation = await explainStatementLine(ledger.db, { payeeId: 'ada', periodId: '2026-03', lineId: ada.lines[0]!.lineId });
    const allocated = closed.events.find((event) => event.type === 'CreditsAllocated')!;
    expect(explanation).toMatchObject({
      lineNumber: 1,
      kind: 'commission',
      amount: '1864.80',
      formula: 'tier 1 [0, ∞) rate 0.0333: (80000.00 USD × share 0.7) = 56000 × 0.0333 = 1864.8',
      rounding: { unrounded: '1864.8', rounded: '1864.80', rule: 'half-even', minorUnits: 2, difference: '0.00' },
      tier: { number: 1, from: '0', to: null, basis: 'amount', rate: '0.0333', multiplier: null },
      planVersion: { id: 'ae-2026-v1', planId: 'ae-2026', version: 1, source: { eventId: expect.any(String), position: expect.any(Number) } },
      component: { key: 'ae-2026/commission', kind: 'rate_table', measure: 'bookings', mode: 'marginal' },
      credit: { creditId: 'D-1:ada:primary', share: '0.7', creditDate: '2026-03-10', dealAmount: '80000.00', source: { eventId: allocated.eventId, position: closed.position } },
      deal: { dealId: 'D-1', amount: '80000.00', product: 'platform', dealType: 'new_business' },
      sources: [{ eventId: allocated.eventId, position: closed.position }],
    });
    await expect(explainStatementLine(ledger.db, { payeeId: 'ada', periodId: '2026-03', lineId: 'nope' })).rejects.toMatchObject({ code: 'STATEMENT_LINE.NOT_FOUND' });
  });

  it('reproduces a statement as it stood at a past recorded time, from the log', async () => {
    await onboard('ada');
    await onPlan(monthlyPlan(), 'ada');
    await closeDealWon(ledger.store, deal({ dealId: 'D-1', amount: '50000.00' }), context());
    const before = await statement('ada', '2026-03');
    const recordedBefore = (await ledger.store.readStream('deal-D-1')).at(-1)!.recordedAt;
    await amendDeal(ledger.store, { dealId: 'D-1', amount: '60000.00', reason: 'upsell' }, context());
    await closeDealWon(ledger.store, deal({ dealId: 'D-2', amount: '1000.00' }), context());
    expect((await statement('ada', '2026-03')).totals.payable).toBe('6100.00');

    const asOf = await statementAsOf(ledger.store, ledger.db, { payeeId: 'ada', periodId: '2026-03', asOf: recordedBefore });
    expect(asOf.statement.lines).toEqual(before.lines);
    expect(asOf.statement.totals.payable).toBe('5000.00');
    const beforeAnything = await statementAsOf(ledger.store, ledger.db, { payeeId: 'ada', periodId: '2026-03', asOf: '2026-03-01T09:00:00Z' }).catch((error: { code: string }) => error.code);
    expect(beforeAnything).toBe('PAYEE.NOT_FOUND');
    await expect(statementAsOf(ledger.store, ledger.db, { payeeId: 'ada', periodId: '2026-03', asOf: 'yesterday' })).rejects.toMatchObject({ code: 'REQUEST.AS_OF_INVALID' });
  });

  it('reproduces a statement at a log position, and can keep a cancelled deal as if it stood', async () => {
    await onboard('ada');
    await onPlan(monthlyPlan(), 'ada');
    await closeDealWon(ledger.store, deal({ dealId: 'D-1', amount: '50000.00' }), context());
    const closedAt = await ledger.store.headPosition();
    const before = await statement('ada', '2026-03');
    await amendDeal(ledger.store, { dealId: 'D-1', amount: '60000.00', reason: 'upsell' }, context());
    await closeDealWon(ledger.store, deal({ dealId: 'D-2', amount: '1000.00' }), context());
    await cancelDeal(ledger.store, { dealId: 'D-2', cancelDate: '2026-04-02', reason: 'withdrawn' }, context());
    await ledger.settle();

    const atClose = await statementAtPosition(ledger.store, ledger.db, { payeeId: 'ada', periodId: '2026-03', position: closedAt });
    const engineStatement = ({ status: _status, creditCount: _credits, lastPosition: _last, error: _error, ...rest }: Awaited<ReturnType<typeof statement>>): Statement => rest;
    expect(atClose.statement).toEqual(engineStatement(before));
    expect(atClose.position).toBeLessThanOrEqual(closedAt);
    const now = await statementAtPosition(ledger.store, ledger.db, { payeeId: 'ada', periodId: '2026-03', position: await ledger.store.headPosition() });
    expect(now.statement).toEqual(engineStatement(await statement('ada', '2026-03')));
    expect(now.statement.totals.payable).toBe('6000.00');
    const keepingD2 = await statementAtPosition(ledger.store, ledger.db, {
      payeeId: 'ada',
      periodId: '2026-03',
      position: await ledger.store.headPosition(),
      ignoreCancellationOf: new Set(['D-2']),
    });
    expect(keepingD2.statement.totals.payable).toBe('6100.00');
  });

  it('estimates with hypothetical deals and models a draft plan version, writing nothing', async () => {
    await onboard('ada', 'bob', 'cy');
    await onPlan(tieredPlan(), 'ada', 'bob');
    for (const payeeId of ['ada', 'bob']) await setQuota(ledger.store, { payeeId, periodId: '2026-03', measure: 'bookings', amount: '100000', currency: 'USD' }, context());
    await closeDealWon(ledger.store, deal({ dealId: 'D-1', amount: '40000.00' }), context());
    await closeDealWon(ledger.store, deal({ dealId: 'D-2', ownerPayeeId: 'bob', amount: '120000.00' }), context());
    await draftPlanVersion(ledger.store, tieredPlan({ id: 'ae-2026-v2', version: 2, effectiveFrom: '2026-01-01', components: [{ ...tieredPlan().components[0]!, capPerPeriod: '10000' } as never] }));
    await ledger.settle();
    const dumpBefore = await dumpReadModel(ledger.db, ledger.projections, { includeCheckpoints: true });

    const estimate = await estimateStatement(ledger.db, {
      payeeId: 'ada',
      periodId: '2026-03',
      deals: [{ dealId: 'hope', amount: '20000.00', currency: 'USD', closeDate: '2026-03-25', product: 'platform', dealType: 'new_business' }],
    });
    // 40,000 at 5% = 2,000; then 10,000 at 5% + 10,000 at 10% = 1,500.
    expect(estimate.difference).toMatchObject({ payableBefore: '2000.00', payableAfter: '3500.00', payableDifference: '1500.00' });
    expect(estimate.addedLines.map((line) => `${line.dealId} t${line.tier} ${line.amount}`)).toEqual(['hope t1 500.00', 'hope t2 1000.00']);
    await expect(
      estimateStatement(ledger.db, { payeeId: 'ada', periodId: '2026-03', deals: [{ amount: '1.00', currency: 'USD', closeDate: '2026-04-01', product: 'p', dealType: 't' }] }),
    ).rejects.toMatchObject({ code: 'ESTIMATE.DEAL_INVALID', fields: [{ field: 'deals[0].closeDate', message: expect.any(String) }] });
    await expect(estimateStatement(ledger.db, { payeeId: 'nobody', periodId: '2026-03', deals: [] })).rejects.toMatchObject({ code: 'PAYEE.NOT_FOUND' });

    const model = await modelPlanVersion(ledger.db, { planId: 'ae-2026', version: 2, periodId: '2026-03' });
    // Bob: 50,000 at 5% + 50,000 at 10% + 20,000 at 15% = 10,500, capped at 10,000 by the draft.
    expect(model).toMatchObject({
      status: 'draft',
      payees: [
        { payeeId: 'ada', currency: 'USD', currentPayable: '2000.00', modeledPayable: '2000.00', difference: '0.00' },
        { payeeId: 'bob', currency: 'USD', currentPayable: '10500.00', modeledPayable: '10000.00', difference: '-500.00' },
      ],
      totals: [{ currency: 'USD', currentPayable: '12500.00', modeledPayable: '12000.00', difference: '-500.00' }],
    });
    await expect(modelPlanVersion(ledger.db, { planId: 'ae-2026', version: 9, periodId: '2026-03' })).rejects.toMatchObject({ code: 'PLAN_VERSION.NOT_FOUND' });
    await expect(modelPlanVersion(ledger.db, { planId: 'ae-2026', version: 2, periodId: '2026-Q1' })).rejects.toMatchObject({ code: 'MODEL.PERIOD_NOT_OF_PLAN' });

    expect(await dumpReadModel(ledger.db, ledger.projections, { includeCheckpoints: true })).toEqual(dumpBefore);
  });
});
