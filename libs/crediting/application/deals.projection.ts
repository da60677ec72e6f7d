import type { RecordedEvent } from '#lib/event-store/event-store.port.js';
import { assertNever } from '#lib/shared/domain/decider.js';
import type { Projection } from '#lib/projections/projection.js';
import type { ReadModelTransaction, SqlParameter } from '#lib/projections/read-model.port.js';
import { insertRows } from '#lib/projections/sql-rows.js';
import { DEAL_EVENT_TYPES, DEAL_STREAM_PREFIX, type Credit, type DealEvent } from '../domain/deal.decider.js';

/**
 * Deals as they stand (`deals`, whose `credits` column holds the current credits as JSON, in allocation order)
 * and each payee's current credits (`deal_credits`, keyed by payee then credit id: the only way it is read).
 * Amount maps are JSON text of decimal strings. A cancelled deal keeps its row with status 'cancelled' and has
 * no credits left, as in the deal stream.
 *
 * Within a batch each deal is kept in memory and written once at `flush`, with multi-row statements. That
 * state belongs to the batch's transaction (not to the projection object), so one instance can serve several
 * runners, and a rolled-back batch leaves nothing behind.
 */

interface DealRowState {
  dealId: string;
  ownerPayeeId: string;
  status: 'won' | 'cancelled';
  amount: string;
  currency: string;
  closeDate: string;
  cancelDate: string | null;
  product: string;
  dealType: string;
  measuresJson: string;
  territory: string | null;
  creditDate: string | null;
  amendments: number;
  revision: number;
  position: number;
  credits: readonly Credit[];
  /** The deal row may already be stored (false for a deal that closed in this batch). */
  stored: boolean;
  /** The credits stored before this batch changed them: their payee rows may have to go. */
  storedCredits: readonly Credit[];
  creditsChanged: boolean;
  creditsPosition: number;
}

interface DealRow {
  deal_id: string;
  owner_payee_id: string;
  status: 'won' | 'cancelled';
  amount: string;
  currency: string;
  close_date: string;
  cancel_date: string | null;
  product: string;
  deal_type: string;
  measures: string;
  territory: string | null;
  credit_date: string | null;
  credits: string;
  amendments: number;
  revision: number;
  position: number;
}

const DEAL_COLUMNS =
  'deal_id, owner_payee_id, status, amount, currency, close_date, cancel_date, product, deal_type, measures, territory, credit_date, credits, amendments, revision, position';

const batches = new WeakMap<ReadModelTransaction, Map<string, DealRowState>>();

function batchOf(transaction: ReadModelTransaction): Map<string, DealRowState> {
  let batch = batches.get(transaction);
  if (batch === undefined) {
    batch = new Map();
    batches.set(transaction, batch);
  }
  return batch;
}

async function loadDeal(transaction: ReadModelTransaction, dealId: string): Promise<DealRowState> {
  const row = await transaction.get<DealRow>(`SELECT ${DEAL_COLUMNS} FROM deals WHERE deal_id = ?`, [dealId]);
  if (row === undefined) throw new Error(`Deal ${dealId} changed before it was closed won`);
  const credits = JSON.parse(row.credits) as Credit[];
  const deal: DealRowState = {
    dealId: row.deal_id,
    ownerPayeeId: row.owner_payee_id,
    status: row.status,
    amount: row.amount,
    currency: row.currency,
    closeDate: row.close_date,
    cancelDate: row.cancel_date,
    product: row.product,
    dealType: row.deal_type,
    measuresJson: row.measures,
    territory: row.territory,
    creditDate: row.credit_date,
    amendments: row.amendments,
    revision: row.revision,
    position: row.position,
    credits,
    stored: true,
    storedCredits: credits,
    creditsChanged: false,
    creditsPosition: 0,
  };
  batchOf(transaction).set(dealId, deal);
  return deal;
}

function applyChange(deal: DealRowState, event: Exclude<DealEvent, { type: 'DealClosedWon' }> & RecordedEvent): void {
  deal.revision = event.revision;
  deal.position = event.position;
  switch (event.type) {
    case 'CreditsAllocated':
      deal.creditDate = event.data.creditDate;
      replaceCredits(deal, event.data.credits, event.position);
      return;
    case 'DealAmended': {
      const { amount, measures, closeDate, product, credits } = event.data;
      deal.amount = amount;
      deal.measuresJson = JSON.stringify(measures);
      deal.closeDate = closeDate;
      deal.product = product;
      deal.amendments += 1;
      deal.creditDate = credits[0]?.creditDate ?? deal.creditDate;
      replaceCredits(deal, credits, event.position);
      return;
    }
    case 'DealCancelled':
      deal.status = 'cancelled';
      deal.cancelDate = event.data.cancelDate;
      replaceCredits(deal, [], event.position);
      return;
    default:
      return assertNever(event);
  }
}

function replaceCredits(deal: DealRowState, credits: readonly Credit[], position: number): void {
  deal.credits = credits;
  deal.creditsChanged = true;
  deal.creditsPosition = position;
}

