import { assertNever, type Decider, type DomainEvent } from '#lib/shared/domain/decider.js';
import { conflictError, notFoundError, validationError, type FieldMessage } from '#lib/shared/domain/domain-error.js';
import { Money } from '#lib/shared/domain/money.js';
import {
  requireAmount,
  requireCurrency,
  requireIdentifier,
  requireIsoDate,
  requireMeasure,
  requireText,
} from '#lib/organization/domain/field-rules.js';
import { valueOn, type DatedValue } from '#lib/organization/domain/payee.decider.js';
import { requireRole, requireShare } from './credit-rules.js';
import { rollUpOverlays, type ReportingLines } from './roll-up.js';
import { MAX_TERRITORY_LENGTH, territoryOverlaySplits, type TerritoryOverlayLookup } from './territory-overlays.decider.js';

/**
 * Glossary
 * - Deal: a sale won in the CRM. Its amount is in the deal currency; its measures say how much it counts
 *   for each thing a plan can measure (bookings, revenue, ...). Without measures it counts its amount as bookings.
 * - Credit: the part of a deal that counts for one payee. Primary credit is split among payees by shares that
 *   sum to exactly 100%; overlay credit (a manager, a specialist) comes on top and reduces nobody's share.
 * - Credit date: the date that decides which period a credit counts in; the close date unless given.
 * - Territory: the sales territory the deal belongs to: given when it closes, or else its owner's territory on
 *   the close date. Recorded with the deal; it does not move when the deal is amended.
 * - Roll-up: without an explicit overlay list, every manager above each primary payee on the credit date gets
 *   100% overlay credit as 'manager' (roll-up.ts), and every territory overlay holder in force on the credit date
 *   gets overlay credit with the role and share they hold it with (territory-overlays.decider.ts), once per payee:
 *   a payee already credited (primary, or as a manager) is not credited again. An explicit list, even an empty
 *   one, is used as given.
 * - Credit amount = measure amount x share / 100 at full precision. Nothing is rounded here: rounding happens
 *   once per statement line, later.
 *
 * Stream: `deal-<dealId>`. Every event that changes credits carries the deal's complete credit list before and
 * after it (a cancellation names the credits it reverses and leaves none), so a reader never re-derives amounts
 * and can apply the difference without remembering what it saw before.
 */

export const dealStreamId = (dealId: string): string => `deal-${dealId}`;
export const DEAL_STREAM_PREFIX = 'deal-';

export interface PrimarySplit {
  payeeId: string;
  /** Decimal string, more than 0 and at most 100. */
  sharePercent: string;
}

export interface OverlaySplit {
  payeeId: string;
  sharePercent: string;
  /** Why this payee gets overlay credit, e.g. 'manager' or 'specialist'. */
  role: string;
}

export interface Credit {
  /** `${dealId}:${payeeId}:primary` or `${dealId}:${payeeId}:overlay`: stable across amendments. */
  creditId: string;
  dealId: string;
  payeeId: string;
  kind: 'primary' | 'overlay';
  /** Overlay role; null for primary credit. */
  role: string | null;
  sharePercent: string;
  currency: string;
  creditDate: string;
  /** Credited amount per measure, full-precision decimal strings. */
  amounts: Record<string, string>;
}

/** The ids of payees that exist, as the handler found them; the decider cannot read payee streams. */
export type KnownPayees = readonly string[];

