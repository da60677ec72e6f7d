import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createTempDir } from '#lib/shared/testing/temp-dir.js';
import { openLedgerHarness, type LedgerHarness } from '#lib/shared/testing/ledger-harness.js';
import { testCommandContext } from '#lib/shared/testing/test-command-context.js';
import { setQuota } from '#lib/organization/application/payee-commands.js';
import { allocateCredits, amendDeal, cancelDeal, closeDealWon } from '#lib/crediting/application/deal-commands.js';
import type { ClawbackTermsInput, PlanVersionInput } from '#lib/commissions/domain/commission-plan.js';
import { flatRateTable, monthlyPlan, publishPlanVersion } from '#lib/statements/testing/statement-sources.fixtures.js';
import { analyst, dealInput, finance, onboardPayees, payoutDependencies, putOnPlan } from '../testing/payout-fixtures.js';
import { approvePayouts, closePeriod, type PayoutDependencies } from './period-commands.js';
import { getPayeePeriod } from './payout-queries.js';
import { PayoutReactions } from './payout-reactions.js';

/**
 * Prior-period adjustments and clawbacks as durable reactions, against the real parts: a change that reaches a
 * closed period is posted, explained, in the next open one; a cancellation claws back per the plan's terms; and a
 * replay from an older checkpoint posts nothing twice.
 */

const temp = createTempDir('payout-reactions');
afterAll(() => temp.remove());

let ledger: LedgerHarness;
let deps: PayoutDependencies;
let reactions: PayoutReactions;
beforeEach(async () => {
  ledger = await openLedgerHarness(temp.path);
  deps = payoutDependencies(ledger);
  reactions = new PayoutReactions(deps);
  await reactions.start();
});
afterEach(async () => {
  await reactions.stop();
  await ledger.close();
});

const ninetyDays: ClawbackTermsInput = { window: { length: 90, unit: 'days' }, windowStartsFrom: 'credit_date', percent: '100', reducesAttainment: false };

const onboard = (...payeeIds: string[]): Promise<void> => onboardPayees(ledger.store, ...payeeIds);
const onPlan = (planVersion: PlanVersionInput, ...payeeIds: string[]): Promise<void> => putOnPlan(ledger.store, planVersion, ...payeeIds);
const deal = dealInput;

async function closeMonths(...periodIds: string[]): Promise<void> {
  for (const periodId of periodIds) await closePeriod(deps, { calendarId: 'monthly', periodId }, analyst());
}

/** Everything appended so far has been reacted to, and the read models hold the reactions. */
async function settle(): Promise<void> {
  await reactions.waitForPosition(await ledger.store.headPosition());
  await ledger.runner.caughtUp({ timeoutMs: 30_000 });
}

const payeePeriod = (payeeId: string, periodId: string) => getPayeePeriod(ledger.db, { calendarId: 'monthly', periodId, payeeId });

