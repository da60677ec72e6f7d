import { describe, expect, it } from '@jest/globals';
import type { Credit } from '#lib/crediting/domain/deal.decider.js';
import { AttainmentFeed, type AttainmentFeedEvent } from './attainment-feed.js';

const onboarded = (payeeId: string, currency = 'USD'): AttainmentFeedEvent => ({
  type: 'PayeeOnboarded',
  data: { payeeId, name: payeeId, email: null, managerId: null, territory: 'EMEA', currency, startDate: '2026-01-01' },
});
const credit = (dealId: string, payeeId: string, kind: Credit['kind'], bookings: string, creditDate = '2026-03-14', currency = 'USD'): Credit => ({
  creditId: `${dealId}:${payeeId}:${kind}`,
  dealId,
  payeeId,
  kind,
  role: kind === 'overlay' ? 'manager' : null,
  sharePercent: '100',
  currency,
  creditDate,
  amounts: { bookings },
});
const allocated = (dealId: string, credits: Credit[], previousCredits: Credit[] = []): AttainmentFeedEvent => ({
  type: 'CreditsAllocated',
  data: { dealId, primarySplits: [], overlays: [], creditDate: '2026-03-14', creditDateGiven: false, credits, previousCredits },
});

describe('attainment feed', () => {
  it('reports month, quarter and year totals after a credit, with attainment where a quota is set', () => {
    const feed = new AttainmentFeed();
    feed.apply(onboarded('ana'));
    expect(feed.apply({ type: 'QuotaSet', data: { payeeId: 'ana', periodId: '2026-03', measure: 'bookings', amount: '100000.00', currency: 'USD', previousAmount: null } })).toEqual([
      { payeeId: 'ana', periodId: '2026-03', measure: 'bookings', currency: 'USD', credited: '0', quota: '100000.00', attainmentPercent: '0.00', dealsCounted: 0, reason: 'quota', dealId: null },
    ]);
    const changes = feed.apply(allocated('D-1', [credit('D-1', 'ana', 'primary', '56000.00')]));
    expect(changes).toEqual([
      { payeeId: 'ana', periodId: '2026-03', measure: 'bookings', currency: 'USD', credited: '56000', quota: '100000.00', attainmentPercent: '56.00', dealsCounted: 1, reason: 'credited', dealId: 'D-1' },
      { payeeId: 'ana', periodId: '2026-Q1', measure: 'bookings', currency: 'USD', credited: '56000', quota: null, attainmentPercent: null, dealsCounted: 1, reason: 'credited', dealId: 'D-1' },
      { payeeId: 'ana', periodId: '2026', measure: 'bookings', currency: 'USD', credited: '56000', quota: null, attainmentPercent: null, dealsCounted: 1, reason: 'credited', dealId: 'D-1' },
    ]);
  });

  it('counts a deal once for a payee with primary and overlay credit, and takes it back on cancellation', () => {
    const feed = new AttainmentFeed();
    feed.apply(onboarded('ana'));
    const credits = [credit('D-2', 'ana', 'primary', '100.10'), credit('D-2', 'ana', 'overlay', '0.005')];
    expect(feed.apply(allocated('D-2', credits)).map(({ periodId, credited, dealsCounted }) => ({ periodId, credited, dealsCounted }))).toEqual([
      { periodId: '2026-03', credited: '100.105', dealsCounted: 1 },
      { periodId: '2026-Q1', credited: '100.105', dealsCounted: 1 },
      { periodId: '2026', credited: '100.105', dealsCounted: 1 },
    ]);
    const cancelled = feed.apply({ type: 'DealCancelled', data: { dealId: 'D-2', cancelDate: '2026-04-01', reason: 'lost', reversedCredits: credits } });
    expect(cancelled.map(({ periodId, credited, dealsCounted, reason }) => ({ periodId, credited, dealsCounted, reason }))).toEqual([
      { periodId: '2026-03', credited: '0', dealsCounted: 0, reason: 'cancelled' },
      { periodId: '2026-Q1', credited: '0', dealsCounted: 0, reason: 'cancelled' },
      { periodId: '2026', credited: '0', dealsCounted: 0, reason: 'cancelled' },
    ]);
  });

  it('moves a credit between months on amendment and reports only the rows that changed', () => {
    const feed = new AttainmentFeed();
    feed.apply(onboarded('ana'));
    const march = credit('D-3', 'ana', 'primary', '500', '2026-03-30');
    feed.apply(allocated('D-3', [march]));
    const april = credit('D-3', 'ana', 'primary', '500', '2026-04-02');
    const changes = feed.apply({
      type: 'DealAmended',
      data: {
        dealId: 'D-3',
        amount: '500',
        measures: { bookings: '500' },
        measuresGiven: false,
        closeDate: '2026-04-02',
        product: 'p',
        reason: 'slipped',
        previous: { amount: '500', measures: { bookings: '500' }, closeDate: '2026-03-30', product: 'p' },
        credits: [april],
        previousCredits: [march],
      },
    });
    // The year row is unchanged (500 in 2026 before and after), so it makes no message.
    expect(changes.map(({ periodId, credited, dealsCounted }) => ({ periodId, credited, dealsCounted }))).toEqual([
      { periodId: '2026-03', credited: '0', dealsCounted: 0 },
      { periodId: '2026-Q1', credited: '0', dealsCounted: 0 },
      { periodId: '2026-04', credited: '500', dealsCounted: 1 },
      { periodId: '2026-Q2', credited: '500', dealsCounted: 1 },
    ]);
  });

  it('holds a credit in another currency than the payee’s and resumes from stored rows', () => {
    const feed = new AttainmentFeed();
    feed.apply(onboarded('ana', 'EUR'));
    expect(feed.apply(allocated('D-4', [credit('D-4', 'ana', 'primary', '10', '2026-03-01', 'USD')]))).toEqual([]);
    feed.apply(allocated('D-5', [credit('D-5', 'ana', 'primary', '10', '2026-03-01', 'EUR')]));
    const stored = feed.takeChanged();
    expect(stored.payees).toEqual([['ana', 'EUR']]);
    const resumed = new AttainmentFeed();
    resumed.load(stored.rows, stored.payees);
    const changes = resumed.apply(allocated('D-6', [credit('D-6', 'ana', 'primary', '2.5', '2026-03-02', 'EUR')]));
    expect(changes[0]).toMatchObject({ periodId: '2026-03', credited: '12.5', dealsCounted: 2 });
  });
});
