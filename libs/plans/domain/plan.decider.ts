import { assertNever, type Decider, type DomainEvent } from '#lib/shared/domain/decider.js';
import { conflictError, notFoundError, validationError, type DomainError } from '#lib/shared/domain/domain-error.js';
import { requireIdentifier } from '#lib/organization/domain/field-rules.js';
import { validatePlanHistory, validatePlanVersion, type PlanVersionInput } from '#lib/commissions/domain/index.js';

/**
 * Glossary
 * - Plan: a named compensation scheme ("AE 2026"). It changes only by new versions, each effective from a date.
 * - Draft: a version being prepared. It can be revised as often as needed; statements never price with it
 *   (the what-if modeller may). A plan has at most one draft at a time, always its highest version.
 * - Published version: terms in force from its `effectiveFrom` until the next published version's. Published
 *   content is never edited: a change is a new version with a later `effectiveFrom`.
 *
 * Stream: `plan-<planId>`. Every event carries the version's full content (`planVersion`, the engine's
 * PlanVersionInput, id `${planId}@${version}`), so a reader never merges partial changes.
 */

export const planStreamId = (planId: string): string => `plan-${planId}`;
export const PLAN_STREAM_PREFIX = 'plan-';
export const planVersionId = (planId: string, version: number): string => `${planId}@${version}`;

/** What an analyst writes for a version; the plan id, version number and version id are the ledger's. */
export type PlanVersionContent = Omit<PlanVersionInput, 'id' | 'planId' | 'version'>;

export type DraftPlanVersion = { type: 'DraftPlanVersion'; planId: string } & PlanVersionContent;
export type RevisePlanDraft = { type: 'RevisePlanDraft'; planId: string; version: number } & PlanVersionContent;
export type PublishPlanVersion = { type: 'PublishPlanVersion'; planId: string; version: number };

export type PlanCommand = DraftPlanVersion | RevisePlanDraft | PublishPlanVersion;

export type PlanVersionDrafted = DomainEvent<'PlanVersionDrafted', { planId: string; version: number; planVersion: PlanVersionInput }>;
export type PlanDraftRevised = DomainEvent<'PlanDraftRevised', { planId: string; version: number; planVersion: PlanVersionInput }>;
/** The full content as published; nothing edits it afterwards. */
export type PlanVersionPublished = DomainEvent<'PlanVersionPublished', { planId: string; version: number; planVersion: PlanVersionInput }>;

export type PlanEvent = PlanVersionDrafted | PlanDraftRevised | PlanVersionPublished;

export const PLAN_EVENT_TYPES: readonly PlanEvent['type'][] = ['PlanVersionDrafted', 'PlanDraftRevised', 'PlanVersionPublished'];

export type PlanVersionStatus = 'draft' | 'published';

export interface PlanVersionRecord {
  version: number;
  status: PlanVersionStatus;
  planVersion: PlanVersionInput;
}

export type PlanState =
  | { status: 'none' }
  | {
      status: 'exists';
      planId: string;
      /** Ordered by version number: 1, 2, 3, ... without gaps. */
      versions: PlanVersionRecord[];
    };

export type ExistingPlan = Extract<PlanState, { status: 'exists' }>;

export const publishedVersions = (plan: ExistingPlan): PlanVersionInput[] =>
  plan.versions.filter((record) => record.status === 'published').map((record) => record.planVersion);

/** Builds the engine's plan version from what the analyst wrote, taking only the fields the engine knows. */
function planVersionOf(planId: string, version: number, content: PlanVersionContent): PlanVersionInput {
  return {
    id: planVersionId(planId, version),
    planId,
    version,
    effectiveFrom: content.effectiveFrom,
    currency: content.currency,
    periodFrequency: content.periodFrequency,
    components: content.components,
    capitalizable: content.capitalizable,
    benefitMonths: content.benefitMonths ?? null,
    // Payout settings are written only when given, so versions drafted without them read as before.
    ...(content.calendarId !== undefined && content.calendarId !== null ? { calendarId: content.calendarId } : {}),
    ...(content.clawback !== undefined && content.clawback !== null ? { clawback: content.clawback } : {}),
    ...(content.draw !== undefined && content.draw !== null ? { draw: content.draw } : {}),
  };
}

/** One error for every problem found: the first problem's code, every field path, every code in the detail. */
function planProblemsError(planVersion: PlanVersionInput, problems: readonly DomainError[]): DomainError {
  const listed = problems.map((problem) => `${problem.message} (${problem.code})`).join('; ');
  return validationError(problems[0].code, `Plan version ${planVersion.id} is not valid: ${listed}`, problems.flatMap((problem) => problem.fields));
}

