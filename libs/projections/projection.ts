import type { EventFilter, RecordedEvent } from '#lib/event-store/event-store.port.js';
import type { ReadModelTransaction } from './read-model.port.js';

/**
 * A projection folds events from the store's global log into read-model tables. The runner gives it events
 * in global order, at most once each, inside a transaction that also stores its checkpoint, so a crash
 * never applies an event twice or skips one. `apply` must therefore be a pure function of the read model
 * and the event: no clock, no randomness, no I/O besides the transaction (a rebuild must give the same rows).
 */
export interface Projection {
  /** Stable name: the key of its checkpoint. */
  readonly name: string;
  /** Which events `apply` sees; the others only move the checkpoint. */
  readonly filter?: EventFilter;
  /** Its tables, in the order a dump lists them. */
  readonly tables: readonly string[];
  /** Creates its tables and indexes when they are missing. Idempotent. */
  setup(transaction: ReadModelTransaction): Promise<void>;
  /** Drops its tables, so that `setup` and a replay from position 0 rebuild them. */
  reset(transaction: ReadModelTransaction): Promise<void>;
  apply(event: RecordedEvent, transaction: ReadModelTransaction): Promise<void>;
}

/** Whether an event passes a filter: every given condition holds (any prefix; any type). */
export function matchesFilter(filter: EventFilter | undefined, event: Pick<RecordedEvent, 'streamId' | 'type'>): boolean {
  if (filter === undefined) return true;
  if (filter.streamPrefixes !== undefined && !filter.streamPrefixes.some((prefix) => event.streamId.startsWith(prefix))) return false;
  if (filter.eventTypes !== undefined && !filter.eventTypes.includes(event.type)) return false;
  return true;
}
