import { assertNever, type Decider, type DomainEvent } from '#lib/shared/domain/decider.js';
import { validationError } from '#lib/shared/domain/domain-error.js';
import { Money, isDecimalString } from '#lib/shared/domain/money.js';
import { requireCurrency, requireIsoDate } from '#lib/organization/domain/field-rules.js';

/**
 * Glossary
 * - FX rate: units of `toCurrency` for one unit of `fromCurrency` on one business date (EUR -> USD 1.0850 means
 *   1 EUR = 1.0850 USD). A credit in a foreign currency converts at the rate of its own credit date only; a date
 *   without a rate leaves the credit held, never priced with a neighbouring day's rate.
 * - Correction: a later FxRateRecorded for the same pair and date replaces the rate from then on; the earlier
 *   event stays in the log, so a statement can still be reproduced as it stood before the correction.
 *
 * Stream: `fx-<FROM>-<TO>` (e.g. `fx-EUR-USD`), one per ordered currency pair. EUR -> USD and USD -> EUR are
 * separate pairs: the ledger never inverts a rate on its own, as an inverted rate rounds differently from a
 * published one.
 */

export const fxStreamId = (fromCurrency: string, toCurrency: string): string => `fx-${fromCurrency}-${toCurrency}`;
export const FX_STREAM_PREFIX = 'fx-';

export type RecordFxRate = {
  type: 'RecordFxRate';
  fromCurrency: string;
  toCurrency: string;
  /** Business date 'YYYY-MM-DD'. */
  date: string;
  /** Positive decimal string: units of toCurrency per one fromCurrency. */
  rate: string;
};

export type FxCommand = RecordFxRate;

export type FxRateRecorded = DomainEvent<'FxRateRecorded', { fromCurrency: string; toCurrency: string; date: string; rate: string }>;

export type FxEvent = FxRateRecorded;

export const FX_EVENT_TYPES: readonly FxEvent['type'][] = ['FxRateRecorded'];

export interface FxRatesState {
  /** The rate in force per date (the latest recorded for it). */
  rateByDate: Record<string, string>;
}

/** More digits than this is a data-entry error, not a rate: published reference rates carry at most 10 or so. */
const MAX_RATE_DECIMALS = 12;

function requireRate(value: unknown): string {
  if (!isDecimalString(value)) {
    throw validationError('VALIDATION.DECIMAL', 'rate must be a decimal string such as "1.0850"', [{ field: 'rate', message: 'must be a decimal string such as "1.0850"' }]);
  }
  const rate = new Money(value);
  if (rate.lte(0)) {
    throw validationError('FX.RATE_NOT_POSITIVE', `rate must be more than 0, not ${value}`, [{ field: 'rate', message: 'must be more than 0' }]);
  }
  if (rate.decimalPlaces() > MAX_RATE_DECIMALS) {
    throw validationError('FX.RATE_PRECISION', `rate must not have more than ${MAX_RATE_DECIMALS} decimals`, [
      { field: 'rate', message: `must not have more than ${MAX_RATE_DECIMALS} decimals` },
    ]);
  }
  return value;
}

function decide(command: FxCommand, state: FxRatesState): FxEvent[] {
  switch (command.type) {
    case 'RecordFxRate': {
      const fromCurrency = requireCurrency(command.fromCurrency, 'fromCurrency');
      const toCurrency = requireCurrency(command.toCurrency, 'toCurrency');
      if (fromCurrency === toCurrency) {
        throw validationError('FX.SAME_CURRENCY', `A rate converts between two currencies; ${fromCurrency} to ${fromCurrency} is always 1`, [
          { field: 'toCurrency', message: 'must differ from fromCurrency' },
        ]);
      }
      const date = requireIsoDate(command.date, 'date');
      const rate = requireRate(command.rate);
      const recorded = state.rateByDate[date];
      // The same rate again, however it is written ("1.1" or "1.10"), changes nothing.
      if (recorded !== undefined && new Money(recorded).equals(rate)) return [];
      return [{ type: 'FxRateRecorded', data: { fromCurrency, toCurrency, date, rate } }];
    }
    default:
      return assertNever(command.type);
  }
}

function evolve(state: FxRatesState, event: FxEvent): FxRatesState {
  switch (event.type) {
    case 'FxRateRecorded':
      return { rateByDate: { ...state.rateByDate, [event.data.date]: event.data.rate } };
    default:
      return assertNever(event.type);
  }
}

export const fxRateDecider: Decider<FxCommand, FxEvent, FxRatesState> = {
  decide,
  evolve,
  initialState: () => ({ rateByDate: {} }),
};
