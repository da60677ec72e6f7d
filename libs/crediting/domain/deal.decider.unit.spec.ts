import { describe, expect, it } from '@jest/globals';
import { DeciderSpecification } from '#lib/shared/testing/decider-specification.js';
import {
  dealDecider,
  type AllocateCredits,
  type AmendDeal,
  type CancelDeal,
  type CloseDealWon,
  type Credit,
  type CreditsAllocated,
  type DealClosedWon,
  type DealEvent,
} from './deal.decider.js';

const given = DeciderSpecification.for(dealDecider);
const knownPayeeIds = ['ada', 'bob', 'grace', 'sam'];

const closeDeal: CloseDealWon = {
  type: 'CloseDealWon',
  dealId: 'd-1',
  ownerPayeeId: 'ada',
  amount: '1000.00',
  currency: 'EUR',
  closeDate: '2026-02-14',
  product: 'Ledger Pro',
  dealType: 'new_business',
  knownPayeeIds,
  ownerTerritoryHistory: [{ value: 'EMEA', effectiveDate: '2026-01-01' }],
  // The owner reports to no one and EMEA has no overlays: no default overlays (they have their own specifications below).
  reportingLines: {},
  territoryOverlays: { EMEA: [] },
};

const dealClosed: DealClosedWon = {
  type: 'DealClosedWon',
  data: {
    dealId: 'd-1',
    ownerPayeeId: 'ada',
    amount: '1000.00',
    currency: 'EUR',
    closeDate: '2026-02-14',
    product: 'Ledger Pro',
    dealType: 'new_business',
    measures: { bookings: '1000.00' },
    measuresGiven: false,
    territory: 'EMEA',
  },
};

function credit(payeeId: string, kind: Credit['kind'], sharePercent: string, amounts: Record<string, string>, extra: Partial<Credit> = {}): Credit {
  return {
    creditId: `d-1:${payeeId}:${kind}`,
    dealId: 'd-1',
    payeeId,
    kind,
    role: kind === 'overlay' ? 'manager' : null,
    sharePercent,
    currency: 'EUR',
    creditDate: '2026-02-14',
    amounts,
    ...extra,
  };
}

const ownerAllocated: CreditsAllocated = {
  type: 'CreditsAllocated',
  data: {
    dealId: 'd-1',
    primarySplits: [{ payeeId: 'ada', sharePercent: '100' }],
    overlays: [],
    creditDate: '2026-02-14',
    creditDateGiven: false,
    credits: [credit('ada', 'primary', '100', { bookings: '1000' })],
    previousCredits: [],
  },
};

const splitAllocation: AllocateCredits = {
  type: 'AllocateCredits',
  dealId: 'd-1',
  primarySplits: [
    { payeeId: 'ada', sharePercent: '60' },
    { payeeId: 'bob', sharePercent: '40' },
  ],
  overlays: [{ payeeId: 'grace', sharePercent: '100', role: 'manager' }],
  knownPayeeIds,
  reportingLines: {},
  territoryOverlays: { EMEA: [] },
};

const splitAllocated: CreditsAllocated = {
  type: 'CreditsAllocated',
  data: {
    dealId: 'd-1',
    primarySplits: splitAllocation.primarySplits,
    overlays: splitAllocation.overlays!,
    creditDate: '2026-02-14',
    creditDateGiven: false,
    credits: [
      credit('ada', 'primary', '60', { bookings: '600' }),
      credit('bob', 'primary', '40', { bookings: '400' }),
      credit('grace', 'overlay', '100', { bookings: '1000' }),
    ],
    previousCredits: ownerAllocated.data.credits,
  },
};

