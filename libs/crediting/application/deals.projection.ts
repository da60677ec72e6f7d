import type { RecordedEvent } from '#lib/event-store/event-store.port.js';
import { assertNever } from '#lib/shared/domain/decider.js';
import type { Projection } from '#lib/projections/projection.js';
import type { ReadModelTransaction } from '#lib/projections/read-model.port.js';
import { DEAL_EVENT_TYPES, DEAL_STREAM_PREFIX, type Credit, type DealEvent } from '../domain/deal.decider.js';

/**
 * Deals as they stand (`deals`) and their current credits (`deal_credits`). Amount maps (measures, credit
 * amounts) are JSON text of decimal strings. A cancelled deal keeps its row with status 'cancelled' and has
 * no credits left, as in the deal stream.
 */
export const dealsProjection: Projection = {
  name: 'deals',
  filter: { streamPrefixes: [DEAL_STREAM_PREFIX], eventTypes: DEAL_EVENT_TYPES },
  tables: ['deals', 'deal_credits'],

  async setup(transaction) {
    await transaction.run(`CREATE TABLE IF NOT EXISTS deals (
      deal_id        TEXT PRIMARY KEY,
      owner_payee_id TEXT NOT NULL,
      status         TEXT NOT NULL,
      amount         TEXT NOT NULL,
      currency       TEXT NOT NULL,
      close_date     TEXT NOT NULL,
      cancel_date    TEXT,
      product        TEXT NOT NULL,
      deal_type      TEXT NOT NULL,
      measures       TEXT NOT NULL,
      credit_date    TEXT,
      amendments     INTEGER NOT NULL,
      revision       INTEGER NOT NULL,
      position       INTEGER NOT NULL
    )`);
    await transaction.run('CREATE INDEX IF NOT EXISTS deals_owner ON deals (owner_payee_id, deal_id)');
    await transaction.run(`CREATE TABLE IF NOT EXISTS deal_credits (
      credit_id     TEXT PRIMARY KEY,
      deal_id       TEXT NOT NULL,
      payee_id      TEXT NOT NULL,
      kind          TEXT NOT NULL,
      role          TEXT,
      share_percent TEXT NOT NULL,
      currency      TEXT NOT NULL,
      credit_date   TEXT NOT NULL,
      amounts       TEXT NOT NULL,
      ordinal       INTEGER NOT NULL,
      position      INTEGER NOT NULL
    )`);
    await transaction.run('CREATE INDEX IF NOT EXISTS deal_credits_deal ON deal_credits (deal_id)');
    await transaction.run('CREATE INDEX IF NOT EXISTS deal_credits_payee ON deal_credits (payee_id, credit_date, credit_id)');
  },

  async reset(transaction) {
    await transaction.run('DROP TABLE IF EXISTS deal_credits');
    await transaction.run('DROP TABLE IF EXISTS deals');
  },

  async apply(recorded: RecordedEvent, transaction: ReadModelTransaction) {
    const event = recorded as unknown as DealEvent & RecordedEvent;
    const { revision, position } = recorded;
    switch (event.type) {
      case 'DealClosedWon': {
        const { dealId, ownerPayeeId, amount, currency, closeDate, product, dealType, measures } = event.data;
        await transaction.run(
          `INSERT INTO deals (deal_id, owner_payee_id, status, amount, currency, close_date, cancel_date, product, deal_type, measures,
                              credit_date, amendments, revision, position)
           VALUES (?, ?, 'won', ?, ?, ?, NULL, ?, ?, ?, NULL, 0, ?, ?)`,
          [dealId, ownerPayeeId, amount, currency, closeDate, product, dealType, JSON.stringify(measures), revision, position],
        );
        return;
      }
      case 'CreditsAllocated': {
        const { dealId, creditDate, credits } = event.data;
        await replaceCredits(transaction, dealId, credits, position);
        await transaction.run('UPDATE deals SET credit_date = ?, revision = ?, position = ? WHERE deal_id = ?', [creditDate, revision, position, dealId]);
        return;
      }
      case 'DealAmended': {
        const { dealId, amount, measures, closeDate, product, credits } = event.data;
        await replaceCredits(transaction, dealId, credits, position);
        await transaction.run(
          `UPDATE deals SET amount = ?, measures = ?, close_date = ?, product = ?, credit_date = ?, amendments = amendments + 1,
                            revision = ?, position = ?
           WHERE deal_id = ?`,
          [amount, JSON.stringify(measures), closeDate, product, credits[0]?.creditDate ?? closeDate, revision, position, dealId],
        );
        return;
      }
      case 'DealCancelled': {
        const { dealId, cancelDate } = event.data;
        await replaceCredits(transaction, dealId, [], position);
        await transaction.run("UPDATE deals SET status = 'cancelled', cancel_date = ?, revision = ?, position = ? WHERE deal_id = ?", [
          cancelDate,
          revision,
          position,
          dealId,
        ]);
        return;
      }
      default:
        return assertNever(event);
    }
  },
};

async function replaceCredits(transaction: ReadModelTransaction, dealId: string, credits: readonly Credit[], position: number): Promise<void> {
  await transaction.run('DELETE FROM deal_credits WHERE deal_id = ?', [dealId]);
  for (const [ordinal, credit] of credits.entries()) {
    await transaction.run(
      `INSERT INTO deal_credits (credit_id, deal_id, payee_id, kind, role, share_percent, currency, credit_date, amounts, ordinal, position)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        credit.creditId,
        credit.dealId,
        credit.payeeId,
        credit.kind,
        credit.role,
        credit.sharePercent,
        credit.currency,
        credit.creditDate,
        JSON.stringify(credit.amounts),
        ordinal,
        position,
      ],
    );
  }
}
