import { SetMetadata } from '@nestjs/common';

/**
 * The roles of the ledger, as DESIGN.md names them:
 * - rep: their own payee data and their own disputes only;
 * - manager: their team, per the payee hierarchy;
 * - analyst: plans, credits, disputes;
 * - finance: close, approve, audit; everything else read-only;
 * - payroll: payouts, read;
 * - admin: everything.
 */
export const roles = ['rep', 'manager', 'analyst', 'finance', 'payroll', 'admin'] as const;
export type Role = (typeof roles)[number];

export const ROLES_METADATA = 'incentive-ledger:roles';
export const PUBLIC_METADATA = 'incentive-ledger:public';

/** The roles allowed to call a route (or every route of a controller). A route without it is admin only. */
export const Roles = (...allowed: Role[]) => SetMetadata(ROLES_METADATA, allowed);

/** A route anyone may call without a token: health and the API docs only. */
export const Public = () => SetMetadata(PUBLIC_METADATA, true);
