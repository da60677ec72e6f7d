import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { changePayeeManager, onboardPayee } from '#lib/organization/application/payee-commands.js';
import { openLedgerHarness, type LedgerHarness } from '#lib/shared/testing/ledger-harness.js';
import { testCommandContext } from '#lib/shared/testing/test-command-context.js';
import { createTempDir } from '#lib/shared/testing/temp-dir.js';
import { allocateCredits, amendDeal, cancelDeal, closeDealWon, loadDeal, type CloseDealWonInput } from './deal-commands.js';
import { getDeal, listCreditsForPayee, listDeals } from './deal-queries.js';

/** Deal commands against the embedded store (payee checks across streams) and the deals read model. */

const temp = createTempDir('deals');
afterAll(() => temp.remove());

let ledger: LedgerHarness;
beforeEach(async () => {
  ledger = await openLedgerHarness(temp.path);
  for (const payeeId of ['ada', 'bob', 'grace']) {
    await onboardPayee(ledger.store, { payeeId, name: payeeId, managerId: null, territory: 'EMEA', currency: 'EUR', startDate: '2026-01-01' }, testCommandContext());
  }
});
afterEach(async () => {
  await ledger.close();
});

const deal = (dealId: string, overrides: Partial<CloseDealWonInput> = {}): CloseDealWonInput => ({
  dealId,
  ownerPayeeId: 'ada',
  amount: '1000.00',
  currency: 'EUR',
  closeDate: '2026-02-14',
  product: 'Ledger Pro',
  dealType: 'new_business',
  ...overrides,
});

describe('deal commands', () => {
  it('refuses credit for payees that are not onboarded, naming each', async () => {
    await expect(closeDealWon(ledger.store, deal('d-1', { ownerPayeeId: 'nobody' }), testCommandContext())).rejects.toMatchObject({
      code: 'CREDIT.UNKNOWN_PAYEE',
      kind: 'not_found',
      fields: [{ field: 'ownerPayeeId', message: 'payee nobody is not onboarded' }],
    });
    await closeDealWon(ledger.store, deal('d-1'), testCommandContext());
    await expect(
      allocateCredits(
        ledger.store,
        { dealId: 'd-1', primarySplits: [{ payeeId: 'ada', sharePercent: '50' }, { payeeId: 'ghost', sharePercent: '50' }] },
        testCommandContext(),
      ),
    ).rejects.toMatchObject({ code: 'CREDIT.UNKNOWN_PAYEE', fields: [{ field: 'primarySplits[1].payeeId' }] });
  });

  it('refuses commands on a deal that does not exist', async () => {
    await expect(cancelDeal(ledger.store, { dealId: 'd-x', cancelDate: '2026-03-01', reason: 'x' }, testCommandContext())).rejects.toMatchObject({
      code: 'DEAL.NOT_FOUND',
    });
    await expect(amendDeal(ledger.store, { dealId: 'd-x', amount: '1', reason: 'x' }, testCommandContext())).rejects.toMatchObject({ code: 'DEAL.NOT_FOUND' });
    expect(await ledger.store.readStream('deal-d-x')).toEqual([]);
  });

  it('records the deal and its default owner credit in one append', async () => {
    const outcome = await closeDealWon(ledger.store, deal('d-1'), testCommandContext());
    expect(outcome.events.map((event) => event.type)).toEqual(['DealClosedWon', 'CreditsAllocated']);
    const state = await loadDeal(ledger.store, 'd-1');
    expect(state.status === 'won' && state.credits.map((credit) => [credit.creditId, credit.amounts])).toEqual([['d-1:ada:primary', { bookings: '1000' }]]);
  });
});