describe('deal decider: CloseDealWon', () => {
  it('closes a deal and gives the owner 100% primary credit of the amount as bookings', () => {
    given([]).when(closeDeal).then([dealClosed, ownerAllocated]);
  });

  it('takes the measures, splits, overlays and credit date it is given', () => {
    given([])
      .when({
        ...closeDeal,
        measures: { bookings: '1000.00', revenue: '750' },
        primarySplits: [
          { payeeId: 'ada', sharePercent: '33.33' },
          { payeeId: 'bob', sharePercent: '66.67' },
        ],
        overlays: [{ payeeId: 'sam', sharePercent: '25', role: 'specialist' }],
        creditDate: '2026-03-01',
      })
      .then([
        { type: 'DealClosedWon', data: { ...dealClosed.data, measures: { bookings: '1000.00', revenue: '750' }, measuresGiven: true } },
        {
          type: 'CreditsAllocated',
          data: {
            dealId: 'd-1',
            primarySplits: [
              { payeeId: 'ada', sharePercent: '33.33' },
              { payeeId: 'bob', sharePercent: '66.67' },
            ],
            overlays: [{ payeeId: 'sam', sharePercent: '25', role: 'specialist' }],
            creditDate: '2026-03-01',
            creditDateGiven: true,
            credits: [
              credit('ada', 'primary', '33.33', { bookings: '333.3', revenue: '249.975' }, { creditDate: '2026-03-01' }),
              credit('bob', 'primary', '66.67', { bookings: '666.7', revenue: '500.025' }, { creditDate: '2026-03-01' }),
              credit('sam', 'overlay', '25', { bookings: '250', revenue: '187.5' }, { creditDate: '2026-03-01', role: 'specialist' }),
            ],
            previousCredits: [],
          },
        },
      ]);
  });

  it('keeps full precision in credit amounts (no rounding before statement lines)', () => {
    const [, allocated] = dealDecider.decide(
      {
        ...closeDeal,
        amount: '100.01',
        primarySplits: [
          { payeeId: 'ada', sharePercent: '33.333' },
          { payeeId: 'bob', sharePercent: '33.333' },
          { payeeId: 'sam', sharePercent: '33.334' },
        ],
      },
      dealDecider.initialState(),
    );
    expect((allocated as CreditsAllocated).data.credits.map((c) => c.amounts.bookings)).toEqual(['33.3363333', '33.3363333', '33.3373334']);
  });

  it('rejects a deal that is already closed', () => {
    given([dealClosed, ownerAllocated]).when(closeDeal).thenThrows('DEAL.ALREADY_CLOSED', 'conflict');
  });

  it('rejects closing a cancelled deal again', () => {
    given([dealClosed, ownerAllocated, { type: 'DealCancelled', data: { dealId: 'd-1', cancelDate: '2026-03-01', reason: 'x', reversedCredits: [] } }])
      .when(closeDeal)
      .thenThrows('DEAL.CANCELLED', 'conflict');
  });

  it('rejects an owner who is not onboarded', () => {
    const error = given([]).when({ ...closeDeal, knownPayeeIds: ['bob'] }).thenThrows('CREDIT.UNKNOWN_PAYEE', 'not_found');
    expect(error.fields).toEqual([{ field: 'ownerPayeeId', message: 'payee ada is not onboarded' }]);
  });

  it('rejects a negative amount', () => {
    given([]).when({ ...closeDeal, amount: '-5' }).thenThrows('VALIDATION.NEGATIVE_AMOUNT', 'validation');
  });

  it('rejects a negative measure', () => {
    given([]).when({ ...closeDeal, measures: { bookings: '-1' } }).thenThrows('VALIDATION.NEGATIVE_AMOUNT');
  });

  it('rejects an empty measures map', () => {
    given([]).when({ ...closeDeal, measures: {} }).thenThrows('DEAL.NO_MEASURES', 'validation');
  });

  it.each([
    ['amount', { amount: '1,000' }, 'VALIDATION.DECIMAL'],
    ['amount as number', { amount: 1000 as unknown as string }, 'VALIDATION.DECIMAL'],
    ['dealId', { dealId: 'd 1' }, 'VALIDATION.IDENTIFIER'],
    ['currency', { currency: 'EURO' }, 'VALIDATION.CURRENCY'],
    ['closeDate', { closeDate: '2026-2-14' }, 'VALIDATION.DATE'],
    ['product', { product: '' }, 'VALIDATION.TEXT'],
    ['dealType', { dealType: ' ' }, 'VALIDATION.TEXT'],
    ['measure name', { measures: { 'Book ings': '1' } }, 'VALIDATION.MEASURE'],
    ['credit date', { creditDate: '2026-02-30' }, 'VALIDATION.DATE'],
  ])('rejects a bad %s', (_field, change, code) => {
    given([]).when({ ...closeDeal, ...change } as CloseDealWon).thenThrows(code, 'validation');
  });

  it('rejects splits that do not sum to 100', () => {
    given([])
      .when({ ...closeDeal, primarySplits: [{ payeeId: 'ada', sharePercent: '99.99' }] })
      .thenThrows('CREDIT.SHARES_NOT_100', 'validation');
  });
});