export type CloseDealWon = {
  type: 'CloseDealWon';
  dealId: string;
  ownerPayeeId: string;
  amount: string;
  currency: string;
  closeDate: string;
  product: string;
  dealType: string;
  /** Amount per measure; default { bookings: amount }. */
  measures?: Record<string, string>;
  /** Default: the owner gets 100% primary credit. */
  primarySplits?: PrimarySplit[];
  /**
   * Default: the roll-up of the primary payees' managers and the deal territory's overlay holders on the credit
   * date; [] for no overlay credit.
   */
  overlays?: OverlaySplit[];
  /** Default: the close date. */
  creditDate?: string;
  /** The sales territory the deal belongs to. Default: the owner's territory on the close date. */
  territory?: string;
  knownPayeeIds: KnownPayees;
  /** The owner's dated territory history, as the handler found it (the deal's territory when none is given). */
  ownerTerritoryHistory?: readonly DatedValue<string>[];
  /** The primary payees' reporting lines; required when overlays are not given (the roll-up reads them). */
  reportingLines?: ReportingLines;
  /** The overlays registered on the territories the deal may belong to; required when overlays are not given. */
  territoryOverlays?: TerritoryOverlayLookup;
};

export type AmendDeal = {
  type: 'AmendDeal';
  dealId: string;
  amount?: string;
  measures?: Record<string, string>;
  closeDate?: string;
  product?: string;
  reason: string;
};

export type CancelDeal = {
  type: 'CancelDeal';
  dealId: string;
  cancelDate: string;
  reason: string;
};

export type AllocateCredits = {
  type: 'AllocateCredits';
  dealId: string;
  primarySplits: PrimarySplit[];
  /**
   * Default: the roll-up of the primary payees' managers and the deal territory's overlay holders on the credit
   * date; [] for no overlay credit.
   */
  overlays?: OverlaySplit[];
  /** Default: the close date (and it then follows the close date when an amendment moves it). */
  creditDate?: string;
  knownPayeeIds: KnownPayees;
  /** The primary payees' reporting lines; required when overlays are not given (the roll-up reads them). */
  reportingLines?: ReportingLines;
  /** The overlays registered on the deal's territory; required when overlays are not given. */
  territoryOverlays?: TerritoryOverlayLookup;
};

export type DealCommand = CloseDealWon | AmendDeal | CancelDeal | AllocateCredits;

export type DealClosedWon = DomainEvent<
  'DealClosedWon',
  {
    dealId: string;
    ownerPayeeId: string;
    amount: string;
    currency: string;
    closeDate: string;
    product: string;
    dealType: string;
    measures: Record<string, string>;
    /** False when measures were derived from the amount, so that an amended amount carries them along. */
    measuresGiven: boolean;
    /**
     * The sales territory the deal belongs to (given, or the owner's on the close date); null when neither was
     * known. Absent from deals recorded before territories were recorded: read as null.
     */
    territory?: string | null;
  }
>;

export type CreditsAllocated = DomainEvent<
  'CreditsAllocated',
  {
    dealId: string;
    primarySplits: PrimarySplit[];
    overlays: OverlaySplit[];
    creditDate: string;
    /** False when the credit date is the close date by default, so that it follows an amended close date. */
    creditDateGiven: boolean;
    credits: Credit[];
    /** The credits this allocation replaces (none when the deal has just closed). */
    previousCredits: Credit[];
  }
>;

export type DealAmended = DomainEvent<
  'DealAmended',
  {
    dealId: string;
    amount: string;
    measures: Record<string, string>;
    measuresGiven: boolean;
    closeDate: string;
    product: string;
    reason: string;
    previous: { amount: string; measures: Record<string, string>; closeDate: string; product: string };
    /** Credits re-derived from the unchanged shares. */
    credits: Credit[];
    previousCredits: Credit[];
  }
>;

export type DealCancelled = DomainEvent<
  'DealCancelled',
  {
    dealId: string;
    cancelDate: string;
    reason: string;
    /** Every credit the deal had, now reversed: the deal has no credits after this. */
    reversedCredits: Credit[];
  }
>;

export type DealEvent = DealClosedWon | CreditsAllocated | DealAmended | DealCancelled;

export const DEAL_EVENT_TYPES: readonly DealEvent['type'][] = ['DealClosedWon', 'CreditsAllocated', 'DealAmended', 'DealCancelled'];

export interface CreditAllocation {
  primarySplits: PrimarySplit[];
  overlays: OverlaySplit[];
  creditDate: string;
  creditDateGiven: boolean;
}

