import { formatMoney, Money } from '#lib/shared/domain/money.js';
import { accountKeyOf, normalSideOf, type AccountRef } from './accounts.js';
import { assertBalanced, type JournalEntry } from './journal-entry.js';

/**
 * The trial balance as a fold over journal entries: debits and credits per account and currency. Because every
 * entry is balanced, the debits and credits of each currency always net to zero; the report says so explicitly.
 */
export interface AccountTotals {
  account: AccountRef;
  currency: string;
  debits: string;
  credits: string;
}

export interface TrialBalance {
  /** Keyed by currency and account key. */
  totalsByKey: Readonly<Record<string, AccountTotals>>;
  entryCount: number;
}

export const emptyTrialBalance = (): TrialBalance => ({ totalsByKey: {}, entryCount: 0 });

const totalsKeyOf = (account: AccountRef, currency: string): string => `${currency}|${accountKeyOf(account)}`;

export function applyEntry(trialBalance: TrialBalance, entry: JournalEntry): TrialBalance {
  assertBalanced(entry);
  const totalsByKey = { ...trialBalance.totalsByKey };
  for (const leg of entry.legs) {
    const key = totalsKeyOf(leg.account, entry.currency);
    const totals = totalsByKey[key] ?? { account: leg.account, currency: entry.currency, debits: '0', credits: '0' };
    totalsByKey[key] =
      leg.side === 'debit'
        ? { ...totals, debits: new Money(totals.debits).plus(leg.amount).toFixed() }
        : { ...totals, credits: new Money(totals.credits).plus(leg.amount).toFixed() };
  }
  return { totalsByKey, entryCount: trialBalance.entryCount + 1 };
}

export const trialBalanceOf = (entries: readonly JournalEntry[]): TrialBalance => entries.reduce(applyEntry, emptyTrialBalance());

/** Balance on the account's normal side: positive for an asset or expense with more debits, a liability with more credits. */
export function balanceOf(trialBalance: TrialBalance, account: AccountRef, currency: string): string {
  const totals = trialBalance.totalsByKey[totalsKeyOf(account, currency)];
  if (totals === undefined) return formatMoney(new Money(0), currency);
  const debitMinusCredit = new Money(totals.debits).minus(totals.credits);
  return formatMoney(normalSideOf[account.type] === 'debit' ? debitMinusCredit : debitMinusCredit.negated(), currency);
}

export interface TrialBalanceRow extends AccountTotals {
  /** On the account's normal side, see balanceOf. */
  balance: string;
}

export interface TrialBalanceReport {
  rows: TrialBalanceRow[];
  totalsByCurrency: { currency: string; debits: string; credits: string; net: string }[];
}

export function trialBalanceReport(trialBalance: TrialBalance): TrialBalanceReport {
  const keys = Object.keys(trialBalance.totalsByKey).sort();
  const rows = keys.map((key) => {
    const totals = trialBalance.totalsByKey[key];
    return {
      ...totals,
      debits: formatMoney(new Money(totals.debits), totals.currency),
      credits: formatMoney(new Money(totals.credits), totals.currency),
      balance: balanceOf(trialBalance, totals.account, totals.currency),
    };
  });
  const byCurrency = new Map<string, { debits: Money; credits: Money }>();
  for (const row of rows) {
    const sums = byCurrency.get(row.currency) ?? { debits: new Money(0), credits: new Money(0) };
    byCurrency.set(row.currency, { debits: sums.debits.plus(row.debits), credits: sums.credits.plus(row.credits) });
  }
  const totalsByCurrency = [...byCurrency.entries()].map(([currency, { debits, credits }]) => ({
    currency,
    debits: formatMoney(debits, currency),
    credits: formatMoney(credits, currency),
    net: formatMoney(debits.minus(credits), currency),
  }));
  return { rows, totalsByCurrency };
}