describe('deal decider: AllocateCredits', () => {
  it('splits primary credit and adds overlays on top', () => {
    given([dealClosed, ownerAllocated]).when(splitAllocation).then([splitAllocated]);
  });

  it('moves the credit date when one is given', () => {
    given([dealClosed, ownerAllocated])
      .when({ ...splitAllocation, overlays: undefined, creditDate: '2026-04-01' })
      .then([
        {
          type: 'CreditsAllocated',
          data: {
            ...splitAllocated.data,
            overlays: [],
            creditDate: '2026-04-01',
            creditDateGiven: true,
            credits: [
              credit('ada', 'primary', '60', { bookings: '600' }, { creditDate: '2026-04-01' }),
              credit('bob', 'primary', '40', { bookings: '400' }, { creditDate: '2026-04-01' }),
            ],
            previousCredits: ownerAllocated.data.credits,
          },
        },
      ]);
  });

  it('lets a payee hold both primary and overlay credit', () => {
    const [allocated] = dealDecider.decide(
      { ...splitAllocation, overlays: [{ payeeId: 'ada', sharePercent: '10', role: 'specialist' }] },
      dealDecider.evolve(dealDecider.evolve(dealDecider.initialState(), dealClosed), ownerAllocated),
    );
    expect((allocated as CreditsAllocated).data.credits.map((c) => c.creditId)).toEqual(['d-1:ada:primary', 'd-1:bob:primary', 'd-1:ada:overlay']);
  });

  it('records nothing when the allocation is what it already is', () => {
    given([dealClosed, splitAllocated]).when(splitAllocation).then([]);
  });

  it('accepts shares that sum to 100 only as decimals, e.g. three thirds written 33.34 + 33.33 + 33.33', () => {
    const [allocated] = dealDecider.decide(
      {
        ...splitAllocation,
        primarySplits: [
          { payeeId: 'ada', sharePercent: '33.34' },
          { payeeId: 'bob', sharePercent: '33.33' },
          { payeeId: 'sam', sharePercent: '33.33' },
        ],
      },
      dealDecider.evolve(dealDecider.evolve(dealDecider.initialState(), dealClosed), ownerAllocated),
    );
    expect(allocated.type).toBe('CreditsAllocated');
  });

  it.each([
    ['over 100', [{ payeeId: 'ada', sharePercent: '60' }, { payeeId: 'bob', sharePercent: '40.01' }]],
    ['under 100', [{ payeeId: 'ada', sharePercent: '33.33' }, { payeeId: 'bob', sharePercent: '33.33' }, { payeeId: 'sam', sharePercent: '33.33' }]],
    ['empty', []],
  ])('rejects primary shares %s', (_case, primarySplits) => {
    given([dealClosed, ownerAllocated]).when({ ...splitAllocation, primarySplits }).thenThrows('CREDIT.SHARES_NOT_100', 'validation');
  });

  it('rejects more than 100 payees in one list', () => {
    const primarySplits = Array.from({ length: 101 }, (_, index) => ({ payeeId: `p${index}`, sharePercent: '1' }));
    given([dealClosed, ownerAllocated]).when({ ...splitAllocation, primarySplits }).thenThrows('CREDIT.TOO_MANY_PAYEES', 'validation');
  });

  it('rejects a payee twice in the primary splits', () => {
    given([dealClosed, ownerAllocated])
      .when({ ...splitAllocation, primarySplits: [{ payeeId: 'ada', sharePercent: '50' }, { payeeId: 'ada', sharePercent: '50' }] })
      .thenThrows('CREDIT.DUPLICATE_PAYEE', 'validation');
  });

  it('rejects a payee twice in the overlays', () => {
    given([dealClosed, ownerAllocated])
      .when({
        ...splitAllocation,
        overlays: [
          { payeeId: 'grace', sharePercent: '100', role: 'manager' },
          { payeeId: 'grace', sharePercent: '10', role: 'specialist' },
        ],
      })
      .thenThrows('CREDIT.DUPLICATE_PAYEE');
  });

  it.each(['0', '-10', '100.01'])('rejects share %s', (sharePercent) => {
    given([dealClosed, ownerAllocated])
      .when({ ...splitAllocation, overlays: [{ payeeId: 'grace', sharePercent, role: 'manager' }] })
      .thenThrows('CREDIT.SHARE_OUT_OF_RANGE', 'validation');
  });

  it('rejects a share that is not a decimal string', () => {
    given([dealClosed, ownerAllocated])
      .when({ ...splitAllocation, primarySplits: [{ payeeId: 'ada', sharePercent: 100 as unknown as string }] })
      .thenThrows('VALIDATION.DECIMAL');
  });

  it('rejects an overlay without a role', () => {
    given([dealClosed, ownerAllocated])
      .when({ ...splitAllocation, overlays: [{ payeeId: 'grace', sharePercent: '10', role: '' }] })
      .thenThrows('VALIDATION.ROLE');
  });

  it('rejects payees that are not onboarded, naming each', () => {
    const error = given([dealClosed, ownerAllocated]).when({ ...splitAllocation, knownPayeeIds: ['ada'] }).thenThrows('CREDIT.UNKNOWN_PAYEE', 'not_found');
    expect(error.fields.map((field) => field.field)).toEqual(['primarySplits[1].payeeId', 'overlays[0].payeeId']);
  });

  it('rejects a deal that does not exist', () => {
    given([]).when(splitAllocation).thenThrows('DEAL.NOT_FOUND', 'not_found');
  });

  it('rejects a cancelled deal', () => {
    given([dealClosed, ownerAllocated, { type: 'DealCancelled', data: { dealId: 'd-1', cancelDate: '2026-03-01', reason: 'x', reversedCredits: [] } }])
      .when(splitAllocation)
      .thenThrows('DEAL.CANCELLED', 'conflict');
  });
});

