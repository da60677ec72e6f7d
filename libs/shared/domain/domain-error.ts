/**
 * A rejection of a command or query by the domain: a stable code (e.g. `CREDIT.SHARES_NOT_100`),
 * a message a person can read, and optional per-field messages. The HTTP edge maps the `kind`
 * to a status in one place (apps/ledger/src/http/problem-details.filter.ts).
 *
 * Broken invariants (programming errors) are plain `Error`s and surface as 500.
 */
export type DomainErrorKind =
  | 'validation' // 400 / 422: the input is wrong
  | 'not_found' // 404: a referenced thing does not exist
  | 'conflict' // 409: the thing exists in a state that forbids the command
  | 'forbidden' // 403
  | 'unauthenticated' // 401
  | 'unavailable'; // 503: try again shortly

export interface FieldMessage {
  field: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly kind: DomainErrorKind = 'conflict',
    readonly fields: FieldMessage[] = [],
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const validationError = (code: string, message: string, fields: FieldMessage[] = []): DomainError =>
  new DomainError(code, message, 'validation', fields);

export const notFoundError = (code: string, message: string): DomainError => new DomainError(code, message, 'not_found');

export const conflictError = (code: string, message: string): DomainError => new DomainError(code, message, 'conflict');
