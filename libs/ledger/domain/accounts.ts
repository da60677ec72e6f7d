/**
 * The chart of accounts, one set per payee (account = payee + type).
 *
 * Glossary for a finance reader:
 * - commission_expense (expense, debit-normal): commission recognised as cost in the period it is earned.
 * - commissions_payable (liability, credit-normal): what the company owes the payee and has not yet handed to
 *   payroll. A debit balance means the payee owes money back (clawbacks larger than later earnings).
 * - draw_receivable (asset, debit-normal): recoverable draws advanced and not yet recovered from earnings.
 * - payroll_clearing (liability, credit-normal): payouts confirmed as paid and awaiting settlement by payroll.
 * - contract_cost_asset (asset, debit-normal): incremental costs of obtaining a contract capitalised under
 *   ASC 340-40, e.g. commission on a multi-year contract.
 * - contract_cost_amortization (expense, debit-normal): the capitalised cost released to expense month by month
 *   over the benefit period.
 */
export const accountTypes = [
  'commission_expense',
  'commissions_payable',
  'draw_receivable',
  'payroll_clearing',
  'contract_cost_asset',
  'contract_cost_amortization',
] as const;
export type AccountType = (typeof accountTypes)[number];

export type EntrySide = 'debit' | 'credit';

export const normalSideOf: Readonly<Record<AccountType, EntrySide>> = {
  commission_expense: 'debit',
  commissions_payable: 'credit',
  draw_receivable: 'debit',
  payroll_clearing: 'credit',
  contract_cost_asset: 'debit',
  contract_cost_amortization: 'debit',
};

export interface AccountRef {
  payeeId: string;
  type: AccountType;
}

export const accountKeyOf = ({ payeeId, type }: AccountRef): string => `${type}:${encodeURIComponent(payeeId)}`;
