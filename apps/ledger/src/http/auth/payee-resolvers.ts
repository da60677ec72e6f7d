import type { ReadModelReader } from '#lib/projections/read-model.port.js';
import type { DomainError } from '#lib/shared/domain/domain-error.js';

/**
 * Turns the id of a record a route addresses (a deal, later a dispute or a payout) into the payees it concerns,
 * for `@PayeeScope({ resolve: { kind, param } })`. A context that adds such a route registers its resolver under
 * PAYEE_RESOLVERS in the ledger module.
 */
export interface PayeeResolver {
  /** The payees the record concerns; none when there is no such record. */
  payeesOf(reader: ReadModelReader, id: string): Promise<string[]>;
  /** The answer to a caller who may not see the record: the same as when it does not exist. */
  notFound(id: string): DomainError;
}

export type PayeeResolvers = Readonly<Record<string, PayeeResolver>>;

export const PAYEE_RESOLVERS = Symbol('PayeeResolvers');
