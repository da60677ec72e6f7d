import type { ReadModelReader } from '#lib/projections/read-model.port.js';
import { notFoundError, validationError } from '#lib/shared/domain/domain-error.js';
import { benefitMonthsOf, calendarIdOf, type PlanAssignmentInput, type PlanVersionInput } from '#lib/commissions/domain/commission-plan.js';
import { planVersionInForce } from '#lib/commissions/domain/effective-dating.js';
import type { PeriodInput } from '#lib/commissions/domain/statement.js';
import { assignmentInputOf, frequencyOfPeriodId, isStatementPeriodOf, periodOfId, versionsByPlanOf } from '#lib/statements/domain/statement-inputs.js';
import { planVersionOfRow, type AssignmentRow, type PlanVersionRow } from '#lib/statements/application/statement-tables.js';
import type { DrawTerms } from '../domain/draw.js';
import type { ClawbackPolicy } from '../domain/clawback.js';

/**
 * Which plans close in a calendar, which payees a calendar period freezes, and the payout settings of the plan
 * in force for a payee, read from the statements read model's copy of the plans and assignments.
 *
 * A payee's period belongs to the calendar of the plan that decides their statement period (the first plan by id
 * they are assigned to on the period's first day, else on its last day), as long as the period is one of their
 * statement periods.
 */
export interface CalendarPlans {
  calendarId: string;
  /** Every published plan version, of every plan (a payee may be on plans of several calendars). */
  versions: PlanVersionInput[];
  versionsByPlan: Map<string, PlanVersionInput[]>;
  /** Plans whose versions close in this calendar. */
  planIds: Set<string>;
}

export async function readPublishedVersions(reader: ReadModelReader): Promise<PlanVersionInput[]> {
  const rows = await reader.all<PlanVersionRow>("SELECT plan_version FROM statement_plan_versions WHERE status = 'published' ORDER BY plan_id, version");
  return rows.map(planVersionOfRow);
}

export async function readCalendarPlans(reader: ReadModelReader, calendarId: string): Promise<CalendarPlans> {
  const versions = await readPublishedVersions(reader);
  const planIds = new Set(versions.filter((version) => calendarIdOf(version) === calendarId).map((version) => version.planId));
  if (planIds.size === 0) throw notFoundError('CALENDAR.NOT_FOUND', `No published plan closes in calendar ${calendarId}`);
  return { calendarId, versions, versionsByPlan: versionsByPlanOf(versions), planIds };
}

/** The calendar period a period id names, refused when no plan of the calendar pays by that frequency. */
export function requireCalendarPeriod(plans: CalendarPlans, periodId: string): PeriodInput {
  const period = periodOfId(periodId);
  if (period === null) {
    throw validationError('PERIOD.INVALID_ID', `"${periodId}" is not a period id`, [
      { field: 'periodId', message: 'must be a month "2026-03", a quarter "2026-Q1" or a year "2026"' },
    ]);
  }
  const frequency = frequencyOfPeriodId(periodId);
  const frequencies = new Set(plans.versions.filter((version) => plans.planIds.has(version.planId)).map((version) => version.periodFrequency));
  if (frequency === null || !frequencies.has(frequency)) {
    throw validationError('PERIOD.NOT_OF_CALENDAR', `Calendar ${plans.calendarId} pays by ${[...frequencies].join(', ')}; ${periodId} is not such a period`, [
      { field: 'periodId', message: `must be a ${[...frequencies].join(' or ')} period of calendar ${plans.calendarId}` },
    ]);
  }
  return period;
}

