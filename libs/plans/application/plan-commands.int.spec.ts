import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { SqliteEventStore } from '#lib/event-store/embedded/sqlite-event-store.js';
import { onboardPayee } from '#lib/organization/application/payee-commands.js';
import { createTempDir } from '#lib/shared/testing/temp-dir.js';
import { testCommandContext } from '#lib/shared/testing/test-command-context.js';
import type { RateTableComponentInput } from '#lib/commissions/domain/index.js';
import { assignPlan, draftPlanVersion, endAssignment, loadPlanAssignments, publishPlanVersion, type DraftPlanVersionInput } from './plan-commands.js';
import { getPlan, listPlanAssignments } from './plan-queries.js';

/**
 * Plan and assignment commands against the embedded store: lookups across streams (payee, plan), the no-overlap
 * and one-draft rules holding under concurrent writers, and idempotent retries.
 */

const temp = createTempDir('plans');
afterAll(() => temp.remove());

let store: SqliteEventStore;
beforeEach(async () => {
  store = SqliteEventStore.open({ path: temp.file(`${Math.random().toString(36).slice(2)}.events.sqlite`) });
  await onboardPayee(store, { payeeId: 'ada', name: 'Ada', managerId: null, territory: 'EMEA', currency: 'USD', startDate: '2026-01-01' }, testCommandContext());
});
afterEach(async () => {
  await store.close();
});

const flat: RateTableComponentInput = { kind: 'rate_table', id: 'commission', measure: 'bookings', basis: 'amount', mode: 'marginal', tiers: [{ from: '0', to: null, rate: '0.10' }] };
const plan = (overrides: Partial<DraftPlanVersionInput> = {}): DraftPlanVersionInput => ({
  planId: 'ae-2026',
  effectiveFrom: '2026-01-01',
  currency: 'USD',
  periodFrequency: 'month',
  components: [flat],
  capitalizable: false,
  benefitMonths: null,
  ...overrides,
});

async function publishedPlan(): Promise<void> {
  await draftPlanVersion(store, plan(), testCommandContext());
  await publishPlanVersion(store, { planId: 'ae-2026', version: 1 }, testCommandContext());
}

describe('plan commands', () => {
  it('lets one of two concurrent drafts of a new plan win; the other finds the draft pending', async () => {
    const results = await Promise.allSettled([draftPlanVersion(store, plan(), testCommandContext()), draftPlanVersion(store, plan({ effectiveFrom: '2026-02-01' }), testCommandContext())]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((result) => result.status === 'rejected')).toMatchObject({ reason: { code: 'PLAN.DRAFT_PENDING' } });
    expect((await store.readStream('plan-ae-2026')).map((event) => event.type)).toEqual(['PlanVersionDrafted']);
  });

  it('answers a retried draft with the same idempotency key from the events it recorded', async () => {
    const context = testCommandContext({ commandId: 'draft-ae-2026-1' });
    const first = await draftPlanVersion(store, plan(), context);
    const again = await draftPlanVersion(store, plan(), { ...context, correlationId: 'retry' });
    expect(again).toMatchObject({ replayed: true, revision: first.revision, events: first.events });
    expect(await store.readStream('plan-ae-2026')).toHaveLength(1);
  });

  it('shows versions with the dates they are in force', async () => {
    await publishedPlan();
    await draftPlanVersion(store, plan({ effectiveFrom: '2026-07-01' }), testCommandContext());
    await publishPlanVersion(store, { planId: 'ae-2026', version: 2 }, testCommandContext());
    await draftPlanVersion(store, plan({ effectiveFrom: '2027-01-01' }), testCommandContext());
    const view = await getPlan(store, 'ae-2026');
    expect(view?.versions.map(({ version, status, effectiveFrom, effectiveUntil }) => [version, status, effectiveFrom, effectiveUntil])).toEqual([
      [1, 'published', '2026-01-01', '2026-07-01'],
      [2, 'published', '2026-07-01', null],
      [3, 'draft', '2027-01-01', null],
    ]);
    expect(await getPlan(store, 'nope')).toBeNull();
  });
});

describe('plan assignment commands', () => {
  it('refuses a plan that is only drafted, then assigns it once published', async () => {
    await draftPlanVersion(store, plan(), testCommandContext());
    await expect(assignPlan(store, { payeeId: 'ada', planId: 'ae-2026', effectiveFrom: '2026-01-01' }, testCommandContext())).rejects.toMatchObject({ code: 'PLAN.NOT_PUBLISHED' });
    await publishPlanVersion(store, { planId: 'ae-2026', version: 1 }, testCommandContext());
    await assignPlan(store, { payeeId: 'ada', planId: 'ae-2026', effectiveFrom: '2026-01-01' }, testCommandContext());
    expect((await loadPlanAssignments(store, 'ada')).assignments).toHaveLength(1);
  });

  it('refuses a payee that is not onboarded and writes nothing for them', async () => {
    await publishedPlan();
    await expect(assignPlan(store, { payeeId: 'ghost', planId: 'ae-2026', effectiveFrom: '2026-01-01' }, testCommandContext())).rejects.toMatchObject({ code: 'PAYEE.NOT_FOUND' });
    expect(await store.readStream('plan-assignments-ghost')).toEqual([]);
    expect(await listPlanAssignments(store, 'ghost')).toBeNull();
  });

  it('lets one of two concurrent overlapping assignments win; the other is refused after re-reading', async () => {
    await publishedPlan();
    const results = await Promise.allSettled([
      assignPlan(store, { payeeId: 'ada', planId: 'ae-2026', effectiveFrom: '2026-01-01' }, testCommandContext()),
      assignPlan(store, { payeeId: 'ada', planId: 'ae-2026', effectiveFrom: '2026-03-01', effectiveUntil: '2026-04-01' }, testCommandContext()),
    ]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((result) => result.status === 'rejected')).toMatchObject({ reason: { code: 'ASSIGNMENT.OVERLAPS' } });
    expect(await store.readStream('plan-assignments-ada')).toHaveLength(1);
  });

  it('ends an assignment and lists the payee assignments in date order', async () => {
    await publishedPlan();
    await assignPlan(store, { payeeId: 'ada', planId: 'ae-2026', effectiveFrom: '2026-06-01' }, testCommandContext());
    await assignPlan(store, { payeeId: 'ada', planId: 'ae-2026', effectiveFrom: '2026-01-01', effectiveUntil: '2026-03-01' }, testCommandContext());
    await endAssignment(store, { payeeId: 'ada', assignmentId: 'ae-2026@2026-06-01', effectiveUntil: '2026-09-01' }, testCommandContext());
    const view = await listPlanAssignments(store, 'ada');
    expect(view).toEqual({
      payeeId: 'ada',
      revision: 2,
      assignments: [
        { assignmentId: 'ae-2026@2026-01-01', payeeId: 'ada', planId: 'ae-2026', effectiveFrom: '2026-01-01', effectiveUntil: '2026-03-01' },
        { assignmentId: 'ae-2026@2026-06-01', payeeId: 'ada', planId: 'ae-2026', effectiveFrom: '2026-06-01', effectiveUntil: '2026-09-01' },
      ],
    });
  });
});
