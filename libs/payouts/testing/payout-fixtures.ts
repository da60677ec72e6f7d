import type { CommandContext } from '#lib/shared/application/command-context.js';
import { testCommandContext } from '#lib/shared/testing/test-command-context.js';
import type { LedgerHarness } from '#lib/shared/testing/ledger-harness.js';
import type { PayoutDependencies } from '../application/period-commands.js';
import { emptyCarry, type PayoutFigures } from '../domain/payout.js';

/** The actors of a close: an analyst prepares, finance approves, payroll confirms. */
export const analyst = (): CommandContext => testCommandContext({ actor: { id: 'analyst-1', role: 'analyst' } });
export const finance = (id = 'finance-1'): CommandContext => testCommandContext({ actor: { id, role: 'finance' } });
export const payroll = (): CommandContext => testCommandContext({ actor: { id: 'payroll-1', role: 'payroll' } });

/** The payouts use cases' dependencies over a harness: its store, its read models, waiting on its runner. */
export const payoutDependencies = (ledger: Pick<LedgerHarness, 'store' | 'db' | 'runner'>): PayoutDependencies => ({
  store: ledger.store,
  db: ledger.db,
  readModelsAt: (position) => ledger.runner.waitForPosition(position, { timeoutMs: 30_000 }),
});

/** The figures of a payout that pays nothing, for a frozen statement written by hand in a test. */
export const zeroPayoutFigures = (currency = 'USD'): PayoutFigures => {
  const zero = currency === 'JPY' ? '0' : '0.00';
  return {
    grossEarned: zero,
    capitalized: [],
    adjustments: zero,
    clawbacks: zero,
    earningsDeficitApplied: zero,
    drawKind: null,
    drawPaid: zero,
    drawRecovered: zero,
    carryOpening: emptyCarry(),
    carryClosing: emptyCarry(),
  };
};