export interface DealFacts {
  dealId: string;
  ownerPayeeId: string;
  amount: string;
  currency: string;
  closeDate: string;
  product: string;
  dealType: string;
  measures: Record<string, string>;
  measuresGiven: boolean;
  territory: string | null;
}

export type DealState =
  | { status: 'none' }
  | (DealFacts & {
      status: 'won' | 'cancelled';
      /** Set by the CreditsAllocated that always follows DealClosedWon in the same append. */
      allocation: CreditAllocation | null;
      credits: Credit[];
      cancelDate: string | null;
    });

export type ExistingDeal = Exclude<DealState, { status: 'none' }>;

const ONE_HUNDRED = new Money(100);

/** Credit amount per measure = measure amount x share / 100, exact (no rounding). */
export function deriveCredits(deal: Pick<DealFacts, 'dealId' | 'currency' | 'measures'>, allocation: CreditAllocation): Credit[] {
  const credit = (payeeId: string, kind: Credit['kind'], role: string | null, sharePercent: string): Credit => {
    const share = new Money(sharePercent);
    const amounts: Record<string, string> = {};
    for (const [measure, value] of Object.entries(deal.measures)) amounts[measure] = new Money(value).times(share).div(ONE_HUNDRED).toFixed();
    return {
      creditId: `${deal.dealId}:${payeeId}:${kind}`,
      dealId: deal.dealId,
      payeeId,
      kind,
      role,
      sharePercent,
      currency: deal.currency,
      creditDate: allocation.creditDate,
      amounts,
    };
  };
  return [
    ...allocation.primarySplits.map((split) => credit(split.payeeId, 'primary', null, split.sharePercent)),
    ...allocation.overlays.map((overlay) => credit(overlay.payeeId, 'overlay', overlay.role, overlay.sharePercent)),
  ];
}

function requireMeasures(value: unknown, field: string): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.keys(value).length === 0) {
    throw validationError('DEAL.NO_MEASURES', `${field} must name at least one measure and its amount`, [
      { field, message: 'must be an object such as { "bookings": "1000.00" }' },
    ]);
  }
  const measures: Record<string, string> = {};
  for (const [measure, amount] of Object.entries(value as Record<string, unknown>)) {
    requireMeasure(measure, `${field}.${measure}`);
    requireAmount(amount, `${field}.${measure}`);
    measures[measure] = amount as string;
  }
  return measures;
}

/** More payees than this on one deal is a data error, not a sales team. */
export const MAX_PAYEES_PER_SPLIT_LIST = 100;

function requireList(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw validationError('VALIDATION.LIST', `${field} must be a list`, [{ field, message: 'must be a list' }]);
  if (value.length > MAX_PAYEES_PER_SPLIT_LIST) {
    throw validationError('CREDIT.TOO_MANY_PAYEES', `${field} has ${value.length} entries; at most ${MAX_PAYEES_PER_SPLIT_LIST} are allowed`, [
      { field, message: `must have at most ${MAX_PAYEES_PER_SPLIT_LIST} entries` },
    ]);
  }
  return value;
}

function rejectDuplicatePayees(payeeIds: readonly string[], field: string): void {
  const seen = new Set<string>();
  payeeIds.forEach((payeeId, index) => {
    if (seen.has(payeeId)) {
      throw validationError('CREDIT.DUPLICATE_PAYEE', `Payee ${payeeId} appears more than once in ${field}`, [
        { field: `${field}[${index}].payeeId`, message: 'appears more than once' },
      ]);
    }
    seen.add(payeeId);
  });
}

/**
 * Validates splits and overlays and returns the allocation they make. Without overlays (undefined, not []), the
 * overlays are the roll-up of the primary payees' managers on the credit date.
 */