/**
 * The engine's rules for one version, then its rules across versions with the published ones before it: the same
 * currency and period frequency, and an `effectiveFrom` after the latest published version's. History problems
 * are reported on the candidate's own fields (`effectiveFrom`, not `versions[2].effectiveFrom`).
 */
function requireValid(candidate: PlanVersionInput, published: readonly PlanVersionInput[]): PlanVersionInput {
  const own = validatePlanVersion(candidate);
  if (own.length > 0) throw planProblemsError(candidate, own);
  const prefix = `versions[${published.length}].`;
  const history = validatePlanHistory([...published, candidate])
    .filter((problem) => problem.fields.some((field) => field.field.startsWith(prefix)))
    .map((problem) => {
      const fields = problem.fields.map((field) => ({ ...field, field: field.field.slice(prefix.length) }));
      return validationError(problem.code, fields.map((field) => `${field.field} ${field.message}`).join('; '), fields);
    });
  if (history.length > 0) throw planProblemsError(candidate, history);
  return candidate;
}

function requireExisting(state: PlanState, planId: string): ExistingPlan {
  if (state.status === 'none') throw notFoundError('PLAN.NOT_FOUND', `Plan ${planId} has no versions`);
  return state;
}

function requireDraft(plan: ExistingPlan, version: number): PlanVersionRecord {
  const record = plan.versions.find((candidate) => candidate.version === version);
  if (record === undefined) throw notFoundError('PLAN.VERSION_NOT_FOUND', `Plan ${plan.planId} has no version ${String(version)}`);
  if (record.status === 'published') {
    throw conflictError(
      'PLAN.VERSION_PUBLISHED',
      `Version ${version} of plan ${plan.planId} is published and cannot change; draft a new version with a later effectiveFrom`,
    );
  }
  return record;
}

const sameJson = (left: unknown, right: unknown): boolean => JSON.stringify(left) === JSON.stringify(right);

function decide(command: PlanCommand, state: PlanState): PlanEvent[] {
  switch (command.type) {
    case 'DraftPlanVersion': {
      const planId = requireIdentifier(command.planId, 'planId');
      const versions = state.status === 'exists' ? state.versions : [];
      const pending = versions.find((record) => record.status === 'draft');
      if (pending !== undefined) {
        throw conflictError(
          'PLAN.DRAFT_PENDING',
          `Plan ${planId} already has draft version ${pending.version}: revise or publish it before drafting another`,
        );
      }
      const version = versions.length + 1;
      const published = state.status === 'exists' ? publishedVersions(state) : [];
      const planVersion = requireValid(planVersionOf(planId, version, command), published);
      return [{ type: 'PlanVersionDrafted', data: { planId, version, planVersion } }];
    }
    case 'RevisePlanDraft': {
      const plan = requireExisting(state, command.planId);
      const draft = requireDraft(plan, command.version);
      const planVersion = requireValid(planVersionOf(plan.planId, draft.version, command), publishedVersions(plan));
      if (sameJson(planVersion, draft.planVersion)) return [];
      return [{ type: 'PlanDraftRevised', data: { planId: plan.planId, version: draft.version, planVersion } }];
    }
    case 'PublishPlanVersion': {
      const plan = requireExisting(state, command.planId);
      const draft = requireDraft(plan, command.version);
      // Checked again: the rules may have tightened since the draft was written.
      const planVersion = requireValid(draft.planVersion, publishedVersions(plan));
      return [{ type: 'PlanVersionPublished', data: { planId: plan.planId, version: draft.version, planVersion } }];
    }
    default:
      return assertNever(command);
  }
}

function evolve(state: PlanState, event: PlanEvent): PlanState {
  const { planId, version, planVersion } = event.data;
  switch (event.type) {
    case 'PlanVersionDrafted': {
      const versions = state.status === 'exists' ? state.versions : [];
      if (version !== versions.length + 1) throw new Error(`Plan ${planId}: version ${version} drafted after ${versions.length} versions`);
      return { status: 'exists', planId, versions: [...versions, { version, status: 'draft', planVersion }] };
    }
    case 'PlanDraftRevised':
    case 'PlanVersionPublished': {
      if (state.status !== 'exists' || !state.versions.some((record) => record.version === version)) {
        throw new Error(`${event.type} recorded for version ${version} of plan ${planId}, which was never drafted`);
      }
      const status: PlanVersionStatus = event.type === 'PlanVersionPublished' ? 'published' : 'draft';
      return { ...state, versions: state.versions.map((record) => (record.version === version ? { version, status, planVersion } : record)) };
    }
    default:
      return assertNever(event);
  }
}

export const planDecider: Decider<PlanCommand, PlanEvent, PlanState> = {
  decide,
  evolve,
  initialState: () => ({ status: 'none' }),
};
