import type { EventStore } from '#lib/event-store/event-store.port.js';
import type { CommandContext } from '#lib/shared/application/command-context.js';
import { handleCommand, type CommandOutcome } from '#lib/shared/application/handle-command.js';
import { foldEvents } from '#lib/shared/domain/decider.js';
import {
  NO_MANAGER,
  latestValue,
  payeeDecider,
  payeeStreamId,
  type ChangePayeeManager,
  type ChangePayeeTerritory,
  type ManagerLookup,
  type OnboardPayee,
  type PayeeEvent,
  type PayeeState,
  type SetQuota,
} from '../domain/payee.decider.js';

/**
 * What the HTTP layer (and any other driver) calls to change payees. Each function reads what the command
 * refers to in other streams, hands it to the pure decider inside the command, and appends to
 * `payee-<payeeId>` with the expected revision (retrying a bounded number of times on a conflict).
 * Rejections are DomainErrors with stable codes; concurrency conflicts are ConcurrencyError (409).
 *
 * Payees are never removed, so "the manager exists" cannot become false between the check and the append.
 */

export type OnboardPayeeInput = Omit<OnboardPayee, 'type' | 'manager'>;
export type ChangePayeeManagerInput = Omit<ChangePayeeManager, 'type' | 'manager'>;
export type ChangePayeeTerritoryInput = Omit<ChangePayeeTerritory, 'type'>;
export type SetQuotaInput = Omit<SetQuota, 'type'>;

/** A reporting line longer than this is treated as a cycle's symptom and cut, not followed forever. */
const MAX_REPORTING_DEPTH = 64;

/** The payee as its stream says now (status 'not_onboarded' when the stream is empty). */
export async function loadPayee(store: EventStore, payeeId: string): Promise<PayeeState> {
  const events = await store.readStream(payeeStreamId(payeeId));
  return foldEvents(payeeDecider, events as unknown as PayeeEvent[]);
}

export async function payeeExists(store: EventStore, payeeId: string): Promise<boolean> {
  return (await store.readStream(payeeStreamId(payeeId), { maxCount: 1 })).length > 0;
}

/** Whether the manager exists, and the managers above them (following each one's latest scheduled manager). */
async function lookUpManager(store: EventStore, managerId: string | null): Promise<ManagerLookup> {
  if (typeof managerId !== 'string') return NO_MANAGER;
  const manager = await loadPayee(store, managerId);
  if (manager.status !== 'onboarded') return NO_MANAGER;
  const managersAbove: string[] = [];
  let next = latestValue(manager.managerHistory);
  while (next !== null && managersAbove.length < MAX_REPORTING_DEPTH && !managersAbove.includes(next)) {
    managersAbove.push(next);
    const above = await loadPayee(store, next);
    next = above.status === 'onboarded' ? latestValue(above.managerHistory) : null;
  }
  return { found: true, managersAbove };
}

export async function onboardPayee(store: EventStore, input: OnboardPayeeInput, context: CommandContext): Promise<CommandOutcome<PayeeState>> {
  const command: OnboardPayee = {
    type: 'OnboardPayee',
    payeeId: input.payeeId,
    name: input.name,
    email: input.email ?? null,
    managerId: input.managerId ?? null,
    territory: input.territory,
    currency: input.currency,
    startDate: input.startDate,
    manager: await lookUpManager(store, input.managerId ?? null),
  };
  return handleCommand(store, payeeStreamId(input.payeeId), payeeDecider, command, context);
}

export async function changePayeeManager(
  store: EventStore,
  input: ChangePayeeManagerInput,
  context: CommandContext,
): Promise<CommandOutcome<PayeeState>> {
  const command: ChangePayeeManager = {
    type: 'ChangePayeeManager',
    payeeId: input.payeeId,
    managerId: input.managerId ?? null,
    effectiveDate: input.effectiveDate,
    manager: await lookUpManager(store, input.managerId ?? null),
  };
  return handleCommand(store, payeeStreamId(input.payeeId), payeeDecider, command, context);
}

export async function changePayeeTerritory(
  store: EventStore,
  input: ChangePayeeTerritoryInput,
  context: CommandContext,
): Promise<CommandOutcome<PayeeState>> {
  const command: ChangePayeeTerritory = { type: 'ChangePayeeTerritory', payeeId: input.payeeId, territory: input.territory, effectiveDate: input.effectiveDate };
  return handleCommand(store, payeeStreamId(input.payeeId), payeeDecider, command, context);
}

export async function setQuota(store: EventStore, input: SetQuotaInput, context: CommandContext): Promise<CommandOutcome<PayeeState>> {
  const command: SetQuota = {
    type: 'SetQuota',
    payeeId: input.payeeId,
    periodId: input.periodId,
    measure: input.measure,
    amount: input.amount,
    currency: input.currency,
  };
  return handleCommand(store, payeeStreamId(input.payeeId), payeeDecider, command, context);
}
