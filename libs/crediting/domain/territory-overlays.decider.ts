import { assertNever, type Decider, type DomainEvent } from '#lib/shared/domain/decider.js';
import { conflictError, notFoundError, validationError } from '#lib/shared/domain/domain-error.js';
import { requireIdentifier, requireIsoDate, requireText } from '#lib/organization/domain/field-rules.js';
import { requireRole, requireShare } from './credit-rules.js';
import type { OverlaySplit } from './deal.decider.js';

/**
 * Glossary
 * - Territory: the sales territory a deal belongs to (given when it closes, or its owner's territory on the close
 *   date) and a payee covers (organization's payee territory).
 * - Territory overlay: a payee who is not on the deal team but earns overlay credit on every deal of a territory
 *   (an overlay specialist, a territory manager), with a role and a share, from `effectiveFrom` (inclusive) until
 *   `effectiveUntil` (exclusive; null while open). A deal credited without an explicit overlay list gives overlay
 *   credit to the holders in force on its credit date, next to the manager roll-up (see territory-overlays.ts).
 * - One payee holds a territory's overlay at most once on any date: their ranges on one territory never overlap.
 *
 * Stream: `territory-overlays-<territory>`, one per territory, so the no-overlap rule is checked under one expected
 * revision. Assignment ids are `<payeeId>@<effectiveFrom>`: the same request sent twice names the same assignment
 * (recorded once). Ending an assignment sets (or moves) its `effectiveUntil`; nothing is deleted.
 */

export const territoryOverlaysStreamId = (territory: string): string => `territory-overlays-${territory}`;
export const TERRITORY_OVERLAYS_STREAM_PREFIX = 'territory-overlays-';
export const territoryOverlayIdOf = (payeeId: string, effectiveFrom: string): string => `${payeeId}@${effectiveFrom}`;

/** A territory is the same free text as a payee's territory. */
export const MAX_TERRITORY_LENGTH = 100;

/** What the handler found in the payee's stream; the decider cannot read other streams. */
export interface OverlayPayeeLookup {
  found: boolean;
  /** The payee's start date; null when not found. */
  startDate: string | null;
}

export const OVERLAY_PAYEE_NOT_FOUND: OverlayPayeeLookup = { found: false, startDate: null };

export type AssignTerritoryOverlay = {
  type: 'AssignTerritoryOverlay';
  territory: string;
  payeeId: string;
  /** Why the payee is credited, e.g. 'overlay_specialist' or 'territory_manager'. */
  role: string;
  /** Percent of each deal credited; default 100. */
  sharePercent?: string;
  effectiveFrom: string;
  effectiveUntil: string | null;
  payee: OverlayPayeeLookup;
};

export type EndTerritoryOverlay = {
  type: 'EndTerritoryOverlay';
  territory: string;
  assignmentId: string;
  effectiveUntil: string;
};

export type TerritoryOverlayCommand = AssignTerritoryOverlay | EndTerritoryOverlay;

export interface TerritoryOverlayAssignment {
  assignmentId: string;
  territory: string;
  payeeId: string;
  role: string;
  sharePercent: string;
  effectiveFrom: string;
  effectiveUntil: string | null;
}

export type TerritoryOverlayAssigned = DomainEvent<'TerritoryOverlayAssigned', TerritoryOverlayAssignment>;
export type TerritoryOverlayEnded = DomainEvent<'TerritoryOverlayEnded', { territory: string; assignmentId: string; payeeId: string; effectiveUntil: string }>;

export type TerritoryOverlayEvent = TerritoryOverlayAssigned | TerritoryOverlayEnded;

export const TERRITORY_OVERLAY_EVENT_TYPES: readonly TerritoryOverlayEvent['type'][] = ['TerritoryOverlayAssigned', 'TerritoryOverlayEnded'];

export interface TerritoryOverlaysState {
  /** In the order they were assigned. */
  assignments: TerritoryOverlayAssignment[];
}

const untilText = (date: string | null): string => date ?? 'open-ended';

function requireRange(effectiveFrom: string, effectiveUntil: string | null): void {
  if (effectiveUntil !== null && effectiveUntil <= effectiveFrom) {
    throw validationError('TERRITORY_OVERLAY.RANGE_EMPTY', `An overlay from ${effectiveFrom} must end after it starts, not on ${effectiveUntil}`, [
      { field: 'effectiveUntil', message: `must be after effectiveFrom ${effectiveFrom} (it is exclusive)` },
    ]);
  }
}

/** Two ranges `[from, until)` share a day; null is open-ended. Dates 'YYYY-MM-DD' compare as strings. */
const overlaps = (left: Pick<TerritoryOverlayAssignment, 'effectiveFrom' | 'effectiveUntil'>, right: Pick<TerritoryOverlayAssignment, 'effectiveFrom' | 'effectiveUntil'>): boolean =>
  (right.effectiveUntil === null || left.effectiveFrom < right.effectiveUntil) && (left.effectiveUntil === null || right.effectiveFrom < left.effectiveUntil);

function rejectOverlap(state: TerritoryOverlaysState, candidate: TerritoryOverlayAssignment): void {
  const other = state.assignments.find(
    (existing) => existing.assignmentId !== candidate.assignmentId && existing.payeeId === candidate.payeeId && overlaps(existing, candidate),
  );
  if (other === undefined) return;
  throw conflictError(
    'TERRITORY_OVERLAY.OVERLAPS',
    `${candidate.payeeId} from ${candidate.effectiveFrom} until ${untilText(candidate.effectiveUntil)} overlaps their overlay ${other.assignmentId} on ` +
      `${candidate.territory} (${other.effectiveFrom} until ${untilText(other.effectiveUntil)}); a payee holds a territory's overlay once at a time: end the other first`,
  );
}

