/**
 * The relay against a real broker: what a payroll or forecasting system reads from the feeds (decoded with the
 * generated code, through a plain kafkajs consumer), in what order, with which headers; that rebuilding read models
 * publishes nothing again; and that a relay that dies between the broker's acknowledgement and its checkpoint
 * publishes exactly that batch again, with the same ids, losing nothing.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { fromBinary } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { onboardPayee, setQuota } from '#lib/organization/application/payee-commands.js';
import { amendDeal, cancelDeal, closeDealWon } from '#lib/crediting/application/deal-commands.js';
import type { ClawbackTermsInput } from '#lib/commissions/domain/commission-plan.js';
import { monthlyPlan } from '#lib/statements/testing/statement-sources.fixtures.js';
import { approvePayouts, closePeriod, confirmPayoutsPaid, reopenPeriod } from '#lib/payouts/application/period-commands.js';
import { listPayouts, type PayoutView } from '#lib/payouts/application/payout-queries.js';
import { PayoutReactions } from '#lib/payouts/application/payout-reactions.js';
import { analyst, dealInput, finance as financeActor, onboardPayees, payoutDependencies, payroll, putOnPlan } from '#lib/payouts/testing/payout-fixtures.js';
import { openLedgerHarness, type LedgerHarness } from '#lib/shared/testing/ledger-harness.js';
import { testCommandContext } from '#lib/shared/testing/test-command-context.js';
import { createTempDir } from '#lib/shared/testing/temp-dir.js';
import { payoutIdFor } from '#lib/payouts/domain/payout-id.js';
import { describeWithKafka } from '../../../test/support/kafka/kafka-broker.js';
import { readTopics, type ReadRecord, type TopicReader } from '../../../test/support/kafka/topic-reader.js';
import { PeriodDriver, frozenStatement } from '../../../test/bench/period-driver.js';
import { PayoutEventSchema, type PayoutEvent } from '../contracts/generated/incentive_ledger/payouts/v1/payout_events_pb.js';
import { AttainmentChangedSchema } from '../contracts/generated/incentive_ledger/attainment/v1/attainment_events_pb.js';
import { createKafkaClient } from '../infrastructure/kafka-client.js';
import { KafkaFeedPublisher } from '../infrastructure/kafka-feed-publisher.js';
import { SqliteRelayStateStore } from '../infrastructure/sqlite-relay-state.js';
import type { FeedMessage, FeedPublisher, FeedTopics } from './feed-message.js';
import { OutboundRelay } from './outbound-relay.js';

const temp = createTempDir('relay');
const ninetyDays: ClawbackTermsInput = { window: { length: 90, unit: 'days' }, windowStartsFrom: 'credit_date', percent: '100', reducesAttainment: false };
const finance = financeActor;

const decodePayout = (record: ReadRecord): PayoutEvent => fromBinary(PayoutEventSchema, record.value);
const payoutKinds = (records: ReadRecord[], payeeId: string): string[] =>
  records.filter((record) => record.key === payeeId).map((record) => `${record.headers['event-type']}`);

describeWithKafka('outbound relay (payout and attainment feeds)', (brokers) => {
  const runId = randomUUID().slice(0, 8);
  const topics: FeedTopics = { payouts: `it-${runId}.icm.payouts.v1`, attainment: `it-${runId}.icm.attainment.v1` };
  const kafka = createKafkaClient({ brokers, clientId: `relay-it-${runId}` });
  let ledger: LedgerHarness;
  let reader: TopicReader;
  let relay: OutboundRelay;
  let relayState: SqliteRelayStateStore;
  let publisher: KafkaFeedPublisher;

  beforeAll(async () => {
    ledger = await openLedgerHarness(temp.path);
    relayState = new SqliteRelayStateStore(temp.file('relay.sqlite'));
    publisher = new KafkaFeedPublisher({ brokers, clientId: `relay-it-${runId}`, topics: [topics.payouts, topics.attainment], topicPartitions: 3 });
    relay = new OutboundRelay(ledger.store, relayState, publisher, { topics });
    reader = await readTopics(brokers, [topics.payouts, topics.attainment]);
  });

  afterAll(async () => {
    await relay?.stop();
    await publisher?.close();
    relayState?.close();
    await reader?.close();
    await ledger?.close();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topics.payouts, topics.attainment] }).catch(() => undefined);
    await admin.disconnect();
    temp.remove();
  });

  it('publishes the payouts of the approval flow (payee by payee and bulk, draws, adjustments, clawbacks, payments, a reopen) once each, keyed by payee, in order, exactly as the ledger holds them', async () => {
    const deps = payoutDependencies(ledger);
    const reactions = new PayoutReactions(deps);
    await reactions.start();
    const settle = async (): Promise<void> => {
      await reactions.waitForPosition(await ledger.store.headPosition());
      await ledger.runner.caughtUp({ timeoutMs: 30_000 });
    };
    const crm = testCommandContext();
    const march = { calendarId: 'monthly', periodId: '2026-03' };
    const april = { calendarId: 'monthly', periodId: '2026-04' };
    /** The ledger's payouts as approved, before the reopen voids April's. */
    const ledgerPayouts = new Map<string, PayoutView>();
    let anaApproval!: Awaited<ReturnType<typeof approvePayouts>>;
    try {
      // 10% of bookings; a recoverable draw of 1,000 a month; 90-day clawbacks. Cy's plan has no clawback terms.
      await onboardPayees(ledger.store, 'ana', 'ben', 'cy');
      await putOnPlan(ledger.store, monthlyPlan({ draw: { kind: 'recoverable', amountPerPeriod: '1000.00' }, clawback: ninetyDays }), 'ana', 'ben');
      await putOnPlan(ledger.store, monthlyPlan({ id: 'se-2026-v1', planId: 'se-2026' }), 'cy');
      await closeDealWon(ledger.store, dealInput('M-1', 'ana', '50000.00', '2026-03-10'), crm);
      await closeDealWon(ledger.store, dealInput('M-4', 'ana', '8000.00', '2026-03-05'), crm);
      await closeDealWon(ledger.store, dealInput('M-2', 'ben', '4000.00', '2026-03-12'), crm);
      await closeDealWon(ledger.store, dealInput('M-3', 'cy', '12345.65', '2026-03-20'), crm);

      // March: closed, approved for Ana alone, then in bulk by someone else; Ana is paid.
      await closePeriod(deps, march, analyst());
      anaApproval = await approvePayouts(ledger.store, { ...march, payeeIds: ['ana'] }, finance());
      await approvePayouts(ledger.store, march, finance('finance-2'));
      await confirmPayoutsPaid(ledger.store, { ...march, payeeIds: ['ana'], payrollReference: 'run-0405', paidOn: '2026-04-05' }, payroll());
      // After the close: M-1 amended (an adjustment in April), M-4 cancelled in its window (a clawback), Cy's M-3
      // cancelled without clawback terms (a waiver note: no money, no message).
      await amendDeal(ledger.store, { dealId: 'M-1', amount: '60000.00', reason: 'price corrected' }, crm);
      await cancelDeal(ledger.store, { dealId: 'M-4', cancelDate: '2026-04-10', reason: 'customer withdrew' }, crm);
      await cancelDeal(ledger.store, { dealId: 'M-3', cancelDate: '2026-04-12', reason: 'duplicate' }, crm);
      await settle();
      // April: closed, approved in bulk, then reopened before payment (voids the three approvals).
      await closePeriod(deps, april, analyst());
      await approvePayouts(ledger.store, april, finance());
      await settle();
      for (const period of [march, april]) for (const payout of (await listPayouts(ledger.db, { ...period, limit: 100 })).items) ledgerPayouts.set(payout.payoutId, payout);
      await reopenPeriod(deps, { ...april, reason: 'late deal' }, finance('finance-2'));
      await settle();
    } finally {
      await reactions.stop();
    }
    const waived = (await ledger.store.readStream('period-monthly-2026-04')).filter((event) => event.type === 'ClawbackWaived');
    expect(waived.map((event) => (event.data as { dealId: string }).dealId)).toEqual(['M-3']);

    await relay.start();
    await relay.waitForPosition(await ledger.store.headPosition());
    const expectedKinds: Record<string, string[]> = {
      ana: ['PayoutApproved', 'PayoutPaid', 'PayoutAdjusted', 'PayoutAdjusted', 'PayoutApproved', 'PayoutApprovalVoided'],
      ben: ['PayoutApproved', 'PayoutApproved', 'PayoutApprovalVoided'],
      cy: ['PayoutApproved', 'PayoutApproved', 'PayoutApprovalVoided'],
    };
    const expectedCount = Object.values(expectedKinds).flat().length;
    await reader.waitFor((records) => records.filter((record) => record.topic === topics.payouts).length >= expectedCount, 30_000, `${expectedCount} payout messages`);
    const payouts = reader.records.filter((record) => record.topic === topics.payouts);
    expect(payouts).toHaveLength(expectedCount);

    // Per payee: one partition, and the order the ledger recorded the changes.
    for (const [payeeId, kinds] of Object.entries(expectedKinds)) {
      expect(new Set(payouts.filter((record) => record.key === payeeId).map((record) => record.partition)).size).toBe(1);
      expect(payoutKinds(payouts, payeeId)).toEqual(kinds);
    }
    // Every record: its headers say what its value is, and no record comes from the waiver.
    const decodedAll = payouts.map(decodePayout);
    payouts.forEach((record, index) => {
      const decoded = decodedAll[index];
      expect(record.headers).toEqual({
        'event-id': decoded.eventId,
        'event-type': { approved: 'PayoutApproved', paid: 'PayoutPaid', adjusted: 'PayoutAdjusted', approvalVoided: 'PayoutApprovalVoided' }[decoded.change.case!],
        schema: 'incentive_ledger.payouts.v1.PayoutEvent',
        'correlation-id': decoded.source?.correlationId,
      });
      expect(decoded.payeeId).toBe(record.key);
    });
    expect(new Set(payouts.map((record) => record.headers['event-id'])).size).toBe(expectedCount);
    expect(decodedAll.some((decoded) => decoded.source?.ledgerEventId === waived[0].eventId)).toBe(false);

    // Each approval is the ledger's payout, to the last digit: id, amount and every figure.
    const approvals = decodedAll.filter((decoded) => decoded.change.case === 'approved');
    for (const decoded of approvals) {
      const approved = decoded.change.case === 'approved' ? decoded.change.value : null;
      const payout = ledgerPayouts.get(approved!.payoutId)!;
      expect(payout).toBeDefined();
      expect(approved!.payoutId).toBe(payoutIdFor({ payeeId: decoded.payeeId, periodId: decoded.periodId, statementDigest: payout.statementDigest }));
      expect({ ...approved, $typeName: undefined, figures: { ...approved!.figures, $typeName: undefined, capitalized: approved!.figures?.capitalized.map(({ benefitMonths, amount }) => ({ benefitMonths, amount })) } }).toEqual({
        $typeName: undefined,
        payoutId: payout.payoutId,
        statementDigest: payout.statementDigest,
        currency: payout.currency,
        netPayable: payout.netPayable,
        approvedBy: decoded.periodId === '2026-03' && decoded.payeeId === 'ana' ? 'finance-1' : decoded.periodId === '2026-03' ? 'finance-2' : 'finance-1',
        figures: {
          $typeName: undefined,
          grossEarned: payout.grossEarned,
          capitalized: payout.capitalized,
          adjustments: payout.adjustments,
          clawbacks: payout.clawbacks,
          earningsDeficitApplied: payout.earningsDeficitApplied,
          drawKind: payout.drawKind ?? '',
          drawPaid: payout.drawPaid,
          drawRecovered: payout.drawRecovered,
          drawBalanceClosing: payout.carryClosing.drawBalance,
          earningsDeficitClosing: payout.carryClosing.earningsDeficit,
        },
      });
      expect(decoded.calendarId).toBe('monthly');
    }
    // The amounts worked by hand: 10% of 58,000; 10% of 4,000 topped up to the 1,000 draw; 10% of 12,345.65 rounded
    // half-even to the cent; in April Ana's +1,000.00 adjustment and -800.00 clawback net +200.00, topped up to 1,000.
    const approvedFigures = (payeeId: string, periodId: string) => {
      const found = approvals.find((decoded) => decoded.payeeId === payeeId && decoded.periodId === periodId)!;
      const value = found.change.case === 'approved' ? found.change.value : null;
      return [value!.netPayable, value!.figures!.grossEarned, value!.figures!.adjustments, value!.figures!.clawbacks, value!.figures!.drawPaid, value!.figures!.drawBalanceClosing];
    };
    expect(approvedFigures('ana', '2026-03')).toEqual(['5800.00', '5800.00', '0.00', '0.00', '0.00', '0.00']);
    expect(approvedFigures('ben', '2026-03')).toEqual(['1000.00', '400.00', '0.00', '0.00', '600.00', '600.00']);
    expect(approvedFigures('cy', '2026-03')).toEqual(['1234.56', '1234.56', '0.00', '0.00', '0.00', '0.00']);
    expect(approvedFigures('ana', '2026-04')).toEqual(['1000.00', '0.00', '1000.00', '-800.00', '800.00', '800.00']);

    const anaApproved = payouts.find((record) => record.key === 'ana' && record.headers['event-type'] === 'PayoutApproved')!;
    const decoded = decodePayout(anaApproved);
    const recorded = (await ledger.store.readStream('period-monthly-2026-03')).find((event) => event.eventId === anaApproval.events[0].eventId)!;
    expect(anaApproved.headers['correlation-id']).toBe(recorded.metadata.correlationId);
    expect(decoded.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect({
      ledgerEventId: decoded.source?.ledgerEventId,
      ledgerEventType: decoded.source?.ledgerEventType,
      ledgerPosition: decoded.source?.ledgerPosition,
      ledgerStreamId: decoded.source?.ledgerStreamId,
      correlationId: decoded.source?.correlationId,
      actor: { id: decoded.source?.actor?.id, role: decoded.source?.actor?.role },
      occurredAt: timestampDate(decoded.source!.occurredAt!).toISOString(),
      recordedAt: timestampDate(decoded.source!.recordedAt!).toISOString(),
    }).toEqual({
      ledgerEventId: recorded.eventId,
      ledgerEventType: 'PayoutsApproved',
      ledgerPosition: BigInt(recorded.position),
      ledgerStreamId: 'period-monthly-2026-03',
      correlationId: recorded.metadata.correlationId,
      actor: { id: 'finance-1', role: 'finance' },
      occurredAt: recorded.metadata.occurredAt,
      recordedAt: recorded.recordedAt,
    });

    const anaMarch = approvals.find((entry) => entry.payeeId === 'ana' && entry.periodId === '2026-03')!;
    const anaMarchId = anaMarch.change.case === 'approved' ? anaMarch.change.value.payoutId : '';
    const anaPaid = decodedAll.find((entry) => entry.change.case === 'paid')!;
    expect({ payeeId: anaPaid.payeeId, periodId: anaPaid.periodId, change: anaPaid.change.case, value: { ...anaPaid.change.value, $typeName: undefined } }).toEqual({
      payeeId: 'ana',
      periodId: '2026-03',
      change: 'paid',
      value: { $typeName: undefined, payoutId: anaMarchId, payrollReference: 'run-0405', confirmedBy: 'payroll-1', paidOn: '2026-04-05', currency: 'USD', netPayable: '5800.00' },
    });
    const adjusted = decodedAll.filter((entry) => entry.change.case === 'adjusted');
    expect(adjusted.map((entry) => [entry.payeeId, entry.periodId])).toEqual([
      ['ana', '2026-04'],
      ['ana', '2026-04'],
    ]);
    const adjustedLines = adjusted.flatMap((entry) => (entry.change.case === 'adjusted' ? entry.change.value.lines : []));
    expect(adjustedLines.map(({ kind, amount, dealId, sourcePeriodId, causeKind, causeReference }) => ({ kind, amount, dealId, sourcePeriodId, causeKind, causeReference }))).toEqual([
      { kind: 'adjustment', amount: '1000.00', dealId: 'M-1', sourcePeriodId: '2026-03', causeKind: 'deal_amended', causeReference: 'M-1' },
      { kind: 'clawback', amount: '-800.00', dealId: 'M-4', sourcePeriodId: '2026-03', causeKind: undefined, causeReference: undefined },
    ]);
    expect(adjustedLines[0].explanation).toMatch(/^Deal amended \(M-1, event .+\): period 2026-03 .+ 5000\.00 -> 6000\.00; \+1000\.00 USD posted in 2026-04\.$/);
    expect(adjustedLines[1].explanation).toMatch(/^Deal M-4 was cancelled on 2026-04-10/);
    const aprilApproved = approvals.filter((entry) => entry.periodId === '2026-04').map((entry) => [entry.payeeId, entry.change.case === 'approved' ? entry.change.value.payoutId : '']);
    const voided = decodedAll.filter((entry) => entry.change.case === 'approvalVoided');
    expect(voided.map((entry) => [entry.payeeId, entry.change.case === 'approvalVoided' ? entry.change.value.payoutId : ''])).toEqual(aprilApproved);
    expect(voided.every((entry) => entry.change.case === 'approvalVoided' && entry.change.value.reason === 'late deal' && entry.change.value.reopenedBy === 'finance-2')).toBe(true);
  });

  it('publishes attainment totals per payee, period and measure after each credit and quota', async () => {
    const admin = testCommandContext();
    await onboardPayee(ledger.store, { payeeId: 'rep-1', name: 'Rep One', managerId: null, territory: 'EMEA', currency: 'USD', startDate: '2026-01-01' }, admin);
    await setQuota(ledger.store, { payeeId: 'rep-1', periodId: '2026-03', measure: 'bookings', amount: '100000.00', currency: 'USD' }, admin);
    const sale = testCommandContext({ actor: { id: 'crm-intake', role: 'system' } });
    await closeDealWon(ledger.store, { dealId: 'D-1', ownerPayeeId: 'rep-1', amount: '56000.00', currency: 'USD', closeDate: '2026-03-14', product: 'platform', dealType: 'new_business', overlays: [] }, sale);
    await relay.waitForPosition(await ledger.store.headPosition());
    const ofRep = (record: ReadRecord) => record.topic === topics.attainment && record.key === 'rep-1';
    await reader.waitFor((records) => records.filter(ofRep).length >= 4, 30_000, 'four attainment messages');
    const attainment = reader.records.filter(ofRep);
    const decoded = attainment.map((record) => fromBinary(AttainmentChangedSchema, record.value));
    expect(decoded.map(({ payeeId, periodId, measure, currency, credited, quota, attainmentPercent, dealsCounted, reason, dealId }) => ({ payeeId, periodId, measure, currency, credited, quota, attainmentPercent, dealsCounted, reason, dealId }))).toEqual([
      { payeeId: 'rep-1', periodId: '2026-03', measure: 'bookings', currency: 'USD', credited: '0', quota: '100000.00', attainmentPercent: '0.00', dealsCounted: 0, reason: 'quota', dealId: undefined },
      { payeeId: 'rep-1', periodId: '2026-03', measure: 'bookings', currency: 'USD', credited: '56000', quota: '100000.00', attainmentPercent: '56.00', dealsCounted: 1, reason: 'credited', dealId: 'D-1' },
      { payeeId: 'rep-1', periodId: '2026-Q1', measure: 'bookings', currency: 'USD', credited: '56000', quota: undefined, attainmentPercent: undefined, dealsCounted: 1, reason: 'credited', dealId: 'D-1' },
      { payeeId: 'rep-1', periodId: '2026', measure: 'bookings', currency: 'USD', credited: '56000', quota: undefined, attainmentPercent: undefined, dealsCounted: 1, reason: 'credited', dealId: 'D-1' },
    ]);
    expect(attainment).toHaveLength(4);
    expect(attainment.every((record) => record.key === 'rep-1' && record.headers['event-type'] === 'AttainmentChanged' && record.headers.schema === 'incentive_ledger.attainment.v1.AttainmentChanged')).toBe(true);
    expect(attainment[1].headers['correlation-id']).toBe(sale.correlationId);
    expect(decoded[1].source?.actor).toMatchObject({ id: 'crm-intake', role: 'system' });
  });

  it('publishes nothing again when the read models are rebuilt', async () => {
    const before = reader.records.length;
    const checkpoint = relay.position;
    await ledger.runner.rebuild();
    expect(relay.position).toBe(checkpoint);
    expect(relayState.load().position).toBe(checkpoint);
    // One new change after the rebuild: it must be the only new record.
    const may = new PeriodDriver(ledger.store, 'fy26-monthly', '2026-05');
    await may.openAndClose([frozenStatement('cy', '10.00')], testCommandContext());
    await may.approve(['cy'], finance());
    await relay.waitForPosition(await ledger.store.headPosition());
    await reader.waitFor((records) => records.length > before, 30_000, 'the record after the rebuild');
    expect(reader.records.slice(before).map((record) => `${record.key} ${record.headers['event-type']}`)).toEqual(['cy PayoutApproved']);
  });

  it('after dying between the broker acknowledgement and its checkpoint, publishes exactly that batch again, with the same ids', async () => {
    const crashTopics: FeedTopics = { payouts: `it-${runId}-crash.icm.payouts.v1`, attainment: `it-${runId}-crash.icm.attainment.v1` };
    const june = new PeriodDriver(ledger.store, 'fy26-monthly', '2026-06');
    const payees = Array.from({ length: 40 }, (_, index) => `p-${String(index).padStart(2, '0')}`);
    await june.openAndClose(payees.map((payeeId, index) => frozenStatement(payeeId, `${100 + index}.00`)), testCommandContext());
    for (const payeeId of payees) await june.approve([payeeId], finance());
    const head = await ledger.store.headPosition();

    const crashReader = await readTopics(brokers, [crashTopics.payouts]);
    const kafkaPublisher = new KafkaFeedPublisher({ brokers, clientId: `relay-it-${runId}`, topics: [crashTopics.payouts, crashTopics.attainment], topicPartitions: 3 });
    const firstPublisher = new DyingPublisher(kafkaPublisher, (messages) => messages.some((message) => message.key === 'p-20'));
    const statePath = temp.file('crash-relay.sqlite');
    const firstState = new SqliteRelayStateStore(statePath);
    const first = new OutboundRelay(ledger.store, firstState, firstPublisher, { topics: crashTopics, batchSize: 8 });
    await first.start();
    await firstPublisher.died;
    const stopping = first.stop();
    firstPublisher.kill();
    await stopping;
    const checkpointAtDeath = firstState.load().position;
    firstState.close();
    expect(checkpointAtDeath).toBeGreaterThan(0);
    expect(checkpointAtDeath).toBeLessThan(head);

    const secondState = new SqliteRelayStateStore(statePath);
    const secondPublisher = new CountingPublisher(kafkaPublisher);
    const second = new OutboundRelay(ledger.store, secondState, secondPublisher, { topics: crashTopics, batchSize: 8 });
    try {
      await second.start();
      await second.waitForPosition(head);
      const published = [...firstPublisher.acknowledged, ...firstPublisher.fatal, ...secondPublisher.acknowledged].filter((message) => message.topic === crashTopics.payouts);
      await crashReader.waitFor((records) => records.length >= published.length, 30_000, `${published.length} records`);
      const records = crashReader.records;
      expect(records).toHaveLength(published.length);

      // Every approval arrived; the only duplicates are the batch in hand at the death, each with its first id.
      const countById = new Map<string, number>();
      for (const record of records) countById.set(record.headers['event-id'], (countById.get(record.headers['event-id']) ?? 0) + 1);
      const junePayees = new Set(records.filter((record) => record.headers['event-type'] === 'PayoutApproved' && payees.includes(record.key)).map((record) => record.key));
      expect(junePayees.size).toBe(40);
      const duplicated = [...countById].filter(([, count]) => count > 1).map(([eventId]) => eventId).sort();
      const unacknowledged = firstPublisher.fatal.filter((message) => message.topic === crashTopics.payouts).map((message) => message.headers['event-id']).sort();
      expect(unacknowledged.length).toBeGreaterThan(0);
      expect(duplicated).toEqual(unacknowledged);
      expect([...countById.values()].every((count) => count <= 2)).toBe(true);
      for (const eventId of duplicated) {
        const copies = records.filter((record) => record.headers['event-id'] === eventId);
        expect(Buffer.from(copies[0].value).equals(Buffer.from(copies[1].value))).toBe(true);
      }
      // Order per payee holds for first deliveries.
      const firstOffsets = payees.map((payeeId) => records.filter((record) => record.key === payeeId).map((record) => record.headers['event-type']));
      expect(firstOffsets.every((kinds) => kinds[0] === 'PayoutApproved')).toBe(true);
    } finally {
      await second.stop();
      secondState.close();
      await kafkaPublisher.close();
      await crashReader.close();
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [crashTopics.payouts, crashTopics.attainment] }).catch(() => undefined);
      await admin.disconnect();
    }
  });
});

