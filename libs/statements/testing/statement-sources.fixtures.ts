import { randomUUID } from 'node:crypto';
import type { EventStore, NewEvent } from '#lib/event-store/event-store.port.js';
import type { PlanVersionInput, RateTableComponentInput } from '#lib/commissions/domain/commission-plan.js';
import { fxStreamId, planAssignmentsStreamId, planStreamId, type StatementSourceEvent } from '../domain/statement-sources.js';

/**
 * Writes the plan, assignment and FX events the statements read model reads, straight to the store, as the plans
 * and FX contexts record them (their contract, see statement-sources.ts). Each append expects the stream's
 * current revision, as a command handler would.
 */

const metadata = {
  actor: { id: 'analyst-1', role: 'analyst' },
  correlationId: 'statement-fixtures',
  causationId: null,
  commandId: null,
  occurredAt: '2026-03-01T00:00:00.000Z',
};

export async function appendSourceEvents(store: EventStore, streamId: string, events: readonly StatementSourceEvent[]): Promise<number> {
  const existing = await store.readStream(streamId);
  const newEvents: NewEvent[] = events.map((event) => ({ eventId: randomUUID(), type: event.type, schemaVersion: 1, data: event.data, metadata }));
  const result = await store.append(streamId, newEvents, existing.length === 0 ? 'no_stream' : existing[existing.length - 1]!.revision);
  return result.position;
}

export const publishPlanVersion = (store: EventStore, planVersion: PlanVersionInput): Promise<number> =>
  appendSourceEvents(store, planStreamId(planVersion.planId), [
    { type: 'PlanVersionPublished', data: { planId: planVersion.planId, version: planVersion.version, planVersion } },
  ]);

export const draftPlanVersion = (store: EventStore, planVersion: PlanVersionInput): Promise<number> =>
  appendSourceEvents(store, planStreamId(planVersion.planId), [
    { type: 'PlanVersionDrafted', data: { planId: planVersion.planId, version: planVersion.version, planVersion } },
  ]);

export const assignPlan = (
  store: EventStore,
  assignment: { assignmentId: string; payeeId: string; planId: string; effectiveFrom: string; effectiveUntil?: string | null },
): Promise<number> =>
  appendSourceEvents(store, planAssignmentsStreamId(assignment.payeeId), [
    { type: 'PlanAssigned', data: { ...assignment, effectiveUntil: assignment.effectiveUntil ?? null } },
  ]);

export const endAssignment = (store: EventStore, assignment: { assignmentId: string; payeeId: string; planId: string; effectiveUntil: string }): Promise<number> =>
  appendSourceEvents(store, planAssignmentsStreamId(assignment.payeeId), [{ type: 'PlanAssignmentEnded', data: assignment }]);

export const recordFxRate = (store: EventStore, rate: { fromCurrency: string; toCurrency: string; date: string; rate: string }): Promise<number> =>
  appendSourceEvents(store, fxStreamId(rate.fromCurrency, rate.toCurrency), [{ type: 'FxRateRecorded', data: rate }]);

export function flatRateTable(overrides: Partial<RateTableComponentInput> = {}): RateTableComponentInput {
  return { kind: 'rate_table', id: 'commission', measure: 'bookings', basis: 'amount', mode: 'marginal', tiers: [{ from: '0', to: null, rate: '0.10' }], ...overrides };
}

/** A monthly USD plan paying 10% of bookings, from 2026-01-01, unless overridden. */
export function monthlyPlan(overrides: Partial<PlanVersionInput> = {}): PlanVersionInput {
  return {
    id: 'ae-2026-v1',
    planId: 'ae-2026',
    version: 1,
    effectiveFrom: '2026-01-01',
    currency: 'USD',
    periodFrequency: 'month',
    components: [flatRateTable()],
    capitalizable: false,
    benefitMonths: null,
    ...overrides,
  };
}

/** Marginal accelerators over attainment of the monthly bookings quota, with a period cap. */
export function tieredPlan(overrides: Partial<PlanVersionInput> = {}): PlanVersionInput {
  return monthlyPlan({
    components: [
      flatRateTable({
        basis: 'attainment',
        tiers: [
          { from: '0', to: '50', rate: '0.05' },
          { from: '50', to: '100', rate: '0.10' },
          { from: '100', to: null, rate: '0.15' },
        ],
        capPerPeriod: '20000',
      }),
    ],
    ...overrides,
  });
}
