import type { EventStore } from '#lib/event-store/event-store.port.js';
import type { CommandContext } from '#lib/shared/application/command-context.js';
import { handleCommand, type CommandOutcome } from '#lib/shared/application/handle-command.js';
import { periodDecider, periodStreamId, type FrozenStatementRecord, type PeriodCommand, type PeriodState } from '#lib/payouts/domain/period.decider.js';

/**
 * Drives one plan-calendar period through its lifecycle with the period decider's own commands, through the same
 * command loop the service's handlers use (handleCommand: read, decide, append with the expected revision).
 * For tests and benchmarks of what the period's events cause downstream (the payout feed).
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

  send(command: PeriodCommand, context: CommandContext): Promise<CommandOutcome<PeriodState>> {
    return handleCommand(this.store, this.streamId, periodDecider, command, context);
  }

  /** Opens the period and closes it with the given frozen statements (prepared by `preparedBy`). */
  async openAndClose(statements: FrozenStatementRecord[], context: CommandContext, preparedBy = 'analyst-1'): Promise<CommandOutcome<PeriodState>> {
    // A period id starts with its month (2026-03, or 2026-03-b for a second calendar's period in a benchmark).
    const month = this.periodId.slice(0, 7);
    // Two commands: each gets its own idempotency key (the same key would make the second a replay of the first).
    const keyed = (step: string): CommandContext => ({ ...context, commandId: context.commandId === null ? null : `${context.commandId}:${step}` });
    await this.send({ type: 'OpenPeriod', data: { calendarId: this.calendarId, periodId: this.periodId, startsOn: `${month}-01`, endsOn: `${month}-28`, openedBy: preparedBy } }, keyed('open'));
    return this.send({ type: 'ClosePeriod', data: { preparedBy, statements } }, keyed('close'));
  }

  approve(payeeIds: string[] | undefined, context: CommandContext, approvedBy = 'finance-1'): Promise<CommandOutcome<PeriodState>> {
    return this.send({ type: 'ApprovePayouts', data: { approvedBy, ...(payeeIds === undefined ? {} : { payeeIds }) } }, context);
  }

  confirmPaid(payeeIds: string[], payrollReference: string, context: CommandContext): Promise<CommandOutcome<PeriodState>> {
    return this.send({ type: 'ConfirmPayoutsPaid', data: { confirmedBy: 'payroll-1', payrollReference, payeeIds } }, context);
  }
}

/** A frozen statement for a payee, with a digest derived from the payee and the amount. */
export const frozenStatement = (payeeId: string, netPayable: string, currency = 'USD', logPosition = 1): FrozenStatementRecord => ({
  payeeId,
  statementDigest: `sha256:${payeeId}:${netPayable}`,
  logPosition,
  currency,
  netPayable,
});
