import type { EventStore } from '#lib/event-store/event-store.port.js';
import type { CommandContext } from '#lib/shared/application/command-context.js';
import { handleCommand, type CommandOutcome } from '#lib/shared/application/handle-command.js';
import { fxRateDecider, fxStreamId, type FxRatesState, type RecordFxRate } from '../domain/index.js';

/**
 * Records a daily FX rate in `fx-<FROM>-<TO>` with the expected revision. A rate for a date already recorded is a
 * correction: a new event, never an edit. Rejections: FX.*, VALIDATION.*.
 */

export type RecordFxRateInput = Omit<RecordFxRate, 'type'>;

export async function recordFxRate(store: EventStore, input: RecordFxRateInput, context: CommandContext): Promise<CommandOutcome<FxRatesState>> {
  const command: RecordFxRate = { type: 'RecordFxRate', fromCurrency: input.fromCurrency, toCurrency: input.toCurrency, date: input.date, rate: input.rate };
  return handleCommand(store, fxStreamId(input.fromCurrency, input.toCurrency), fxRateDecider, command, context);
}
