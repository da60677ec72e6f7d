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
  /**
   * Layout version of its tables; default 1. Bump it whenever `setup` changes a table: on start, a read model
   * stored under another version (or none) is reset and replayed from position 0, never read with the wrong shape.
   */
  readonly version?: number;
  /** Which events `apply` sees; the others only move the checkpoint. */
  readonly filter?: EventFilter;
  /** Its tables, in the order a dump lists them. */
  readonly tables: readonly string[];
  /** Creates its tables and indexes when they are missing. Idempotent. */
  setup(transaction: ReadModelTransaction): Promise<void>;
  /** Drops its tables, so that `setup` and a replay from position 0 rebuild them. */
  reset(transaction: ReadModelTransaction): Promise<void>;
  /**
   * Returns a promise when it has to wait (a read); when it finished synchronously it may return nothing, which
   * spares the runner an await per event.
   */
  apply(event: RecordedEvent, transaction: ReadModelTransaction): void | Promise<void>;
  /**
   * Optional: writes what `apply` kept in memory for this batch. Called once per batch, after its last event
   * and before the checkpoint, in the same transaction. Lets a projection write each touched row once per
   * batch instead of once per event.
   */
  flush?(transaction: ReadModelTransaction): Promise<void>;
  /** Optional: the batch's transaction rolled back; forget what `apply` kept in memory for it. */
  discard?(): void;
}

/** Whether an event passes a filter: every given condition holds (any prefix; any type). */
export function matchesFilter(filter: EventFilter | undefined, event: Pick<RecordedEvent, 'streamId' | 'type'>): boolean {
  if (filter === undefined) return true;
  if (filter.streamPrefixes !== undefined && !filter.streamPrefixes.some((prefix) => event.streamId.startsWith(prefix))) return false;
  if (filter.eventTypes !== undefined && !filter.eventTypes.includes(event.type)) return false;
  return true;
}

/** The same test as matchesFilter, prepared once per projection: the runner asks it for every event. */
export function compileFilter(filter: EventFilter | undefined): (event: Pick<RecordedEvent, 'streamId' | 'type'>) => boolean {
  if (filter === undefined) return () => true;
  const prefixes = filter.streamPrefixes;
  const types = filter.eventTypes === undefined ? undefined : new Set(filter.eventTypes);
  return (event) =>
    (types === undefined || types.has(event.type)) && (prefixes === undefined || prefixes.some((prefix) => event.streamId.startsWith(prefix)));
}
