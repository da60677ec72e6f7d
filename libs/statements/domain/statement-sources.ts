import type { DomainEvent } from '#lib/shared/domain/decider.js';
import type { PlanVersionInput } from '#lib/commissions/domain/commission-plan.js';
import type { DealEvent } from '#lib/crediting/domain/deal.decider.js';
import type { PayeeOnboarded, QuotaSet } from '#lib/organization/domain/payee.decider.js';

/**
 * The events a commission statement is made from, as this read model reads them. Deal and payee events are the
 * crediting and organization contexts' own types; plan, assignment and FX events are the plans and FX contexts'
 * published contract, restated here so the statements read model depends on the contract, not on their code.
 *
 * Streams:
 * - `plan-<planId>`: a plan's versions. Drafts feed plan modelling only; statements use published versions.
 * - `plan-assignments-<payeeId>`: which plans a payee is on, effective-dated.
 * - `fx-<FROM>-<TO>`: daily rates; a later event for the same date corrects the earlier one.
 * - `payee-<payeeId>` (quotas) and `deal-<dealId>` (credits).
 */

export const planStreamId = (planId: string): string => `plan-${planId}`;
export const planAssignmentsStreamId = (payeeId: string): string => `plan-assignments-${payeeId}`;
export const fxStreamId = (fromCurrency: string, toCurrency: string): string => `fx-${fromCurrency}-${toCurrency}`;

export type PlanVersionDrafted = DomainEvent<'PlanVersionDrafted', { planId: string; version: number; planVersion: PlanVersionInput }>;
export type PlanDraftRevised = DomainEvent<'PlanDraftRevised', { planId: string; version: number; planVersion: PlanVersionInput }>;
export type PlanVersionPublished = DomainEvent<'PlanVersionPublished', { planId: string; version: number; planVersion: PlanVersionInput }>;
export type PlanEvent = PlanVersionDrafted | PlanDraftRevised | PlanVersionPublished;

export type PlanAssigned = DomainEvent<
  'PlanAssigned',
  { assignmentId: string; payeeId: string; planId: string; effectiveFrom: string; effectiveUntil: string | null }
>;
export type PlanAssignmentEnded = DomainEvent<'PlanAssignmentEnded', { assignmentId: string; payeeId: string; planId: string; effectiveUntil: string }>;
export type AssignmentEvent = PlanAssigned | PlanAssignmentEnded;

/** Units of `toCurrency` for one unit of `fromCurrency` on `date`. */
export type FxRateRecorded = DomainEvent<'FxRateRecorded', { fromCurrency: string; toCurrency: string; date: string; rate: string }>;

export type StatementSourceEvent = DealEvent | PayeeOnboarded | QuotaSet | PlanEvent | AssignmentEvent | FxRateRecorded;

export const STATEMENT_SOURCE_EVENT_TYPES: readonly StatementSourceEvent['type'][] = [
  'PayeeOnboarded',
  'QuotaSet',
  'DealClosedWon',
  'CreditsAllocated',
  'DealAmended',
  'DealCancelled',
  'PlanVersionDrafted',
  'PlanDraftRevised',
  'PlanVersionPublished',
  'PlanAssigned',
  'PlanAssignmentEnded',
  'FxRateRecorded',
];

/** Where an input came from in the log: what explain shows next to it. */
export interface SourceRef {
  eventId: string;
  position: number;
}
