import { validationError } from '#lib/shared/domain/domain-error.js';
import { formatMoney, Money } from '#lib/shared/domain/money.js';
import { parseRoundedAmount } from '#lib/payouts/domain/statement-summary.js';
import type { AccountRef, EntrySide } from './accounts.js';

/**
 * A journal entry: one money movement as balanced legs in one currency. Entries are only ever added; a correction
 * is a new entry (an adjustment, a clawback), never an edit. Leg amounts are positive decimal strings; the side
 * says which way they move.
 */
export const movementKinds = [
  'commission_earned',
  'adjustment',
  'clawback',
  'draw_advance',
  'draw_recovery',
  'payout_paid',
  'commission_capitalized',
  'contract_cost_amortized',
  'reversal',
] as const;
export type MovementKind = (typeof movementKinds)[number];

export interface JournalLeg {
  account: AccountRef;
  side: EntrySide;
  amount: string;
}

export interface JournalEntry {
  /** Derived from the movement and its source, so posting the same source twice gives the same id. */
  entryId: string;
  movement: MovementKind;
  payeeId: string;
  currency: string;
  /** Business date the entry belongs to (YYYY-MM-DD), supplied by the caller. */
  postedOn: string;
  /** What the entry comes from: a statement line id, a payout id, a capitalization id and month. */
  sourceId: string;
  legs: JournalLeg[];
}

export const entryIdFor = (movement: MovementKind, sourceId: string): string => `${movement}:${encodeURIComponent(sourceId)}`;

/** Debits equal credits exactly, in one currency, with positive rounded legs. A broken entry is a programming error. */
export function assertBalanced(entry: JournalEntry): void {
  if (entry.legs.length < 2) throw new Error(`Entry ${entry.entryId} has fewer than two legs`);
  let debits = new Money(0);
  let credits = new Money(0);
  for (const leg of entry.legs) {
    const amount = new Money(leg.amount);
    if (!amount.isPositive() || amount.isZero() || formatMoney(amount, entry.currency) !== leg.amount) {
      throw new Error(`Entry ${entry.entryId} has a leg of ${leg.amount}, not a positive ${entry.currency} amount`);
    }
    if (leg.side === 'debit') debits = debits.plus(amount);
    else credits = credits.plus(amount);
  }
  if (!debits.equals(credits)) throw new Error(`Entry ${entry.entryId} is unbalanced: debits ${debits.toFixed()} credits ${credits.toFixed()}`);
}

export interface MovementInput {
  payeeId: string;
  currency: string;
  /** Decimal string rounded to the currency's minor unit. */
  amount: string;
  sourceId: string;
  postedOn: string;
}

/**
 * One debit and one credit of the same amount. A negative amount swaps the sides (a downward adjustment reverses
 * the upward one); zero posts nothing.
 */
export function transferEntries(movement: MovementKind, input: MovementInput, debit: AccountRef, credit: AccountRef): JournalEntry[] {
  for (const [field, value] of [['payeeId', input.payeeId], ['sourceId', input.sourceId]] as const) {
    if (typeof value !== 'string' || value.trim() === '') throw validationError('VALIDATION.REQUIRED', `${field} is required`, [{ field, message: 'is required' }]);
  }
  if (typeof input.currency !== 'string' || !/^[A-Z]{3}$/.test(input.currency)) {
    throw validationError('VALIDATION.CURRENCY', 'currency must be an ISO 4217 code', [{ field: 'currency', message: 'must be three capital letters' }]);
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(input.postedOn)) {
    throw validationError('VALIDATION.DATE', 'postedOn must be YYYY-MM-DD', [{ field: 'postedOn', message: 'must be YYYY-MM-DD' }]);
  }
  const amount = parseRoundedAmount(input.amount, input.currency, 'amount', { allowNegative: true });
  if (amount.isZero()) return [];
  const [debitAccount, creditAccount] = amount.isNegative() ? [credit, debit] : [debit, credit];
  const magnitude = formatMoney(amount.abs(), input.currency);
  const entry: JournalEntry = {
    entryId: entryIdFor(movement, input.sourceId),
    movement,
    payeeId: input.payeeId,
    currency: input.currency,
    postedOn: input.postedOn,
    sourceId: input.sourceId,
    legs: [
      { account: debitAccount, side: 'debit', amount: magnitude },
      { account: creditAccount, side: 'credit', amount: magnitude },
    ],
  };
  assertBalanced(entry);
  return [entry];
}

/**
 * The entry that undoes another: the same legs with the sides swapped, dated like the original so that a trial
 * balance as of any date sees both or neither. `reference` names why (e.g. the reopen that voided an approval).
 */
export function reversalOf(entry: JournalEntry, reference: string): JournalEntry {
  const reversal: JournalEntry = {
    entryId: entryIdFor('reversal', `${entry.entryId}@${reference}`),
    movement: 'reversal',
    payeeId: entry.payeeId,
    currency: entry.currency,
    postedOn: entry.postedOn,
    sourceId: entry.entryId,
    legs: entry.legs.map((leg) => ({ ...leg, side: leg.side === 'debit' ? 'credit' : 'debit' })),
  };
  assertBalanced(reversal);
  return reversal;
}
