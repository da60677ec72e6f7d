/**
 * The service with Kafka on, as payroll, forecasting and the CRM see it: a deal sent on crm.deals.v1 is recorded
 * and shows over HTTP; its credits reach icm.attainment.v1; approved payouts reach icm.payouts.v1; payroll's
 * confirmation on payroll.confirmations.v1 marks the payout paid, which reaches the feed too. The period is closed by
 * an analyst and approved by finance over HTTP, as they would. Topics are read with a plain kafkajs consumer and
 * decoded with the generated code only.
 */
import { randomUUID } from 'node:crypto';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import kafkajs from 'kafkajs';
import type { Producer } from 'kafkajs';
import { describeWithKafka } from '../support/kafka/kafka-broker.js';
import { readTopics, type ReadRecord, type TopicReader } from '../support/kafka/topic-reader.js';
import { startLedgerTestApp, type LedgerTestApp } from '../support/ledger-test-app.js';
import { DealEventSchema } from '#lib/integration/contracts/generated/incentive_ledger/crm/v1/deal_events_pb.js';
import { AttainmentChangedSchema } from '#lib/integration/contracts/generated/incentive_ledger/attainment/v1/attainment_events_pb.js';
import { PayoutEventSchema } from '#lib/integration/contracts/generated/incentive_ledger/payouts/v1/payout_events_pb.js';
import { PayoutPaidConfirmationSchema } from '#lib/integration/contracts/generated/incentive_ledger/payroll/v1/payout_confirmations_pb.js';

const { Kafka, Partitioners, logLevel } = kafkajs;
const json = { 'content-type': 'application/json' };
const MARCH = '/calendars/monthly/periods/2026-03';

/** 10% of bookings and a recoverable draw of 1,000 a month. */
const plan = {
  planId: 'ae-2026',
  effectiveFrom: '2026-01-01',
  currency: 'USD',
  periodFrequency: 'month',
  components: [{ kind: 'rate_table', id: 'commission', measure: 'bookings', basis: 'amount', mode: 'marginal', tiers: [{ from: '0', to: null, rate: '0.10' }] }],
  capitalizable: false,
  benefitMonths: null,
  draw: { kind: 'recoverable', amountPerPeriod: '1000.00' },
};

