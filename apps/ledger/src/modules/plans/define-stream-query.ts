import { Inject, type Type } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { EventStore } from '#lib/event-store/event-store.port.js';
import { EVENT_STORE } from '../../ledger.tokens.js';

/**
 * defineReadQuery's twin for reads folded straight from one aggregate's own stream (a plan, a payee's assignments,
 * an FX pair) rather than from a read model: the query class and its QueryBus handler in one line.
 */
export interface StreamQuery<Parameters, Result> extends Query<Result> {
  readonly parameters: Parameters;
}

export interface StreamQueryDefinition<Parameters, Result> {
  query: new (parameters: Parameters) => StreamQuery<Parameters, Result>;
  handler: Type<IQueryHandler<StreamQuery<Parameters, Result>, Result>>;
}

export function defineStreamQuery<Parameters, Result>(
  name: string,
  run: (store: EventStore, parameters: Parameters) => Promise<Result>,
): StreamQueryDefinition<Parameters, Result> {
  const queryClass = class extends Query<Result> {
    constructor(readonly parameters: Parameters) {
      super();
    }
  };
  Object.defineProperty(queryClass, 'name', { value: name });
  class Handler implements IQueryHandler<StreamQuery<Parameters, Result>, Result> {
    constructor(@Inject(EVENT_STORE) readonly store: EventStore) {}
    execute(query: StreamQuery<Parameters, Result>): Promise<Result> {
      return run(this.store, query.parameters);
    }
  }
  Object.defineProperty(Handler, 'name', { value: `${name}Handler` });
  QueryHandler(queryClass)(Handler);
  return { query: queryClass, handler: Handler };
}
