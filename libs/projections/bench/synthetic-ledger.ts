import { randomUUID } from 'node:crypto';
import type { EventStore, NewEvent } from '#lib/event-store/event-store.port.js';
import type { DomainEvent } from '#lib/shared/domain/decider.js';
import { payeeDecider, payeeStreamId, type PayeeCommand, type PayeeState } from '#lib/organization/domain/payee.decider.js';
import { dealDecider, dealStreamId, type DealCommand, type DealState } from '#lib/crediting/domain/deal.decider.js';

/**
 * Writes a realistic event log quickly, for rebuild and load measurements: payees under managers with
 * quarterly quotas, deals split between two reps with a manager overlay, some amended, some cancelled.
 * Events are made by the real deciders (so their data is what the application writes) and appended directly,
 * many streams at a time, which lets the store group-commit them.
 */
export interface SyntheticLedgerShape {
  payees: number;
  deals: number;
  /** Every n-th deal is amended. */
  amendEvery?: number;
  /** Every n-th deal is cancelled. */
  cancelEvery?: number;
}

const metadata = {
  actor: { id: 'synthetic', role: 'admin' },
  correlationId: 'synthetic',
  causationId: null,
  commandId: null,
  occurredAt: '2026-01-01T00:00:00.000Z',
};

const toNew = (events: DomainEvent[]): NewEvent[] =>
  events.map((event) => ({ eventId: randomUUID(), type: event.type, schemaVersion: 1, data: event.data, metadata }));

/** Returns how many events it appended. */
export async function writeSyntheticLedger(store: EventStore, shape: SyntheticLedgerShape): Promise<number> {
  const amendEvery = shape.amendEvery ?? 5;
  const cancelEvery = shape.cancelEvery ?? 17;
  let appended = 0;
  const managers = Math.max(1, Math.floor(shape.payees / 10));
  const payeeIds = Array.from({ length: shape.payees }, (_, index) => `p${index}`);

  const onboard = async (payeeId: string, index: number) => {
    let state: PayeeState = payeeDecider.initialState();
    const managerId = index < managers ? null : `p${index % managers}`;
    const commands: PayeeCommand[] = [
      {
        type: 'OnboardPayee',
        payeeId,
        name: `Payee ${payeeId}`,
        managerId,
        territory: `T${index % 7}`,
        currency: 'EUR',
        startDate: '2026-01-01',
        manager: { found: managerId !== null, managersAbove: [] },
      },
      ...['2026-Q1', '2026-Q2', '2026-Q3', '2026-Q4'].map(
        (periodId): PayeeCommand => ({ type: 'SetQuota', payeeId, periodId, measure: 'bookings', amount: `${100000 + index}`, currency: 'EUR' }),
      ),
    ];
    const events: DomainEvent[] = [];
    for (const command of commands) {
      const decided = payeeDecider.decide(command, state);
      for (const event of decided) state = payeeDecider.evolve(state, event);
      events.push(...decided);
    }
    await store.append(payeeStreamId(payeeId), toNew(events), 'no_stream');
    appended += events.length;
  };
  await Promise.all(payeeIds.filter((_, index) => index < managers).map((payeeId) => onboard(payeeId, Number(payeeId.slice(1)))));
  await inChunks(payeeIds.slice(managers), 500, (payeeId) => onboard(payeeId, Number(payeeId.slice(1))));

  const dealIndexes = Array.from({ length: shape.deals }, (_, index) => index);
  await inChunks(dealIndexes, 500, async (index) => {
    const dealId = `d${index}`;
    const first = payeeIds[managers + (index % (shape.payees - managers))] ?? payeeIds[0];
    const second = payeeIds[managers + ((index * 7 + 3) % (shape.payees - managers))] ?? payeeIds[0];
    const manager = payeeIds[index % managers];
    const month = String((index % 12) + 1).padStart(2, '0');
    const commands: DealCommand[] = [
      {
        type: 'CloseDealWon',
        dealId,
        ownerPayeeId: first,
        amount: `${1000 + (index % 997)}.${String(index % 100).padStart(2, '0')}`,
        currency: 'EUR',
        closeDate: `2026-${month}-15`,
        product: index % 2 === 0 ? 'Ledger Pro' : 'Ledger Lite',
        dealType: 'new_business',
        primarySplits: first === second ? undefined : [{ payeeId: first, sharePercent: '60' }, { payeeId: second, sharePercent: '40' }],
        overlays: [{ payeeId: manager, sharePercent: '100', role: 'manager' }],
        knownPayeeIds: payeeIds,
      },
    ];
    if (index % amendEvery === 0) commands.push({ type: 'AmendDeal', dealId, amount: `${2000 + (index % 991)}`, reason: 'Repriced' });
    if (index % cancelEvery === 0) commands.push({ type: 'CancelDeal', dealId, cancelDate: '2026-12-31', reason: 'Withdrawn' });
    let state: DealState = dealDecider.initialState();
    const events: DomainEvent[] = [];
    for (const command of commands) {
      const decided = dealDecider.decide(command, state);
      for (const event of decided) state = dealDecider.evolve(state, event);
      events.push(...decided);
    }
    await store.append(dealStreamId(dealId), toNew(events), 'no_stream');
    appended += events.length;
  });
  return appended;
}

async function inChunks<Item>(items: readonly Item[], size: number, work: (item: Item) => Promise<void>): Promise<void> {
  for (let start = 0; start < items.length; start += size) await Promise.all(items.slice(start, start + size).map(work));
}
