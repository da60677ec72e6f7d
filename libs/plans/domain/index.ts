/**
 * The plans context's published surface: stream id helpers, commands, and the event contracts other contexts
 * read (`plan-<planId>`: PlanVersionDrafted, PlanDraftRevised, PlanVersionPublished; `plan-assignments-<payeeId>`:
 * PlanAssigned, PlanAssignmentEnded).
 */
export {
  PLAN_EVENT_TYPES,
  PLAN_STREAM_PREFIX,
  planDecider,
  planStreamId,
  planVersionId,
  publishedVersions,
  type DraftPlanVersion,
  type ExistingPlan,
  type PlanCommand,
  type PlanDraftRevised,
  type PlanEvent,
  type PlanState,
  type PlanVersionContent,
  type PlanVersionDrafted,
  type PlanVersionPublished,
  type PlanVersionRecord,
  type PlanVersionStatus,
  type PublishPlanVersion,
  type RevisePlanDraft,
} from './plan.decider.js';
export {
  PAYEE_NOT_FOUND,
  PLAN_ASSIGNMENTS_STREAM_PREFIX,
  PLAN_ASSIGNMENT_EVENT_TYPES,
  PLAN_NOT_FOUND,
  assignmentIdOf,
  planAssignmentDecider,
  planAssignmentsStreamId,
  rangesOverlap,
  type AssignPlan,
  type EndAssignment,
  type PayeeLookup,
  type PlanAssigned,
  type PlanAssignment,
  type PlanAssignmentCommand,
  type PlanAssignmentEnded,
  type PlanAssignmentEvent,
  type PlanAssignmentsState,
  type PlanLookup,
} from './plan-assignment.decider.js';
