import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DomainError, type DomainErrorKind, type FieldMessage } from '#lib/shared/domain/domain-error.js';
import { ConcurrencyError, DuplicateEventIdError } from '#lib/event-store/event-store.port.js';

/**
 * The one place where errors become HTTP answers: RFC 9457 Problem Details with a stable `code` and, for bad
 * input, per-field messages. Clients branch on `code`, never on `detail` text.
 */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  fields?: FieldMessage[];
  instance?: string;
  correlationId?: string;
  [extension: string]: unknown;
}

const statusByKind: Record<DomainErrorKind, number> = {
  validation: HttpStatus.BAD_REQUEST,
  not_found: HttpStatus.NOT_FOUND,
  conflict: HttpStatus.CONFLICT,
  forbidden: HttpStatus.FORBIDDEN,
  unauthenticated: HttpStatus.UNAUTHORIZED,
  unavailable: HttpStatus.SERVICE_UNAVAILABLE,
};

const titleByStatus: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  428: 'Precondition Required',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export const problemType = (code: string): string => `urn:incentive-ledger:problem:${code}`;

export function toProblem(error: unknown): ProblemDetails {
  if (error instanceof DomainError) {
    const status = statusByKind[error.kind];
    return {
      type: problemType(error.code),
      title: titleByStatus[status],
      status,
      detail: error.message,
      code: error.code,
      ...(error.fields.length > 0 ? { fields: error.fields } : {}),
    };
  }
  if (error instanceof ConcurrencyError) {
    return {
      type: problemType(error.code),
      title: titleByStatus[409],
      status: 409,
      detail: `${error.streamId} changed since it was read: it is at revision ${error.actualRevision}. Read it again and retry.`,
      code: error.code,
      currentRevision: error.actualRevision,
    };
  }
  if (error instanceof DuplicateEventIdError) {
    return { type: problemType(error.code), title: titleByStatus[409], status: 409, detail: error.message, code: error.code };
  }
  // Nest wraps body-parser failures in an HttpException whose cause carries body-parser's error type.
  const bodyParserError = (error instanceof HttpException ? error.cause : error) as { type?: string } | undefined;
  if (bodyParserError?.type === 'entity.parse.failed') {
    return {
      type: problemType('REQUEST.MALFORMED_JSON'),
      title: titleByStatus[400],
      status: 400,
      detail: 'The request body is not valid JSON.',
      code: 'REQUEST.MALFORMED_JSON',
    };
  }
  if (bodyParserError?.type === 'entity.too.large') {
    return { type: problemType('REQUEST.TOO_LARGE'), title: titleByStatus[413], status: 413, detail: 'The request body is too large.', code: 'REQUEST.TOO_LARGE' };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const code = status === 404 ? 'HTTP.NOT_FOUND' : status === 405 ? 'HTTP.METHOD_NOT_ALLOWED' : `HTTP.${status}`;
    const response = error.getResponse();
    const detail = typeof response === 'string' ? response : ((response as { message?: unknown }).message ?? error.message);
    return {
      type: problemType(code),
      title: titleByStatus[status] ?? 'Error',
      status,
      detail: Array.isArray(detail) ? detail.join('; ') : String(detail),
      code,
    };
  }
  return {
    type: problemType('INTERNAL'),
    title: titleByStatus[500],
    status: 500,
    detail: 'An unexpected error occurred; it has been logged.',
    code: 'INTERNAL',
  };
}

/** The RFC 6750 challenge of a 401: no error for a request without a token, invalid_token for a refused one. */
export function bearerChallengeOf(problem: ProblemDetails): string {
  if (problem.code === 'AUTH.TOKEN_MISSING') return 'Bearer realm="incentive-ledger"';
  const description = problem.detail.replace(/["\\]/g, "'");
  return `Bearer realm="incentive-ledger", error="invalid_token", error_description="${description}"`;
}

@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const problem = toProblem(error);
    if (problem.status >= 500) this.logger.error(error instanceof Error ? error.stack : String(error));
    if (problem.status === 401) response.setHeader('WWW-Authenticate', bearerChallengeOf(problem));
    problem.instance = request.originalUrl;
    const correlationId = request.header('x-correlation-id');
    if (correlationId) problem.correlationId = correlationId;
    response.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
  }
}
