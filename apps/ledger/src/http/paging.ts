import { validationError } from '#lib/shared/domain/domain-error.js';

/** ?limit= for list endpoints: 1 to 500; absent means the query's default. */
export function parseListLimit(limit: string | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (!/^\d{1,3}$/.test(limit) || Number(limit) < 1 || Number(limit) > 500) {
    throw validationError('REQUEST.LIMIT_INVALID', 'limit must be an integer from 1 to 500', [{ field: 'limit', message: 'must be an integer from 1 to 500' }]);
  }
  return Number(limit);
}
