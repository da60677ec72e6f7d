/**
 * The inbound topics against a real broker, fed by a plain kafkajs producer with messages encoded by the generated
 * code, as the CRM and payroll would send them: deals become deal commands once per CRM event id; a poison message
 * and a rejected one go to the dead-letter topic with their reason and the next message is still processed; payroll
 * confirmations mark payouts paid once per payout.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import kafkajs from 'kafkajs';
import type { Producer } from 'kafkajs';
import { onboardPayee } from '#lib/organization/application/payee-commands.js';
import { loadDeal } from '#lib/crediting/application/deal-commands.js';
import { dealStreamId } from '#lib/crediting/domain/deal.decider.js';
import { payoutIdFor } from '#lib/payouts/domain/payout-id.js';
import { openLedgerHarness, type LedgerHarness } from '#lib/shared/testing/ledger-harness.js';
import { testCommandContext } from '#lib/shared/testing/test-command-context.js';
import { createTempDir } from '#lib/shared/testing/temp-dir.js';
import { describeWithKafka } from '../../../test/support/kafka/kafka-broker.js';
import { readTopics, type TopicReader } from '../../../test/support/kafka/topic-reader.js';
import { PeriodDriver, frozenStatement } from '../../../test/bench/period-driver.js';
import { DealEventSchema } from '../contracts/generated/incentive_ledger/crm/v1/deal_events_pb.js';
import { PayoutPaidConfirmationSchema } from '../contracts/generated/incentive_ledger/payroll/v1/payout_confirmations_pb.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { createKafkaClient } from '../infrastructure/kafka-client.js';
import { KafkaIntakeConsumer } from '../infrastructure/kafka-intake-consumer.js';
import { applyCrmDealEvent } from './crm-deal-intake.js';
import { applyPayrollConfirmation } from './payroll-confirmation-intake.js';
import type { IntakeOutcome } from './intake.js';

const { Kafka, Partitioners, logLevel } = kafkajs;
const temp = createTempDir('intake');
const clock = () => new Date('2026-03-20T10:00:00.000Z');

describeWithKafka('Kafka intake (CRM deals, payroll confirmations)', (brokers) => {
  const runId = randomUUID().slice(0, 8);
  const crmTopic = `it-${runId}.crm.deals.v1`;
  const payrollTopic = `it-${runId}.payroll.confirmations.v1`;
  const kafka = createKafkaClient({ brokers, clientId: `intake-it-${runId}` });
  let ledger: LedgerHarness;
  let crm: KafkaIntakeConsumer;
  let payroll: KafkaIntakeConsumer;
  let sender: Producer;
  let deadLetters: TopicReader;
  const outcomes: { topic: string; outcome: IntakeOutcome }[] = [];
  const outcomesOf = (topic: string) => outcomes.filter((entry) => entry.topic === topic).map((entry) => entry.outcome);
  const waitForOutcomes = async (topic: string, count: number): Promise<void> => {
    const started = Date.now();
    while (outcomesOf(topic).length < count) {
      if (Date.now() - started > 30_000) throw new Error(`timed out waiting for ${count} outcomes on ${topic}, have ${outcomesOf(topic).length}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  beforeAll(async () => {
    ledger = await openLedgerHarness(temp.path);
    for (const payeeId of ['ana', 'ben']) {
      await onboardPayee(ledger.store, { payeeId, name: payeeId, managerId: null, territory: 'EMEA', currency: 'USD', startDate: '2026-01-01' }, testCommandContext());
    }
    const admin = kafka.admin();
    await admin.connect();
    // One partition each, so "the next message" is well defined.
    await admin.createTopics({ waitForLeaders: true, topics: [crmTopic, payrollTopic].map((topic) => ({ topic, numPartitions: 1 })) });
    await admin.disconnect();
    const record = (topic: string) => (outcome: IntakeOutcome) => outcomes.push({ topic, outcome });
    crm = new KafkaIntakeConsumer(kafka, { topic: crmTopic, deadLetterTopic: `${crmTopic}.dlq`, groupId: `it-${runId}-crm`, handler: (value) => applyCrmDealEvent(ledger.store, value, clock), onOutcome: record(crmTopic) });
    payroll = new KafkaIntakeConsumer(kafka, {
      topic: payrollTopic,
      deadLetterTopic: `${payrollTopic}.dlq`,
      groupId: `it-${runId}-payroll`,
      handler: (value) => applyPayrollConfirmation(ledger.store, value, clock),
      onOutcome: record(payrollTopic),
    });
    crm.start();
    payroll.start();
    await Promise.all([crm.running(), payroll.running()]);
    sender = new Kafka({ clientId: 'crm-and-payroll', brokers, logLevel: logLevel.NOTHING }).producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await sender.connect();
    deadLetters = await readTopics(brokers, [`${crmTopic}.dlq`, `${payrollTopic}.dlq`]);
  });

  afterAll(async () => {
    await crm?.stop();
    await payroll?.stop();
    await sender?.disconnect();
    await deadLetters?.close();
    await ledger?.close();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [crmTopic, payrollTopic, `${crmTopic}.dlq`, `${payrollTopic}.dlq`] }).catch(() => undefined);
    await admin.disconnect();
    temp.remove();
  });

  const dealEvent = (init: MessageInitShape<typeof DealEventSchema>): Buffer => Buffer.from(toBinary(DealEventSchema, create(DealEventSchema, init)));
  const closedWon = (eventId: string, dealId: string, ownerPayeeId: string): Buffer =>
    dealEvent({
      eventId,
      dealId,
      occurredAt: timestampFromDate(new Date('2026-03-14T16:30:00.000Z')),
      change: {
        case: 'closedWon',
        value: {
          ownerPayeeId,
          amount: '80000.00',
          currency: 'USD',
          closeDate: '2026-03-14',
          product: 'platform',
          dealType: 'new_business',
          primarySplits: [
            { payeeId: 'ana', sharePercent: '70' },
            { payeeId: 'ben', sharePercent: '30' },
          ],
          overlays: { overlays: [] },
        },
      },
    });

  it('turns deal events into deal commands once per CRM event id, dead-letters poison and rejected messages with their reason, and goes on', async () => {
    const amended = dealEvent({ eventId: 'crm-ev-3', dealId: 'D-1', change: { case: 'amended', value: { amount: '90000.00', reason: 'price corrected' } } });
    await sender.send({
      topic: crmTopic,
      acks: -1,
      messages: [
        { key: 'D-1', value: closedWon('crm-ev-1', 'D-1', 'ana') },
        { key: 'D-x', value: Buffer.from([0xff, 0xff, 0xff, 0x07, 0x01]), headers: { source: 'crm' } },
        { key: 'D-2', value: closedWon('crm-ev-2', 'D-2', 'nobody') },
        { key: 'D-1', value: amended },
        { key: 'D-1', value: closedWon('crm-ev-1', 'D-1', 'ana') },
        { key: 'D-1', value: amended },
      ],
    });
    await waitForOutcomes(crmTopic, 6);
    expect(outcomesOf(crmTopic).map((outcome) => (outcome.status === 'rejected' ? `rejected ${outcome.code}` : outcome.status))).toEqual([
      'applied',
      'rejected INTAKE.UNDECODABLE',
      'rejected CREDIT.UNKNOWN_PAYEE',
      'applied',
      'already_applied',
      'already_applied',
    ]);

    const deal = await loadDeal(ledger.store, 'D-1');
    expect(deal).toMatchObject({ status: 'won', amount: '90000.00' });
    const events = await ledger.store.readStream(dealStreamId('D-1'));
    expect(events.map((event) => [event.type, event.metadata.commandId, event.metadata.actor])).toEqual([
      ['DealClosedWon', 'crm:crm-ev-1', { id: 'crm-intake', role: 'system' }],
      ['CreditsAllocated', 'crm:crm-ev-1', { id: 'crm-intake', role: 'system' }],
      ['DealAmended', 'crm:crm-ev-3', { id: 'crm-intake', role: 'system' }],
    ]);
    expect(events[0].metadata.occurredAt).toBe('2026-03-14T16:30:00.000Z');
    expect(await ledger.store.readStream(dealStreamId('D-2'))).toEqual([]);

    await deadLetters.waitFor((records) => records.filter((record) => record.topic === `${crmTopic}.dlq`).length >= 2, 30_000, 'two dead letters');
    const crmDeadLetters = deadLetters.records.filter((record) => record.topic === `${crmTopic}.dlq`);
    expect(crmDeadLetters.map((record) => ({ key: record.key, code: record.headers['dlq-code'], offset: record.headers['dlq-source-offset'], from: record.headers['dlq-source-topic'] }))).toEqual([
      { key: 'D-x', code: 'INTAKE.UNDECODABLE', offset: '1', from: crmTopic },
      { key: 'D-2', code: 'CREDIT.UNKNOWN_PAYEE', offset: '2', from: crmTopic },
    ]);
    expect(crmDeadLetters[0].headers.source).toBe('crm');
    expect(Buffer.from(crmDeadLetters[0].value)).toEqual(Buffer.from([0xff, 0xff, 0xff, 0x07, 0x01]));
    expect(crmDeadLetters[1].headers['dlq-reason']).toMatch(/^CREDIT\.UNKNOWN_PAYEE: .*nobody/);
  });

  it('marks a confirmed payout paid once on its pay date, and dead-letters a confirmation of an unknown payout, under another reference or without a valid date', async () => {
    const june = new PeriodDriver(ledger.store, 'fy26-monthly', '2026-06');
    await june.openAndClose([frozenStatement('ana', '2750.00'), frozenStatement('ben', '1200.50')], testCommandContext());
    await june.approve(undefined, testCommandContext({ actor: { id: 'finance-1', role: 'finance' } }));
    const payoutAna = payoutIdFor({ payeeId: 'ana', periodId: '2026-06', statementDigest: frozenStatement('ana', '2750.00').statementDigest });
    const payoutBen = payoutIdFor({ payeeId: 'ben', periodId: '2026-06', statementDigest: frozenStatement('ben', '1200.50').statementDigest });
    const confirmation = (payeeId: string, payoutId: string, payrollReference: string, when: { paidAt?: string; paidOn?: string } = { paidAt: '2026-07-01T08:00:00Z' }): Buffer =>
      Buffer.from(
        toBinary(
          PayoutPaidConfirmationSchema,
          create(PayoutPaidConfirmationSchema, {
            payeeId,
            calendarId: 'fy26-monthly',
            periodId: '2026-06',
            payoutId,
            payrollReference,
            ...(when.paidAt === undefined ? {} : { paidAt: timestampFromDate(new Date(when.paidAt)) }),
            ...(when.paidOn === undefined ? {} : { paidOn: when.paidOn }),
          }),
        ),
      );
    await sender.send({
      topic: payrollTopic,
      acks: -1,
      messages: [
        { key: 'ana', value: confirmation('ana', payoutAna, 'RUN-2026-06') },
        { key: 'ana', value: confirmation('ana', payoutAna, 'RUN-2026-06') },
        { key: 'ben', value: confirmation('ben', 'payout:ben:2026-06:sha256%3Aold', 'RUN-2026-06') },
        { key: 'ana', value: confirmation('ana', payoutAna, 'RUN-OTHER') },
        { key: 'ben', value: confirmation('ben', payoutBen, 'RUN-2026-06', {}) },
        { key: 'ben', value: confirmation('ben', payoutBen, 'RUN-2026-06', { paidOn: '30/06/2026' }) },
        // Paid on the 30th in New York, which is already the 1st in UTC: the business date given wins.
        { key: 'ben', value: confirmation('ben', payoutBen, 'RUN-2026-06', { paidOn: '2026-06-30', paidAt: '2026-06-30T23:30:00-05:00' }) },
      ],
    });
    await waitForOutcomes(payrollTopic, 7);
    expect(outcomesOf(payrollTopic).map((outcome) => (outcome.status === 'rejected' ? `rejected ${outcome.code}` : outcome.status))).toEqual([
      'applied',
      'already_applied',
      'rejected PAYOUT.UNKNOWN',
      'rejected PAYOUT.ALREADY_PAID',
      'rejected INTAKE.FIELD_MISSING',
      'rejected VALIDATION.DATE',
      'applied',
    ]);
    const paid = (await ledger.store.readStream(june.streamId)).filter((event) => event.type === 'PayoutsPaid');
    const period = { calendarId: 'fy26-monthly', periodId: '2026-06' };
    expect(paid.map((event) => ({ data: event.data, actor: event.metadata.actor, commandId: event.metadata.commandId, occurredAt: event.metadata.occurredAt }))).toEqual([
      {
        data: { ...period, confirmedBy: 'payroll-confirmations', payrollReference: 'RUN-2026-06', paidOn: '2026-07-01', payouts: [{ payeeId: 'ana', payoutId: payoutAna, currency: 'USD', netPayable: '2750.00' }] },
        actor: { id: 'payroll-confirmations', role: 'system' },
        commandId: `payroll:${payoutAna}`,
        occurredAt: '2026-07-01T08:00:00.000Z',
      },
      {
        data: { ...period, confirmedBy: 'payroll-confirmations', payrollReference: 'RUN-2026-06', paidOn: '2026-06-30', payouts: [{ payeeId: 'ben', payoutId: payoutBen, currency: 'USD', netPayable: '1200.50' }] },
        actor: { id: 'payroll-confirmations', role: 'system' },
        commandId: `payroll:${payoutBen}`,
        occurredAt: '2026-07-01T04:30:00.000Z',
      },
    ]);
    await deadLetters.waitFor((records) => records.filter((record) => record.topic === `${payrollTopic}.dlq`).length >= 4, 30_000, 'four payroll dead letters');
    // Dead letters keep the key they came with, so each payee's are in order (payees may be in different partitions).
    const payrollDeadLetters = deadLetters.records.filter((record) => record.topic === `${payrollTopic}.dlq`);
    const codesOf = (payeeId: string) => payrollDeadLetters.filter((record) => record.key === payeeId).map((record) => record.headers['dlq-code']);
    expect(payrollDeadLetters).toHaveLength(4);
    expect(codesOf('ana')).toEqual(['PAYOUT.ALREADY_PAID']);
    expect(codesOf('ben')).toEqual(['PAYOUT.UNKNOWN', 'INTAKE.FIELD_MISSING', 'VALIDATION.DATE']);
  });
});