describe('prior-period adjustments', () => {
  it('posts the difference of an amended deal in the next open period, explained, and never edits the closed statement', async () => {
    await onboard('ada');
    await onPlan(monthlyPlan({ clawback: ninetyDays }), 'ada');
    await closeDealWon(ledger.store, deal('D-1', 'ada', '50000.00', '2026-03-10'), testCommandContext());
    await closeMonths('2026-03');
    await settle();
    const march = await payeePeriod('ada', '2026-03');

    const amended = await amendDeal(ledger.store, { dealId: 'D-1', amount: '65000.00', reason: 'price corrected' }, testCommandContext());
    await settle();
    const april = await payeePeriod('ada', '2026-04');
    expect(april.periodStatus).toBe('open');
    expect(april.lines).toEqual([
      expect.objectContaining({
        kind: 'adjustment',
        amount: '1500.00',
        dealId: 'D-1',
        sourcePeriodId: '2026-03',
        cause: { kind: 'deal_amended', reference: 'D-1', eventId: amended.events[0]!.eventId, position: amended.position },
      }),
    ]);
    expect(april.lines[0]!.explanation).toMatch(/^Deal amended \(D-1, event .+ at position \d+\): period 2026-03 .+ 5000\.00 -> 6500\.00; \+1500\.00 USD posted in 2026-04\.$/);
    expect(april.lines[0]!.evidence).toMatchObject({ sourceLines: [{ amountFrozen: '5000.00', amountRecomputed: '6500.00', adjustedBefore: '0.00', amount: '1500.00' }] });
    // The closed statement is what it was.
    expect(await payeePeriod('ada', '2026-03')).toEqual(march);

    // A second amendment posts only the new difference.
    await amendDeal(ledger.store, { dealId: 'D-1', amount: '60000.00', reason: 'discount' }, testCommandContext());
    await settle();
    expect((await payeePeriod('ada', '2026-04')).lines.map((line) => line.amount)).toEqual(['1500.00', '-500.00']);

    // The adjustments are paid with April.
    await closeDealWon(ledger.store, deal('D-2', 'ada', '10000.00', '2026-04-10'), testCommandContext());
    await closeMonths('2026-04');
    const approved = await approvePayouts(ledger.store, { calendarId: 'monthly', periodId: '2026-04' }, finance());
    await ledger.runner.waitForPosition(approved.position);
    expect((await payeePeriod('ada', '2026-04')).payout).toMatchObject({ grossEarned: '1000.00', adjustments: '1000.00', netPayable: '2000.00' });
  });

  it('names a plan version published back into a closed period as a plan fix', async () => {
    await onboard('ada');
    await onPlan(monthlyPlan(), 'ada');
    await closeDealWon(ledger.store, deal('D-1', 'ada', '10000.00', '2026-03-10'), testCommandContext());
    await closeDealWon(ledger.store, deal('D-2', 'ada', '20000.00', '2026-03-20'), testCommandContext());
    await closeMonths('2026-03');
    await publishPlanVersion(ledger.store, monthlyPlan({ id: 'ae-2026-v2', version: 2, effectiveFrom: '2026-03-15', components: [flatRateTable({ tiers: [{ from: '0', to: null, rate: '0.12' }] })] }));
    await settle();
    expect((await payeePeriod('ada', '2026-04')).lines.map((line) => [line.dealId, line.amount, line.cause?.kind, line.cause?.reference])).toEqual([
      ['D-2', '400.00', 'plan_fixed', 'ae-2026-v2'],
    ]);
  });

  it('names a re-allocation of credits as a credit correction, for each payee it touches', async () => {
    await onboard('ada', 'bo');
    await onPlan(monthlyPlan(), 'ada', 'bo');
    await closeDealWon(ledger.store, deal('D-1', 'ada', '10000.00', '2026-03-10'), testCommandContext());
    await closeMonths('2026-03');
    await allocateCredits(ledger.store, { dealId: 'D-1', primarySplits: [{ payeeId: 'ada', sharePercent: '60' }, { payeeId: 'bo', sharePercent: '40' }], overlays: [] }, testCommandContext());
    await settle();
    const [ada, bo] = [await payeePeriod('ada', '2026-04'), await payeePeriod('bo', '2026-04')];
    expect(ada.lines.map((line) => [line.amount, line.cause?.kind])).toEqual([['-400.00', 'credit_corrected']]);
    // Bo had no statement in March: his frozen statement is empty, the correction pays him 400 in April.
    expect(bo.lines.map((line) => [line.amount, line.cause?.kind])).toEqual([['400.00', 'credit_corrected']]);
  });
});