describe('roll-up credit', () => {
  const overlaysOf = async (dealId: string) => {
    const state = await loadDeal(ledger.store, dealId);
    return state.status === 'won' ? state.credits.filter((credit) => credit.kind === 'overlay').map((credit) => [credit.payeeId, credit.role, credit.sharePercent]) : null;
  };

  it('credits the managers above the primary payees as the payee streams say they stood on the credit date', async () => {
    await onboardPayee(ledger.store, { payeeId: 'linus', name: 'linus', managerId: null, territory: 'EMEA', currency: 'EUR', startDate: '2026-01-01' }, testCommandContext());
    await changePayeeManager(ledger.store, { payeeId: 'grace', managerId: 'linus', effectiveDate: '2026-01-01' }, testCommandContext());
    await changePayeeManager(ledger.store, { payeeId: 'ada', managerId: 'grace', effectiveDate: '2026-01-01' }, testCommandContext());
    // Recorded now, effective from March: deals credited before March still roll up to grace.
    await changePayeeManager(ledger.store, { payeeId: 'ada', managerId: 'bob', effectiveDate: '2026-03-01' }, testCommandContext());

    await closeDealWon(ledger.store, deal('d-1'), testCommandContext());
    expect(await overlaysOf('d-1')).toEqual([
      ['grace', 'manager', '100'],
      ['linus', 'manager', '100'],
    ]);
    await closeDealWon(ledger.store, deal('d-2', { closeDate: '2026-03-10' }), testCommandContext());
    expect(await overlaysOf('d-2')).toEqual([['bob', 'manager', '100']]);
    await closeDealWon(ledger.store, deal('d-3', { overlays: [] }), testCommandContext());
    expect(await overlaysOf('d-3')).toEqual([]);

    // Re-allocating without overlays rolls up again, on the new credit date.
    await allocateCredits(ledger.store, { dealId: 'd-1', primarySplits: [{ payeeId: 'ada', sharePercent: '100' }], creditDate: '2026-03-02' }, testCommandContext());
    expect(await overlaysOf('d-1')).toEqual([['bob', 'manager', '100']]);
  });
});

describe('deals read model', () => {
  it('shows a deal with its current credits through allocation, amendment and cancellation', async () => {
    await closeDealWon(ledger.store, deal('d-1'), testCommandContext());
    await allocateCredits(
      ledger.store,
      {
        dealId: 'd-1',
        primarySplits: [{ payeeId: 'ada', sharePercent: '70' }, { payeeId: 'bob', sharePercent: '30' }],
        overlays: [{ payeeId: 'grace', sharePercent: '50', role: 'manager' }],
      },
      testCommandContext(),
    );
    const amended = await amendDeal(ledger.store, { dealId: 'd-1', amount: '2000', reason: 'Upsell' }, testCommandContext());
    await ledger.runner.waitForPosition(amended.position);

    const view = await getDeal(ledger.db, 'd-1');
    expect(view).toMatchObject({ status: 'won', amount: '2000', measures: { bookings: '2000' }, amendments: 1, revision: 3, creditDate: '2026-02-14' });
    expect(view?.credits.map((credit) => [credit.payeeId, credit.kind, credit.role, credit.amounts.bookings])).toEqual([
      ['ada', 'primary', null, '1400'],
      ['bob', 'primary', null, '600'],
      ['grace', 'overlay', 'manager', '1000'],
    ]);
    expect((await listCreditsForPayee(ledger.db, { payeeId: 'grace' })).items.map((credit) => credit.creditId)).toEqual(['d-1:grace:overlay']);

    const cancelled = await cancelDeal(ledger.store, { dealId: 'd-1', cancelDate: '2026-03-01', reason: 'Lost' }, testCommandContext());
    await ledger.runner.waitForPosition(cancelled.position);
    expect(await getDeal(ledger.db, 'd-1')).toMatchObject({ status: 'cancelled', cancelDate: '2026-03-01', credits: [] });
    expect((await listCreditsForPayee(ledger.db, { payeeId: 'grace' })).items).toEqual([]);
  });

  it('lists deals by owner and status, and credits by date range, a page at a time', async () => {
    await closeDealWon(ledger.store, deal('d-1'), testCommandContext());
    await closeDealWon(ledger.store, deal('d-2', { closeDate: '2026-03-02' }), testCommandContext());
    await closeDealWon(ledger.store, deal('d-3', { ownerPayeeId: 'bob' }), testCommandContext());
    await cancelDeal(ledger.store, { dealId: 'd-2', cancelDate: '2026-03-05', reason: 'Lost' }, testCommandContext());
    await ledger.runner.caughtUp();

    const page = await listDeals(ledger.db, { ownerPayeeId: 'ada', limit: 1 });
    expect(page.items.map((item) => item.dealId)).toEqual(['d-1']);
    expect((await listDeals(ledger.db, { ownerPayeeId: 'ada', after: page.nextAfter! })).items.map((item) => item.dealId)).toEqual(['d-2']);
    expect((await listDeals(ledger.db, { status: 'won' })).items.map((item) => item.dealId)).toEqual(['d-1', 'd-3']);
    expect((await listCreditsForPayee(ledger.db, { payeeId: 'ada', fromDate: '2026-02-01', toDate: '2026-02-28' })).items).toHaveLength(1);
    expect(await getDeal(ledger.db, 'nope')).toBeNull();
  });
});
