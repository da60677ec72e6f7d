import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { onboardPayee, setQuota } from '#lib/organization/application/payee-commands.js';
import { amendDeal, cancelDeal, closeDealWon } from '#lib/crediting/application/deal-commands.js';
import { ProjectionRunner } from '#lib/projections/projection-runner.js';
import { createLedgerProjections } from '#lib/projections/ledger-projections.js';
import { dumpReadModel } from '#lib/shared/testing/read-model-dump.js';
import { openLedgerHarness, type LedgerHarness } from '#lib/shared/testing/ledger-harness.js';
import { testCommandContext } from '#lib/shared/testing/test-command-context.js';
import { createTempDir } from '#lib/shared/testing/temp-dir.js';
import { getAttainment, listAttainment, type MeasureAttainment } from './attainment-queries.js';

/**
 * Attainment end to end through the application functions, the embedded store and the read-model file:
 * a split deal with a manager overlay, a second deal, an amendment of the amount, an amendment that moves the
 * credit date to the next quarter, a cancellation and a credit in a foreign currency. Then the read model is
 * rebuilt from zero (in place and into a fresh file) and must equal the live one, row for row.
 */

const temp = createTempDir('attainment');
afterAll(() => temp.remove());

let ledger: LedgerHarness;
beforeEach(async () => {
  ledger = await openLedgerHarness(temp.path);
});
afterEach(async () => {
  await ledger.close();
});

const context = () => testCommandContext();

async function settle(position: number): Promise<void> {
  await ledger.runner.waitForPosition(position, { timeoutMs: 10_000 });
}

async function seedPayees(): Promise<void> {
  const base = { territory: 'EMEA', currency: 'EUR', startDate: '2026-01-01' };
  await onboardPayee(ledger.store, { payeeId: 'grace', name: 'Grace Hopper', managerId: null, ...base }, context());
  await onboardPayee(ledger.store, { payeeId: 'ada', name: 'Ada Lovelace', managerId: 'grace', ...base }, context());
  await onboardPayee(ledger.store, { payeeId: 'bob', name: 'Bob Kahn', managerId: 'grace', ...base }, context());
  await onboardPayee(ledger.store, { payeeId: 'sam', name: 'Sam Altmann', managerId: 'grace', ...base, currency: 'USD', territory: 'NA' }, context());
  await setQuota(ledger.store, { payeeId: 'ada', periodId: '2026-02', measure: 'bookings', amount: '2000', currency: 'EUR' }, context());
  await setQuota(ledger.store, { payeeId: 'ada', periodId: '2026-Q1', measure: 'bookings', amount: '10000.00', currency: 'EUR' }, context());
  await setQuota(ledger.store, { payeeId: 'bob', periodId: '2026-Q1', measure: 'bookings', amount: '0', currency: 'EUR' }, context());
  await setQuota(ledger.store, { payeeId: 'grace', periodId: '2026', measure: 'bookings', amount: '100000', currency: 'EUR' }, context());
}

const closeSplitDeal = () =>
  closeDealWon(
    ledger.store,
    {
      dealId: 'd-1',
      ownerPayeeId: 'ada',
      amount: '1000.00',
      currency: 'EUR',
      closeDate: '2026-02-14',
      product: 'Ledger Pro',
      dealType: 'new_business',
      primarySplits: [
        { payeeId: 'ada', sharePercent: '60' },
        { payeeId: 'bob', sharePercent: '40' },
      ],
      overlays: [{ payeeId: 'grace', sharePercent: '100', role: 'manager' }],
    },
    context(),
  );

const closeOwnerDeal = () =>
  closeDealWon(
    ledger.store,
    { dealId: 'd-2', ownerPayeeId: 'ada', amount: '333.33', currency: 'EUR', closeDate: '2026-03-31', product: 'Ledger Lite', dealType: 'new_business' },
    context(),
  );

async function bookings(payeeId: string, periodId: string): Promise<MeasureAttainment | undefined> {
  const attainment = await getAttainment(ledger.db, { payeeId, periodId, measure: 'bookings' });
  return attainment?.measures[0];
}

async function runFullScenario(): Promise<number> {
  await seedPayees();
  await closeSplitDeal();
  await closeOwnerDeal();
  await amendDeal(ledger.store, { dealId: 'd-1', amount: '1500', reason: 'More seats' }, context());
  await amendDeal(ledger.store, { dealId: 'd-1', closeDate: '2026-04-02', reason: 'Signed in April' }, context());
  await cancelDeal(ledger.store, { dealId: 'd-2', cancelDate: '2026-04-10', reason: 'Customer withdrew' }, context());
  const last = await closeDealWon(
    ledger.store,
    {
      dealId: 'd-3',
      ownerPayeeId: 'sam',
      amount: '500',
      currency: 'USD',
      closeDate: '2026-05-05',
      product: 'Ledger Pro',
      dealType: 'expansion',
      primarySplits: [
        { payeeId: 'sam', sharePercent: '50' },
        { payeeId: 'ada', sharePercent: '50' },
      ],
    },
    context(),
  );
  return last.position;
}