describe('clawbacks', () => {
  it('published: 500 paid in June on a deal cancelled in August claws back -500 in August', async () => {
    await onboard('ada');
    await onPlan(monthlyPlan({ clawback: ninetyDays, effectiveFrom: '2026-01-01' }), 'ada');
    await closeDealWon(ledger.store, deal('D-7', 'ada', '5000.00', '2026-06-12'), testCommandContext());
    await closeMonths('2026-06', '2026-07');
    const cancelled = await cancelDeal(ledger.store, { dealId: 'D-7', cancelDate: '2026-08-20', reason: 'customer withdrew' }, testCommandContext());
    await settle();
    const august = await payeePeriod('ada', '2026-08');
    expect(august.lines).toEqual([
      expect.objectContaining({
        kind: 'clawback',
        amount: '-500.00',
        dealId: 'D-7',
        sourcePeriodId: '2026-06',
        explanation:
          'Deal D-7 was cancelled on 2026-08-20, 69 days after its credit date 2026-06-12, within the 90-day clawback window (through 2026-09-10): 100% of the 500.00 USD paid on it is clawed back as -500.00 in 2026-08.',
      }),
    ]);
    expect(august.lines[0]!.evidence).toMatchObject({ cancellationEventId: cancelled.events[0]!.eventId, commissionPaid: '500.00', windowEndsOn: '2026-09-10', reducesAttainment: false });
    // The cancellation does not touch the closed statement: no adjustment besides the clawback.
    expect((await payeePeriod('ada', '2026-07')).lines).toEqual([]);
  });

  it('published: a 50% clawback of 10,000 earned is -5,000', async () => {
    await onboard('ada');
    await onPlan(monthlyPlan({ clawback: { ...ninetyDays, percent: '50' } }), 'ada');
    await closeDealWon(ledger.store, deal('D-1', 'ada', '100000.00', '2026-03-10'), testCommandContext());
    await closeMonths('2026-03');
    await cancelDeal(ledger.store, { dealId: 'D-1', cancelDate: '2026-04-02', reason: 'churned' }, testCommandContext());
    await settle();
    expect((await payeePeriod('ada', '2026-04')).lines.map((line) => [line.kind, line.amount])).toEqual([['clawback', '-5000.00']]);
  });

  it.each([
    {
      name: 'outside the window claws nothing back and says so',
      clawback: ninetyDays as ClawbackTermsInput | null,
      cancelDate: '2026-07-01',
      target: '2026-07',
      outcome: 'outside_window',
      explanation: 'Deal D-1 was cancelled on 2026-07-01, 113 days after its credit date 2026-03-10, after the 90-day clawback window ended on 2026-06-08: nothing is clawed back.',
    },
    {
      name: 'a plan without clawback terms claws nothing back and says so',
      clawback: null,
      cancelDate: '2026-04-02',
      target: '2026-06',
      outcome: 'no_clawback_terms',
      explanation: 'Deal D-1 was cancelled on 2026-04-02, after period 2026-03 closed; plan ae-2026-v1 has no clawback terms: nothing is clawed back.',
    },
  ])('$name', async ({ clawback, cancelDate, target, outcome, explanation }) => {
    await onboard('ada');
    await onPlan(monthlyPlan({ clawback }), 'ada');
    await closeDealWon(ledger.store, deal('D-1', 'ada', '10000.00', '2026-03-10'), testCommandContext());
    await closeMonths('2026-03', '2026-04', '2026-05');
    await cancelDeal(ledger.store, { dealId: 'D-1', cancelDate, reason: 'churned' }, testCommandContext());
    await settle();
    const view = await payeePeriod('ada', target);
    expect(view.lines).toEqual([]);
    expect(view.clawbacksWaived).toEqual([expect.objectContaining({ dealId: 'D-1', sourcePeriodId: '2026-03', outcome, explanation })]);
  });

  it('leaves a deal cancelled while its period is open to the statement: nothing to claw back', async () => {
    await onboard('ada');
    await onPlan(monthlyPlan({ clawback: ninetyDays }), 'ada');
    await closeDealWon(ledger.store, deal('D-1', 'ada', '10000.00', '2026-03-10'), testCommandContext());
    await cancelDeal(ledger.store, { dealId: 'D-1', cancelDate: '2026-03-20', reason: 'churned' }, testCommandContext());
    await settle();
    expect((await payeePeriod('ada', '2026-03')).lines).toEqual([]);
    const closed = await closePeriod(deps, { calendarId: 'monthly', periodId: '2026-03' }, analyst());
    expect(closed.totals).toEqual([{ currency: 'USD', netPayable: '0.00' }]);
  });

  it('with attainment reduced, also adjusts the rest of the closed statement for the lower tier', async () => {
    await onboard('ada');
    const tiers = flatRateTable({ basis: 'attainment', tiers: [{ from: '0', to: '100', rate: '0.05' }, { from: '100', to: null, rate: '0.10' }], mode: 'retro' });
    await onPlan(monthlyPlan({ clawback: { ...ninetyDays, reducesAttainment: true }, components: [tiers] }), 'ada');
    await setQuota(ledger.store, { payeeId: 'ada', periodId: '2026-03', measure: 'bookings', amount: '100000', currency: 'USD' }, testCommandContext());
    await closeDealWon(ledger.store, deal('D-1', 'ada', '60000.00', '2026-03-05'), testCommandContext());
    await closeDealWon(ledger.store, deal('D-2', 'ada', '50000.00', '2026-03-20'), testCommandContext());
    await closeMonths('2026-03');
    // 110% attainment: both deals at 10% (retro) = 11,000. Without D-2, 60% attainment: D-1 at 5% = 3,000.
    await cancelDeal(ledger.store, { dealId: 'D-2', cancelDate: '2026-04-03', reason: 'churned' }, testCommandContext());
    await settle();
    const april = await payeePeriod('ada', '2026-04');
    const byKind = april.lines.map((line) => [line.kind, line.dealId, line.amount, line.cause?.kind ?? null]);
    expect(byKind).toEqual([
      ['clawback', 'D-2', '-5000.00', null],
      ['adjustment', 'D-1', '-3000.00', 'deal_cancelled'],
    ]);
  });
});