function buildAllocation(
  primarySplitsInput: unknown,
  overlaysInput: unknown,
  creditDateInput: string | undefined,
  closeDate: string,
  territory: string | null,
  lookUps: Pick<CloseDealWon, 'knownPayeeIds' | 'reportingLines' | 'territoryOverlays'>,
): CreditAllocation {
  const primarySplits = requireList(primarySplitsInput, 'primarySplits').map((split, index) => {
    const field = `primarySplits[${index}]`;
    const { payeeId, sharePercent } = (split ?? {}) as Partial<PrimarySplit>;
    requireIdentifier(payeeId, `${field}.payeeId`);
    requireShare(sharePercent, `${field}.sharePercent`);
    return { payeeId: payeeId as string, sharePercent: sharePercent as string };
  });
  const explicitOverlays = overlaysInput === undefined ? null : requireList(overlaysInput, 'overlays').map((overlay, index) => {
    const field = `overlays[${index}]`;
    const { payeeId, sharePercent, role } = (overlay ?? {}) as Partial<OverlaySplit>;
    requireIdentifier(payeeId, `${field}.payeeId`);
    requireShare(sharePercent, `${field}.sharePercent`);
    requireRole(role, `${field}.role`);
    return { payeeId: payeeId as string, sharePercent: sharePercent as string, role: role as string };
  });
  rejectDuplicatePayees(primarySplits.map((split) => split.payeeId), 'primarySplits');
  if (explicitOverlays !== null) rejectDuplicatePayees(explicitOverlays.map((overlay) => overlay.payeeId), 'overlays');

  const total = primarySplits.reduce((sum, split) => sum.plus(split.sharePercent), new Money(0));
  if (!total.equals(ONE_HUNDRED)) {
    throw validationError('CREDIT.SHARES_NOT_100', `Primary shares sum to ${total.toFixed()}%, not 100%`, [
      { field: 'primarySplits', message: `shares must sum to exactly 100, they sum to ${total.toFixed()}` },
    ]);
  }

  const creditDateGiven = creditDateInput !== undefined;
  const creditDate = creditDateGiven ? requireIsoDate(creditDateInput, 'creditDate') : closeDate;
  let overlays = explicitOverlays;
  if (overlays === null) {
    const { reportingLines, territoryOverlays } = lookUps;
    if (reportingLines === undefined) throw new Error('Overlays were not given and no reporting lines were looked up for the roll-up');
    const primaryPayeeIds = primarySplits.map((split) => split.payeeId);
    overlays = rollUpOverlays(primaryPayeeIds, creditDate, reportingLines);
    if (territory !== null) {
      const registered = territoryOverlays?.[territory];
      if (registered === undefined) throw new Error(`Overlays were not given and the overlays of territory ${territory} were not looked up`);
      overlays.push(...territoryOverlaySplits(registered, creditDate, [...primaryPayeeIds, ...overlays.map((overlay) => overlay.payeeId)]));
    }
  }

  const known = new Set(lookUps.knownPayeeIds);
  const unknown: FieldMessage[] = [
    ...primarySplits.map((split, index) => ({ payeeId: split.payeeId, field: `primarySplits[${index}].payeeId` })),
    ...overlays.map((overlay, index) => ({ payeeId: overlay.payeeId, field: `overlays[${index}].payeeId` })),
  ]
    .filter(({ payeeId }) => !known.has(payeeId))
    .map(({ payeeId, field }) => ({ field, message: `payee ${payeeId} is not onboarded` }));
  if (unknown.length > 0) throw unknownPayeeError(unknown);
  return { primarySplits, overlays, creditDate, creditDateGiven };
}

function unknownPayeeError(fields: FieldMessage[]) {
  const error = notFoundError('CREDIT.UNKNOWN_PAYEE', `Credit goes to payees that are not onboarded: ${fields.map((f) => f.message).join('; ')}`);
  error.fields.push(...fields);
  return error;
}

function requireExisting(state: DealState, dealId: string): ExistingDeal {
  if (state.status === 'none') throw notFoundError('DEAL.NOT_FOUND', `Deal ${dealId} has not been closed won`);
  return state;
}

