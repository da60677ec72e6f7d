/**
 * A decider is an aggregate written as three pure parts (after event-driven-io/emmett):
 * - `decide(command, state)` returns the events the command produces, or throws a DomainError;
 * - `evolve(state, event)` folds one event into the state;
 * - `initialState()` is the state of a stream that has no events.
 * Nothing here reads the clock, ids or I/O: those arrive inside the command.
 */
export interface Decider<Command, Event extends DomainEvent, State> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}

/** A domain event as the domain sees it: a past-tense type and a JSON-safe payload (money as decimal strings). */
export interface DomainEvent<Type extends string = string, Data = unknown> {
  type: Type;
  data: Data;
}

/** Folds a stream's events into state. */
export function foldEvents<Event extends DomainEvent, State>(
  decider: Pick<Decider<unknown, Event, State>, 'evolve' | 'initialState'>,
  events: readonly Event[],
): State {
  let state = decider.initialState();
  for (const event of events) state = decider.evolve(state, event);
  return state;
}

/** Makes a `switch` over a discriminated union fail to compile when a case is forgotten. */
export function assertNever(value: never): never {
  throw new Error(`Unhandled case: ${JSON.stringify(value)}`);
}