describeWithKafka('the service with Kafka', (brokers) => {
  const prefix = `e2e-${randomUUID().slice(0, 8)}.`;
  let ledger: LedgerTestApp;
  let feeds: TopicReader;
  let sender: Producer;

  beforeAll(async () => {
    ledger = await startLedgerTestApp({ LEDGER_KAFKA_BROKERS: brokers.join(','), LEDGER_KAFKA_TOPIC_PREFIX: prefix, LEDGER_KAFKA_TOPIC_PARTITIONS: '2' });
    for (const payeeId of ['P-1', 'P-2']) {
      await ledger.http.post('/payees').set(json).send({ payeeId, name: payeeId, territory: 'EMEA', currency: 'USD', startDate: '2026-01-01' }).expect(201);
    }
    await ledger.http.put('/payees/P-1/quotas/2026-03/bookings').set(json).send({ amount: '100000.00', currency: 'USD' }).expect(200);
    feeds = await readTopics(brokers, [`${prefix}icm.payouts.v1`, `${prefix}icm.attainment.v1`], { partitions: 2 });
    sender = new Kafka({ clientId: 'crm-and-payroll', brokers, logLevel: logLevel.NOTHING }).producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await sender.connect();
  });

  afterAll(async () => {
    await sender?.disconnect();
    await feeds?.close();
    await ledger?.close();
    const admin = new Kafka({ clientId: 'cleanup', brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  });

  it('records a deal sent by the CRM and publishes the attainment it changes', async () => {
    const deal = create(DealEventSchema, {
      eventId: 'crm-1001',
      dealId: 'D-1',
      change: {
        case: 'closedWon',
        value: { ownerPayeeId: 'P-1', amount: '56000.00', currency: 'USD', closeDate: '2026-03-14', product: 'platform', dealType: 'new_business', overlays: { overlays: [] } },
      },
    });
    await sender.send({ topic: `${prefix}crm.deals.v1`, acks: -1, messages: [{ key: 'D-1', value: Buffer.from(toBinary(DealEventSchema, deal)) }] });
    // The changes of the year, the quarter and the month arrive one after the other: wait for the month's.
    const monthChange = (records: typeof feeds.records) =>
      records
        .filter((record) => record.headers['event-type'] === 'AttainmentChanged' && record.key === 'P-1')
        .map((record) => fromBinary(AttainmentChangedSchema, record.value))
        .find((change) => change.periodId === '2026-03' && change.reason === 'credited');
    await feeds.waitFor((records) => monthChange(records) !== undefined, 60_000, 'attainment of P-1 in 2026-03');
    // The feed follows the log, the read models their own projections: read at the log's head.
    const deal1 = await ledger.http.get(`/deals/D-1?waitForPosition=${await ledger.headPosition()}`).expect(200);
    expect(deal1.body).toMatchObject({ dealId: 'D-1', amount: '56000.00' });
    const month = monthChange(feeds.records);
    expect(month).toMatchObject({ payeeId: 'P-1', measure: 'bookings', credited: '56000', quota: '100000.00', attainmentPercent: '56.00', dealsCounted: 1, dealId: 'D-1' });
    expect(month?.source?.actor).toMatchObject({ id: 'crm-intake', role: 'system' });
  });

  it('publishes the payouts finance approves over HTTP, takes payroll confirmations and publishes the payment', async () => {
    const analyst = ledger.as('analyst', { id: 'analyst-ana' });
    const finance = ledger.as('finance', { id: 'finance-fred' });
    await analyst.post('/plans').set(json).send(plan).expect(201);
    await analyst.post('/plans/ae-2026/versions/1/publish').expect(200);
    for (const payeeId of ['P-1', 'P-2']) await analyst.post(`/payees/${payeeId}/plan-assignments`).set(json).send({ planId: 'ae-2026', effectiveFrom: '2026-01-01' }).expect(201);
    // D-1 (56,000 for P-1) came from the CRM in the test before; P-2 closed nothing in March and is on the draw.
    const closed = await analyst.post(`${MARCH}/close`).set(json).send({}).expect(200);
    expect(closed.body).toMatchObject({ payeesFrozen: 2, totals: [{ currency: 'USD', netPayable: '6600.00' }] });
    // Approved payee by payee, then the rest in bulk, each with a correlation id of the caller's.
    const first = await finance.post(`${MARCH}/approvals`).set(json).set('x-correlation-id', 'approve-p2').send({ payeeIds: ['P-2'] }).expect(200);
    const rest = await finance.post(`${MARCH}/approvals`).set(json).set('x-correlation-id', 'approve-rest').send({}).expect(200);
    const approvedOverHttp = [...first.body.payouts, ...rest.body.payouts] as { payeeId: string; payoutId: string; netPayable: string; currency: string }[];
    expect(approvedOverHttp.map(({ payeeId, netPayable, currency }) => [payeeId, netPayable, currency])).toEqual([
      ['P-2', '1000.00', 'USD'],
      ['P-1', '5600.00', 'USD'],
    ]);
    const ledgerPayouts = (await finance.get(`${MARCH}/payouts?waitForPosition=${rest.body.position}`).expect(200)).body.items as Record<string, unknown>[];

    const isPayout = (record: ReadRecord) => record.topic === `${prefix}icm.payouts.v1`;
    await feeds.waitFor((records) => records.filter((record) => isPayout(record) && record.headers['event-type'] === 'PayoutApproved').length === 2, 60_000, 'two approvals');
    const approvedRecords = feeds.records.filter((record) => isPayout(record) && record.headers['event-type'] === 'PayoutApproved');
    for (const record of approvedRecords) {
      const decoded = fromBinary(PayoutEventSchema, record.value);
      const http = approvedOverHttp.find((payout) => payout.payeeId === record.key)!;
      const payout = ledgerPayouts.find((item) => item.payoutId === http.payoutId)! as Record<string, string> & { capitalized: unknown[]; carryClosing: Record<string, string> };
      expect(record.headers).toEqual({
        'event-id': decoded.eventId,
        'event-type': 'PayoutApproved',
        schema: 'incentive_ledger.payouts.v1.PayoutEvent',
        'correlation-id': record.key === 'P-2' ? 'approve-p2' : 'approve-rest',
      });
      expect({ payeeId: decoded.payeeId, calendarId: decoded.calendarId, periodId: decoded.periodId, case: decoded.change.case }).toEqual({ payeeId: record.key, calendarId: 'monthly', periodId: '2026-03', case: 'approved' });
      const approved = decoded.change.case === 'approved' ? decoded.change.value : null;
      expect({
        payoutId: approved!.payoutId,
        statementDigest: approved!.statementDigest,
        currency: approved!.currency,
        netPayable: approved!.netPayable,
        approvedBy: approved!.approvedBy,
        figures: { ...approved!.figures, $typeName: undefined },
      }).toEqual({
        payoutId: http.payoutId,
        statementDigest: payout.statementDigest,
        currency: 'USD',
        netPayable: http.netPayable,
        approvedBy: 'finance-fred',
        figures: {
          $typeName: undefined,
          grossEarned: payout.grossEarned,
          capitalized: [],
          adjustments: payout.adjustments,
          clawbacks: payout.clawbacks,
          earningsDeficitApplied: payout.earningsDeficitApplied,
          drawKind: 'recoverable',
          drawPaid: payout.drawPaid,
          drawRecovered: payout.drawRecovered,
          drawBalanceClosing: payout.carryClosing.drawBalance,
          earningsDeficitClosing: payout.carryClosing.earningsDeficit,
        },
      });
    }
    // What the figures are, worked by hand: P-1 earned 5,600.00; P-2 earned nothing and the draw paid 1,000.00.
    const figuresOf = (payeeId: string) => {
      const decoded = fromBinary(PayoutEventSchema, approvedRecords.find((record) => record.key === payeeId)!.value);
      const figures = decoded.change.case === 'approved' ? decoded.change.value.figures : undefined;
      return [figures?.grossEarned, figures?.drawPaid, figures?.drawBalanceClosing];
    };
    expect(figuresOf('P-1')).toEqual(['5600.00', '0.00', '0.00']);
    expect(figuresOf('P-2')).toEqual(['0.00', '1000.00', '1000.00']);

    const payoutId = approvedOverHttp.find((payout) => payout.payeeId === 'P-1')!.payoutId;
    const confirmation = create(PayoutPaidConfirmationSchema, { payeeId: 'P-1', calendarId: 'monthly', periodId: '2026-03', payoutId, payrollReference: 'RUN-03', paidOn: '2026-04-03' });
    await sender.send({ topic: `${prefix}payroll.confirmations.v1`, acks: -1, messages: [{ key: 'P-1', value: Buffer.from(toBinary(PayoutPaidConfirmationSchema, confirmation)) }] });
    await feeds.waitFor((records) => records.some((record) => record.headers['event-type'] === 'PayoutPaid'), 60_000, 'the payment');
    const paidRecord = feeds.records.find((record) => record.headers['event-type'] === 'PayoutPaid')!;
    const paid = fromBinary(PayoutEventSchema, paidRecord.value);
    expect({ payeeId: paid.payeeId, case: paid.change.case, value: { ...paid.change.value, $typeName: undefined } }).toEqual({
      payeeId: 'P-1',
      case: 'paid',
      value: { $typeName: undefined, payoutId, payrollReference: 'RUN-03', confirmedBy: 'payroll-confirmations', paidOn: '2026-04-03', currency: 'USD', netPayable: '5600.00' },
    });
    expect(paidRecord.headers['event-id']).toBe(paid.eventId);
    const payout = await finance.get(`/payouts/${encodeURIComponent(payoutId)}?waitForPosition=${Number(paid.source!.ledgerPosition)}`).expect(200);
    expect(payout.body).toMatchObject({ status: 'paid', payrollReference: 'RUN-03', paidOn: '2026-04-03', netPayable: '5600.00' });

    // Per payee: one partition, in the order recorded.
    const payoutRecords = feeds.records.filter(isPayout);
    for (const [payeeId, kinds] of [['P-1', ['PayoutApproved', 'PayoutPaid']], ['P-2', ['PayoutApproved']]] as const) {
      const own = payoutRecords.filter((record) => record.key === payeeId);
      expect(own.map((record) => record.headers['event-type'])).toEqual(kinds);
      expect(new Set(own.map((record) => record.partition)).size).toBe(1);
    }

    const health = await ledger.http.get('/health').expect(200);
    expect(health.body.kafka).toMatchObject({ relay: { status: 'running' }, consumers: ['crm-intake', 'payroll-confirmations'] });
  });
});
