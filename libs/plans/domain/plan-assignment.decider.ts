import { assertNever, type Decider, type DomainEvent } from '#lib/shared/domain/decider.js';
import { conflictError, notFoundError, validationError, type DomainError } from '#lib/shared/domain/domain-error.js';
import { requireIdentifier, requireIsoDate } from '#lib/organization/domain/field-rules.js';
import { validateAssignment } from '#lib/commissions/domain/index.js';

/**
 * Glossary
 * - Plan assignment: a payee is paid under a plan from `effectiveFrom` (inclusive) until `effectiveUntil`
 *   (exclusive; null while open). A credit is priced under the plan assigned to its payee on its credit date,
 *   by the plan version in force on that date.
 * - A payee is on one plan at a time: assignments of one payee never overlap, whatever their plans.
 * - The plan's currency is the payee's: quotas are set in the payee's currency and a statement measures
 *   attainment in the plan's, so a plan in another currency would compare amounts in different units.
 * - Ending an assignment sets (or moves) its `effectiveUntil`; the assignment and its history stay.
 *
 * Stream: `plan-assignments-<payeeId>`, one per payee, so the no-overlap rule is checked under one expected
 * revision. Assignment ids are `<planId>@<effectiveFrom>`: readable, and the same request sent twice names the
 * same assignment (it is then recorded once).
 */

export const planAssignmentsStreamId = (payeeId: string): string => `plan-assignments-${payeeId}`;
export const PLAN_ASSIGNMENTS_STREAM_PREFIX = 'plan-assignments-';
export const assignmentIdOf = (planId: string, effectiveFrom: string): string => `${planId}@${effectiveFrom}`;

/** What the handler found in the payee's stream; the decider cannot read other streams. */
export interface PayeeLookup {
  found: boolean;
  /** The payee's start date and pay currency; null when not found. */
  startDate: string | null;
  currency: string | null;
}

/** What the handler found in the plan's stream. */
export interface PlanLookup {
  found: boolean;
  /** Published versions' numbers, effective dates and currency (drafts are not listed). */
  publishedVersions: readonly { version: number; effectiveFrom: string; currency: string }[];
}

export const PAYEE_NOT_FOUND: PayeeLookup = { found: false, startDate: null, currency: null };
export const PLAN_NOT_FOUND: PlanLookup = { found: false, publishedVersions: [] };

export type AssignPlan = {
  type: 'AssignPlan';
  payeeId: string;
  planId: string;
  effectiveFrom: string;
  effectiveUntil: string | null;
  payee: PayeeLookup;
  plan: PlanLookup;
};

export type EndAssignment = {
  type: 'EndAssignment';
  payeeId: string;
  assignmentId: string;
  effectiveUntil: string;
};

export type PlanAssignmentCommand = AssignPlan | EndAssignment;

export type PlanAssigned = DomainEvent<
  'PlanAssigned',
  { assignmentId: string; payeeId: string; planId: string; effectiveFrom: string; effectiveUntil: string | null }
>;
export type PlanAssignmentEnded = DomainEvent<'PlanAssignmentEnded', { assignmentId: string; payeeId: string; planId: string; effectiveUntil: string }>;

export type PlanAssignmentEvent = PlanAssigned | PlanAssignmentEnded;

export const PLAN_ASSIGNMENT_EVENT_TYPES: readonly PlanAssignmentEvent['type'][] = ['PlanAssigned', 'PlanAssignmentEnded'];

export interface PlanAssignment {
  assignmentId: string;
  payeeId: string;
  planId: string;
  effectiveFrom: string;
  effectiveUntil: string | null;
}

export interface PlanAssignmentsState {
  /** In the order they were assigned. */
  assignments: PlanAssignment[];
}

/** Two ranges `[from, until)` share a day; null is open-ended. Dates 'YYYY-MM-DD' compare as strings. */
export const rangesOverlap = (
  left: { effectiveFrom: string; effectiveUntil: string | null },
  right: { effectiveFrom: string; effectiveUntil: string | null },
): boolean =>
  (right.effectiveUntil === null || left.effectiveFrom < right.effectiveUntil) &&
  (left.effectiveUntil === null || right.effectiveFrom < left.effectiveUntil);

function requireRange(range: { payeeId: string; planId: string; effectiveFrom: string; effectiveUntil: string | null }): void {
  const problems: DomainError[] = validateAssignment(range);
  if (problems.length > 0) throw problems[0];
}

function rejectOverlap(state: PlanAssignmentsState, candidate: Omit<PlanAssignment, 'payeeId'>): void {
  const other = state.assignments.find((existing) => existing.assignmentId !== candidate.assignmentId && rangesOverlap(existing, candidate));
  if (other === undefined) return;
  const until = (date: string | null): string => date ?? 'open-ended';
  throw conflictError(
    'ASSIGNMENT.OVERLAPS',
    `${candidate.planId} from ${candidate.effectiveFrom} until ${until(candidate.effectiveUntil)} overlaps assignment ${other.assignmentId} ` +
      `(${other.effectiveFrom} until ${until(other.effectiveUntil)}); a payee is on one plan at a time: end the other assignment first`,
  );
}

