import { createHash, type Hash } from 'node:crypto';
import type { Statement, StatementLine } from '#lib/commissions/domain/statement.js';
import { sourcesText } from '#lib/statements/application/statement-tables.js';
import type { FrozenPostedLine } from '../domain/period.decider.js';

/**
 * The digest of a frozen statement: SHA-256 over its content in a fixed text form. It covers every engine line (its id,
 * which names period, payee, component, credit and tier; its kind, amount and plan version; the events it came from,
 * by event id and log position, which pin the inputs), the totals, attainment and held credits, and the lines posted
 * to the period (adjustments, clawbacks). Anyone can recompute the statement from the
 * log at the frozen log position, add the posted lines the freeze lists, and compare.
 *
 * The text is built from the statements read model's rows when a period closes and from a recomputed Statement when
 * it is checked; both spell each field the way the read model stores it, so the two agree byte for byte.
 */

export const DIGEST_PREFIX = 'sha256:';
const FIELD = '\u001f';
const RECORD = '\n';

/** The statement fields the digest covers, as the read model stores them. */
export interface DigestHeader {
  payeeId: string;
  periodId: string;
  currency: string;
  payable: string;
  held: string;
  /** JSON as stored: JSON.stringify(statement.attainment). */
  attainmentJson: string;
  /** JSON as stored: JSON.stringify(statement.heldCredits). */
  heldCreditsJson: string;
}

/** What the digest takes of a line; the line id already names its period, payee, component, credit and tier. */
export interface DigestLine {
  lineId: string;
  kind: string;
  amount: string;
  planVersionId: string | null;
  /** As stored: sourcesText(line.sources). */
  sourcesText: string;
}

/** Builds a digest incrementally: the header, each engine line in statement order, then the posted lines. */
export class StatementDigestBuilder {
  private readonly hash: Hash = createHash('sha256');
  /** Lines not hashed yet: hashing them a statement at a time is several times cheaper than a line at a time. */
  private pending = '';

  constructor(header: DigestHeader) {
    this.hash.update(['statement.v2', header.payeeId, header.periodId, header.currency, header.payable, header.held, header.attainmentJson, header.heldCreditsJson].join(FIELD));
  }

  line(line: DigestLine): this {
    this.pending += `${RECORD}line${FIELD}${line.lineId}${FIELD}${line.kind}${FIELD}${line.amount}${FIELD}${line.planVersionId ?? ''}${FIELD}${line.sourcesText}`;
    if (this.pending.length > 65_536) this.seal();
    return this;
  }

  /** Hashes the lines given so far. */
  seal(): this {
    if (this.pending !== '') this.hash.update(this.pending);
    this.pending = '';
    return this;
  }

  /** The digest with these posted lines; the builder stays usable (a retried close finishes it again). */
  finish(postedLines: readonly FrozenPostedLine[]): string {
    this.seal();
    const hash = this.hash.copy();
    const sorted = [...postedLines].sort((left, right) => (left.lineId < right.lineId ? -1 : left.lineId > right.lineId ? 1 : 0));
    for (const posted of sorted) hash.update(RECORD + ['posted', posted.lineId, posted.kind, posted.amount].join(FIELD));
    return DIGEST_PREFIX + hash.digest('hex');
  }
}

export const digestHeaderOf = (statement: Statement): DigestHeader => ({
  payeeId: statement.payeeId,
  periodId: statement.periodId,
  currency: statement.currency,
  payable: statement.totals.payable,
  held: statement.totals.held,
  attainmentJson: JSON.stringify(statement.attainment),
  heldCreditsJson: JSON.stringify(statement.heldCredits),
});

export const digestLineOf = (line: StatementLine): DigestLine => ({
  lineId: line.lineId,
  kind: line.kind,
  amount: line.amount,
  planVersionId: line.planVersionId,
  sourcesText: sourcesText(line.sources),
});

/** The digest of an engine statement with the lines posted to its period. */
export function statementDigestOf(statement: Statement, postedLines: readonly FrozenPostedLine[]): string {
  const builder = new StatementDigestBuilder(digestHeaderOf(statement));
  for (const line of statement.lines) builder.line(digestLineOf(line));
  return builder.finish(postedLines);
}