describe('attainment read model', () => {
  it('splits primary credit by share and counts overlay credit on top for the manager', async () => {
    await seedPayees();
    const closed = await closeSplitDeal();
    await settle(closed.position);

    expect(await bookings('ada', '2026-02')).toEqual({
      measure: 'bookings',
      currency: 'EUR',
      creditedAmount: '600',
      quotaAmount: '2000',
      attainmentPercent: '30.00',
      dealsCounted: 1,
    });
    expect(await bookings('ada', '2026-Q1')).toMatchObject({ creditedAmount: '600', quotaAmount: '10000.00', attainmentPercent: '6.00', dealsCounted: 1 });
    expect(await bookings('ada', '2026')).toMatchObject({ creditedAmount: '600', quotaAmount: null, attainmentPercent: null, dealsCounted: 1 });
    expect(await bookings('bob', '2026-Q1')).toMatchObject({ creditedAmount: '400', quotaAmount: '0', attainmentPercent: null });
    expect(await bookings('grace', '2026')).toMatchObject({ creditedAmount: '1000', quotaAmount: '100000', attainmentPercent: '1.00', dealsCounted: 1 });
  });

  it('rounds attainment half-even to two decimals over full-precision credits', async () => {
    await seedPayees();
    await closeSplitDeal();
    const closed = await closeOwnerDeal();
    await settle(closed.position);
    // 600 + 333.33 = 933.33 of 10000 = 9.3333% -> 9.33
    expect(await bookings('ada', '2026-Q1')).toMatchObject({ creditedAmount: '933.33', attainmentPercent: '9.33', dealsCounted: 2 });
    expect(await bookings('ada', '2026-03')).toMatchObject({ creditedAmount: '333.33', quotaAmount: null, dealsCounted: 1 });
  });

  it('follows amendments and cancellations: amounts re-derived, credits moved between periods, cancelled deals removed', async () => {
    await seedPayees();
    await closeSplitDeal();
    await closeOwnerDeal();
    const amended = await amendDeal(ledger.store, { dealId: 'd-1', amount: '1500', reason: 'More seats' }, context());
    await settle(amended.position);
    expect(await bookings('ada', '2026-Q1')).toMatchObject({ creditedAmount: '1233.33', attainmentPercent: '12.33', dealsCounted: 2 });
    // Grace's overlay is given on d-1 and rolled up to her, ada's manager, on d-2 (closed without overlays).
    expect(await bookings('grace', '2026')).toMatchObject({ creditedAmount: '1833.33', attainmentPercent: '1.83', dealsCounted: 2 });

    const moved = await amendDeal(ledger.store, { dealId: 'd-1', closeDate: '2026-04-02', reason: 'Signed in April' }, context());
    await settle(moved.position);
    expect(await bookings('ada', '2026-02')).toMatchObject({ creditedAmount: '0', quotaAmount: '2000', attainmentPercent: '0.00', dealsCounted: 0 });
    expect(await bookings('ada', '2026-Q1')).toMatchObject({ creditedAmount: '333.33', attainmentPercent: '3.33', dealsCounted: 1 });
    expect(await bookings('ada', '2026-Q2')).toMatchObject({ creditedAmount: '900', dealsCounted: 1 });
    expect(await bookings('ada', '2026')).toMatchObject({ creditedAmount: '1233.33', dealsCounted: 2 });

    const cancelled = await cancelDeal(ledger.store, { dealId: 'd-2', cancelDate: '2026-04-10', reason: 'Customer withdrew' }, context());
    await settle(cancelled.position);
    expect(await bookings('ada', '2026-Q1')).toMatchObject({ creditedAmount: '0', attainmentPercent: '0.00', dealsCounted: 0 });
    expect(await bookings('ada', '2026')).toMatchObject({ creditedAmount: '900', dealsCounted: 1 });
    expect(await bookings('grace', '2026')).toMatchObject({ creditedAmount: '1500', attainmentPercent: '1.50', dealsCounted: 1 });
  });

  it('counts a deal once for a payee who holds both primary and overlay credit on it', async () => {
    await seedPayees();
    const closed = await closeDealWon(
      ledger.store,
      {
        dealId: 'd-9',
        ownerPayeeId: 'ada',
        amount: '200',
        currency: 'EUR',
        closeDate: '2026-01-20',
        product: 'Ledger Pro',
        dealType: 'renewal',
        overlays: [{ payeeId: 'ada', sharePercent: '10', role: 'specialist' }],
      },
      context(),
    );
    await settle(closed.position);
    expect(await bookings('ada', '2026-01')).toMatchObject({ creditedAmount: '220', dealsCounted: 1 });
  });

  it('holds credits in another currency than the payee with reason FX_RATE_MISSING instead of adding them', async () => {
    const position = await runFullScenario();
    await settle(position);
    expect(await bookings('sam', '2026-05')).toMatchObject({ currency: 'USD', creditedAmount: '250', dealsCounted: 1 });
    const ada = await getAttainment(ledger.db, { payeeId: 'ada', periodId: '2026-Q2' });
    expect(ada?.measures).toEqual([expect.objectContaining({ measure: 'bookings', creditedAmount: '900', dealsCounted: 1 })]);
    expect(ada?.held).toEqual([
      {
        creditId: 'd-3:ada:primary',
        dealId: 'd-3',
        measure: 'bookings',
        creditDate: '2026-05-05',
        amount: '250',
        currency: 'USD',
        payeeCurrency: 'EUR',
        reason: 'FX_RATE_MISSING',
      },
    ]);
    expect((await getAttainment(ledger.db, { payeeId: 'ada', periodId: '2026-Q1' }))?.held).toEqual([]);
  });

  it('answers null for an unknown payee, an empty period for a known one, and rejects a malformed period id', async () => {
    await seedPayees();
    await ledger.runner.caughtUp();
    expect(await getAttainment(ledger.db, { payeeId: 'nobody', periodId: '2026-Q1' })).toBeNull();
    expect(await getAttainment(ledger.db, { payeeId: 'bob', periodId: '2027' })).toEqual({ payeeId: 'bob', periodId: '2027', measures: [], held: [] });
    await expect(getAttainment(ledger.db, { payeeId: 'bob', periodId: '2026-Q7' })).rejects.toMatchObject({ code: 'PERIOD.INVALID_ID' });
  });

  it('lists a period across payees a page at a time', async () => {
    const position = await runFullScenario();
    await settle(position);
    const first = await listAttainment(ledger.db, { periodId: '2026', limit: 2 });
    expect(first.items.map((item) => `${item.payeeId}:${item.creditedAmount}`)).toEqual(['ada:900', 'bob:600']);
    const second = await listAttainment(ledger.db, { periodId: '2026', limit: 2, after: first.nextAfter! });
    expect(second.items.map((item) => `${item.payeeId}:${item.creditedAmount}`)).toEqual(['grace:1500', 'sam:250']);
    expect(second.nextAfter).toBeNull();
    const measured = await listAttainment(ledger.db, { periodId: '2026', measure: 'bookings', limit: 3 });
    expect(measured.nextAfter).toBe('grace');
  });
});

