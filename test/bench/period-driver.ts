import type { EventStore } from '#lib/event-store/event-store.port.js';
import { formatMoney, Money } from '#lib/shared/domain/money.js';
import type { CommandContext } from '#lib/shared/application/command-context.js';
import { handleCommand, type CommandOutcome } from '#lib/shared/application/handle-command.js';
import { approvePayouts, confirmPayoutsPaid, loadPeriod, type PayoutsOutcome } from '#lib/payouts/application/period-commands.js';
import { nextPeriodId } from '#lib/payouts/domain/calendar-periods.js';
import type { DrawTerms } from '#lib/payouts/domain/draw.js';
import { computePayout, emptyCarry, figuresOf, type PayeeCarry } from '#lib/payouts/domain/payout.js';
import {
  periodDecider,
  periodDeciderOpeningOnDemand,
  periodStreamId,
  type FrozenPostedLine,
  type FrozenStatementRecord,
  type PeriodCommand,
  type PeriodNeighbour,
  type PeriodState,
} from '#lib/payouts/domain/period.decider.js';

/**
 * Drives one plan-calendar period with the payouts context's own commands, through the command loop the service's
 * handlers use (handleCommand: read, decide, append with the expected revision): approval and payment are the
 * service's use cases (approvePayouts, confirmPayoutsPaid); only the close takes frozen statements given by the
 * caller instead of reading them from the statement read model, so a test or a benchmark of what the period's events
 * cause downstream (the payout feed) needs no plans, deals or projections. The frozen statements are priced by the
 * payouts domain itself (frozenStatement).
 */
export class PeriodDriver {
  constructor(
    private readonly store: EventStore,
    readonly calendarId: string,
    readonly periodId: string,
  ) {}

  get streamId(): string {
    return periodStreamId(this.calendarId, this.periodId);
  }

  /** Sends a command to the period's decider, opening the period on the way when the command does (a close, a posting). */
  send(command: PeriodCommand, context: CommandContext): Promise<CommandOutcome<PeriodState>> {
    // A period id starts with its month (2026-03, or 2026-03-b for a second period of a benchmark).
    const month = this.periodId.slice(0, 7);
    const opening = { calendarId: this.calendarId, periodId: this.periodId, startsOn: `${month}-01`, endsOn: `${month}-28`, openedBy: context.actor.id };
    return handleCommand(this.store, this.streamId, periodDeciderOpeningOnDemand(opening), command, context);
  }

  /**
   * Closes the period (opening it in the same append) with the given frozen statements, prepared by `preparedBy`.
   * `previousPeriod` as the close finds it; null as for a calendar that never closed a period.
   */
  openAndClose(statements: FrozenStatementRecord[], context: CommandContext, preparedBy = 'analyst-1', previousPeriod: PeriodNeighbour | null = null): Promise<CommandOutcome<PeriodState>> {
    return this.send({ type: 'ClosePeriod', data: { preparedBy, statements, previousPeriod } }, context);
  }

  /** Finance's approval (the service's use case): the context's actor approves. Without payeeIds, every payee still unapproved. */
  approve(payeeIds: string[] | undefined, context: CommandContext): Promise<PayoutsOutcome> {
    return approvePayouts(this.store, { calendarId: this.calendarId, periodId: this.periodId, ...(payeeIds === undefined ? {} : { payeeIds }) }, context);
  }

  /** Payroll's confirmation (the service's use case). */
  confirmPaid(payeeIds: string[] | undefined, payrollReference: string, paidOn: string, context: CommandContext): Promise<PayoutsOutcome> {
    return confirmPayoutsPaid(this.store, { calendarId: this.calendarId, periodId: this.periodId, payrollReference, paidOn, ...(payeeIds === undefined ? {} : { payeeIds }) }, context);
  }

  /** Reopens the period as finance would: the next period as it stands, and no corrections of this one posted forward. */
  async reopen(reason: string, context: CommandContext): Promise<CommandOutcome<PeriodState>> {
    const next = nextPeriodId(this.periodId);
    const nextPeriod: PeriodNeighbour = { periodId: next, status: (await loadPeriod(this.store, this.calendarId, next)).status };
    return handleCommand(this.store, this.streamId, periodDecider, { type: 'ReopenPeriod', data: { reopenedBy: context.actor.id, reason, nextPeriod, correctionsPostedForward: 0 } }, context);
  }
}

export interface FrozenStatementOptions {
  currency?: string;
  logPosition?: number;
  periodId?: string;
  draw?: DrawTerms | null;
  carryOpening?: PayeeCarry;
  /** Lines posted to the period for the payee (adjustments, clawbacks), as the frozen statement lists them. */
  postedLines?: FrozenPostedLine[];
}

/**
 * A payee's frozen statement with one commission line of `earned` (plus the posted lines), priced by the payouts
 * domain (computePayout: draw, carried balances, net payable); the digest is derived from the payee and the amount.
 */
export function frozenStatement(payeeId: string, earned: string, options: FrozenStatementOptions = {}): FrozenStatementRecord {
  const currency = options.currency ?? 'USD';
  const postedLines = options.postedLines ?? [];
  const statementDigest = `sha256:${payeeId}:${earned}`;
  const lines = [{ lineId: `${payeeId}:commission`, kind: 'commission', amount: earned }, ...postedLines];
  const totalEarned = lines.reduce((sum, line) => sum.plus(line.amount), new Money(0));
  const payout = computePayout({
    statement: { payeeId, periodId: options.periodId ?? '2026-03', currency, lines, totalEarned: formatMoney(totalEarned, currency) },
    statementDigest,
    draw: options.draw ?? null,
    carryOpening: options.carryOpening ?? emptyCarry(),
  });
  return { payeeId, statementDigest, logPosition: options.logPosition ?? 1, currency, netPayable: payout.netPayable, figures: figuresOf(payout), postedLines };
}