/** Passes batches through and counts what the broker acknowledged. */
class CountingPublisher implements FeedPublisher {
  readonly acknowledged: FeedMessage[] = [];
  constructor(private readonly inner: FeedPublisher) {}
  async publish(messages: readonly FeedMessage[]): Promise<void> {
    await this.inner.publish(messages);
    this.acknowledged.push(...messages);
  }
  async close(): Promise<void> {}
}

/**
 * Dies like a killed process right after the broker acknowledged the first batch `isFatal` picks: that batch is in
 * Kafka, but the relay never hears back, so its checkpoint stays before it.
 */
class DyingPublisher extends CountingPublisher {
  fatal: FeedMessage[] = [];
  readonly died: Promise<void>;
  private markDied!: () => void;
  private killProcess!: (error: Error) => void;
  private readonly killed = new Promise<never>((_, reject) => (this.killProcess = reject));

  constructor(
    private readonly target: FeedPublisher,
    private readonly isFatal: (messages: readonly FeedMessage[]) => boolean,
  ) {
    super(target);
    this.died = new Promise((resolve) => (this.markDied = resolve));
    this.killed.catch(() => undefined);
  }

  override async publish(messages: readonly FeedMessage[]): Promise<void> {
    if (this.fatal.length > 0) return this.killed;
    if (!this.isFatal(messages)) return super.publish(messages);
    await this.target.publish(messages);
    this.fatal = [...messages];
    this.markDied();
    return this.killed;
  }

  kill(): void {
    this.killProcess(new Error('killed'));
  }
}