/** Assignments by payee, for those whose assignments overlap the period. */
export async function readAssignmentsOverlapping(reader: ReadModelReader, period: PeriodInput, payeeIds?: readonly string[]): Promise<Map<string, PlanAssignmentInput[]>> {
  const rows =
    payeeIds === undefined
      ? await reader.all<AssignmentRow>(
          `SELECT * FROM statement_assignments WHERE payee_id IN (
             SELECT payee_id FROM statement_assignments WHERE effective_from <= ? AND (effective_until IS NULL OR effective_until > ?))
           ORDER BY payee_id, assignment_id`,
          [period.end, period.start],
        )
      : await reader.all<AssignmentRow>(`SELECT * FROM statement_assignments WHERE payee_id IN (${payeeIds.map(() => '?').join(', ')}) ORDER BY payee_id, assignment_id`, [
          ...payeeIds,
        ]);
  const byPayee = new Map<string, PlanAssignmentInput[]>();
  for (const row of rows) {
    const input = assignmentInputOf({ assignmentId: row.assignment_id, payeeId: row.payee_id, planId: row.plan_id, effectiveFrom: row.effective_from, effectiveUntil: row.effective_until });
    if (input === null) continue;
    const list = byPayee.get(input.payeeId);
    if (list === undefined) byPayee.set(input.payeeId, [input]);
    else list.push(input);
  }
  return byPayee;
}

function firstPlanAssignedOn(assignments: readonly PlanAssignmentInput[], versionsByPlan: ReadonlyMap<string, unknown>, date: string): string | null {
  let first: string | null = null;
  for (const assignment of assignments) {
    if (assignment.effectiveFrom > date || (assignment.effectiveUntil !== null && assignment.effectiveUntil <= date)) continue;
    if (!versionsByPlan.has(assignment.planId)) continue;
    if (first === null || assignment.planId < first) first = assignment.planId;
  }
  return first;
}

/** The plan that decides the payee's statement for the period: the first by id assigned on its first day, else on its last. */
export function decidingPlanOf(assignments: readonly PlanAssignmentInput[], versionsByPlan: ReadonlyMap<string, readonly PlanVersionInput[]>, period: PeriodInput): string | null {
  return firstPlanAssignedOn(assignments, versionsByPlan, period.start) ?? firstPlanAssignedOn(assignments, versionsByPlan, period.end);
}

/** Whether the calendar period freezes this payee's statement. */
export function payeeBelongsTo(plans: CalendarPlans, assignments: readonly PlanAssignmentInput[], period: PeriodInput): boolean {
  const planId = decidingPlanOf(assignments, plans.versionsByPlan, period);
  return planId !== null && plans.planIds.has(planId) && isStatementPeriodOf(assignments, plans.versionsByPlan, period);
}

/** The version of the deciding plan in force at the end of the period (its payout settings apply to the period). */
export function decidingVersionOf(plans: Pick<CalendarPlans, 'versions' | 'versionsByPlan'>, assignments: readonly PlanAssignmentInput[], period: PeriodInput): PlanVersionInput | null {
  const planId = decidingPlanOf(assignments, plans.versionsByPlan, period);
  if (planId === null) return null;
  return planVersionInForce(plans.versionsByPlan.get(planId) ?? [], planId, period.end) ?? plans.versionsByPlan.get(planId)?.[0] ?? null;
}

export const drawTermsOf = (version: PlanVersionInput | null): DrawTerms | null =>
  version?.draw === undefined || version.draw === null ? null : { kind: version.draw.kind, amountPerPeriod: version.draw.amountPerPeriod, currency: version.currency };

export const clawbackPolicyOf = (version: PlanVersionInput | null): ClawbackPolicy | null =>
  version?.clawback === undefined || version.clawback === null ? null : { ...version.clawback, window: { ...version.clawback.window } };

/** Benefit months of each capitalizable component, keyed by plan version id and component key (`planId/componentId`). */
export function capitalizationIndex(versions: readonly PlanVersionInput[]): Map<string, number> {
  const index = new Map<string, number>();
  for (const version of versions) {
    for (const component of version.components) {
      const months = benefitMonthsOf(version, component);
      if (months !== null) index.set(`${version.id}|${version.planId}/${component.id}`, months);
    }
  }
  return index;
}
