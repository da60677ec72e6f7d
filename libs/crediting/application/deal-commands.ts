import type { EventStore } from '#lib/event-store/event-store.port.js';
import type { CommandContext } from '#lib/shared/application/command-context.js';
import { handleCommand, type CommandOutcome } from '#lib/shared/application/handle-command.js';
import { foldEvents } from '#lib/shared/domain/decider.js';
import { loadPayee, payeeExists } from '#lib/organization/application/payee-commands.js';
import type { DatedValue } from '#lib/organization/domain/payee.decider.js';
import {
  MAX_PAYEES_PER_SPLIT_LIST,
  dealDecider,
  dealStreamId,
  type AllocateCredits,
  type AmendDeal,
  type CancelDeal,
  type CloseDealWon,
  type DealEvent,
  type DealState,
} from '../domain/deal.decider.js';
import type { ReportingLines } from '../domain/roll-up.js';
import type { TerritoryOverlayLookup } from '../domain/territory-overlays.decider.js';
import { territoryOverlaysOf } from './territory-overlay-commands.js';

/**
 * What the HTTP layer (and the CRM consumer) calls to record deals and their credits. Each function checks
 * which referenced payees exist, passes that into the command, and appends to `deal-<dealId>` with the
 * expected revision. Rejections are DomainErrors with stable codes (DEAL.*, CREDIT.*, VALIDATION.*).
 *
 * Credit without an explicit overlay list rolls up to the primary payees' managers on the credit date, and goes to
 * the overlay holders of the deal's territory on that date: the handler looks up the reporting lines (every
 * manager any of them ever had, up the chain) and the overlays registered on every territory the deal may belong
 * to (the one given, or each its owner ever covered); the decider picks the deal's territory, the chain and the
 * holders in force on the date.
 */

type LookedUp = 'knownPayeeIds' | 'reportingLines' | 'ownerTerritoryHistory' | 'territoryOverlays';
export type CloseDealWonInput = Omit<CloseDealWon, 'type' | LookedUp>;
export type AllocateCreditsInput = Omit<AllocateCredits, 'type' | LookedUp>;
export type AmendDealInput = Omit<AmendDeal, 'type'>;
export type CancelDealInput = Omit<CancelDeal, 'type'>;

export async function loadDeal(store: EventStore, dealId: string): Promise<DealState> {
  const events = await store.readStream(dealStreamId(dealId));
  return foldEvents(dealDecider, events as unknown as DealEvent[]);
}

/** The subset of the given payee ids that are onboarded; anything that is not a string is ignored (the decider rejects it). */
async function knownPayeesAmong(store: EventStore, candidates: readonly unknown[]): Promise<string[]> {
  const unique = [...new Set(candidates.filter((candidate): candidate is string => typeof candidate === 'string'))];
  const exists = await Promise.all(unique.map((payeeId) => payeeExists(store, payeeId)));
  return unique.filter((_, index) => exists[index]);
}

/** Past the cap the decider rejects the list anyway, so looking up more payees would be wasted reads. */
const payeeIdsOf = (splits: unknown): unknown[] =>
  Array.isArray(splits) ? splits.slice(0, MAX_PAYEES_PER_SPLIT_LIST + 1).map((split) => (split as { payeeId?: unknown } | null)?.payeeId) : [];

/** More payees than this in one deal's reporting lines is a data error; the walk stops there. */
const MAX_REPORTING_LINES = 256;

/**
 * The dated manager history of each primary payee and of every manager those histories name, up the chain, read
 * level by level. Returns the lines and the payees found onboarded along the way.
 */
async function reportingLinesOf(store: EventStore, primaryPayeeIds: readonly unknown[]): Promise<{ reportingLines: ReportingLines; found: string[] }> {
  const reportingLines: Record<string, ReportingLines[string]> = {};
  const visited = new Set<string>();
  let level = [...new Set(primaryPayeeIds.filter((payeeId): payeeId is string => typeof payeeId === 'string'))];
  while (level.length > 0 && visited.size < MAX_REPORTING_LINES) {
    level = level.slice(0, MAX_REPORTING_LINES - visited.size);
    for (const payeeId of level) visited.add(payeeId);
    const payees = await Promise.all(level.map((payeeId) => loadPayee(store, payeeId)));
    const next = new Set<string>();
    payees.forEach((payee, index) => {
      if (payee.status !== 'onboarded') return;
      reportingLines[level[index]] = payee.managerHistory;
      for (const entry of payee.managerHistory) if (entry.value !== null && !visited.has(entry.value)) next.add(entry.value);
    });
    level = [...next];
  }
  return { reportingLines, found: Object.keys(reportingLines) };
}

/**
 * Without overlays, the roll-up needs the primary payees' reporting lines and the territory overlays the overlays
 * registered on the deal's possible territories; with them, nothing more is read. Territory overlay holders were
 * onboarded when they were registered, and payees are never removed, so they count as known.
 */