describe('attainment and the other read models under rebuild and restart', () => {
  it('a rebuild from zero equals the live read model, in place and in a fresh file, and twice gives the same', async () => {
    const position = await runFullScenario();
    await settle(position);
    const live = await dumpReadModel(ledger.db, ledger.projections, { includeCheckpoints: true });
    expect(live.attainment.length).toBeGreaterThan(10);
    expect(live.deal_credits.length).toBeGreaterThan(3);

    await ledger.runner.rebuild();
    const rebuilt = await dumpReadModel(ledger.db, ledger.projections, { includeCheckpoints: true });
    expect(rebuilt).toEqual(live);
    await ledger.runner.rebuild();
    expect(await dumpReadModel(ledger.db, ledger.projections, { includeCheckpoints: true })).toEqual(rebuilt);

    const fresh = ledger.openReadModel();
    await fresh.runner.rebuild();
    expect(await dumpReadModel(fresh.db, fresh.projections, { includeCheckpoints: true })).toEqual(live);
  });

  it('resumes from the checkpoint after a restart: the read model is unchanged, and later events still arrive', async () => {
    await seedPayees();
    await closeSplitDeal();
    const closed = await closeOwnerDeal();
    await settle(closed.position);
    const before = await dumpReadModel(ledger.db, ledger.projections, { includeCheckpoints: true });
    await ledger.runner.stop();

    const projections = createLedgerProjections();
    const restarted = new ProjectionRunner(ledger.store, ledger.db, projections);
    await restarted.start();
    await restarted.caughtUp();
    expect(await dumpReadModel(ledger.db, projections, { includeCheckpoints: true })).toEqual(before);

    const cancelled = await cancelDeal(ledger.store, { dealId: 'd-2', cancelDate: '2026-04-10', reason: 'Customer withdrew' }, context());
    await restarted.waitForPosition(cancelled.position);
    expect(await bookings('ada', '2026-Q1')).toMatchObject({ creditedAmount: '600', dealsCounted: 1 });
    await restarted.stop();
  });
});
