import { createAuditTrailProjection } from '#lib/audit/application/audit-trail.projection.js';
import { createAttainmentProjection } from '#lib/attainment/application/attainment.projection.js';
import { dealsProjection } from '#lib/crediting/application/deals.projection.js';
import { disputeProcessStateProjection } from '#lib/disputes/application/dispute-process-state.projection.js';
import { disputesProjection } from '#lib/disputes/application/disputes.projection.js';
import { payeeDirectoryProjection } from '#lib/organization/application/payee-directory.projection.js';
import { createStatementsProjection } from '#lib/statements/application/statements.projection.js';
import { createPayoutsProjection } from '#lib/payouts/application/payouts.projection.js';
import { createLedgerProjection } from '#lib/ledger/application/ledger.projection.js';
import type { Projection } from './projection.js';

/**
 * Every read model of the ledger, for one ProjectionRunner over one read-model database: the service, `cli rebuild`
 * and the tests use this one list.
 * Call it once per database: some projections keep per-instance caches.
 */
export function createLedgerProjections(): Projection[] {
  return [
    payeeDirectoryProjection,
    dealsProjection,
    createAttainmentProjection(),
    createStatementsProjection(),
    createAuditTrailProjection(),
    disputesProjection,
    disputeProcessStateProjection,
    createPayoutsProjection(),
    createLedgerProjection(),
  ];
}
