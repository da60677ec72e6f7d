import { describe, expect, it } from '@jest/globals';
import { foldEvents } from '#lib/shared/domain/decider.js';
import { DeciderSpecification } from '#lib/shared/testing/decider-specification.js';
import { fxRateDecider, fxStreamId, type FxRateRecorded, type RecordFxRate } from './fx-rate.decider.js';

const given = DeciderSpecification.for(fxRateDecider);

const record: RecordFxRate = { type: 'RecordFxRate', fromCurrency: 'EUR', toCurrency: 'USD', date: '2026-03-18', rate: '1.0850' };
const recorded = (date: string, rate: string): FxRateRecorded => ({ type: 'FxRateRecorded', data: { fromCurrency: 'EUR', toCurrency: 'USD', date, rate } });

describe('FX rate decider: RecordFxRate', () => {
  it('records a rate for a date', () => {
    given([]).when(record).then([recorded('2026-03-18', '1.0850')]);
  });

  it('records a rate for another date next to the first', () => {
    given([recorded('2026-03-18', '1.0850')]).when({ ...record, date: '2026-03-19' }).then([recorded('2026-03-19', '1.0850')]);
  });

  it('corrects the rate of a date already recorded', () => {
    given([recorded('2026-03-18', '1.0850')]).when({ ...record, rate: '1.0870' }).then([recorded('2026-03-18', '1.0870')]);
  });

  it('records nothing when the same rate is sent again, however it is written', () => {
    given([recorded('2026-03-18', '1.0850')]).when({ ...record, rate: '1.085' }).then([]);
  });

  it.each(['0', '0.0000', '-1.08'])('rejects the rate %s as not positive', (rate) => {
    given([]).when({ ...record, rate }).thenThrows('FX.RATE_NOT_POSITIVE', 'validation');
  });

  it.each(['1e3', '1,08', ' 1.08', '+1.08', ''])('rejects %j as not a decimal string', (rate) => {
    given([]).when({ ...record, rate }).thenThrows('VALIDATION.DECIMAL', 'validation');
  });

  it('rejects a number where a decimal string belongs', () => {
    given([]).when({ ...record, rate: 1.085 as unknown as string }).thenThrows('VALIDATION.DECIMAL');
  });

  it('rejects a rate with more than 12 decimals', () => {
    given([]).when({ ...record, rate: '1.0850000000001' }).thenThrows('FX.RATE_PRECISION', 'validation');
  });

  it('rejects a pair of one currency', () => {
    const error = given([]).when({ ...record, toCurrency: 'EUR' }).thenThrows('FX.SAME_CURRENCY', 'validation');
    expect(error.fields).toEqual([{ field: 'toCurrency', message: 'must differ from fromCurrency' }]);
  });

  it.each([
    ['fromCurrency', { fromCurrency: 'eur' }, 'VALIDATION.CURRENCY'],
    ['toCurrency', { toCurrency: 'US' }, 'VALIDATION.CURRENCY'],
    ['date', { date: '2026-02-29' }, 'VALIDATION.DATE'],
  ])('rejects a bad %s', (_field, change, code) => {
    given([]).when({ ...record, ...change }).thenThrows(code, 'validation');
  });
});

describe('FX rates state', () => {
  it('keeps the latest rate per date', () => {
    const state = foldEvents(fxRateDecider, [recorded('2026-03-18', '1.0850'), recorded('2026-03-19', '1.0900'), recorded('2026-03-18', '1.0870')]);
    expect(state.rateByDate).toEqual({ '2026-03-18': '1.0870', '2026-03-19': '1.0900' });
  });

  it('names the stream fx-<FROM>-<TO>', () => {
    expect(fxStreamId('EUR', 'USD')).toBe('fx-EUR-USD');
  });
});