describe('deal decider: AmendDeal', () => {
  const amend: AmendDeal = { type: 'AmendDeal', dealId: 'd-1', amount: '1500', reason: 'Customer added seats' };

  it('re-derives every credit from the unchanged shares', () => {
    given([dealClosed, splitAllocated])
      .when(amend)
      .then([
        {
          type: 'DealAmended',
          data: {
            dealId: 'd-1',
            amount: '1500',
            measures: { bookings: '1500' },
            measuresGiven: false,
            closeDate: '2026-02-14',
            product: 'Ledger Pro',
            reason: 'Customer added seats',
            previous: { amount: '1000.00', measures: { bookings: '1000.00' }, closeDate: '2026-02-14', product: 'Ledger Pro' },
            credits: [
              credit('ada', 'primary', '60', { bookings: '900' }),
              credit('bob', 'primary', '40', { bookings: '600' }),
              credit('grace', 'overlay', '100', { bookings: '1500' }),
            ],
            previousCredits: splitAllocated.data.credits,
          },
        },
      ]);
  });

  it('moves a defaulted credit date with the close date', () => {
    const [amended] = dealDecider.decide(
      { type: 'AmendDeal', dealId: 'd-1', closeDate: '2026-04-02', reason: 'Signed later' },
      dealDecider.evolve(dealDecider.evolve(dealDecider.initialState(), dealClosed), ownerAllocated),
    );
    expect(amended.type === 'DealAmended' && amended.data.credits.map((c) => c.creditDate)).toEqual(['2026-04-02']);
  });

  it('keeps a credit date that was given when the close date moves', () => {
    const allocatedWithDate: DealEvent = { type: 'CreditsAllocated', data: { ...ownerAllocated.data, creditDate: '2026-03-01', creditDateGiven: true } };
    const [amended] = dealDecider.decide(
      { type: 'AmendDeal', dealId: 'd-1', closeDate: '2026-04-02', reason: 'Signed later' },
      [dealClosed, allocatedWithDate].reduce(dealDecider.evolve, dealDecider.initialState()),
    );
    expect(amended.type === 'DealAmended' && amended.data.credits.map((c) => c.creditDate)).toEqual(['2026-03-01']);
  });

  it('takes new measures', () => {
    const [amended] = dealDecider.decide(
      { type: 'AmendDeal', dealId: 'd-1', measures: { bookings: '1000.00', revenue: '400' }, reason: 'Revenue recognised' },
      [dealClosed, ownerAllocated].reduce(dealDecider.evolve, dealDecider.initialState()),
    );
    expect(amended.type === 'DealAmended' && amended.data.credits[0].amounts).toEqual({ bookings: '1000', revenue: '400' });
  });

  it('asks for measures when the amount of a deal with its own measures changes', () => {
    const closedWithMeasures: DealEvent = { type: 'DealClosedWon', data: { ...dealClosed.data, measures: { bookings: '1000', revenue: '800' }, measuresGiven: true } };
    given([closedWithMeasures, ownerAllocated]).when(amend).thenThrows('DEAL.MEASURES_REQUIRED', 'validation');
  });

  it('records nothing when nothing changes', () => {
    given([dealClosed, ownerAllocated]).when({ ...amend, amount: '1000' }).then([]);
  });

  it('rejects a negative amount', () => {
    given([dealClosed, ownerAllocated]).when({ ...amend, amount: '-1500' }).thenThrows('VALIDATION.NEGATIVE_AMOUNT');
  });

  it('rejects an amendment without a reason', () => {
    given([dealClosed, ownerAllocated]).when({ ...amend, reason: '' }).thenThrows('VALIDATION.TEXT');
  });

  it('rejects a deal that does not exist', () => {
    given([]).when(amend).thenThrows('DEAL.NOT_FOUND', 'not_found');
  });

  it('rejects a cancelled deal', () => {
    given([dealClosed, ownerAllocated, { type: 'DealCancelled', data: { dealId: 'd-1', cancelDate: '2026-03-01', reason: 'x', reversedCredits: [] } }])
      .when(amend)
      .thenThrows('DEAL.CANCELLED');
  });
});