async function lookUps(
  store: EventStore,
  candidates: readonly unknown[],
  primaryPayeeIds: readonly unknown[],
  overlays: unknown,
  territories: readonly string[],
): Promise<{ knownPayeeIds: string[]; reportingLines?: ReportingLines; territoryOverlays?: TerritoryOverlayLookup }> {
  if (overlays !== undefined) return { knownPayeeIds: await knownPayeesAmong(store, candidates) };
  const [known, lines, territoryOverlays] = await Promise.all([
    knownPayeesAmong(store, candidates),
    reportingLinesOf(store, primaryPayeeIds),
    territoryOverlaysOf(store, territories),
  ]);
  const holders = Object.values(territoryOverlays).flatMap((assignments) => assignments.map((assignment) => assignment.payeeId));
  return { knownPayeeIds: [...new Set([...known, ...lines.found, ...holders])], reportingLines: lines.reportingLines, territoryOverlays };
}

/** The owner's dated territory history; empty when the owner is not onboarded (the decider rejects the deal then). */
async function territoryHistoryOf(store: EventStore, payeeId: unknown): Promise<DatedValue<string>[]> {
  if (typeof payeeId !== 'string') return [];
  const payee = await loadPayee(store, payeeId);
  return payee.status === 'onboarded' ? payee.territoryHistory : [];
}

export async function closeDealWon(store: EventStore, input: CloseDealWonInput, context: CommandContext): Promise<CommandOutcome<DealState>> {
  const ownerTerritoryHistory = await territoryHistoryOf(store, input.ownerPayeeId);
  const territories = typeof input.territory === 'string' ? [input.territory] : ownerTerritoryHistory.map((entry) => entry.value);
  const command: CloseDealWon = {
    type: 'CloseDealWon',
    dealId: input.dealId,
    ownerPayeeId: input.ownerPayeeId,
    amount: input.amount,
    currency: input.currency,
    closeDate: input.closeDate,
    product: input.product,
    dealType: input.dealType,
    ...(input.measures !== undefined ? { measures: input.measures } : {}),
    ...(input.primarySplits !== undefined ? { primarySplits: input.primarySplits } : {}),
    ...(input.overlays !== undefined ? { overlays: input.overlays } : {}),
    ...(input.creditDate !== undefined ? { creditDate: input.creditDate } : {}),
    ...(input.territory !== undefined ? { territory: input.territory } : {}),
    ownerTerritoryHistory,
    ...(await lookUps(
      store,
      [input.ownerPayeeId, ...payeeIdsOf(input.primarySplits), ...payeeIdsOf(input.overlays)],
      input.primarySplits === undefined ? [input.ownerPayeeId] : payeeIdsOf(input.primarySplits),
      input.overlays,
      territories,
    )),
  };
  return handleCommand(store, dealStreamId(input.dealId), dealDecider, command, context);
}

export async function allocateCredits(store: EventStore, input: AllocateCreditsInput, context: CommandContext): Promise<CommandOutcome<DealState>> {
  // The deal's recorded territory decides whose territory overlays apply; a deal's territory never changes.
  const deal = input.overlays === undefined ? await loadDeal(store, input.dealId) : null;
  const territories = deal !== null && deal.status !== 'none' && deal.territory !== null ? [deal.territory] : [];
  const command: AllocateCredits = {
    type: 'AllocateCredits',
    dealId: input.dealId,
    primarySplits: input.primarySplits,
    ...(input.overlays !== undefined ? { overlays: input.overlays } : {}),
    ...(input.creditDate !== undefined ? { creditDate: input.creditDate } : {}),
    ...(await lookUps(store, [...payeeIdsOf(input.primarySplits), ...payeeIdsOf(input.overlays)], payeeIdsOf(input.primarySplits), input.overlays, territories)),
  };
  return handleCommand(store, dealStreamId(input.dealId), dealDecider, command, context);
}

export async function amendDeal(store: EventStore, input: AmendDealInput, context: CommandContext): Promise<CommandOutcome<DealState>> {
  const command: AmendDeal = {
    type: 'AmendDeal',
    dealId: input.dealId,
    reason: input.reason,
    ...(input.amount !== undefined ? { amount: input.amount } : {}),
    ...(input.measures !== undefined ? { measures: input.measures } : {}),
    ...(input.closeDate !== undefined ? { closeDate: input.closeDate } : {}),
    ...(input.product !== undefined ? { product: input.product } : {}),
  };
  return handleCommand(store, dealStreamId(input.dealId), dealDecider, command, context);
}

export async function cancelDeal(store: EventStore, input: CancelDealInput, context: CommandContext): Promise<CommandOutcome<DealState>> {
  const command: CancelDeal = { type: 'CancelDeal', dealId: input.dealId, cancelDate: input.cancelDate, reason: input.reason };
  return handleCommand(store, dealStreamId(input.dealId), dealDecider, command, context);
}