const toDealRow = (deal: DealRowState): SqlParameter[] => [
  deal.dealId,
  deal.ownerPayeeId,
  deal.status,
  deal.amount,
  deal.currency,
  deal.closeDate,
  deal.cancelDate,
  deal.product,
  deal.dealType,
  deal.measuresJson,
  deal.territory,
  deal.creditDate,
  JSON.stringify(deal.credits),
  deal.amendments,
  deal.revision,
  deal.position,
];

const CREDIT_COLUMNS = 'payee_id, credit_id, deal_id, kind, role, share_percent, currency, credit_date, amounts, position';

async function flush(transaction: ReadModelTransaction): Promise<void> {
  const deals = [...batchOf(transaction).values()];
  batches.delete(transaction);

  // Deals closed in this batch are new rows; the others already have one to update.
  await insertRows(transaction, `INSERT INTO deals (${DEAL_COLUMNS})`, deals.filter((deal) => !deal.stored).map(toDealRow));
  await insertRows(
    transaction,
    `INSERT INTO deals (${DEAL_COLUMNS})`,
    deals.filter((deal) => deal.stored).map(toDealRow),
    `ON CONFLICT (deal_id) DO UPDATE SET
       status = excluded.status, amount = excluded.amount, close_date = excluded.close_date, cancel_date = excluded.cancel_date,
       product = excluded.product, measures = excluded.measures, credit_date = excluded.credit_date, credits = excluded.credits,
       amendments = excluded.amendments, revision = excluded.revision, position = excluded.position`,
  );

  const creditRows: SqlParameter[][] = [];
  const changedCreditRows: SqlParameter[][] = [];
  for (const deal of deals) {
    if (!deal.creditsChanged) continue;
    // Credit ids are stable across amendments, so most changes overwrite rows; only credits that went away are deleted.
    for (const gone of deal.storedCredits) {
      if (!deal.credits.some((credit) => credit.creditId === gone.creditId)) {
        await transaction.run('DELETE FROM deal_credits WHERE payee_id = ? AND credit_id = ?', [gone.payeeId, gone.creditId]);
      }
    }
    const rows = deal.stored ? changedCreditRows : creditRows;
    for (const credit of deal.credits) {
      rows.push([
        credit.payeeId,
        credit.creditId,
        credit.dealId,
        credit.kind,
        credit.role,
        credit.sharePercent,
        credit.currency,
        credit.creditDate,
        JSON.stringify(credit.amounts),
        deal.creditsPosition,
      ]);
    }
  }
  await insertRows(transaction, `INSERT INTO deal_credits (${CREDIT_COLUMNS})`, creditRows);
  await insertRows(
    transaction,
    `INSERT INTO deal_credits (${CREDIT_COLUMNS})`,
    changedCreditRows,
    `ON CONFLICT (payee_id, credit_id) DO UPDATE SET
       kind = excluded.kind, role = excluded.role, share_percent = excluded.share_percent, currency = excluded.currency,
       credit_date = excluded.credit_date, amounts = excluded.amounts, position = excluded.position`,
  );
}

export const dealsProjection: Projection = {
  name: 'deals',
  // 2: deals carry their territory.
  version: 2,
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
      territory      TEXT,
      credit_date    TEXT,
      credits        TEXT NOT NULL,
      amendments     INTEGER NOT NULL,
      revision       INTEGER NOT NULL,
      position       INTEGER NOT NULL
    )`);
    await transaction.run('CREATE INDEX IF NOT EXISTS deals_owner ON deals (owner_payee_id, deal_id)');
    await transaction.run(`CREATE TABLE IF NOT EXISTS deal_credits (
      payee_id      TEXT NOT NULL,
      credit_id     TEXT NOT NULL,
      deal_id       TEXT NOT NULL,
      kind          TEXT NOT NULL,
      role          TEXT,
      share_percent TEXT NOT NULL,
      currency      TEXT NOT NULL,
      credit_date   TEXT NOT NULL,
      amounts       TEXT NOT NULL,
      position      INTEGER NOT NULL,
      PRIMARY KEY (payee_id, credit_id)
    )`);
  },

  async reset(transaction) {
    batches.delete(transaction);
    await transaction.run('DROP TABLE IF EXISTS deal_credits');
    await transaction.run('DROP TABLE IF EXISTS deals');
  },

  apply(recorded: RecordedEvent, transaction: ReadModelTransaction) {
    const event = recorded as unknown as DealEvent & RecordedEvent;
    if (event.type === 'DealClosedWon') {
      const { dealId, ownerPayeeId, amount, currency, closeDate, product, dealType, measures, territory } = event.data;
      batchOf(transaction).set(dealId, {
        dealId,
        ownerPayeeId,
        status: 'won',
        amount,
        currency,
        closeDate,
        cancelDate: null,
        product,
        dealType,
        measuresJson: JSON.stringify(measures),
        territory: territory ?? null,
        creditDate: null,
        amendments: 0,
        revision: recorded.revision,
        position: recorded.position,
        credits: [],
        stored: false,
        storedCredits: [],
        creditsChanged: false,
        creditsPosition: recorded.position,
      });
      return;
    }
    const deal = batchOf(transaction).get(event.data.dealId);
    // Only a deal that closed in an earlier batch has to be read first.
    if (deal === undefined) return loadDeal(transaction, event.data.dealId).then((loaded) => applyChange(loaded, event));
    applyChange(deal, event);
  },

  flush,
};
