import { expect } from '@jest/globals';
import type { Decider, DomainEvent } from '../domain/decider.js';
import { DomainError, type DomainErrorKind } from '../domain/domain-error.js';

/**
 * Given/when/then specifications for deciders (after event-driven-io/emmett's DeciderSpecification):
 *
 *   const given = DeciderSpecification.for(dealDecider);
 *   given([dealClosedWon]).when(cancelDeal).then([dealCancelled]);
 *   given([]).when(cancelDeal).thenThrows('DEAL.NOT_FOUND');
 *
 * `given` events are folded with `evolve` from `initialState`, then `decide` runs on the command.
 */
export interface DeciderThen<Event> {
  /** The command produces exactly these events, in this order. */
  then(expected: readonly Event[]): void;
  /** The command is rejected with a DomainError of this code (and kind, when given). */
  thenThrows(code: string, kind?: DomainErrorKind): DomainError;
}

export interface DeciderWhen<Command, Event> {
  when(command: Command): DeciderThen<Event>;
}

export const DeciderSpecification = {
  for<Command, Event extends DomainEvent, State>(
    decider: Decider<Command, Event, State>,
  ): (given: readonly Event[]) => DeciderWhen<Command, Event> {
    return (given) => ({
      when(command) {
        const run = (): Event[] => {
          let state = decider.initialState();
          for (const event of given) state = decider.evolve(state, event);
          return decider.decide(command, state);
        };
        return {
          then(expected) {
            expect(run()).toEqual(expected);
          },
          thenThrows(code, kind) {
            let thrown: unknown;
            try {
              const events = run();
              thrown = new Error(`expected ${code}, but the command produced ${JSON.stringify(events)}`);
            } catch (error) {
              thrown = error;
            }
            if (!(thrown instanceof DomainError)) throw thrown;
            expect(thrown.code).toBe(code);
            if (kind !== undefined) expect(thrown.kind).toBe(kind);
            return thrown;
          },
        };
      },
    });
  },
};
