import { createHash } from 'node:crypto';
import type { Actor, EventStore } from '#lib/event-store/event-store.port.js';
import type { CommandContext } from '#lib/shared/application/command-context.js';
import { handleCommand, type CommandOutcome } from '#lib/shared/application/handle-command.js';
import { foldEvents } from '#lib/shared/domain/decider.js';
import { loadPayee } from '#lib/organization/application/payee-commands.js';
import {
  disputeDecider,
  disputeStreamId,
  type CreditCorrection,
  type DisputeActor,
  type DisputeClockPolicy,
  type DisputeCommand,
  type DisputeEvent,
  type DisputeState,
  type DisputeSubject,
  type RecordDisputeRemedy,
} from '../domain/dispute.decider.js';
import type { DisputeSubjects } from './dispute-subjects.js';

/**
 * What the HTTP layer and the dispute processes call to change a dispute. Each function turns the caller's input
 * and context into a command for the decider: the actor (as a DisputeActor), today's business date from the
 * context clock, and the service's dispute settings. Rejections are DomainErrors with stable codes (DISPUTE.*).
 */

/** The service's dispute settings (apps/ledger/src/config/ledger-config.ts). */
export interface DisputeSettings {
  policy: DisputeClockPolicy;
  /** Calendar days after a resolution during which the dispute may be reopened. */
  reopenWindowDays: number;
}

/**
 * The business date of an instant. Dates are UTC: the ledger keeps one calendar for every payee
 * (docs/decisions/0041-dispute-clocks-and-escalation.md).
 */
export const businessDateOf = (instant: Date): string => instant.toISOString().slice(0, 10);

/** A command context that may say which payee the actor is (the `payee_id` claim of a rep's token). */
export type DisputeCommandContext = CommandContext & { actorPayeeId?: string | null };

/** A rep acts as one payee: the payee their token names, else the payee with their own id. */
export function disputeActorOf(actor: Actor, actorPayeeId?: string | null): DisputeActor {
  return { id: actor.id, role: actor.role, payeeId: actor.role === 'rep' ? (actorPayeeId ?? actor.id) : null };
}

const actorIn = (context: DisputeCommandContext): DisputeActor => disputeActorOf(context.actor, context.actorPayeeId);

export async function loadDispute(store: EventStore, disputeId: string): Promise<DisputeState> {
  const events = await store.readStream(disputeStreamId(disputeId));
  return foldEvents(disputeDecider, events as unknown as DisputeEvent[]);
}

const decideOn = (store: EventStore, disputeId: string, command: DisputeCommand, context: CommandContext): Promise<CommandOutcome<DisputeState>> =>
  handleCommand(store, disputeStreamId(disputeId), disputeDecider, command, context);

const today = (context: DisputeCommandContext): string => businessDateOf(context.now());

export interface FileDisputeInput {
  /** Chosen by the caller, or derived from the idempotency key (so a retry files the same dispute), or drawn. */
  disputeId?: string;
  payeeId: string;
  subject: DisputeSubject;
  category: string;
  amountClaimed: string;
  /** Default: the payee's currency (a claim is always in it). */
  currency?: string;
  description: string;
  evidenceReferences?: string[];
}

/**
 * A dispute id that a retried request finds again: the same actor and idempotency key always give the same id,
 * so the retry reaches the stream where its events already are and is answered from them.
 */
function disputeIdFor(input: FileDisputeInput, context: DisputeCommandContext): string {
  if (input.disputeId !== undefined) return input.disputeId;
  if (context.commandId !== null) {
    return `DSP-${createHash('sha256').update(`${context.actor.id}\n${context.commandId}`).digest('hex').slice(0, 24)}`;
  }
  return `DSP-${context.newId()}`;
}

export async function fileDispute(
  store: EventStore,
  subjects: DisputeSubjects,
  settings: DisputeSettings,
  input: FileDisputeInput,
  context: DisputeCommandContext,
): Promise<CommandOutcome<DisputeState>> {
  const disputeId = disputeIdFor(input, context);
  const [payee, subjectFacts] = await Promise.all([loadPayee(store, input.payeeId), subjects.factsAbout(input.payeeId, input.subject)]);
  return decideOn(store, disputeId, {
    type: 'FileDispute',
    disputeId,
    payeeId: input.payeeId,
    subject: input.subject,
    category: input.category,
    amountClaimed: input.amountClaimed,
    currency: input.currency ?? (payee.status === 'onboarded' ? payee.currency : ''),
    description: input.description,
    evidenceReferences: input.evidenceReferences ?? [],
    actor: actorIn(context),
    today: today(context),
    policy: settings.policy,
    payee: payee.status === 'onboarded' ? { exists: true, currency: payee.currency } : { exists: false, currency: null },
    subjectFacts,
  }, context);
}