function decide(command: PlanAssignmentCommand, state: PlanAssignmentsState): PlanAssignmentEvent[] {
  switch (command.type) {
    case 'AssignPlan': {
      const payeeId = requireIdentifier(command.payeeId, 'payeeId');
      const planId = requireIdentifier(command.planId, 'planId');
      const effectiveFrom = requireIsoDate(command.effectiveFrom, 'effectiveFrom');
      const effectiveUntil = command.effectiveUntil === null ? null : requireIsoDate(command.effectiveUntil, 'effectiveUntil');
      requireRange({ payeeId, planId, effectiveFrom, effectiveUntil });
      if (!command.payee.found) throw notFoundError('PAYEE.NOT_FOUND', `Payee ${payeeId} is not onboarded`);
      if (command.payee.startDate !== null && effectiveFrom < command.payee.startDate) {
        throw validationError('ASSIGNMENT.BEFORE_PAYEE_START', `Payee ${payeeId} starts on ${command.payee.startDate}`, [
          { field: 'effectiveFrom', message: `must be on or after the payee's start date ${command.payee.startDate}` },
        ]);
      }
      if (!command.plan.found) throw notFoundError('PLAN.NOT_FOUND', `Plan ${planId} has no versions`);
      if (command.plan.publishedVersions.length === 0) {
        throw conflictError('PLAN.NOT_PUBLISHED', `Plan ${planId} has no published version yet: publish one before assigning the plan`);
      }
      const firstEffective = command.plan.publishedVersions.reduce((earliest, version) => (version.effectiveFrom < earliest ? version.effectiveFrom : earliest), '9999-12-31');
      if (effectiveFrom < firstEffective) {
        // Credits between the two dates would find no version in force and be held.
        throw validationError('ASSIGNMENT.BEFORE_PLAN_EFFECTIVE', `Plan ${planId} has no version in force before ${firstEffective}`, [
          { field: 'effectiveFrom', message: `must be on or after ${firstEffective}, when the plan's first published version takes effect` },
        ]);
      }
      const otherCurrency = command.plan.publishedVersions.find((version) => command.payee.currency !== null && version.currency !== command.payee.currency);
      if (otherCurrency !== undefined) {
        throw validationError('ASSIGNMENT.CURRENCY_MISMATCH', `Plan ${planId} pays in ${otherCurrency.currency}; payee ${payeeId} is paid in ${command.payee.currency}`, [
          { field: 'planId', message: `must be a plan in the payee's currency ${command.payee.currency}` },
        ]);
      }
      const assignmentId = assignmentIdOf(planId, effectiveFrom);
      const existing = state.assignments.find((assignment) => assignment.assignmentId === assignmentId);
      if (existing !== undefined) {
        // The same request again records nothing; another end date for it is an EndAssignment.
        if (existing.effectiveUntil === effectiveUntil) return [];
        throw conflictError(
          'ASSIGNMENT.OVERLAPS',
          `Payee ${payeeId} is already on ${planId} from ${effectiveFrom} (assignment ${assignmentId}); end that assignment to change its end date`,
        );
      }
      rejectOverlap(state, { assignmentId, planId, effectiveFrom, effectiveUntil });
      return [{ type: 'PlanAssigned', data: { assignmentId, payeeId, planId, effectiveFrom, effectiveUntil } }];
    }
    case 'EndAssignment': {
      const assignment = state.assignments.find((candidate) => candidate.assignmentId === command.assignmentId);
      if (assignment === undefined) {
        throw notFoundError('ASSIGNMENT.NOT_FOUND', `Payee ${command.payeeId} has no plan assignment ${command.assignmentId}`);
      }
      const effectiveUntil = requireIsoDate(command.effectiveUntil, 'effectiveUntil');
      requireRange({ ...assignment, effectiveUntil });
      if (assignment.effectiveUntil === effectiveUntil) return [];
      // Moving the end later can run into the payee's next assignment.
      rejectOverlap(state, { ...assignment, effectiveUntil });
      const { assignmentId, payeeId, planId } = assignment;
      return [{ type: 'PlanAssignmentEnded', data: { assignmentId, payeeId, planId, effectiveUntil } }];
    }
    default:
      return assertNever(command);
  }
}

function evolve(state: PlanAssignmentsState, event: PlanAssignmentEvent): PlanAssignmentsState {
  switch (event.type) {
    case 'PlanAssigned': {
      const others = state.assignments.filter((assignment) => assignment.assignmentId !== event.data.assignmentId);
      return { assignments: [...others, { ...event.data }] };
    }
    case 'PlanAssignmentEnded': {
      const { assignmentId, effectiveUntil } = event.data;
      if (!state.assignments.some((assignment) => assignment.assignmentId === assignmentId)) {
        throw new Error(`PlanAssignmentEnded recorded for assignment ${assignmentId}, which was never assigned`);
      }
      return {
        assignments: state.assignments.map((assignment) => (assignment.assignmentId === assignmentId ? { ...assignment, effectiveUntil } : assignment)),
      };
    }
    default:
      return assertNever(event);
  }
}

export const planAssignmentDecider: Decider<PlanAssignmentCommand, PlanAssignmentEvent, PlanAssignmentsState> = {
  decide,
  evolve,
  initialState: () => ({ assignments: [] }),
};
