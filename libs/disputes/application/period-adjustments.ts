import type { EventStore } from '#lib/event-store/event-store.port.js';
import type { CommandContext } from '#lib/shared/application/command-context.js';
import { handleCommand } from '#lib/shared/application/handle-command.js';
import { foldEvents } from '#lib/shared/domain/decider.js';
import { DomainError } from '#lib/shared/domain/domain-error.js';
import { periodDecider, periodDeciderOpeningOnDemand, periodStreamId, type PeriodEvent } from '#lib/payouts/domain/period.decider.js';
import { periodOfId } from '#lib/statements/domain/statement-inputs.js';
import type { DisputeAdjustmentLine, DisputeAdjustmentPort, PeriodRef, PostLineResult } from './dispute-processes.js';

/**
 * Posts dispute adjustments into plan-calendar periods through the period decider's PostLines: an `adjustment` line
 * whose cause is `dispute_approved` with the dispute id as reference, so the payee's statement for that period can
 * say which dispute it settles. The period posts a line id once; a period that has closed since keeps the lines it
 * holds, which is how a retry after a crash learns that its line is already in.
 *
 * Which period is the payee's earliest open one is the payouts context's to say: it is passed in. Periods of a
 * calendar are open until closed, so a period no one has written to yet is opened by the posting itself.
 */
export class PeriodStreamAdjustments implements DisputeAdjustmentPort {
  constructor(
    private readonly store: EventStore,
    private readonly findEarliestOpenPeriod: (payeeId: string) => Promise<PeriodRef | null>,
  ) {}

  earliestOpenPeriod(payeeId: string): Promise<PeriodRef | null> {
    return this.findEarliestOpenPeriod(payeeId);
  }

  async postLine(period: PeriodRef, line: DisputeAdjustmentLine, context: CommandContext): Promise<PostLineResult> {
    const streamId = periodStreamId(period.calendarId, period.periodId);
    const state = foldEvents(periodDecider, (await this.store.readStream(streamId)) as unknown as PeriodEvent[]);
    if (state.postedLinesById[line.lineId] !== undefined) return 'already_posted';
    if (state.status !== 'open' && state.status !== 'not_opened') return 'period_closed';
    const dates = periodOfId(period.periodId);
    if (dates === null) throw new Error(`Period id ${period.periodId} names no calendar period`);
    const opening = { calendarId: period.calendarId, periodId: period.periodId, startsOn: dates.start, endsOn: dates.end, openedBy: context.actor.id };
    try {
      await handleCommand(
        this.store,
        streamId,
        periodDeciderOpeningOnDemand(opening),
        {
          type: 'PostLines',
          data: {
            payeeId: line.payeeId,
            currency: line.currency,
            lines: [{ lineId: line.lineId, kind: 'adjustment', amount: line.amount, cause: { kind: 'dispute_approved', reference: line.disputeId } }],
            postedBy: context.actor.id,
          },
        },
        context,
      );
      return 'posted';
    } catch (error) {
      // Closed between the read and the append: the line did not go in.
      if (error instanceof DomainError && error.code === 'PERIOD.CLOSED') return 'period_closed';
      throw error;
    }
  }
}
