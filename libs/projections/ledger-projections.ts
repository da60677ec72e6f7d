import { createAttainmentProjection } from '#lib/attainment/application/attainment.projection.js';
import { dealsProjection } from '#lib/crediting/application/deals.projection.js';
import { payeeDirectoryProjection } from '#lib/organization/application/payee-directory.projection.js';
import type { Projection } from './projection.js';

/**
 * Every read model of the ledger, for one ProjectionRunner over one read-model database.
 * Call it once per database: some projections keep per-instance caches.
 */
export function createLedgerProjections(): Projection[] {
  return [payeeDirectoryProjection, dealsProjection, createAttainmentProjection()];
}
