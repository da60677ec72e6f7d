import type { ReadModelDb, SqlParameter } from '#lib/projections/read-model.port.js';

/** A write transaction held open after one statement, until `commit()`: for tests of what readers see meanwhile. */
export interface OpenWrite {
  /** Lets the transaction end and waits for its commit. */
  commit(): Promise<void>;
}

/** Runs `sql` in a write transaction of `db` and resolves once it ran, with the transaction still open. */
export async function openWrite(db: ReadModelDb, sql: string, parameters: readonly SqlParameter[]): Promise<OpenWrite> {
  let release!: () => void;
  let inside!: () => void;
  const ran = new Promise<void>((resolve) => (inside = resolve));
  const writing = db.transaction(async (transaction) => {
    await transaction.run(sql, parameters);
    inside();
    await new Promise<void>((resolve) => (release = resolve));
  });
  await Promise.race([ran, writing]);
  return {
    commit: async () => {
      release();
      await writing;
    },
  };
}