export async function assignDispute(store: EventStore, input: { disputeId: string; assigneeId: string }, context: DisputeCommandContext) {
  return decideOn(store, input.disputeId, { type: 'AssignDispute', disputeId: input.disputeId, assigneeId: input.assigneeId, actor: actorIn(context) }, context);
}

export async function commentOnDispute(store: EventStore, input: { disputeId: string; text: string }, context: DisputeCommandContext) {
  return decideOn(store, input.disputeId, { type: 'CommentOnDispute', disputeId: input.disputeId, text: input.text, actor: actorIn(context) }, context);
}

export async function requestDisputeInformation(store: EventStore, settings: DisputeSettings, input: { disputeId: string; question: string }, context: DisputeCommandContext) {
  return decideOn(store, input.disputeId, {
    type: 'RequestDisputeInformation',
    disputeId: input.disputeId,
    question: input.question,
    actor: actorIn(context),
    today: today(context),
    policy: settings.policy,
  }, context);
}

export async function provideDisputeInformation(
  store: EventStore,
  input: { disputeId: string; answer: string; evidenceReferences?: string[] },
  context: DisputeCommandContext,
) {
  return decideOn(store, input.disputeId, {
    type: 'ProvideDisputeInformation',
    disputeId: input.disputeId,
    answer: input.answer,
    evidenceReferences: input.evidenceReferences ?? [],
    actor: actorIn(context),
    today: today(context),
  }, context);
}

export interface ResolveDisputeInput {
  disputeId: string;
  outcome: string;
  amountApproved?: string;
  reason?: string;
  creditCorrection?: CreditCorrection;
}

/**
 * A credit correction is checked against the deal before the resolution is recorded (the deal exists, is not
 * cancelled, and the new splits are a valid allocation), so that an approval rarely leaves a remedy that cannot be
 * carried out.
 */
export async function resolveDispute(
  store: EventStore,
  subjects: DisputeSubjects,
  settings: DisputeSettings,
  input: ResolveDisputeInput,
  context: DisputeCommandContext,
) {
  if (input.creditCorrection !== undefined) await subjects.checkCreditCorrection(input.creditCorrection);
  return decideOn(store, input.disputeId, {
    type: 'ResolveDispute',
    disputeId: input.disputeId,
    outcome: input.outcome,
    ...(input.amountApproved !== undefined ? { amountApproved: input.amountApproved } : {}),
    ...(input.reason !== undefined ? { reason: input.reason } : {}),
    ...(input.creditCorrection !== undefined ? { creditCorrection: input.creditCorrection } : {}),
    actor: actorIn(context),
    today: today(context),
    reopenWindowDays: settings.reopenWindowDays,
  }, context);
}

export async function withdrawDispute(store: EventStore, input: { disputeId: string; reason?: string }, context: DisputeCommandContext) {
  return decideOn(store, input.disputeId, {
    type: 'WithdrawDispute',
    disputeId: input.disputeId,
    ...(input.reason !== undefined ? { reason: input.reason } : {}),
    actor: actorIn(context),
    today: today(context),
  }, context);
}

export async function reopenDispute(store: EventStore, settings: DisputeSettings, input: { disputeId: string; reason: string }, context: DisputeCommandContext) {
  return decideOn(store, input.disputeId, {
    type: 'ReopenDispute',
    disputeId: input.disputeId,
    reason: input.reason,
    actor: actorIn(context),
    today: today(context),
    policy: settings.policy,
  }, context);
}

export async function escalateDispute(store: EventStore, input: { disputeId: string }, context: DisputeCommandContext) {
  return decideOn(store, input.disputeId, { type: 'EscalateDispute', disputeId: input.disputeId, actor: actorIn(context), today: today(context) }, context);
}

export async function recordDisputeRemedy(
  store: EventStore,
  input: { disputeId: string; resolutionNumber: number; outcome: RecordDisputeRemedy['outcome'] },
  context: DisputeCommandContext,
) {
  return decideOn(store, input.disputeId, {
    type: 'RecordDisputeRemedy',
    disputeId: input.disputeId,
    resolutionNumber: input.resolutionNumber,
    outcome: input.outcome,
    actor: actorIn(context),
  }, context);
}
