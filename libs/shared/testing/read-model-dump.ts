import type { ReadModelDb } from '#lib/projections/read-model.port.js';
import type { Projection } from '#lib/projections/projection.js';
import { CHECKPOINT_TABLE } from '#lib/projections/projection-runner.js';

/**
 * Every row of every table the projections declare, each table's rows sorted, so that two read models can be
 * compared with toEqual (a rebuild against the live model, a second rebuild against the first).
 * Checkpoints are left out unless asked for: a live model may legitimately stand at a later position.
 */
export async function dumpReadModel(
  db: ReadModelDb,
  projections: readonly Projection[],
  options: { includeCheckpoints?: boolean } = {},
): Promise<Record<string, unknown[]>> {
  const tables = projections.flatMap((projection) => projection.tables);
  if (options.includeCheckpoints) tables.push(CHECKPOINT_TABLE);
  return db.read(async (reader) => {
    const dump: Record<string, unknown[]> = {};
    for (const table of tables) {
      const rows = await reader.all(`SELECT * FROM ${table}`);
      dump[table] = rows.map((row) => JSON.stringify(row)).sort().map((json) => JSON.parse(json) as unknown);
    }
    return dump;
  });
}
