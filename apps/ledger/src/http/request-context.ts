import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import type { CommandContext } from '#lib/shared/application/command-context.js';
import type { Actor } from '#lib/event-store/event-store.port.js';
import type { PayeeAccess } from '#lib/organization/application/payee-access.js';
import { validationError } from '#lib/shared/domain/domain-error.js';
import type { Principal } from './auth/bearer-tokens.js';

export interface AuthenticatedRequest extends Request {
  /** Who the request acts as: the verified token's subject and role, set by the access guard. */
  actor?: Actor;
  principal?: Principal;
  /** Whose payee data the caller may see, set by the access guard. */
  payeeAccess?: PayeeAccess;
  correlationId?: string;
}

/** The request's actor; a route that reaches a command without one was not authorized, which is a programming error. */
export function actorOf(request: AuthenticatedRequest): Actor {
  if (request.actor === undefined) throw new Error(`${request.method} ${request.path} reached a command without an authenticated actor`);
  return request.actor;
}

const idempotencyKeyPattern = /^[A-Za-z0-9._:-]{8,128}$/;

export function idempotencyKeyOf(request: Request): string | null {
  const key = request.header('idempotency-key');
  if (key === undefined) return null;
  if (!idempotencyKeyPattern.test(key)) {
    throw validationError('REQUEST.IDEMPOTENCY_KEY_INVALID', 'Idempotency-Key must be 8 to 128 characters of letters, digits, ".", "_", ":" or "-"', [
      { field: 'Idempotency-Key', message: 'must be 8 to 128 characters of letters, digits, ".", "_", ":" or "-"' },
    ]);
  }
  return key;
}

/** Parses If-Match: a strong ETag holding the stream revision the client read, e.g. "3". */
export function expectedRevisionOf(request: Request): number | undefined {
  const header = request.header('if-match');
  if (header === undefined) return undefined;
  const match = /^"?(-1|\d{1,15})"?$/.exec(header.trim());
  if (!match) {
    throw validationError('REQUEST.IF_MATCH_INVALID', 'If-Match must be the ETag of the resource as read, e.g. "3"', [
      { field: 'If-Match', message: 'must be the ETag of the resource as read, e.g. "3"' },
    ]);
  }
  return Number(match[1]);
}

export function correlationIdOf(request: AuthenticatedRequest): string {
  if (!request.correlationId) {
    const given = request.header('x-correlation-id');
    request.correlationId = given && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
  }
  return request.correlationId;
}

/** Builds the context a command handler needs from an HTTP request. */
export function commandContextOf(request: AuthenticatedRequest): CommandContext {
  return {
    actor: actorOf(request),
    correlationId: correlationIdOf(request),
    causationId: null,
    commandId: idempotencyKeyOf(request),
    expectedRevision: expectedRevisionOf(request),
    now: () => new Date(),
    newId: () => randomUUID(),
  };
}