function decide(command: TerritoryOverlayCommand, state: TerritoryOverlaysState): TerritoryOverlayEvent[] {
  switch (command.type) {
    case 'AssignTerritoryOverlay': {
      const territory = requireText(command.territory, 'territory', MAX_TERRITORY_LENGTH);
      const payeeId = requireIdentifier(command.payeeId, 'payeeId');
      const role = requireRole(command.role, 'role');
      const sharePercent = command.sharePercent ?? '100';
      requireShare(sharePercent, 'sharePercent');
      const effectiveFrom = requireIsoDate(command.effectiveFrom, 'effectiveFrom');
      const effectiveUntil = command.effectiveUntil === null ? null : requireIsoDate(command.effectiveUntil, 'effectiveUntil');
      requireRange(effectiveFrom, effectiveUntil);
      if (!command.payee.found) throw notFoundError('PAYEE.NOT_FOUND', `Payee ${payeeId} is not onboarded`);
      if (command.payee.startDate !== null && effectiveFrom < command.payee.startDate) {
        throw validationError('TERRITORY_OVERLAY.BEFORE_PAYEE_START', `Payee ${payeeId} starts on ${command.payee.startDate}`, [
          { field: 'effectiveFrom', message: `must be on or after the payee's start date ${command.payee.startDate}` },
        ]);
      }
      const assignment: TerritoryOverlayAssignment = {
        assignmentId: territoryOverlayIdOf(payeeId, effectiveFrom),
        territory,
        payeeId,
        role,
        sharePercent,
        effectiveFrom,
        effectiveUntil,
      };
      const existing = state.assignments.find((candidate) => candidate.assignmentId === assignment.assignmentId);
      if (existing !== undefined) {
        // The same request again records nothing; another role, share or end for it is a different request.
        if (existing.role === role && existing.sharePercent === sharePercent && existing.effectiveUntil === effectiveUntil) return [];
        throw conflictError(
          'TERRITORY_OVERLAY.OVERLAPS',
          `${payeeId} already holds the overlay on ${territory} from ${effectiveFrom} (${assignment.assignmentId}) as ${existing.role} at ${existing.sharePercent}%; ` +
            'end that overlay to change its end date, or start a new one after it',
        );
      }
      rejectOverlap(state, assignment);
      return [{ type: 'TerritoryOverlayAssigned', data: assignment }];
    }
    case 'EndTerritoryOverlay': {
      const assignment = state.assignments.find((candidate) => candidate.assignmentId === command.assignmentId);
      if (assignment === undefined) {
        throw notFoundError('TERRITORY_OVERLAY.NOT_FOUND', `Territory ${command.territory} has no overlay ${command.assignmentId}`);
      }
      const effectiveUntil = requireIsoDate(command.effectiveUntil, 'effectiveUntil');
      requireRange(assignment.effectiveFrom, effectiveUntil);
      if (assignment.effectiveUntil === effectiveUntil) return [];
      // Moving the end later can run into the payee's next overlay on the territory.
      rejectOverlap(state, { ...assignment, effectiveUntil });
      const { territory, assignmentId, payeeId } = assignment;
      return [{ type: 'TerritoryOverlayEnded', data: { territory, assignmentId, payeeId, effectiveUntil } }];
    }
    default:
      return assertNever(command);
  }
}

function evolve(state: TerritoryOverlaysState, event: TerritoryOverlayEvent): TerritoryOverlaysState {
  switch (event.type) {
    case 'TerritoryOverlayAssigned':
      return { assignments: [...state.assignments.filter((assignment) => assignment.assignmentId !== event.data.assignmentId), { ...event.data }] };
    case 'TerritoryOverlayEnded': {
      const { assignmentId, effectiveUntil } = event.data;
      if (!state.assignments.some((assignment) => assignment.assignmentId === assignmentId)) {
        throw new Error(`TerritoryOverlayEnded recorded for overlay ${assignmentId}, which was never assigned`);
      }
      return { assignments: state.assignments.map((assignment) => (assignment.assignmentId === assignmentId ? { ...assignment, effectiveUntil } : assignment)) };
    }
    default:
      return assertNever(event);
  }
}

export const territoryOverlaysDecider: Decider<TerritoryOverlayCommand, TerritoryOverlayEvent, TerritoryOverlaysState> = {
  decide,
  evolve,
  initialState: () => ({ assignments: [] }),
};

/** The overlays of a territory in force on a date, in the order they were assigned. */
export const overlaysInForce = (assignments: readonly TerritoryOverlayAssignment[], date: string): TerritoryOverlayAssignment[] =>
  assignments.filter((assignment) => assignment.effectiveFrom <= date && (assignment.effectiveUntil === null || date < assignment.effectiveUntil));

/** The overlays registered on each territory a deal may belong to, as the handler found them (the decider cannot read them). */
export type TerritoryOverlayLookup = Readonly<Record<string, readonly TerritoryOverlayAssignment[]>>;

/**
 * The overlay credit a territory's holders get on a deal credited on `creditDate`: each holder in force that day, with
 * the role and share they hold it with, in the order they were assigned, except payees the deal already credits
 * (primary payees, managers of the roll-up): nobody is credited twice on one deal.
 */
export function territoryOverlaySplits(assignments: readonly TerritoryOverlayAssignment[], creditDate: string, alreadyCredited: readonly string[]): OverlaySplit[] {
  const credited = new Set(alreadyCredited);
  const splits: OverlaySplit[] = [];
  for (const holder of overlaysInForce(assignments, creditDate)) {
    if (credited.has(holder.payeeId)) continue;
    credited.add(holder.payeeId);
    splits.push({ payeeId: holder.payeeId, sharePercent: holder.sharePercent, role: holder.role });
  }
  return splits;
}
