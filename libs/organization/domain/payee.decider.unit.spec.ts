import { describe, expect, it } from '@jest/globals';
import { DeciderSpecification } from '#lib/shared/testing/decider-specification.js';
import { foldEvents } from '#lib/shared/domain/decider.js';
import {
  NO_MANAGER,
  latestValue,
  payeeDecider,
  valueOn,
  type OnboardPayee,
  type PayeeEvent,
  type PayeeOnboarded,
} from './payee.decider.js';

const given = DeciderSpecification.for(payeeDecider);

const onboardAda: OnboardPayee = {
  type: 'OnboardPayee',
  payeeId: 'ada',
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  managerId: 'grace',
  territory: 'EMEA',
  currency: 'EUR',
  startDate: '2026-01-01',
  manager: { found: true, managersAbove: ['linus'] },
};

const adaOnboarded: PayeeOnboarded = {
  type: 'PayeeOnboarded',
  data: {
    payeeId: 'ada',
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    managerId: 'grace',
    territory: 'EMEA',
    currency: 'EUR',
    startDate: '2026-01-01',
  },
};

describe('payee decider: OnboardPayee', () => {
  it('onboards a payee with a manager that exists', () => {
    given([]).when(onboardAda).then([adaOnboarded]);
  });

  it('onboards a payee without a manager or e-mail', () => {
    given([])
      .when({ ...onboardAda, managerId: null, email: undefined, manager: NO_MANAGER })
      .then([{ type: 'PayeeOnboarded', data: { ...adaOnboarded.data, managerId: null, email: null } }]);
  });

  it('rejects onboarding twice', () => {
    given([adaOnboarded]).when(onboardAda).thenThrows('PAYEE.ALREADY_ONBOARDED', 'conflict');
  });

  it('rejects a manager the handler did not find', () => {
    given([]).when({ ...onboardAda, manager: NO_MANAGER }).thenThrows('PAYEE.MANAGER_NOT_FOUND', 'not_found');
  });

  it('rejects the payee as their own manager', () => {
    given([]).when({ ...onboardAda, managerId: 'ada' }).thenThrows('PAYEE.SELF_MANAGER', 'validation');
  });

  it.each([
    ['payeeId', { payeeId: 'has space' }, 'VALIDATION.IDENTIFIER'],
    ['payeeId with ":"', { payeeId: 'a:b' }, 'VALIDATION.IDENTIFIER'],
    ['name', { name: '   ' }, 'VALIDATION.TEXT'],
    ['email', { email: 'not-an-address' }, 'VALIDATION.EMAIL'],
    ['territory', { territory: '' }, 'VALIDATION.TEXT'],
    ['currency', { currency: 'eur' }, 'VALIDATION.CURRENCY'],
    ['startDate', { startDate: '2026-02-30' }, 'VALIDATION.DATE'],
    ['managerId', { managerId: 'bad id' }, 'VALIDATION.IDENTIFIER'],
  ])('rejects a bad %s', (_field, change, code) => {
    given([]).when({ ...onboardAda, ...change } as OnboardPayee).thenThrows(code, 'validation');
  });
});

describe('payee decider: ChangePayeeManager', () => {
  const change = { type: 'ChangePayeeManager' as const, payeeId: 'ada', managerId: 'linus', effectiveDate: '2026-04-01', manager: { found: true, managersAbove: [] } };

  it('records an effective-dated change with the manager it replaces', () => {
    given([adaOnboarded])
      .when(change)
      .then([{ type: 'PayeeManagerChanged', data: { payeeId: 'ada', managerId: 'linus', previousManagerId: 'grace', effectiveDate: '2026-04-01' } }]);
  });

  it('can remove the manager', () => {
    given([adaOnboarded])
      .when({ ...change, managerId: null, manager: NO_MANAGER })
      .then([{ type: 'PayeeManagerChanged', data: { payeeId: 'ada', managerId: null, previousManagerId: 'grace', effectiveDate: '2026-04-01' } }]);
  });

  it('records nothing when the manager in force stays the same', () => {
    given([adaOnboarded]).when({ ...change, managerId: 'grace' }).then([]);
  });

  it('records a back-dated change that sits before a later one', () => {
    const later: PayeeEvent = { type: 'PayeeManagerChanged', data: { payeeId: 'ada', managerId: 'linus', previousManagerId: 'grace', effectiveDate: '2026-06-01' } };
    given([adaOnboarded, later])
      .when({ ...change, managerId: 'grace', effectiveDate: '2026-03-01' })
      .then([{ type: 'PayeeManagerChanged', data: { payeeId: 'ada', managerId: 'grace', previousManagerId: 'grace', effectiveDate: '2026-03-01' } }]);
  });

  it('rejects an unknown payee', () => {
    given([]).when(change).thenThrows('PAYEE.NOT_FOUND', 'not_found');
  });

  it('rejects the payee as their own manager', () => {
    given([adaOnboarded]).when({ ...change, managerId: 'ada' }).thenThrows('PAYEE.SELF_MANAGER');
  });

  it('rejects a manager that does not exist', () => {
    given([adaOnboarded]).when({ ...change, manager: NO_MANAGER }).thenThrows('PAYEE.MANAGER_NOT_FOUND');
  });

  it('rejects a reporting cycle', () => {
    given([adaOnboarded]).when({ ...change, manager: { found: true, managersAbove: ['grace', 'ada'] } }).thenThrows('PAYEE.MANAGER_CYCLE', 'conflict');
  });

  it('rejects a change before the start date', () => {
    given([adaOnboarded]).when({ ...change, effectiveDate: '2025-12-31' }).thenThrows('PAYEE.EFFECTIVE_BEFORE_START', 'validation');
  });

  it('rejects a bad effective date', () => {
    given([adaOnboarded]).when({ ...change, effectiveDate: '01/04/2026' }).thenThrows('VALIDATION.DATE');
  });
});