function requireNotCancelled(deal: ExistingDeal): ExistingDeal {
  if (deal.status === 'cancelled') throw conflictError('DEAL.CANCELLED', `Deal ${deal.dealId} was cancelled on ${deal.cancelDate}`);
  return deal;
}

function requireAllocation(deal: ExistingDeal): CreditAllocation {
  if (deal.allocation === null) throw new Error(`Deal ${deal.dealId} has no credit allocation: its stream is corrupt`);
  return deal.allocation;
}

const sameJson = (left: unknown, right: unknown): boolean => JSON.stringify(left) === JSON.stringify(right);

function decide(command: DealCommand, state: DealState): DealEvent[] {
  switch (command.type) {
    case 'CloseDealWon': {
      const dealId = requireIdentifier(command.dealId, 'dealId');
      if (state.status === 'won') throw conflictError('DEAL.ALREADY_CLOSED', `Deal ${dealId} is already closed won`);
      if (state.status === 'cancelled') throw conflictError('DEAL.CANCELLED', `Deal ${dealId} was closed and then cancelled`);
      const ownerPayeeId = requireIdentifier(command.ownerPayeeId, 'ownerPayeeId');
      requireAmount(command.amount, 'amount');
      const currency = requireCurrency(command.currency, 'currency');
      const closeDate = requireIsoDate(command.closeDate, 'closeDate');
      const product = requireText(command.product, 'product');
      const dealType = requireText(command.dealType, 'dealType', 50);
      const measuresGiven = command.measures !== undefined;
      const measures = measuresGiven ? requireMeasures(command.measures, 'measures') : { bookings: command.amount };
      if (!command.knownPayeeIds.includes(ownerPayeeId)) {
        throw unknownPayeeError([{ field: 'ownerPayeeId', message: `payee ${ownerPayeeId} is not onboarded` }]);
      }
      const territory =
        command.territory !== undefined
          ? requireText(command.territory, 'territory', MAX_TERRITORY_LENGTH)
          : command.ownerTerritoryHistory !== undefined && command.ownerTerritoryHistory.length > 0
            ? valueOn(command.ownerTerritoryHistory, closeDate)
            : null;
      const allocation = buildAllocation(
        command.primarySplits ?? [{ payeeId: ownerPayeeId, sharePercent: '100' }],
        command.overlays,
        command.creditDate,
        closeDate,
        territory,
        command,
      );
      const facts: DealFacts = { dealId, ownerPayeeId, amount: command.amount, currency, closeDate, product, dealType, measures, measuresGiven, territory };
      return [
        { type: 'DealClosedWon', data: facts },
        { type: 'CreditsAllocated', data: { dealId, ...allocation, credits: deriveCredits(facts, allocation), previousCredits: [] } },
      ];
    }
    case 'AllocateCredits': {
      const deal = requireNotCancelled(requireExisting(state, command.dealId));
      const allocation = buildAllocation(command.primarySplits, command.overlays, command.creditDate, deal.closeDate, deal.territory, command);
      const credits = deriveCredits(deal, allocation);
      if (sameJson(credits, deal.credits) && sameJson(allocation, deal.allocation)) return [];
      return [{ type: 'CreditsAllocated', data: { dealId: deal.dealId, ...allocation, credits, previousCredits: deal.credits } }];
    }
    case 'AmendDeal': {
      const deal = requireNotCancelled(requireExisting(state, command.dealId));
      const reason = requireText(command.reason, 'reason', 500);
      if (command.amount !== undefined) requireAmount(command.amount, 'amount');
      const amount = command.amount ?? deal.amount;
      const closeDate = command.closeDate === undefined ? deal.closeDate : requireIsoDate(command.closeDate, 'closeDate');
      const product = command.product === undefined ? deal.product : requireText(command.product, 'product');
      let measures: Record<string, string>;
      let measuresGiven = deal.measuresGiven;
      if (command.measures !== undefined) {
        measures = requireMeasures(command.measures, 'measures');
        measuresGiven = true;
      } else if (!deal.measuresGiven) {
        measures = { bookings: amount };
      } else if (command.amount !== undefined && !new Money(command.amount).equals(deal.amount)) {
        // The measures were stated apart from the amount; which of them the new amount changes is not ours to guess.
        throw validationError('DEAL.MEASURES_REQUIRED', `Deal ${deal.dealId} has its own measures: state them with the new amount`, [
          { field: 'measures', message: 'required when the amount of a deal with its own measures changes' },
        ]);
      } else {
        measures = deal.measures;
      }
      const unchanged =
        new Money(amount).equals(deal.amount) &&
        closeDate === deal.closeDate &&
        product === deal.product &&
        measuresGiven === deal.measuresGiven &&
        Object.keys(measures).length === Object.keys(deal.measures).length &&
        Object.entries(measures).every(([measure, value]) => deal.measures[measure] !== undefined && new Money(value).equals(deal.measures[measure]));
      if (unchanged) return [];
      const previousAllocation = requireAllocation(deal);
      const allocation = previousAllocation.creditDateGiven ? previousAllocation : { ...previousAllocation, creditDate: closeDate };
      return [
        {
          type: 'DealAmended',
          data: {
            dealId: deal.dealId,
            amount,
            measures,
            measuresGiven,
            closeDate,
            product,
            reason,
            previous: { amount: deal.amount, measures: deal.measures, closeDate: deal.closeDate, product: deal.product },
            credits: deriveCredits({ dealId: deal.dealId, currency: deal.currency, measures }, allocation),
            previousCredits: deal.credits,
          },
        },
      ];
    }
    case 'CancelDeal': {
      const deal = requireNotCancelled(requireExisting(state, command.dealId));
      const cancelDate = requireIsoDate(command.cancelDate, 'cancelDate');
      const reason = requireText(command.reason, 'reason', 500);
      if (cancelDate < deal.closeDate) {
        throw validationError('DEAL.CANCEL_BEFORE_CLOSE', `A deal closed on ${deal.closeDate} cannot be cancelled on ${cancelDate}`, [
          { field: 'cancelDate', message: `must be on or after the close date ${deal.closeDate}` },
        ]);
      }
      return [
        { type: 'DealCancelled', data: { dealId: deal.dealId, cancelDate, reason, reversedCredits: deal.credits } },
      ];
    }
    default:
      return assertNever(command);
  }
}