describe('deal decider: CancelDeal', () => {
  const cancel: CancelDeal = { type: 'CancelDeal', dealId: 'd-1', cancelDate: '2026-03-10', reason: 'Customer withdrew' };

  it('cancels the deal and names the credits it reverses, with their amounts', () => {
    given([dealClosed, splitAllocated])
      .when(cancel)
      .then([{ type: 'DealCancelled', data: { dealId: 'd-1', cancelDate: '2026-03-10', reason: 'Customer withdrew', reversedCredits: splitAllocated.data.credits } }]);
  });

  it('leaves the deal without credits', () => {
    const state = [dealClosed, splitAllocated, ...dealDecider.decide(cancel, [dealClosed, splitAllocated].reduce(dealDecider.evolve, dealDecider.initialState()))].reduce(
      dealDecider.evolve,
      dealDecider.initialState(),
    );
    expect(state.status === 'cancelled' && state.credits).toEqual([]);
  });

  it('rejects a cancel date before the close date', () => {
    given([dealClosed, ownerAllocated]).when({ ...cancel, cancelDate: '2026-02-13' }).thenThrows('DEAL.CANCEL_BEFORE_CLOSE', 'validation');
  });

  it('rejects a deal that does not exist', () => {
    given([]).when(cancel).thenThrows('DEAL.NOT_FOUND', 'not_found');
  });

  it('rejects cancelling twice', () => {
    given([dealClosed, ownerAllocated, { type: 'DealCancelled', data: { dealId: 'd-1', cancelDate: '2026-03-01', reason: 'x', reversedCredits: [] } }])
      .when(cancel)
      .thenThrows('DEAL.CANCELLED', 'conflict');
  });

  it('rejects a missing reason', () => {
    given([dealClosed, ownerAllocated]).when({ ...cancel, reason: '  ' }).thenThrows('VALIDATION.TEXT');
  });
});