describe('payee decider: ChangePayeeTerritory', () => {
  const change = { type: 'ChangePayeeTerritory' as const, payeeId: 'ada', territory: 'DACH', effectiveDate: '2026-07-01' };

  it('records an effective-dated change', () => {
    given([adaOnboarded])
      .when(change)
      .then([{ type: 'PayeeTerritoryChanged', data: { payeeId: 'ada', territory: 'DACH', previousTerritory: 'EMEA', effectiveDate: '2026-07-01' } }]);
  });

  it('records nothing when the territory stays the same', () => {
    given([adaOnboarded]).when({ ...change, territory: 'EMEA' }).then([]);
  });

  it('rejects an unknown payee', () => {
    given([]).when(change).thenThrows('PAYEE.NOT_FOUND');
  });

  it('rejects a change before the start date', () => {
    given([adaOnboarded]).when({ ...change, effectiveDate: '2025-06-01' }).thenThrows('PAYEE.EFFECTIVE_BEFORE_START');
  });

  it('rejects a blank territory', () => {
    given([adaOnboarded]).when({ ...change, territory: ' ' }).thenThrows('VALIDATION.TEXT');
  });
});

describe('payee decider: SetQuota', () => {
  const setQuota = { type: 'SetQuota' as const, payeeId: 'ada', periodId: '2026-Q1', measure: 'bookings', amount: '300000.00', currency: 'EUR' };
  const quotaSet: PayeeEvent = {
    type: 'QuotaSet',
    data: { payeeId: 'ada', periodId: '2026-Q1', measure: 'bookings', amount: '300000.00', currency: 'EUR', previousAmount: null },
  };

  it.each(['2026-03', '2026-Q1', '2026'])('sets a quota for period %s', (periodId) => {
    given([adaOnboarded])
      .when({ ...setQuota, periodId })
      .then([{ type: 'QuotaSet', data: { ...quotaSet.data, periodId } } as PayeeEvent]);
  });

  it('allows a zero quota', () => {
    given([adaOnboarded]).when({ ...setQuota, amount: '0' }).then([{ type: 'QuotaSet', data: { ...quotaSet.data, amount: '0' } } as PayeeEvent]);
  });

  it('replaces a quota and records the amount it replaces', () => {
    given([adaOnboarded, quotaSet])
      .when({ ...setQuota, amount: '350000' })
      .then([{ type: 'QuotaSet', data: { ...quotaSet.data, amount: '350000', previousAmount: '300000.00' } } as PayeeEvent]);
  });

  it('records nothing when the same amount is set again, however it is written', () => {
    given([adaOnboarded, quotaSet]).when({ ...setQuota, amount: '300000' }).then([]);
  });

  it.each(['2026-13', '2026-Q5', '26', '2026-1', 'Q1-2026', '2026-00'])('rejects period id %s', (periodId) => {
    given([adaOnboarded]).when({ ...setQuota, periodId }).thenThrows('QUOTA.INVALID_PERIOD', 'validation');
  });

  it('rejects a negative amount', () => {
    given([adaOnboarded]).when({ ...setQuota, amount: '-1' }).thenThrows('VALIDATION.NEGATIVE_AMOUNT', 'validation');
  });

  it.each(['1e5', '12,5', ' 10', '+10', ''])('rejects non-decimal amount %j', (amount) => {
    given([adaOnboarded]).when({ ...setQuota, amount }).thenThrows('VALIDATION.DECIMAL', 'validation');
  });

  it('rejects a number where a decimal string belongs', () => {
    given([adaOnboarded]).when({ ...setQuota, amount: 100 as unknown as string }).thenThrows('VALIDATION.DECIMAL');
  });

  it('rejects a quota in another currency than the payee', () => {
    given([adaOnboarded]).when({ ...setQuota, currency: 'USD' }).thenThrows('QUOTA.CURRENCY_MISMATCH', 'validation');
  });

  it('rejects a bad measure name', () => {
    given([adaOnboarded]).when({ ...setQuota, measure: 'Bookings!' }).thenThrows('VALIDATION.MEASURE');
  });

  it('rejects an unknown payee', () => {
    given([]).when(setQuota).thenThrows('PAYEE.NOT_FOUND', 'not_found');
  });
});

describe('payee state: effective-dated history', () => {
  it('answers the manager in force on any date, whatever order the changes were recorded in', () => {
    const state = foldEvents(payeeDecider, [
      adaOnboarded,
      { type: 'PayeeManagerChanged', data: { payeeId: 'ada', managerId: 'linus', previousManagerId: 'grace', effectiveDate: '2026-06-01' } },
      { type: 'PayeeManagerChanged', data: { payeeId: 'ada', managerId: null, previousManagerId: 'grace', effectiveDate: '2026-03-01' } },
    ]);
    if (state.status !== 'onboarded') throw new Error('expected an onboarded payee');
    expect(valueOn(state.managerHistory, '2026-02-28')).toBe('grace');
    expect(valueOn(state.managerHistory, '2026-03-01')).toBeNull();
    expect(valueOn(state.managerHistory, '2026-06-01')).toBe('linus');
    expect(latestValue(state.managerHistory)).toBe('linus');
  });

  it('refuses to fold a change into a payee that was never onboarded', () => {
    expect(() =>
      foldEvents(payeeDecider, [{ type: 'QuotaSet', data: { payeeId: 'x', periodId: '2026', measure: 'bookings', amount: '1', currency: 'EUR', previousAmount: null } }]),
    ).toThrow('never onboarded');
  });
});
