import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ConcurrencyError } from '#lib/event-store/event-store.port.js';
import { openLedgerHarness, type LedgerHarness } from '#lib/shared/testing/ledger-harness.js';
import { testCommandContext } from '#lib/shared/testing/test-command-context.js';
import { createTempDir } from '#lib/shared/testing/temp-dir.js';
import { changePayeeManager, changePayeeTerritory, loadPayee, onboardPayee, setQuota, type OnboardPayeeInput } from './payee-commands.js';
import { getPayee, listPayees } from './payee-queries.js';

/** Payee commands against the embedded store: cross-stream checks, idempotency, concurrency, and the directory read model. */

const temp = createTempDir('payees');
afterAll(() => temp.remove());

let ledger: LedgerHarness;
beforeEach(async () => {
  ledger = await openLedgerHarness(temp.path);
});
afterEach(async () => {
  await ledger.close();
});

const payee = (payeeId: string, managerId: string | null = null): OnboardPayeeInput => ({
  payeeId,
  name: `Payee ${payeeId}`,
  managerId,
  territory: 'EMEA',
  currency: 'EUR',
  startDate: '2026-01-01',
});

describe('payee commands', () => {
  it('onboards a payee under a manager that exists, and refuses one that does not', async () => {
    await onboardPayee(ledger.store, payee('grace'), testCommandContext());
    const outcome = await onboardPayee(ledger.store, payee('ada', 'grace'), testCommandContext());
    expect(outcome).toMatchObject({ streamId: 'payee-ada', revision: 0, replayed: false, events: [{ type: 'PayeeOnboarded', revision: 0 }] });
    await expect(onboardPayee(ledger.store, payee('bob', 'nobody'), testCommandContext())).rejects.toMatchObject({
      code: 'PAYEE.MANAGER_NOT_FOUND',
      kind: 'not_found',
    });
    expect((await loadPayee(ledger.store, 'bob')).status).toBe('not_onboarded');
  });

  it('refuses a manager change that would close a reporting cycle', async () => {
    await onboardPayee(ledger.store, payee('grace'), testCommandContext());
    await onboardPayee(ledger.store, payee('ada', 'grace'), testCommandContext());
    await onboardPayee(ledger.store, payee('bob', 'ada'), testCommandContext());
    await expect(
      changePayeeManager(ledger.store, { payeeId: 'grace', managerId: 'bob', effectiveDate: '2026-02-01' }, testCommandContext()),
    ).rejects.toMatchObject({ code: 'PAYEE.MANAGER_CYCLE' });
  });

  it('answers a retried command with the events recorded the first time', async () => {
    const context = testCommandContext({ commandId: 'retry-key-0001' });
    const first = await onboardPayee(ledger.store, payee('ada'), context);
    const retried = await onboardPayee(ledger.store, payee('ada'), context);
    expect(retried).toMatchObject({ replayed: true, revision: first.revision, position: first.position, events: first.events });
    expect(await ledger.store.readStream('payee-ada')).toHaveLength(1);
  });

  it('refuses a command decided on a stale revision (If-Match)', async () => {
    await onboardPayee(ledger.store, payee('ada'), testCommandContext());
    await changePayeeTerritory(ledger.store, { payeeId: 'ada', territory: 'DACH', effectiveDate: '2026-03-01' }, testCommandContext());
    await expect(
      setQuota(ledger.store, { payeeId: 'ada', periodId: '2026', measure: 'bookings', amount: '1', currency: 'EUR' }, testCommandContext({ expectedRevision: 0 })),
    ).rejects.toBeInstanceOf(ConcurrencyError);
  });
});

describe('payee directory read model', () => {
  it('shows the latest manager and territory, and those in force on a given date', async () => {
    await onboardPayee(ledger.store, payee('grace'), testCommandContext());
    await onboardPayee(ledger.store, payee('linus'), testCommandContext());
    await onboardPayee(ledger.store, { ...payee('ada', 'grace'), email: 'ada@example.com' }, testCommandContext());
    await changePayeeManager(ledger.store, { payeeId: 'ada', managerId: 'linus', effectiveDate: '2026-06-01' }, testCommandContext());
    const last = await changePayeeTerritory(ledger.store, { payeeId: 'ada', territory: 'DACH', effectiveDate: '2026-04-01' }, testCommandContext());
    await ledger.runner.waitForPosition(last.position);

    expect(await getPayee(ledger.db, 'ada')).toEqual({
      payeeId: 'ada',
      name: 'Payee ada',
      email: 'ada@example.com',
      managerId: 'linus',
      territory: 'DACH',
      currency: 'EUR',
      startDate: '2026-01-01',
      revision: 2,
      managerHistory: [
        { value: 'grace', effectiveDate: '2026-01-01' },
        { value: 'linus', effectiveDate: '2026-06-01' },
      ],
      territoryHistory: [
        { value: 'EMEA', effectiveDate: '2026-01-01' },
        { value: 'DACH', effectiveDate: '2026-04-01' },
      ],
    });
    expect(await getPayee(ledger.db, 'ada', { asOfDate: '2026-05-15' })).toMatchObject({ managerId: 'grace', territory: 'DACH' });
    expect(await getPayee(ledger.db, 'nobody')).toBeNull();
  });

  it('lists payees a page at a time, and a manager’s direct reports', async () => {
    await onboardPayee(ledger.store, payee('grace'), testCommandContext());
    for (const payeeId of ['e', 'a', 'd', 'c', 'b']) await onboardPayee(ledger.store, payee(payeeId, 'grace'), testCommandContext());
    await ledger.runner.caughtUp();

    const first = await listPayees(ledger.db, { limit: 4 });
    expect(first.items.map((item) => item.payeeId)).toEqual(['a', 'b', 'c', 'd']);
    const second = await listPayees(ledger.db, { limit: 4, after: first.nextAfter! });
    expect(second).toMatchObject({ items: [{ payeeId: 'e' }, { payeeId: 'grace' }], nextAfter: null });
    expect((await listPayees(ledger.db, { managerId: 'grace' })).items).toHaveLength(5);
    expect((await listPayees(ledger.db, { managerId: 'a' })).items).toEqual([]);
  });
});
