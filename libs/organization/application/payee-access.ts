import type { ReadModelReader, SqlParameter } from '#lib/projections/read-model.port.js';

/**
 * Whose payee data a caller may see, from the payee hierarchy in the payee directory read model:
 * - `all`: every payee (analyst, finance, payroll, admin, as their routes allow);
 * - `payee`: one payee, the caller's own (a rep);
 * - `team`: a manager's own data and that of everyone whose current manager chain leads to them.
 * The chain is the latest one recorded (docs/decisions/0012-payee-scope.md).
 */
export type PayeeAccess = { kind: 'all' } | { kind: 'payee'; payeeId: string } | { kind: 'team'; managerId: string };

export const everyPayee: PayeeAccess = { kind: 'all' };

/** A manager chain deeper than this is treated as broken rather than followed for ever. */
const chainDepthMax = 64;

/** The manager's team as one SQL subquery: themselves and everyone below them. UNION drops repeats, so a cycle ends. */
const teamSubquery = `WITH RECURSIVE team(payee_id) AS (
    SELECT ? UNION SELECT payees.payee_id FROM payees JOIN team ON payees.manager_id = team.payee_id
  ) SELECT payee_id FROM team`;

/**
 * The condition that keeps rows whose `column` holds a payee the caller may see, for a list query's WHERE
 * clause; null when nothing needs restricting.
 */
export function payeeAccessCondition(column: string, access: PayeeAccess | undefined): { sql: string; parameters: SqlParameter[] } | null {
  if (access === undefined || access.kind === 'all') return null;
  if (access.kind === 'payee') return { sql: `${column} = ?`, parameters: [access.payeeId] };
  return { sql: `${column} IN (${teamSubquery})`, parameters: [access.managerId] };
}

/**
 * Whether the caller may see one payee's data when that needs no read model (everyone's, one's own, a manager's own),
 * or undefined when it takes the hierarchy (a manager and another payee).
 */
export function payeeAccessWithoutHierarchy(access: PayeeAccess, payeeId: string): boolean | undefined {
  switch (access.kind) {
    case 'all':
      return true;
    case 'payee':
      return access.payeeId === payeeId;
    case 'team':
      return access.managerId === payeeId ? true : undefined;
  }
}

/** Whether the caller may see one payee's data: for a manager, whether the payee's manager chain leads to them. */
export async function canAccessPayee(reader: ReadModelReader, access: PayeeAccess, payeeId: string): Promise<boolean> {
  switch (access.kind) {
    case 'all':
      return true;
    case 'payee':
      return access.payeeId === payeeId;
    case 'team': {
      if (access.managerId === payeeId) return true;
      const row = await reader.get(
        `WITH RECURSIVE chain(payee_id, depth) AS (
           SELECT manager_id, 1 FROM payees WHERE payee_id = ?
           UNION ALL
           SELECT payees.manager_id, chain.depth + 1 FROM payees JOIN chain ON payees.payee_id = chain.payee_id WHERE chain.depth < ?
         ) SELECT 1 AS found FROM chain WHERE payee_id = ? LIMIT 1`,
        [payeeId, chainDepthMax, access.managerId],
      );
      return row !== undefined;
    }
  }
}
