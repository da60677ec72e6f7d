import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiForbiddenResponse, ApiSecurity, ApiUnauthorizedResponse } from '@nestjs/swagger';

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
export const Roles = (...allowed: Role[]) =>
  applyDecorators(
    SetMetadata(ROLES_METADATA, allowed),
    ApiUnauthorizedResponse({ description: 'No valid bearer token (Problem Details, code AUTH.*; WWW-Authenticate: Bearer)' }),
    ApiForbiddenResponse({ description: `Roles allowed: ${[...new Set([...allowed, 'admin'])].join(', ')}` }),
  );

/** A route anyone may call without a token: health and the API docs only. */
export const Public = () => applyDecorators(SetMetadata(PUBLIC_METADATA, true), ApiSecurity({}));

export const isRole = (value: unknown): value is Role => typeof value === 'string' && (roles as readonly string[]).includes(value);

export const PAYEE_SCOPE_METADATA = 'incentive-ledger:payee-scope';

/**
 * Where a route names the payees whose data it reads or changes, so that the access guard can hold a rep to their
 * own data and a manager to their team. Every route that lets a rep or a manager in must declare it (a route
 * without it refuses them, and test/architecture/route-authorization.e2e.spec.ts fails).
 *
 * - `param` / `query`: a route parameter or query field holding a payee id;
 * - `body`: body fields holding payee ids; `splits[].payeeId` reads the field of every item of an array;
 * - `resolve`: a route parameter holding the id of a record (e.g. a deal) that a registered resolver
 *   (PAYEE_RESOLVERS) turns into the payees it concerns; the caller needs one of them in scope;
 * - `list`: the route lists rows across payees: the handler restricts its query with `@CallerAccess()`
 *   (a filter naming someone outside the scope then simply matches nothing).
 *
 * A payee outside the caller's scope gets 404 (existence does not leak), or 403 with `deny: 'forbidden'`.
 */
export interface PayeeScopeOptions {
  param?: string;
  query?: string;
  body?: readonly string[];
  resolve?: { kind: string; param: string };
  list?: true;
  deny?: 'not_found' | 'forbidden';
}

export const PayeeScope = (options: PayeeScopeOptions) => SetMetadata(PAYEE_SCOPE_METADATA, options);
