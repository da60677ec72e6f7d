import type { EventStore } from '#lib/event-store/event-store.port.js';
import type { CommandContext } from '#lib/shared/application/command-context.js';
import { handleCommand, type CommandOutcome } from '#lib/shared/application/handle-command.js';
import { foldEvents } from '#lib/shared/domain/decider.js';
import { loadPayee } from '#lib/organization/application/payee-commands.js';
import {
  PAYEE_NOT_FOUND,
  PLAN_NOT_FOUND,
  planAssignmentDecider,
  planAssignmentsStreamId,
  planDecider,
  planStreamId,
  publishedVersions,
  type AssignPlan,
  type DraftPlanVersion,
  type EndAssignment,
  type PayeeLookup,
  type PlanAssignmentEvent,
  type PlanAssignmentsState,
  type PlanEvent,
  type PlanLookup,
  type PlanState,
  type PlanVersionContent,
  type PublishPlanVersion,
  type RevisePlanDraft,
} from '../domain/index.js';

/**
 * What the HTTP layer (and any other driver) calls to change plans and plan assignments. Each function reads what
 * the command refers to in other streams, hands it to the pure decider inside the command, and appends with the
 * expected revision (retrying a bounded number of times on a conflict). Rejections are DomainErrors with stable
 * codes (PLAN.*, ASSIGNMENT.*, VALIDATION.*); concurrency conflicts are ConcurrencyError (409).
 *
 * Looked-up facts only ever grow true: a payee is never removed and a published version is never withdrawn, so
 * "the payee exists" and "the plan is published" cannot turn false between the lookup and the append.
 */

export type DraftPlanVersionInput = Omit<DraftPlanVersion, 'type'>;
export type RevisePlanDraftInput = Omit<RevisePlanDraft, 'type'>;
export type PublishPlanVersionInput = Omit<PublishPlanVersion, 'type'>;
export type AssignPlanInput = Omit<AssignPlan, 'type' | 'payee' | 'plan' | 'effectiveUntil'> & { effectiveUntil?: string | null };
export type EndAssignmentInput = Omit<EndAssignment, 'type'>;

export async function loadPlan(store: EventStore, planId: string): Promise<PlanState> {
  const events = await store.readStream(planStreamId(planId));
  return foldEvents(planDecider, events as unknown as PlanEvent[]);
}

export async function loadPlanAssignments(store: EventStore, payeeId: string): Promise<PlanAssignmentsState> {
  const events = await store.readStream(planAssignmentsStreamId(payeeId));
  return foldEvents(planAssignmentDecider, events as unknown as PlanAssignmentEvent[]);
}

const contentOf = (input: PlanVersionContent): PlanVersionContent => ({
  effectiveFrom: input.effectiveFrom,
  currency: input.currency,
  periodFrequency: input.periodFrequency,
  components: input.components,
  capitalizable: input.capitalizable,
  benefitMonths: input.benefitMonths,
  calendarId: input.calendarId,
  clawback: input.clawback,
  draw: input.draw,
});

export async function draftPlanVersion(store: EventStore, input: DraftPlanVersionInput, context: CommandContext): Promise<CommandOutcome<PlanState>> {
  const command: DraftPlanVersion = { type: 'DraftPlanVersion', planId: input.planId, ...contentOf(input) };
  return handleCommand(store, planStreamId(input.planId), planDecider, command, context);
}

export async function revisePlanDraft(store: EventStore, input: RevisePlanDraftInput, context: CommandContext): Promise<CommandOutcome<PlanState>> {
  const command: RevisePlanDraft = { type: 'RevisePlanDraft', planId: input.planId, version: input.version, ...contentOf(input) };
  return handleCommand(store, planStreamId(input.planId), planDecider, command, context);
}

export async function publishPlanVersion(store: EventStore, input: PublishPlanVersionInput, context: CommandContext): Promise<CommandOutcome<PlanState>> {
  const command: PublishPlanVersion = { type: 'PublishPlanVersion', planId: input.planId, version: input.version };
  return handleCommand(store, planStreamId(input.planId), planDecider, command, context);
}

async function lookUpPayee(store: EventStore, payeeId: string): Promise<PayeeLookup> {
  const payee = await loadPayee(store, payeeId);
  return payee.status === 'onboarded' ? { found: true, startDate: payee.startDate, currency: payee.currency } : PAYEE_NOT_FOUND;
}

async function lookUpPlan(store: EventStore, planId: string): Promise<PlanLookup> {
  const plan = await loadPlan(store, planId);
  if (plan.status === 'none') return PLAN_NOT_FOUND;
  return { found: true, publishedVersions: publishedVersions(plan).map(({ version, effectiveFrom, currency }) => ({ version, effectiveFrom, currency })) };
}

export async function assignPlan(store: EventStore, input: AssignPlanInput, context: CommandContext): Promise<CommandOutcome<PlanAssignmentsState>> {
  const [payee, plan] = await Promise.all([lookUpPayee(store, input.payeeId), lookUpPlan(store, input.planId)]);
  const command: AssignPlan = {
    type: 'AssignPlan',
    payeeId: input.payeeId,
    planId: input.planId,
    effectiveFrom: input.effectiveFrom,
    effectiveUntil: input.effectiveUntil ?? null,
    payee,
    plan,
  };
  return handleCommand(store, planAssignmentsStreamId(input.payeeId), planAssignmentDecider, command, context);
}

export async function endAssignment(store: EventStore, input: EndAssignmentInput, context: CommandContext): Promise<CommandOutcome<PlanAssignmentsState>> {
  const command: EndAssignment = { type: 'EndAssignment', payeeId: input.payeeId, assignmentId: input.assignmentId, effectiveUntil: input.effectiveUntil };
  return handleCommand(store, planAssignmentsStreamId(input.payeeId), planAssignmentDecider, command, context);
}