describe('deal decider: roll-up credit to managers when no overlays are given', () => {
  // ada reports to grace until 2026-03-01, then to sam; grace and sam report to linus; bob reports to sam.
  const reportingLines = {
    ada: [
      { value: 'grace', effectiveDate: '2026-01-01' },
      { value: 'sam', effectiveDate: '2026-03-01' },
    ],
    bob: [{ value: 'sam', effectiveDate: '2026-01-01' }],
    grace: [{ value: 'linus', effectiveDate: '2025-01-01' }],
    sam: [{ value: 'linus', effectiveDate: '2025-01-01' }],
    linus: [{ value: null, effectiveDate: '2025-01-01' }],
  };
  const known = ['ada', 'bob', 'grace', 'sam', 'linus'];
  const manager = (payeeId: string) => ({ payeeId, sharePercent: '100', role: 'manager' });
  const allocatedOf = (events: DealEvent[]) => (events.find((event) => event.type === 'CreditsAllocated') as CreditsAllocated).data;
  const closedWith = (change: Partial<CloseDealWon>) => allocatedOf(dealDecider.decide({ ...closeDeal, knownPayeeIds: known, reportingLines, ...change }, dealDecider.initialState()));

  it("credits every manager above the owner, as the chain stood on the close date, 100% each", () => {
    given([])
      .when({ ...closeDeal, knownPayeeIds: known, reportingLines })
      .then([
        dealClosed,
        {
          type: 'CreditsAllocated',
          data: {
            ...ownerAllocated.data,
            overlays: [manager('grace'), manager('linus')],
            credits: [
              credit('ada', 'primary', '100', { bookings: '1000' }),
              credit('grace', 'overlay', '100', { bookings: '1000' }),
              credit('linus', 'overlay', '100', { bookings: '1000' }),
            ],
          },
        },
      ]);
  });

  it('follows the chain on the credit date, not the close date or today', () => {
    expect(closedWith({ creditDate: '2026-03-01' }).overlays).toEqual([manager('sam'), manager('linus')]);
    expect(closedWith({ closeDate: '2026-02-28' }).overlays).toEqual([manager('grace'), manager('linus')]);
  });

  it('credits each manager once across a split, in the order the chains name them', () => {
    const primarySplits = [
      { payeeId: 'ada', sharePercent: '50' },
      { payeeId: 'bob', sharePercent: '50' },
    ];
    expect(closedWith({ primarySplits }).overlays).toEqual([manager('grace'), manager('linus'), manager('sam')]);
  });

  it('gives no overlay to a manager who holds primary credit on the deal, but still credits the managers above', () => {
    const primarySplits = [
      { payeeId: 'ada', sharePercent: '50' },
      { payeeId: 'grace', sharePercent: '50' },
    ];
    expect(closedWith({ primarySplits }).overlays).toEqual([manager('linus')]);
  });

  it('credits no one when the overlays are given as an empty list', () => {
    expect(closedWith({ overlays: [] }).overlays).toEqual([]);
  });

  it('uses given overlays as they are, without adding the roll-up', () => {
    const overlays = [{ payeeId: 'bob', sharePercent: '10', role: 'specialist' }];
    expect(closedWith({ overlays }).overlays).toEqual(overlays);
  });

  it('rolls up on AllocateCredits too: on the deal close date, or on the credit date given', () => {
    const state = dealDecider.evolve(dealDecider.evolve(dealDecider.initialState(), dealClosed), ownerAllocated);
    const allocate = { ...splitAllocation, overlays: undefined, knownPayeeIds: known, reportingLines };
    expect(allocatedOf(dealDecider.decide(allocate, state)).overlays).toEqual([manager('grace'), manager('linus'), manager('sam')]);
    expect(allocatedOf(dealDecider.decide({ ...allocate, creditDate: '2026-04-01' }, state)).overlays).toEqual([manager('sam'), manager('linus')]);
  });

  it('rejects a rolled-up manager the handler did not find onboarded', () => {
    const error = given([]).when({ ...closeDeal, knownPayeeIds: ['ada'], reportingLines }).thenThrows('CREDIT.UNKNOWN_PAYEE', 'not_found');
    expect(error.fields.map((field) => field.field)).toEqual(['overlays[0].payeeId', 'overlays[1].payeeId']);
  });

  it('fails loudly when a caller left out both the overlays and the reporting lines', () => {
    expect(() => dealDecider.decide({ ...closeDeal, reportingLines: undefined }, dealDecider.initialState())).toThrow('no reporting lines');
  });
});

