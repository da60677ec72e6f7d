import type { Projection } from '#lib/projections/projection.js';
import { payeeDirectoryProjection } from '#lib/organization/application/payee-directory.projection.js';
import { dealsProjection } from '#lib/crediting/application/deals.projection.js';
import { createAttainmentProjection } from '#lib/attainment/application/attainment.projection.js';
import { createStatementsProjection } from '#lib/statements/application/statements.projection.js';

/** Every read model the service keeps, in one list shared by the service and `cli rebuild`. */
export const ledgerProjections = (): Projection[] => [payeeDirectoryProjection, dealsProjection, createAttainmentProjection(), createStatementsProjection()];
