import { validationError } from '#lib/shared/domain/domain-error.js';
import { formatMoney, roundToMinorUnit } from '#lib/shared/domain/money.js';
import type { DrawKind } from '#lib/payouts/domain/draw.js';
import { parseRoundedAmount } from '#lib/payouts/domain/statement-summary.js';
import type { AccountRef, AccountType } from './accounts.js';
import { transferEntries, type JournalEntry, type MovementInput } from './journal-entry.js';

/**
 * One posting function per money movement. Each returns balanced entries (none for a zero amount):
 *
 * | movement                   | debit                      | credit              |
 * | -------------------------- | -------------------------- | ------------------- |
 * | commission earned          | commission_expense         | commissions_payable |
 * | adjustment (+; - reverses) | commission_expense         | commissions_payable |
 * | clawback (negative line)   | commissions_payable        | commission_expense  |
 * | draw advance, recoverable  | draw_receivable            | commissions_payable |
 * | draw top-up, non-recover.  | commission_expense         | commissions_payable |
 * | draw recovery              | commissions_payable        | draw_receivable     |
 * | payout paid                | commissions_payable        | payroll_clearing    |
 * | commission capitalised     | contract_cost_asset        | commissions_payable |
 * | monthly amortisation       | contract_cost_amortization | contract_cost_asset |
 */

const account = (payeeId: string, type: AccountType): AccountRef => ({ payeeId, type });

function requireNotNegative(input: MovementInput, movement: string): void {
  if (parseRoundedAmount(input.amount, input.currency, 'amount', { allowNegative: true }).isNegative()) {
    throw validationError('LEDGER.AMOUNT_NEGATIVE', `A ${movement} amount cannot be negative`, [{ field: 'amount', message: 'must not be negative' }]);
  }
}

export function postEarnedCommission(input: MovementInput): JournalEntry[] {
  return transferEntries('commission_earned', input, account(input.payeeId, 'commission_expense'), account(input.payeeId, 'commissions_payable'));
}

export function postAdjustment(input: MovementInput): JournalEntry[] {
  return transferEntries('adjustment', input, account(input.payeeId, 'commission_expense'), account(input.payeeId, 'commissions_payable'));
}

/** Takes the clawback line as it stands on the statement: zero or negative. */
export function postClawback(input: MovementInput): JournalEntry[] {
  const amount = parseRoundedAmount(input.amount, input.currency, 'amount', { allowNegative: true });
  if (amount.isPositive() && !amount.isZero()) {
    throw validationError('LEDGER.CLAWBACK_NOT_NEGATIVE', 'A clawback line is negative', [{ field: 'amount', message: 'must be zero or negative' }]);
  }
  return transferEntries('clawback', input, account(input.payeeId, 'commission_expense'), account(input.payeeId, 'commissions_payable'));
}

/** A recoverable draw is an advance (a receivable); a non-recoverable one is compensation expense. */
export function postDrawAdvance(input: MovementInput & { drawKind: DrawKind }): JournalEntry[] {
  requireNotNegative(input, 'draw advance');
  const debitType: AccountType = input.drawKind === 'recoverable' ? 'draw_receivable' : 'commission_expense';
  return transferEntries('draw_advance', input, account(input.payeeId, debitType), account(input.payeeId, 'commissions_payable'));
}

export function postDrawRecovery(input: MovementInput): JournalEntry[] {
  requireNotNegative(input, 'draw recovery');
  return transferEntries('draw_recovery', input, account(input.payeeId, 'commissions_payable'), account(input.payeeId, 'draw_receivable'));
}

export function postPayoutPaid(input: MovementInput): JournalEntry[] {
  requireNotNegative(input, 'payout');
  return transferEntries('payout_paid', input, account(input.payeeId, 'commissions_payable'), account(input.payeeId, 'payroll_clearing'));
}

/** Capitalises a commission that obtained a contract (ASC 340-40) instead of expensing it now. */
export function postCapitalization(input: MovementInput): JournalEntry[] {
  requireNotNegative(input, 'capitalised commission');
  return transferEntries('commission_capitalized', input, account(input.payeeId, 'contract_cost_asset'), account(input.payeeId, 'commissions_payable'));
}

export interface AmortizationMonth {
  /** YYYY-MM */
  month: string;
  amount: string;
}

export interface CapitalizationInput {
  amount: string;
  currency: string;
  benefitPeriodMonths: number;
  /** First month of amortisation, YYYY-MM. */
  firstMonth: string;
}

function addMonthsToYearMonth(yearMonth: string, months: number): string {
  const [year, month] = yearMonth.split('-').map(Number);
  const index = year * 12 + (month - 1) + months;
  return `${String(Math.floor(index / 12)).padStart(4, '0')}-${String((index % 12) + 1).padStart(2, '0')}`;
}

/**
 * Straight-line amortisation over the benefit period. Month k releases round(total*k/n) - round(total*(k-1)/n),
 * so every month is within one minor unit of the others, none is negative, and the months add up to the total exactly.
 */
export function amortizationSchedule({ amount, currency, benefitPeriodMonths, firstMonth }: CapitalizationInput): AmortizationMonth[] {
  const total = parseRoundedAmount(amount, currency, 'amount');
  if (!Number.isSafeInteger(benefitPeriodMonths) || benefitPeriodMonths < 1) {
    throw validationError('LEDGER.BENEFIT_PERIOD_INVALID', 'The benefit period is a whole number of months, at least one', [
      { field: 'benefitPeriodMonths', message: 'must be a positive integer' },
    ]);
  }
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(firstMonth)) {
    throw validationError('VALIDATION.MONTH', 'firstMonth must be YYYY-MM', [{ field: 'firstMonth', message: 'must be YYYY-MM' }]);
  }
  const releasedBy = (months: number) => roundToMinorUnit(total.times(months).div(benefitPeriodMonths), currency);
  return Array.from({ length: benefitPeriodMonths }, (_, index) => ({
    month: addMonthsToYearMonth(firstMonth, index),
    amount: formatMoney(releasedBy(index + 1).minus(releasedBy(index)), currency),
  }));
}

export function postAmortization(input: MovementInput): JournalEntry[] {
  requireNotNegative(input, 'amortisation');
  return transferEntries('contract_cost_amortized', input, account(input.payeeId, 'contract_cost_amortization'), account(input.payeeId, 'contract_cost_asset'));
}

/** Every monthly amortisation entry of a capitalised commission, each dated the first day of its month. */
export function postAmortizationSchedule(input: CapitalizationInput & { payeeId: string; sourceId: string }): JournalEntry[] {
  return amortizationSchedule(input).flatMap(({ month, amount }) =>
    postAmortization({ payeeId: input.payeeId, currency: input.currency, amount, sourceId: `${input.sourceId}@${month}`, postedOn: `${month}-01` }),
  );
}
