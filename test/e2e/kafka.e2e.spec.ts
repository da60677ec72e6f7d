/**
 * The service with Kafka on, as payroll, forecasting and the CRM see it: a deal sent on crm.deals.v1 is recorded
 * and shows over HTTP; its credits reach icm.attainment.v1; approved payouts reach icm.payouts.v1; payroll's
 * confirmation on payroll.confirmations.v1 marks the payout paid, which reaches the feed too. Topics are read with a
 * plain kafkajs consumer and decoded with the generated code only.
 *
 * The period is driven through its domain commands (PeriodDriver) on the service's store until the payouts HTTP
 * API exists.
 */
import { randomUUID } from 'node:crypto';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import kafkajs from 'kafkajs';
import type { Producer } from 'kafkajs';
import { describeWithKafka } from '../support/kafka/kafka-broker.js';
import { readTopics, type TopicReader } from '../support/kafka/topic-reader.js';
import { startLedgerTestApp, type LedgerTestApp } from '../support/ledger-test-app.js';
import { PeriodDriver, frozenStatement } from '../bench/period-driver.js';
import { testCommandContext } from '#lib/shared/testing/test-command-context.js';
import { DealEventSchema } from '#lib/integration/contracts/generated/incentive_ledger/crm/v1/deal_events_pb.js';
import { AttainmentChangedSchema } from '#lib/integration/contracts/generated/incentive_ledger/attainment/v1/attainment_events_pb.js';
import { PayoutEventSchema } from '#lib/integration/contracts/generated/incentive_ledger/payouts/v1/payout_events_pb.js';
import { PayoutPaidConfirmationSchema } from '#lib/integration/contracts/generated/incentive_ledger/payroll/v1/payout_confirmations_pb.js';

const { Kafka, Partitioners, logLevel } = kafkajs;
const json = { 'content-type': 'application/json' };

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
    await feeds.waitFor((records) => records.some((record) => record.headers['event-type'] === 'AttainmentChanged' && record.key === 'P-1'), 60_000, 'attainment of P-1');
    const deal1 = await ledger.http.get('/deals/D-1').expect(200);
    expect(deal1.body).toMatchObject({ dealId: 'D-1', amount: '56000.00' });
    const month = feeds.records
      .filter((record) => record.headers['event-type'] === 'AttainmentChanged')
      .map((record) => fromBinary(AttainmentChangedSchema, record.value))
      .find((change) => change.periodId === '2026-03' && change.reason === 'credited');
    expect(month).toMatchObject({ payeeId: 'P-1', measure: 'bookings', credited: '56000', quota: '100000.00', attainmentPercent: '56.00', dealsCounted: 1, dealId: 'D-1' });
    expect(month?.source?.actor).toMatchObject({ id: 'crm-intake', role: 'system' });
  });

  it('publishes approved payouts, takes payroll confirmations and publishes the payment', async () => {
    const period = new PeriodDriver(ledger.store, 'fy26-monthly', '2026-03');
    await period.openAndClose([frozenStatement('P-1', '5600.00'), frozenStatement('P-2', '0.00')], testCommandContext());
    await period.approve(undefined, testCommandContext({ actor: { id: 'finance-1', role: 'finance' } }));
    await feeds.waitFor((records) => records.filter((record) => record.headers['event-type'] === 'PayoutApproved').length === 2, 60_000, 'two approvals');
    const approved = feeds.records.filter((record) => record.headers['event-type'] === 'PayoutApproved').map((record) => fromBinary(PayoutEventSchema, record.value));
    const approvedP1 = approved.find((payout) => payout.payeeId === 'P-1')!;
    expect(approvedP1.change).toMatchObject({ case: 'approved', value: { currency: 'USD', netPayable: '5600.00', approvedBy: 'finance-1' } });
    const payoutId = approvedP1.change.case === 'approved' ? approvedP1.change.value.payoutId : '';

    const confirmation = create(PayoutPaidConfirmationSchema, { payeeId: 'P-1', calendarId: approvedP1.calendarId, periodId: approvedP1.periodId, payoutId, payrollReference: 'RUN-03' });
    await sender.send({ topic: `${prefix}payroll.confirmations.v1`, acks: -1, messages: [{ key: 'P-1', value: Buffer.from(toBinary(PayoutPaidConfirmationSchema, confirmation)) }] });
    await feeds.waitFor((records) => records.some((record) => record.headers['event-type'] === 'PayoutPaid'), 60_000, 'the payment');
    const paid = fromBinary(PayoutEventSchema, feeds.records.find((record) => record.headers['event-type'] === 'PayoutPaid')!.value);
    expect(paid).toMatchObject({ payeeId: 'P-1', change: { case: 'paid', value: { payoutId, payrollReference: 'RUN-03', confirmedBy: 'payroll-confirmations' } } });

    const health = await ledger.http.get('/health').expect(200);
    expect(health.body.kafka).toMatchObject({ relay: { status: 'running' }, consumers: ['crm-intake', 'payroll-confirmations'] });
  });
});
