/**
 * The commission engine's public surface: plan and statement types, plan validation, effective dating,
 * and the statement computation (full recompute and incremental). Everything here is pure: no I/O, no
 * clock, no randomness; money crosses this boundary as decimal strings.
 */
export * from './commission-plan.js';
export * from './statement.js';
export { validatePlanVersion, validatePlanHistory, validateAssignment, validateQuota, combineErrors } from './plan-validation.js';
export {
  dayNumber,
  daysInPeriod,
  isDateString,
  nextDate,
  periodContaining,
  planVersionInForce,
  plansAssignedOn,
  resolvePlanVersions,
  timeWeightedQuota,
  type PlanResolution,
} from './effective-dating.js';
export {
  applyCredit,
  compareCredits,
  computeStatement,
  lineCountOf,
  sortsAfterLastApplied,
  startPeriod,
  statementOf,
  statementSummaryOf,
  type AppliedCredit,
  type CommissionPeriodState,
  type PeriodOptions,
  type StatementSummary,
} from './commission-engine.js';
