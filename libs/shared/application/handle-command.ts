import type { Decider, DomainEvent } from '../domain/decider.js';
import {
  ConcurrencyError,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
} from '#lib/event-store/event-store.port.js';
import type { CommandContext } from './command-context.js';

export interface CommandOutcome<State> {
  streamId: string;
  /** Revision of the stream's last event after the command (use it as ETag / If-Match). */
  revision: number;
  /** Global position of the last event written (or already written, on an idempotent replay). */
  position: number;
  /** Ids and types of the events this command recorded; on an idempotent replay, those recorded the first time. */
  events: { eventId: string; type: string; revision: number }[];
  state: State;
  /** True when the command had already been applied under the same idempotency key. */
  replayed: boolean;
}

export interface HandleCommandOptions {
  /** How many times to re-read and re-decide after a concurrency conflict. */
  maxRetries?: number;
  /** Schema version per event type; default 1. */
  schemaVersionOf?: (eventType: string) => number;
  /** Business time of the events; default the context clock. */
  occurredAt?: string;
}

/**
 * The thin command-handler loop: read the stream, fold it, decide, append with the expected revision,
 * and retry a bounded number of times when another writer got there first. A client that sent If-Match
 * gets the conflict instead of a retry: it decided on what it had read.
 *
 * A command that carries an idempotency key and whose events are already in the stream is not decided
 * again: its recorded events are returned (this covers a crash between append and the HTTP response).
 */
export async function handleCommand<Command, Event extends DomainEvent, State>(
  store: EventStore,
  streamId: string,
  decider: Decider<Command, Event, State>,
  command: Command,
  context: CommandContext,
  options: HandleCommandOptions = {},
): Promise<CommandOutcome<State>> {
  const maxRetries = options.maxRetries ?? 3;
  for (let attempt = 0; ; attempt++) {
    const recorded = await store.readStream(streamId);
    let state = decider.initialState();
    for (const event of recorded) state = decider.evolve(state, event as unknown as Event);
    const lastRevision = recorded.length - 1;

    if (context.commandId !== null) {
      // Keys are the caller's own (decision 0002): another actor's events with the same key are not this command.
      const already = recorded.filter((event) => event.metadata.commandId === context.commandId && event.metadata.actor.id === context.actor.id);
      if (already.length > 0) {
        return {
          streamId,
          revision: lastRevision,
          position: already[already.length - 1].position,
          events: already.map(({ eventId, type, revision }) => ({ eventId, type, revision })),
          state,
          replayed: true,
        };
      }
    }

    if (context.expectedRevision !== undefined && context.expectedRevision !== lastRevision) {
      throw new ConcurrencyError(streamId, context.expectedRevision, lastRevision);
    }

    const decided = decider.decide(command, state);
    if (decided.length === 0) {
      return { streamId, revision: lastRevision, position: 0, events: [], state, replayed: false };
    }
    const occurredAt = options.occurredAt ?? context.now().toISOString();
    const newEvents: NewEvent[] = decided.map((event) => ({
      eventId: context.newId(),
      type: event.type,
      schemaVersion: options.schemaVersionOf?.(event.type) ?? 1,
      data: event.data,
      metadata: {
        actor: context.actor,
        correlationId: context.correlationId,
        causationId: context.causationId,
        commandId: context.commandId,
        occurredAt,
      },
    }));
    const expected: ExpectedRevision = lastRevision < 0 ? 'no_stream' : lastRevision;
    try {
      const result = await store.append(streamId, newEvents, expected);
      for (const event of decided) state = decider.evolve(state, event);
      return {
        streamId,
        revision: result.nextExpectedRevision,
        position: result.position,
        events: newEvents.map((event, index) => ({ eventId: event.eventId, type: event.type, revision: lastRevision + 1 + index })),
        state,
        replayed: false,
      };
    } catch (error) {
      if (error instanceof ConcurrencyError && context.expectedRevision === undefined && attempt < maxRetries) continue;
      throw error;
    }
  }
}
