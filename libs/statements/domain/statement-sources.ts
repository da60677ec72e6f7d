import type { PlanAssigned, PlanAssignmentEnded, PlanDraftRevised, PlanVersionDrafted, PlanVersionPublished } from '#lib/plans/domain/index.js';
import type { FxRateRecorded } from '#lib/fx/domain/index.js';
import type { DealEvent } from '#lib/crediting/domain/deal.decider.js';
import type { PayeeOnboarded, QuotaSet } from '#lib/organization/domain/payee.decider.js';

/**
 * The events a commission statement is made from, as this read model reads them: the contracts the crediting,
 * organization, plans and FX contexts publish.
 *
 * Streams:
 * - `plan-<planId>`: a plan's versions. Drafts feed plan modelling only; statements use published versions.
 * - `plan-assignments-<payeeId>`: which plans a payee is on, effective-dated.
 * - `fx-<FROM>-<TO>`: daily rates; a later event for the same date corrects the earlier one.
 * - `payee-<payeeId>` (quotas) and `deal-<dealId>` (credits).
 */

export { planStreamId, planAssignmentsStreamId } from '#lib/plans/domain/index.js';
export { fxStreamId } from '#lib/fx/domain/index.js';

export type PlanEvent = PlanVersionDrafted | PlanDraftRevised | PlanVersionPublished;
export type AssignmentEvent = PlanAssigned | PlanAssignmentEnded;

export type { PlanAssigned, PlanAssignmentEnded, PlanDraftRevised, PlanVersionDrafted, PlanVersionPublished, FxRateRecorded };

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
