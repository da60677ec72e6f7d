/** The FX context's published surface: its stream id helper, commands and the FxRateRecorded event contract. */
export {
  FX_EVENT_TYPES,
  FX_STREAM_PREFIX,
  fxRateDecider,
  fxStreamId,
  type FxCommand,
  type FxEvent,
  type FxRateRecorded,
  type FxRatesState,
  type RecordFxRate,
} from './fx-rate.decider.js';