describe('deal decider: territory overlays when no overlays are given', () => {
  // ada (EMEA until 2026-04-01, then APAC) reports to grace; bob has no manager.
  const reportingLines = { ada: [{ value: 'grace', effectiveDate: '2026-01-01' }], bob: [{ value: null, effectiveDate: '2026-01-01' }], grace: [{ value: null, effectiveDate: '2025-01-01' }] };
  const adaTerritories = [
    { value: 'EMEA', effectiveDate: '2026-01-01' },
    { value: 'APAC', effectiveDate: '2026-04-01' },
  ];
  const holder = (payeeId: string, role: string, effectiveFrom: string, effectiveUntil: string | null = null, sharePercent = '100', territory = 'EMEA') => ({
    assignmentId: `${payeeId}@${effectiveFrom}`,
    territory,
    payeeId,
    role,
    sharePercent,
    effectiveFrom,
    effectiveUntil,
  });
  const territoryOverlays = {
    // sam specialises in EMEA from March; tess managed the territory until 2026-02-20, grace holds it too.
    EMEA: [holder('sam', 'overlay_specialist', '2026-03-01', null, '50'), holder('tess', 'territory_manager', '2026-01-01', '2026-02-20'), holder('grace', 'territory_manager', '2026-01-01')],
    APAC: [holder('una', 'territory_manager', '2026-01-01', null, '100', 'APAC')],
  };
  const known = ['ada', 'bob', 'grace', 'sam', 'tess', 'una'];
  const allocatedOf = (events: DealEvent[]) => (events.find((event) => event.type === 'CreditsAllocated') as CreditsAllocated).data;
  const closedOf = (events: DealEvent[]) => (events.find((event) => event.type === 'DealClosedWon') as DealClosedWon).data;
  const close = (change: Partial<CloseDealWon>) =>
    dealDecider.decide({ ...closeDeal, knownPayeeIds: known, ownerTerritoryHistory: adaTerritories, reportingLines, territoryOverlays, ...change }, dealDecider.initialState());
  const overlaysOf = (change: Partial<CloseDealWon>) => allocatedOf(close(change)).overlays;

  it("records the owner's territory on the close date as the deal's, or the territory given", () => {
    expect(closedOf(close({})).territory).toBe('EMEA');
    expect(closedOf(close({ closeDate: '2026-04-01' })).territory).toBe('APAC');
    expect(closedOf(close({ territory: 'APAC' })).territory).toBe('APAC');
    expect(closedOf(close({ ownerTerritoryHistory: undefined, overlays: [] })).territory).toBeNull();
  });

  it("credits the territory's holders in force on the credit date after the managers, with their role and share", () => {
    given([])
      .when({ ...closeDeal, knownPayeeIds: known, ownerTerritoryHistory: adaTerritories, reportingLines, territoryOverlays, closeDate: '2026-03-10' })
      .then([
        { ...dealClosed, data: { ...dealClosed.data, closeDate: '2026-03-10' } },
        {
          type: 'CreditsAllocated',
          data: {
            ...ownerAllocated.data,
            creditDate: '2026-03-10',
            overlays: [
              { payeeId: 'grace', sharePercent: '100', role: 'manager' },
              { payeeId: 'sam', sharePercent: '50', role: 'overlay_specialist' },
            ],
            credits: [
              credit('ada', 'primary', '100', { bookings: '1000' }, { creditDate: '2026-03-10' }),
              credit('grace', 'overlay', '100', { bookings: '1000' }, { creditDate: '2026-03-10' }),
              credit('sam', 'overlay', '50', { bookings: '500' }, { creditDate: '2026-03-10', role: 'overlay_specialist' }),
            ],
          },
        },
      ]);
  });

  it('takes the holders on the credit date: an overlay ended before it, or starting after it, gives nothing', () => {
    expect(overlaysOf({ closeDate: '2026-02-19' }).map((overlay) => overlay.payeeId)).toEqual(['grace', 'tess']);
    expect(overlaysOf({ closeDate: '2026-02-19', creditDate: '2026-02-20' }).map((overlay) => overlay.payeeId)).toEqual(['grace']);
    expect(overlaysOf({ closeDate: '2026-02-19', creditDate: '2026-03-01' }).map((overlay) => overlay.payeeId)).toEqual(['grace', 'sam']);
  });

  it('credits nobody twice: a holder who is a primary payee or a rolled-up manager keeps that one credit', () => {
    expect(overlaysOf({ closeDate: '2026-02-25' })).toEqual([{ payeeId: 'grace', sharePercent: '100', role: 'manager' }]);
    const primarySplits = [
      { payeeId: 'ada', sharePercent: '50' },
      { payeeId: 'sam', sharePercent: '50' },
    ];
    expect(overlaysOf({ closeDate: '2026-03-10', primarySplits })).toEqual([{ payeeId: 'grace', sharePercent: '100', role: 'manager' }]);
    const bobOwns = { ownerPayeeId: 'bob', ownerTerritoryHistory: [{ value: 'EMEA', effectiveDate: '2026-01-01' }] };
    expect(overlaysOf({ ...bobOwns, closeDate: '2026-03-10' })).toEqual([
      { payeeId: 'sam', sharePercent: '50', role: 'overlay_specialist' },
      { payeeId: 'grace', sharePercent: '100', role: 'territory_manager' },
    ]);
  });

  it("credits the given territory's holders, not the owner's", () => {
    expect(overlaysOf({ territory: 'APAC' })).toEqual([
      { payeeId: 'grace', sharePercent: '100', role: 'manager' },
      { payeeId: 'una', sharePercent: '100', role: 'territory_manager' },
    ]);
  });

  it('uses given overlays as they are, territory overlays included: [] credits no one', () => {
    expect(overlaysOf({ closeDate: '2026-03-10', overlays: [] })).toEqual([]);
    const overlays = [{ payeeId: 'bob', sharePercent: '10', role: 'specialist' }];
    expect(overlaysOf({ closeDate: '2026-03-10', overlays })).toEqual(overlays);
  });

  it("re-allocates with the deal's recorded territory, whatever the owner covers since", () => {
    const state = [dealClosed, ownerAllocated].reduce(dealDecider.evolve, dealDecider.initialState());
    const allocate: AllocateCredits = { ...splitAllocation, overlays: undefined, knownPayeeIds: known, reportingLines, territoryOverlays, creditDate: '2026-04-15' };
    expect(allocatedOf(dealDecider.decide(allocate, state)).overlays).toEqual([
      { payeeId: 'grace', sharePercent: '100', role: 'manager' },
      { payeeId: 'sam', sharePercent: '50', role: 'overlay_specialist' },
    ]);
  });

  it('gives no territory overlay to a deal recorded before deals carried a territory', () => {
    const { territory: _territory, ...withoutTerritory } = dealClosed.data;
    const state = [{ ...dealClosed, data: withoutTerritory }, ownerAllocated].reduce(dealDecider.evolve, dealDecider.initialState());
    const allocate: AllocateCredits = { ...splitAllocation, overlays: undefined, knownPayeeIds: known, reportingLines, territoryOverlays: {} };
    expect(allocatedOf(dealDecider.decide(allocate, state)).overlays).toEqual([{ payeeId: 'grace', sharePercent: '100', role: 'manager' }]);
  });

  it('rejects a blank or overlong territory', () => {
    given([]).when({ ...closeDeal, territory: ' ' }).thenThrows('VALIDATION.TEXT', 'validation');
    given([]).when({ ...closeDeal, territory: 'x'.repeat(101) }).thenThrows('VALIDATION.TEXT', 'validation');
  });

  it("rejects a holder the handler did not find onboarded", () => {
    const error = given([])
      .when({ ...closeDeal, knownPayeeIds: ['ada', 'grace'], ownerTerritoryHistory: adaTerritories, reportingLines, territoryOverlays, closeDate: '2026-03-10' })
      .thenThrows('CREDIT.UNKNOWN_PAYEE', 'not_found');
    expect(error.fields.map((field) => field.field)).toEqual(['overlays[1].payeeId']);
  });

  it("fails loudly when a caller left out the overlays and the territory's holders", () => {
    expect(() => dealDecider.decide({ ...closeDeal, territoryOverlays: undefined }, dealDecider.initialState())).toThrow('overlays of territory EMEA were not looked up');
  });
});
