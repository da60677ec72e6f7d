import { Inject, type Type } from '@nestjs/common';
import { Command, CommandHandler, Query, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { EventStore } from '#lib/event-store/event-store.port.js';
import type { ReadModelDb } from '#lib/projections/read-model.port.js';
import type { CommandContext } from '#lib/shared/application/command-context.js';
import { EVENT_STORE, READ_MODEL_DB } from '../ledger.tokens.js';

/**
 * Every use case goes through @nestjs/cqrs's CommandBus or QueryBus as its own command or query type, handled by a
 * thin adapter around the application function in libs/ (read stream, decide, append). These two helpers make the
 * command class and its handler in one line, so the Nest wiring cannot drift from the function it wraps.
 */
export interface StoreCommand<Input, Result> extends Command<Result> {
  readonly input: Input;
  readonly context: CommandContext;
}

export interface StoreCommandDefinition<Input, Result> {
  command: new (input: Input, context: CommandContext) => StoreCommand<Input, Result>;
  handler: Type<ICommandHandler<StoreCommand<Input, Result>, Result>>;
}

export function defineStoreCommand<Input, Result>(
  name: string,
  run: (store: EventStore, input: Input, context: CommandContext) => Promise<Result>,
): StoreCommandDefinition<Input, Result> {
  return defineCommandWith<EventStore, Input, Result>(name, EVENT_STORE, run);
}

/**
 * A command whose application function needs more than the event store (the read models it waits on, say),
 * handed to it as whatever the injection token provides.
 */
export function defineCommandWith<Dependencies, Input, Result>(
  name: string,
  token: symbol,
  run: (dependencies: Dependencies, input: Input, context: CommandContext) => Promise<Result>,
): StoreCommandDefinition<Input, Result> {
  const commandClass = class extends Command<Result> {
    constructor(
      readonly input: Input,
      readonly context: CommandContext,
    ) {
      super();
    }
  };
  Object.defineProperty(commandClass, 'name', { value: name });
  class Handler implements ICommandHandler<StoreCommand<Input, Result>, Result> {
    constructor(@Inject(token) readonly dependencies: Dependencies) {}
    execute(command: StoreCommand<Input, Result>): Promise<Result> {
      return run(this.dependencies, command.input, command.context);
    }
  }
  Object.defineProperty(Handler, 'name', { value: `${name}Handler` });
  CommandHandler(commandClass)(Handler);
  return { command: commandClass, handler: Handler };
}

export interface ReadQuery<Parameters, Result> extends Query<Result> {
  readonly parameters: Parameters;
}

export interface ReadQueryDefinition<Parameters, Result> {
  query: new (parameters: Parameters) => ReadQuery<Parameters, Result>;
  handler: Type<IQueryHandler<ReadQuery<Parameters, Result>, Result>>;
}

/** A query and its QueryBus handler over whatever the injection token provides (a read model, the store, both). */
export function defineQueryWith<Source, Parameters, Result>(
  name: string,
  source: symbol,
  run: (from: Source, parameters: Parameters) => Promise<Result>,
): ReadQueryDefinition<Parameters, Result> {
  const queryClass = class extends Query<Result> {
    constructor(readonly parameters: Parameters) {
      super();
    }
  };
  Object.defineProperty(queryClass, 'name', { value: name });
  class Handler implements IQueryHandler<ReadQuery<Parameters, Result>, Result> {
    constructor(@Inject(source) readonly from: Source) {}
    execute(query: ReadQuery<Parameters, Result>): Promise<Result> {
      return run(this.from, query.parameters);
    }
  }
  Object.defineProperty(Handler, 'name', { value: `${name}Handler` });
  QueryHandler(queryClass)(Handler);
  return { query: queryClass, handler: Handler };
}

/** A read from a read model, which trails the log by the projection lag (see ReadConsistency). */
export const defineReadQuery = <Parameters, Result>(
  name: string,
  run: (db: ReadModelDb, parameters: Parameters) => Promise<Result>,
): ReadQueryDefinition<Parameters, Result> => defineQueryWith(name, READ_MODEL_DB, run);

/** A read folded straight from one aggregate's own stream (a plan, a payee's assignments, an FX pair): no lag. */
export const defineStreamQuery = <Parameters, Result>(
  name: string,
  run: (store: EventStore, parameters: Parameters) => Promise<Result>,
): ReadQueryDefinition<Parameters, Result> => defineQueryWith(name, EVENT_STORE, run);