function evolve(state: DealState, event: DealEvent): DealState {
  if (event.type !== 'DealClosedWon' && state.status === 'none') {
    throw new Error(`${event.type} recorded for deal ${event.data.dealId}, which was never closed won`);
  }
  const deal = state as ExistingDeal;
  switch (event.type) {
    case 'DealClosedWon':
      return { status: 'won', ...event.data, territory: event.data.territory ?? null, allocation: null, credits: [], cancelDate: null };
    case 'CreditsAllocated': {
      const { primarySplits, overlays, creditDate, creditDateGiven, credits } = event.data;
      return { ...deal, allocation: { primarySplits, overlays, creditDate, creditDateGiven }, credits };
    }
    case 'DealAmended': {
      const { amount, measures, measuresGiven, closeDate, product, credits } = event.data;
      const allocation = requireAllocation(deal);
      return {
        ...deal,
        amount,
        measures,
        measuresGiven,
        closeDate,
        product,
        allocation: allocation.creditDateGiven ? allocation : { ...allocation, creditDate: closeDate },
        credits,
      };
    }
    case 'DealCancelled':
      return { ...deal, status: 'cancelled', cancelDate: event.data.cancelDate, credits: [] };
    default:
      return assertNever(event);
  }
}

export const dealDecider: Decider<DealCommand, DealEvent, DealState> = {
  decide,
  evolve,
  initialState: () => ({ status: 'none' }),
};
