import { createParamDecorator, Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { canAccessPayee, everyPayee, payeeAccessWithoutHierarchy, type PayeeAccess } from '#lib/organization/application/payee-access.js';
import type { ReadModelDb, ReadModelReader } from '#lib/projections/read-model.port.js';
import { DomainError, notFoundError } from '#lib/shared/domain/domain-error.js';
import { READ_MODEL_DB } from '../../ledger.tokens.js';
import { ReadConsistency } from '../read-consistency.js';
import type { AuthenticatedRequest } from '../request-context.js';
import type { Principal, TokenVerifier } from './bearer-tokens.js';
import { PAYEE_RESOLVERS, type PayeeResolvers } from './payee-resolvers.js';
import { PAYEE_SCOPE_METADATA, PUBLIC_METADATA, ROLES_METADATA, type PayeeScopeOptions, type Role } from './roles.js';

export const TOKEN_VERIFIER = Symbol('TokenVerifier');

/** The roles a route admits: those of @Roles (method over controller), admin always; a route without @Roles is admin only. */
export function rolesAllowed(reflector: Reflector, context: Pick<ExecutionContext, 'getHandler' | 'getClass'>): ReadonlySet<Role> {
  const declared = reflector.getAllAndOverride<Role[] | undefined>(ROLES_METADATA, [context.getHandler(), context.getClass()]) ?? [];
  return new Set<Role>([...declared, 'admin']);
}

/** Whose payee data a principal may see: reps their own, managers their team, every other role everyone's. */
export function payeeAccessOf(principal: Principal): PayeeAccess {
  switch (principal.actor.role) {
    case 'rep':
      return { kind: 'payee', payeeId: principal.payeeId as string };
    case 'manager':
      return { kind: 'team', managerId: principal.payeeId as string };
    default:
      return everyPayee;
  }
}

/** The payee ids found at a body path: `payeeId`, `splits[].payeeId`, `deal.ownerPayeeId`. */
function valuesAt(value: unknown, path: string): string[] {
  const [head, ...rest] = path.split('.');
  const isArray = head.endsWith('[]');
  const field = isArray ? head.slice(0, -2) : head;
  const next = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[field] : undefined;
  const items = isArray ? (Array.isArray(next) ? next : []) : [next];
  if (rest.length > 0) return items.flatMap((item) => valuesAt(item, rest.join('.')));
  return items.filter((item): item is string => typeof item === 'string');
}

/**
 * The one place where the ledger decides who may call what, on every route:
 * 1. a @Public route passes (health; the API docs are served outside the router);
 * 2. anything else needs a valid bearer token (401 otherwise), whose subject and role become the request's actor;
 * 3. the role must be one the route admits (@Roles; admin always; none declared: admin only), else 403;
 * 4. a rep or a manager must stay within their payee scope as the route declares it (@PayeeScope): a payee outside
 *    it answers 404 (existence does not leak) and list routes get the caller's access to filter their rows.
 * Guards run before interceptors, pipes and handlers, so a refused command appends nothing.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(TOKEN_VERIFIER) private readonly verifier: TokenVerifier,
    @Inject(READ_MODEL_DB) private readonly readModels: ReadModelDb,
    @Inject(PAYEE_RESOLVERS) private readonly resolvers: PayeeResolvers,
    private readonly consistency: ReadConsistency,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_METADATA, targets) === true) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const principal = await this.verifier.verifyAuthorization(request.header('authorization'));
    request.actor = principal.actor;
    request.principal = principal;
    const role = principal.actor.role;
    if (!rolesAllowed(this.reflector, context).has(role)) {
      throw new DomainError('AUTH.ROLE_FORBIDDEN', `The ${role} role may not ${request.method} ${request.route?.path ?? request.path}`, 'forbidden');
    }
    const access = payeeAccessOf(principal);
    request.payeeAccess = access;
    if (access.kind === 'all') return true;
    const scope = this.reflector.getAllAndOverride<PayeeScopeOptions | undefined>(PAYEE_SCOPE_METADATA, targets);
    if (scope === undefined) {
      // A programming error, caught by the route authorization test: a route admitting reps or managers must say whose data it touches.
      throw new Error(`${context.getClass().name}.${context.getHandler().name} admits the ${role} role but declares no @PayeeScope`);
    }
    await this.checkScope(request, scope, access);
    return true;
  }

  private async checkScope(request: AuthenticatedRequest, scope: PayeeScopeOptions, access: PayeeAccess): Promise<void> {
    const waitForPosition = request.query?.waitForPosition;
    // The hierarchy is a read model: a caller who waits for their own write is checked against it too.
    if (typeof waitForPosition === 'string') await this.consistency.waitFor(waitForPosition);
    const named: { payeeId: string; denied: () => DomainError }[] = [];
    const payeeNotFound = (payeeId: string) => notFoundError('PAYEE.NOT_FOUND', `Payee ${payeeId} is not found`);
    const forbidden = () => new DomainError('AUTH.SCOPE_FORBIDDEN', `The ${request.actor?.role} role may only act on payees in their own scope`, 'forbidden');
    const denial = (payeeId: string) => (scope.deny === 'forbidden' ? forbidden : () => payeeNotFound(payeeId));
    if (scope.param !== undefined) {
      const payeeId = request.params?.[scope.param];
      if (typeof payeeId === 'string') named.push({ payeeId, denied: denial(payeeId) });
    }
    if (scope.query !== undefined) {
      const payeeId = request.query?.[scope.query];
      if (typeof payeeId === 'string') named.push({ payeeId, denied: denial(payeeId) });
    }
    for (const path of scope.body ?? []) {
      for (const payeeId of valuesAt(request.body, path)) named.push({ payeeId, denied: denial(payeeId) });
    }
    // A rep's own payee or a manager's own needs no read model: the database is asked only about the others.
    const hierarchyChecks = named.filter(({ payeeId, denied }) => {
      const allowed = payeeAccessWithoutHierarchy(access, payeeId);
      if (allowed === false) throw denied();
      return allowed === undefined;
    });
    if (hierarchyChecks.length > 0 || scope.resolve !== undefined) {
      await this.readModels.read(async (reader) => {
        for (const { payeeId, denied } of hierarchyChecks) {
          if (!(await canAccessPayee(reader, access, payeeId))) throw denied();
        }
        if (scope.resolve !== undefined) await this.checkResolved(reader, request, scope, access);
      });
    }
    if (named.length === 0 && scope.resolve === undefined && scope.list !== true) {
      throw new Error(`${request.method} ${request.path} declares a @PayeeScope that names no payee`);
    }
  }

  private async checkResolved(reader: ReadModelReader, request: AuthenticatedRequest, scope: PayeeScopeOptions, access: PayeeAccess): Promise<void> {
    const { kind, param } = scope.resolve as NonNullable<PayeeScopeOptions['resolve']>;
    const resolver = this.resolvers[kind];
    if (resolver === undefined) throw new Error(`No payee resolver is registered for "${kind}"`);
    const id = String(request.params?.[param] ?? '');
    for (const payeeId of await resolver.payeesOf(reader, id)) {
      if (await canAccessPayee(reader, access, payeeId)) return;
    }
    throw scope.deny === 'forbidden'
      ? new DomainError('AUTH.SCOPE_FORBIDDEN', `The ${request.actor?.role} role may only act on records of payees in their own scope`, 'forbidden')
      : resolver.notFound(id);
  }
}

/** The caller's payee access, for a list route to restrict its rows (`@PayeeScope({ list: true })`). */
export const CallerAccess = createParamDecorator((_: unknown, context: ExecutionContext): PayeeAccess => {
  const access = context.switchToHttp().getRequest<AuthenticatedRequest>().payeeAccess;
  if (access === undefined) throw new Error('CallerAccess is read on a route the access guard did not authorize');
  return access;
});
