import { join } from 'node:path';
import Database from 'better-sqlite3';
import { computeStatement } from '#lib/commissions/domain/commission-engine.js';
import type { BenchFigure, BenchSize } from './bench-types.js';
import { orgPlanCapPerPeriod, orgPlanTiers, orgShape, orgSizes, orgStatementInputs } from './synthetic-org.js';

/**
 * A plain-SQL baseline for the commission maths: the synthetic org's tiered plan (three marginal tiers over attainment
 * of the monthly quota, a period cap) computed for every payee-period as ONE SQL query over a table of credits, in the
 * SQLite engine the ledger uses (better-sqlite3), against the commission engine's full recompute of the same credits
 * on one thread. The query takes each credit's running total in its payee-period (a window function in the engine's
 * order: credit date, log position, credit id), cuts it into the tier slices it crosses (a join on the tiers), prices
 * and rounds each slice to the cent as the engine prices a line, sums and caps. Loading the table and its index is
 * not timed; the query is, rows read out included.
 *
 * The totals are then compared as decimal strings. SQLite has no decimal type: amounts are binary floating point and
 * ROUND rounds half away from zero, where the engine uses exact decimals and rounds half to even, so some payee-periods
 * can differ by a cent or more; the table counts them rather than hiding them.
 */
export interface SqlBaselineBenchOptions {
  dir: string;
  size?: BenchSize;
}

export async function runSqlBaselineBench(options: SqlBaselineBenchOptions): Promise<BenchFigure[]> {
  const { payees, deals } = orgSizes[options.size ?? 'medium'];
  const inputs = orgStatementInputs(0, payees, orgShape(payees, deals));
  const credits = inputs.reduce((sum, input) => sum + input.credits.length, 0);

  // The engine, one thread.
  const engineTotals = new Map<string, string>();
  let engineLines = 0;
  const engineStarted = performance.now();
  for (const input of inputs) {
    const statement = computeStatement(input);
    engineLines += statement.lines.length;
    engineTotals.set(`${input.payeeId}/${input.period.id}`, statement.totals.payable);
  }
  const engineMs = performance.now() - engineStarted;

  // The same credits as rows.
  const db = new Database(join(options.dir, 'sql-baseline.sqlite'));
  try {
    db.pragma('journal_mode = WAL');
    db.exec(`
      CREATE TABLE credits (payee_id TEXT NOT NULL, period_id TEXT NOT NULL, credit_date TEXT NOT NULL, position INTEGER NOT NULL,
                            credit_id TEXT NOT NULL, amount REAL NOT NULL, share REAL NOT NULL);
      CREATE TABLE quotas (payee_id TEXT NOT NULL, period_id TEXT NOT NULL, amount REAL NOT NULL, PRIMARY KEY (payee_id, period_id));
      CREATE TABLE tiers (lower_pct REAL NOT NULL, upper_pct REAL, rate REAL NOT NULL);
    `);
    const insertCredit = db.prepare('INSERT INTO credits VALUES (?, ?, ?, ?, ?, ?, ?)');
    const insertQuota = db.prepare('INSERT INTO quotas VALUES (?, ?, ?)');
    const insertTier = db.prepare('INSERT INTO tiers VALUES (?, ?, ?)');
    db.transaction(() => {
      for (const tier of orgPlanTiers) insertTier.run(tier.from, tier.to, Number(tier.rate));
      for (const input of inputs) {
        insertQuota.run(input.payeeId, input.period.id, Number(input.quotas[0]!.amount));
        for (const credit of input.credits) {
          insertCredit.run(input.payeeId, input.period.id, credit.creditDate, credit.position, credit.creditId, Number(credit.amount), Number(credit.share));
        }
      }
    })();
    db.exec('CREATE INDEX credits_in_order ON credits (payee_id, period_id, credit_date, position, credit_id)');
    db.exec('ANALYZE');

    const query = db.prepare(`
      WITH running AS (
        SELECT payee_id, period_id, amount * share AS value,
               SUM(amount * share) OVER (PARTITION BY payee_id, period_id ORDER BY credit_date, position, credit_id ROWS UNBOUNDED PRECEDING) AS after_value
        FROM credits
      ),
      slices AS (
        SELECT r.payee_id, r.period_id,
               ROUND((MIN(r.after_value, COALESCE(t.upper_pct * q.amount / 100.0, r.after_value))
                      - MAX(r.after_value - r.value, t.lower_pct * q.amount / 100.0)) * t.rate, 2) AS line
        FROM running r
        JOIN quotas q ON q.payee_id = r.payee_id AND q.period_id = r.period_id
        JOIN tiers t ON r.after_value > t.lower_pct * q.amount / 100.0
                    AND (t.upper_pct IS NULL OR r.after_value - r.value < t.upper_pct * q.amount / 100.0)
      ),
      earned AS (SELECT payee_id, period_id, SUM(line) AS amount, COUNT(*) AS lines FROM slices GROUP BY payee_id, period_id)
      SELECT q.payee_id, q.period_id, printf('%.2f', MIN(COALESCE(e.amount, 0), ?)) AS payable, COALESCE(e.lines, 0) AS lines
      FROM quotas q LEFT JOIN earned e ON e.payee_id = q.payee_id AND e.period_id = q.period_id
    `);
    const sqlStarted = performance.now();
    const rows = query.all(Number(orgPlanCapPerPeriod)) as { payee_id: string; period_id: string; payable: string; lines: number }[];
    const sqlMs = performance.now() - sqlStarted;

    let agreeing = 0;
    let differing = 0;
    let largestCents = 0;
    let sqlLines = 0;
    for (const row of rows) {
      sqlLines += row.lines;
      const ours = engineTotals.get(`${row.payee_id}/${row.period_id}`);
      if (ours === row.payable) agreeing++;
      else {
        differing++;
        if (ours !== undefined) largestCents = Math.max(largestCents, Math.abs(Math.round(Number(ours) * 100) - Math.round(Number(row.payable) * 100)));
      }
    }
    if (rows.length !== inputs.length) throw new Error(`The SQL baseline gave ${rows.length} payee-periods, the engine ${inputs.length}`);
    const subject = `${inputs.length} payee-periods, ${credits} credits`;
    return [
      { name: `tiered commissions for ${subject}: engine, one thread`, value: round3(engineMs / 1000), unit: 's' },
      { name: `tiered commissions for ${subject}: one SQL query (window function, tiers joined)`, value: round3(sqlMs / 1000), unit: 's' },
      { name: 'tiered commissions: ratio ours/SQL (SQL time / engine time; above 1: the engine is faster)', value: Math.round((sqlMs / engineMs) * 100) / 100, unit: 'x' },
      { name: 'lines priced: engine (commission and cap lines, with explanations)', value: engineLines, unit: 'lines' },
      { name: 'lines priced: SQL (tier slices)', value: sqlLines, unit: 'lines' },
      { name: 'payee-period totals equal to the cent (decimal strings)', value: agreeing, unit: 'payee-periods' },
      { name: 'payee-period totals that differ (SQLite: binary floating point, ROUND half away from zero)', value: differing, unit: 'payee-periods' },
      { name: 'largest difference of a payee-period total', value: largestCents, unit: 'cents' },
    ];
  } finally {
    db.close();
  }
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
