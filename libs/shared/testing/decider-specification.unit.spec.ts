import { describe, expect, it } from '@jest/globals';
import type { Decider, DomainEvent } from '../domain/decider.js';
import { conflictError } from '../domain/domain-error.js';
import { DeciderSpecification } from './decider-specification.js';

/** The helper must fail a spec whenever the decider does something other than what the spec says. */
type Counted = DomainEvent<'Counted', { by: number }>;
const counter: Decider<{ type: 'Count'; by: number }, Counted, number> = {
  initialState: () => 0,
  evolve: (total, event) => total + event.data.by,
  decide: (command, total) => {
    if (total + command.by > 3) throw conflictError('COUNTER.FULL', 'full');
    return [{ type: 'Counted', data: { by: command.by } }];
  },
};
const given = DeciderSpecification.for(counter);

describe('DeciderSpecification', () => {
  it('passes when the events match and folds the given events first', () => {
    given([{ type: 'Counted', data: { by: 2 } }]).when({ type: 'Count', by: 1 }).then([{ type: 'Counted', data: { by: 1 } }]);
    given([{ type: 'Counted', data: { by: 2 } }]).when({ type: 'Count', by: 2 }).thenThrows('COUNTER.FULL', 'conflict');
  });

  it('fails when the events differ', () => {
    expect(() => given([]).when({ type: 'Count', by: 1 }).then([{ type: 'Counted', data: { by: 2 } }])).toThrow();
  });

  it('fails when a rejection was expected and events came out', () => {
    expect(() => given([]).when({ type: 'Count', by: 1 }).thenThrows('COUNTER.FULL')).toThrow('expected COUNTER.FULL');
  });

  it('fails on another code or kind', () => {
    expect(() => given([]).when({ type: 'Count', by: 9 }).thenThrows('COUNTER.EMPTY')).toThrow();
    expect(() => given([]).when({ type: 'Count', by: 9 }).thenThrows('COUNTER.FULL', 'validation')).toThrow();
  });
});
