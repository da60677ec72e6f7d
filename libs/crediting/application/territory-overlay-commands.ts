import type { EventStore } from '#lib/event-store/event-store.port.js';
import type { CommandContext } from '#lib/shared/application/command-context.js';
import { handleCommand, type CommandOutcome } from '#lib/shared/application/handle-command.js';
import { foldEvents } from '#lib/shared/domain/decider.js';
import { loadPayee } from '#lib/organization/application/payee-commands.js';
import {
  OVERLAY_PAYEE_NOT_FOUND,
  territoryOverlaysDecider,
  territoryOverlaysStreamId,
  type AssignTerritoryOverlay,
  type EndTerritoryOverlay,
  type TerritoryOverlayAssignment,
  type TerritoryOverlayEvent,
  type TerritoryOverlayLookup,
  type TerritoryOverlaysState,
} from '../domain/territory-overlays.decider.js';

/**
 * Registering payees as overlay holders of a territory, and reading who holds a territory's overlays. Each function
 * reads what the command refers to (the payee), hands it to the pure decider, and appends to
 * `territory-overlays-<territory>` with the expected revision. Rejections are DomainErrors with stable codes
 * (TERRITORY_OVERLAY.*, PAYEE.NOT_FOUND, VALIDATION.*, CREDIT.SHARE_OUT_OF_RANGE).
 *
 * A payee is never removed, so "the payee exists" cannot turn false between the lookup and the append.
 */

export type AssignTerritoryOverlayInput = Omit<AssignTerritoryOverlay, 'type' | 'payee' | 'effectiveUntil'> & { effectiveUntil?: string | null };
export type EndTerritoryOverlayInput = Omit<EndTerritoryOverlay, 'type'>;

export async function loadTerritoryOverlays(store: EventStore, territory: string): Promise<TerritoryOverlaysState> {
  const events = await store.readStream(territoryOverlaysStreamId(territory));
  return foldEvents(territoryOverlaysDecider, events as unknown as TerritoryOverlayEvent[]);
}

/** The overlays registered on each of these territories, for the deal decider's default overlays. */
export async function territoryOverlaysOf(store: EventStore, territories: readonly string[]): Promise<TerritoryOverlayLookup> {
  const unique = [...new Set(territories)];
  const states = await Promise.all(unique.map((territory) => loadTerritoryOverlays(store, territory)));
  return Object.fromEntries(unique.map((territory, index) => [territory, states[index]!.assignments]));
}

export async function assignTerritoryOverlay(
  store: EventStore,
  input: AssignTerritoryOverlayInput,
  context: CommandContext,
): Promise<CommandOutcome<TerritoryOverlaysState>> {
  const payee = await loadPayee(store, input.payeeId);
  const command: AssignTerritoryOverlay = {
    type: 'AssignTerritoryOverlay',
    territory: input.territory,
    payeeId: input.payeeId,
    role: input.role,
    ...(input.sharePercent !== undefined ? { sharePercent: input.sharePercent } : {}),
    effectiveFrom: input.effectiveFrom,
    effectiveUntil: input.effectiveUntil ?? null,
    payee: payee.status === 'onboarded' ? { found: true, startDate: payee.startDate } : OVERLAY_PAYEE_NOT_FOUND,
  };
  return handleCommand(store, territoryOverlaysStreamId(input.territory), territoryOverlaysDecider, command, context);
}

export async function endTerritoryOverlay(store: EventStore, input: EndTerritoryOverlayInput, context: CommandContext): Promise<CommandOutcome<TerritoryOverlaysState>> {
  const command: EndTerritoryOverlay = { type: 'EndTerritoryOverlay', territory: input.territory, assignmentId: input.assignmentId, effectiveUntil: input.effectiveUntil };
  return handleCommand(store, territoryOverlaysStreamId(input.territory), territoryOverlaysDecider, command, context);
}

export interface TerritoryOverlaysView {
  territory: string;
  /** Revision of the territory's overlay stream (-1 before the first overlay): its ETag, what If-Match expects. */
  revision: number;
  /** Ordered by payee, then effectiveFrom. */
  overlays: TerritoryOverlayAssignment[];
}

/** Who holds (or held, or will hold) a territory's overlays, folded from its own stream: no projection lag. */
export async function listTerritoryOverlays(store: EventStore, territory: string): Promise<TerritoryOverlaysView> {
  const events = await store.readStream(territoryOverlaysStreamId(territory));
  const state = foldEvents(territoryOverlaysDecider, events as unknown as TerritoryOverlayEvent[]);
  const overlays = [...state.assignments].sort((left, right) =>
    left.payeeId !== right.payeeId ? (left.payeeId < right.payeeId ? -1 : 1) : left.effectiveFrom < right.effectiveFrom ? -1 : left.effectiveFrom > right.effectiveFrom ? 1 : 0,
  );
  return { territory, revision: events.at(-1)?.revision ?? -1, overlays };
}
