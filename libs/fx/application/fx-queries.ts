import type { EventStore } from '#lib/event-store/event-store.port.js';
import { fxStreamId, type FxRateRecorded } from '../domain/index.js';

/** The rates of one currency pair, folded straight from its stream: always current, no projection lag. */

export interface FxRateView {
  date: string;
  /** Units of toCurrency for one fromCurrency: the latest rate recorded for the date. */
  rate: string;
  /** When that rate was recorded (system time), and the event that recorded it. */
  recordedAt: string;
  eventId: string;
  /** Rates recorded for the date before this one, oldest first: each a correction replaced. */
  previousRates: string[];
}

export interface FxRatesView {
  fromCurrency: string;
  toCurrency: string;
  /** Revision of the pair's stream (-1 before any rate). */
  revision: number;
  /** Ordered by date. */
  rates: FxRateView[];
}

export interface FxRatesQuery {
  fromCurrency: string;
  toCurrency: string;
  /** Inclusive bounds on the rate date. */
  fromDate?: string;
  toDate?: string;
}

export async function listFxRates(store: EventStore, query: FxRatesQuery): Promise<FxRatesView> {
  const events = await store.readStream(fxStreamId(query.fromCurrency, query.toCurrency));
  const byDate = new Map<string, FxRateView>();
  for (const event of events) {
    const { date, rate } = (event as unknown as FxRateRecorded).data;
    if ((query.fromDate !== undefined && date < query.fromDate) || (query.toDate !== undefined && date > query.toDate)) continue;
    const earlier = byDate.get(date);
    byDate.set(date, { date, rate, recordedAt: event.recordedAt, eventId: event.eventId, previousRates: earlier ? [...earlier.previousRates, earlier.rate] : [] });
  }
  const rates = [...byDate.values()].sort((left, right) => (left.date < right.date ? -1 : left.date > right.date ? 1 : 0));
  return { fromCurrency: query.fromCurrency, toCurrency: query.toCurrency, revision: events.at(-1)?.revision ?? -1, rates };
}
