import type { CommandContext } from '#lib/shared/application/command-context.js';
import { testCommandContext } from '#lib/shared/testing/test-command-context.js';
import type { LedgerHarness } from '#lib/shared/testing/ledger-harness.js';
import type { EventStore } from '#lib/event-store/event-store.port.js';
import { onboardPayee } from '#lib/organization/application/payee-commands.js';
import type { CloseDealWonInput } from '#lib/crediting/application/deal-commands.js';
import type { PlanVersionInput } from '#lib/commissions/domain/commission-plan.js';
import { assignPlan, publishPlanVersion } from '#lib/statements/testing/statement-sources.fixtures.js';
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

/** Onboards USD payees in territory NA with no manager, from 2025-01-01. */
export async function onboardPayees(store: EventStore, ...payeeIds: string[]): Promise<void> {
  for (const payeeId of payeeIds) {
    await onboardPayee(store, { payeeId, name: `Payee ${payeeId}`, managerId: null, territory: 'NA', currency: 'USD', startDate: '2025-01-01' }, testCommandContext());
  }
}

/** Publishes a plan version and assigns it to the payees from its effective date. */
export async function putOnPlan(store: EventStore, planVersion: PlanVersionInput, ...payeeIds: string[]): Promise<void> {
  await publishPlanVersion(store, planVersion);
  for (const payeeId of payeeIds) {
    await assignPlan(store, { assignmentId: `${planVersion.planId}@${planVersion.effectiveFrom}`, payeeId, planId: planVersion.planId, effectiveFrom: planVersion.effectiveFrom });
  }
}

/** A USD platform deal won as new business, credited to its owner alone (no overlays). */
export const dealInput = (dealId: string, ownerPayeeId: string, amount: string, closeDate: string, overrides: Partial<CloseDealWonInput> = {}): CloseDealWonInput => ({
  dealId,
  ownerPayeeId,
  amount,
  currency: 'USD',
  closeDate,
  product: 'platform',
  dealType: 'new_business',
  overlays: [],
  ...overrides,
});