describe('deals recorded after or during a close', () => {
  it('pays a deal closed late into a closed period as an adjustment in the next open one', async () => {
    await onboard('ada');
    await onPlan(monthlyPlan(), 'ada');
    await closeDealWon(ledger.store, deal('D-1', 'ada', '10000.00', '2026-03-10'), testCommandContext());
    await closeMonths('2026-03');
    await closeDealWon(ledger.store, deal('D-2', 'ada', '30000.00', '2026-03-28'), testCommandContext());
    await settle();
    expect((await payeePeriod('ada', '2026-04')).lines.map((line) => [line.dealId, line.amount, line.cause?.kind])).toEqual([['D-2', '3000.00', 'deal_closed_late']]);
  });

  it('reacts again to a deal recorded while the close was being computed', async () => {
    await onboard('ada');
    await onPlan(monthlyPlan(), 'ada');
    await closeDealWon(ledger.store, deal('D-1', 'ada', '10000.00', '2026-03-10'), testCommandContext());
    // Between the close's reading of the statements and its append, a late deal lands and is reacted to: March is
    // not closed yet, so that reaction finds nothing to adjust.
    const store = ledger.store;
    let injected = false;
    const racing = new Proxy(store, {
      get(target, property, receiver) {
        if (property !== 'append') return Reflect.get(target, property, receiver);
        return async (streamId: string, events: never, expected: never) => {
          if (streamId.startsWith('period-') && !injected) {
            injected = true;
            await closeDealWon(store, deal('D-2', 'ada', '30000.00', '2026-03-28'), testCommandContext());
            await reactions.waitForPosition(await store.headPosition());
          }
          return target.append(streamId, events, expected);
        };
      },
    });
    await closePeriod({ ...deps, store: racing }, { calendarId: 'monthly', periodId: '2026-03' }, analyst());
    await settle();
    expect((await payeePeriod('ada', '2026-03')).payout).toMatchObject({ grossEarned: '1000.00' });
    expect((await payeePeriod('ada', '2026-04')).lines.map((line) => [line.dealId, line.amount, line.cause?.kind])).toEqual([['D-2', '3000.00', 'deal_closed_late']]);
  });
});

describe('durability', () => {
  it('posts nothing twice when replayed from the beginning of the log', async () => {
    await onboard('ada');
    await onPlan(monthlyPlan({ clawback: ninetyDays }), 'ada');
    await closeDealWon(ledger.store, deal('D-1', 'ada', '50000.00', '2026-03-10'), testCommandContext());
    await closeDealWon(ledger.store, deal('D-2', 'ada', '20000.00', '2026-03-11'), testCommandContext());
    await closeMonths('2026-03');
    await amendDeal(ledger.store, { dealId: 'D-1', amount: '65000.00', reason: 'price corrected' }, testCommandContext());
    await cancelDeal(ledger.store, { dealId: 'D-2', cancelDate: '2026-04-02', reason: 'churned' }, testCommandContext());
    await settle();
    const before = await payeePeriod('ada', '2026-04');
    expect(before.lines.map((line) => [line.kind, line.amount])).toEqual([
      ['adjustment', '1500.00'],
      ['clawback', '-2000.00'],
    ]);

    await reactions.stop();
    await ledger.db.transaction((transaction) => transaction.run('UPDATE process_checkpoints SET position = 0'));
    const head = await ledger.store.headPosition();
    reactions = new PayoutReactions(deps);
    await reactions.start();
    await settle();
    expect(await ledger.store.headPosition()).toBe(head);
    expect(await payeePeriod('ada', '2026-04')).toEqual(before);
  });
});
