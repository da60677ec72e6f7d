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
import { closeDealWon } from '#lib/crediting/application/deal-commands.js';
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
  const finance = testCommandContext({ actor: { id: 'finance-1', role: 'finance' } });
  const march = () => new PeriodDriver(ledger.store, 'fy26-monthly', '2026-03');
  const april = () => new PeriodDriver(ledger.store, 'fy26-monthly', '2026-04');

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

  it('publishes each approved, adjusted, paid and voided payout once, keyed by payee, in the order recorded, with the headers consumers need', async () => {
    await march().openAndClose([frozenStatement('ana', '2750.00'), frozenStatement('ben', '1200.50')], testCommandContext());
    const anaApproval = await march().approve(['ana'], finance);
    await march().approve(['ben'], finance);
    await march().confirmPaid(['ana'], 'RUN-7', testCommandContext({ actor: { id: 'payroll-confirmations', role: 'system' } }));
    await april().send({ type: 'OpenPeriod', data: { calendarId: 'fy26-monthly', periodId: '2026-04', startsOn: '2026-04-01', endsOn: '2026-04-30', openedBy: 'analyst-1' } }, testCommandContext());
    await april().send(
      { type: 'PostLines', data: { payeeId: 'ben', currency: 'USD', postedBy: 'analyst-1', lines: [{ lineId: 'ppa:ben:1', kind: 'adjustment', amount: '-80.00', sourcePeriodId: '2026-03', cause: { kind: 'deal_amended', reference: 'D-9' } }] } },
      testCommandContext(),
    );
    await april().send({ type: 'ClosePeriod', data: { preparedBy: 'analyst-1', statements: [frozenStatement('ben', '300.00')] } }, testCommandContext());
    await april().approve(undefined, finance);
    await april().send({ type: 'ReopenPeriod', data: { reopenedBy: 'finance-2', reason: 'late deal' } }, testCommandContext());

    await relay.start();
    await relay.waitForPosition(await ledger.store.headPosition());
    await reader.waitFor((records) => records.filter((record) => record.topic === topics.payouts).length >= 6, 30_000, 'six payout messages');
    const payouts = reader.records.filter((record) => record.topic === topics.payouts);
    expect(payouts).toHaveLength(6);

    // Per payee: one partition, and the order the ledger recorded the changes.
    for (const payeeId of ['ana', 'ben']) expect(new Set(payouts.filter((record) => record.key === payeeId).map((record) => record.partition)).size).toBe(1);
    expect(payoutKinds(payouts, 'ana')).toEqual(['PayoutApproved', 'PayoutPaid']);
    expect(payoutKinds(payouts, 'ben')).toEqual(['PayoutApproved', 'PayoutAdjusted', 'PayoutApproved', 'PayoutApprovalVoided']);

    const anaApproved = payouts.find((record) => record.key === 'ana' && record.headers['event-type'] === 'PayoutApproved')!;
    const decoded = decodePayout(anaApproved);
    const recorded = (await ledger.store.readStream(march().streamId)).find((event) => event.eventId === anaApproval.events[0].eventId)!;
    expect(anaApproved.headers).toEqual({
      'event-id': decoded.eventId,
      'event-type': 'PayoutApproved',
      schema: 'incentive_ledger.payouts.v1.PayoutEvent',
      'correlation-id': finance.correlationId,
    });
    expect(decoded.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect({
      payeeId: decoded.payeeId,
      calendarId: decoded.calendarId,
      periodId: decoded.periodId,
      change: decoded.change.case,
      approved: decoded.change.case === 'approved' ? { ...decoded.change.value, $typeName: undefined } : null,
      source: {
        ledgerEventId: decoded.source?.ledgerEventId,
        ledgerEventType: decoded.source?.ledgerEventType,
        ledgerPosition: decoded.source?.ledgerPosition,
        ledgerStreamId: decoded.source?.ledgerStreamId,
        correlationId: decoded.source?.correlationId,
        actor: { id: decoded.source?.actor?.id, role: decoded.source?.actor?.role },
        occurredAt: timestampDate(decoded.source!.occurredAt!).toISOString(),
        recordedAt: timestampDate(decoded.source!.recordedAt!).toISOString(),
      },
    }).toEqual({
      payeeId: 'ana',
      calendarId: 'fy26-monthly',
      periodId: '2026-03',
      change: 'approved',
      approved: {
        $typeName: undefined,
        payoutId: payoutIdFor({ payeeId: 'ana', periodId: '2026-03', statementDigest: 'sha256:ana:2750.00' }),
        statementDigest: 'sha256:ana:2750.00',
        currency: 'USD',
        netPayable: '2750.00',
        approvedBy: 'finance-1',
      },
      source: {
        ledgerEventId: recorded.eventId,
        ledgerEventType: 'PayoutsApproved',
        ledgerPosition: BigInt(recorded.position),
        ledgerStreamId: 'period-fy26-monthly-2026-03',
        correlationId: finance.correlationId,
        actor: { id: 'finance-1', role: 'finance' },
        occurredAt: recorded.metadata.occurredAt,
        recordedAt: recorded.recordedAt,
      },
    });

    const [anaPaid, benAdjusted, benVoided] = [
      payouts.find((record) => record.key === 'ana' && record.headers['event-type'] === 'PayoutPaid')!,
      payouts.find((record) => record.headers['event-type'] === 'PayoutAdjusted')!,
      payouts.find((record) => record.headers['event-type'] === 'PayoutApprovalVoided')!,
    ].map(decodePayout);
    expect(anaPaid.change).toMatchObject({ case: 'paid', value: { payoutId: payoutIdFor({ payeeId: 'ana', periodId: '2026-03', statementDigest: 'sha256:ana:2750.00' }), payrollReference: 'RUN-7', confirmedBy: 'payroll-1' } });
    expect(benAdjusted.change).toMatchObject({
      case: 'adjusted',
      value: { currency: 'USD', postedBy: 'analyst-1', lines: [{ lineId: 'ppa:ben:1', kind: 'adjustment', amount: '-80.00', sourcePeriodId: '2026-03', causeKind: 'deal_amended', causeReference: 'D-9' }] },
    });
    expect(benAdjusted.periodId).toBe('2026-04');
    expect(benVoided.change).toMatchObject({ case: 'approvalVoided', value: { payoutId: payoutIdFor({ payeeId: 'ben', periodId: '2026-04', statementDigest: 'sha256:ben:300.00' }), reason: 'late deal', reopenedBy: 'finance-2' } });
    expect(new Set(payouts.map((record) => record.headers['event-id'])).size).toBe(6);
  });

  it('publishes attainment totals per payee, period and measure after each credit and quota', async () => {
    const admin = testCommandContext();
    await onboardPayee(ledger.store, { payeeId: 'rep-1', name: 'Rep One', managerId: null, territory: 'EMEA', currency: 'USD', startDate: '2026-01-01' }, admin);
    await setQuota(ledger.store, { payeeId: 'rep-1', periodId: '2026-03', measure: 'bookings', amount: '100000.00', currency: 'USD' }, admin);
    const sale = testCommandContext({ actor: { id: 'crm-intake', role: 'system' } });
    await closeDealWon(ledger.store, { dealId: 'D-1', ownerPayeeId: 'rep-1', amount: '56000.00', currency: 'USD', closeDate: '2026-03-14', product: 'platform', dealType: 'new_business', overlays: [] }, sale);
    await relay.waitForPosition(await ledger.store.headPosition());
    await reader.waitFor((records) => records.filter((record) => record.topic === topics.attainment).length >= 4, 30_000, 'four attainment messages');
    const attainment = reader.records.filter((record) => record.topic === topics.attainment);
    const decoded = attainment.map((record) => fromBinary(AttainmentChangedSchema, record.value));
    expect(decoded.map(({ payeeId, periodId, measure, currency, credited, quota, attainmentPercent, dealsCounted, reason, dealId }) => ({ payeeId, periodId, measure, currency, credited, quota, attainmentPercent, dealsCounted, reason, dealId }))).toEqual([
      { payeeId: 'rep-1', periodId: '2026-03', measure: 'bookings', currency: 'USD', credited: '0', quota: '100000.00', attainmentPercent: '0.00', dealsCounted: 0, reason: 'quota', dealId: undefined },
      { payeeId: 'rep-1', periodId: '2026-03', measure: 'bookings', currency: 'USD', credited: '56000', quota: '100000.00', attainmentPercent: '56.00', dealsCounted: 1, reason: 'credited', dealId: 'D-1' },
      { payeeId: 'rep-1', periodId: '2026-Q1', measure: 'bookings', currency: 'USD', credited: '56000', quota: undefined, attainmentPercent: undefined, dealsCounted: 1, reason: 'credited', dealId: 'D-1' },
      { payeeId: 'rep-1', periodId: '2026', measure: 'bookings', currency: 'USD', credited: '56000', quota: undefined, attainmentPercent: undefined, dealsCounted: 1, reason: 'credited', dealId: 'D-1' },
    ]);
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
    await may.approve(['cy'], finance);
    await relay.waitForPosition(await ledger.store.headPosition());
    await reader.waitFor((records) => records.length > before, 30_000, 'the record after the rebuild');
    expect(reader.records.slice(before).map((record) => `${record.key} ${record.headers['event-type']}`)).toEqual(['cy PayoutApproved']);
  });

  it('after dying between the broker acknowledgement and its checkpoint, publishes exactly that batch again, with the same ids', async () => {
    const crashTopics: FeedTopics = { payouts: `it-${runId}-crash.icm.payouts.v1`, attainment: `it-${runId}-crash.icm.attainment.v1` };
    const june = new PeriodDriver(ledger.store, 'fy26-monthly', '2026-06');
    const payees = Array.from({ length: 40 }, (_, index) => `p-${String(index).padStart(2, '0')}`);
    await june.openAndClose(payees.map((payeeId, index) => frozenStatement(payeeId, `${100 + index}.00`)), testCommandContext());
    for (const payeeId of payees) await june.approve([payeeId], finance);
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
