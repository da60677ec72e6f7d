/**
 * The broker goes away for 30 s while payouts are approved and deals are closed over HTTP, then comes back with its
 * data. The service takes every command meanwhile; the relay waits and retries; afterwards every payout and every
 * attainment change is on the feed, one payee's messages in the order recorded.
 *
 * Runs its own broker (free ports, own data directory), since it stops it.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { fromBinary } from '@bufbuild/protobuf';
import { testCommandContext } from '#lib/shared/testing/test-command-context.js';
import { createTempDir } from '#lib/shared/testing/temp-dir.js';
import { describeWithKafka } from '../../../test/support/kafka/kafka-broker.js';
import { startDedicatedBroker, type DedicatedBroker } from '../../../test/support/kafka/dedicated-broker.js';
import { readTopics, type TopicReader } from '../../../test/support/kafka/topic-reader.js';
import { startLedgerTestApp, type LedgerTestApp } from '../../../test/support/ledger-test-app.js';
import { PeriodDriver, frozenStatement } from '../../../test/bench/period-driver.js';
import { KAFKA_INTEGRATION } from '../../../apps/ledger/src/ledger.tokens.js';
import type { KafkaIntegration } from '../../../apps/ledger/src/kafka/kafka-integration.js';
import { AttainmentChangedSchema } from '../contracts/generated/incentive_ledger/attainment/v1/attainment_events_pb.js';
import type { OutboundRelay } from './outbound-relay.js';

const OUTAGE_MS = 30_000;
/** More than the load can approve in the test, so the outage never runs out of payouts to approve. */
const PAYEES = 400;
const json = { 'content-type': 'application/json' };
const temp = createTempDir('broker-outage');

describeWithKafka('relay through a 30 s broker outage', () => {
  let broker: DedicatedBroker;
  let ledger: LedgerTestApp;
  let relay: OutboundRelay;
  let reader: TopicReader | null = null;

  beforeAll(async () => {
    broker = await startDedicatedBroker(temp.file('broker'));
    ledger = await startLedgerTestApp({ LEDGER_KAFKA_BROKERS: broker.brokers.join(','), LEDGER_KAFKA_RETRY_MAX_MS: '1000', LEDGER_KAFKA_TOPIC_PARTITIONS: '3', LEDGER_KAFKA_ROLES: 'relay' });
    relay = ledger.app.get<KafkaIntegration>(KAFKA_INTEGRATION).outboundRelay!;
  }, 120_000);

  afterAll(async () => {
    await reader?.close();
    await ledger?.close();
    broker?.remove();
    temp.remove();
  }, 120_000);

  it('loses nothing and keeps taking commands while the broker is down', async () => {
    const payees = Array.from({ length: PAYEES }, (_, index) => `R-${String(index).padStart(3, '0')}`);
    for (const payeeId of payees.slice(0, 10)) {
      await ledger.http.post('/payees').set(json).send({ payeeId, name: payeeId, territory: 'EMEA', currency: 'USD', startDate: '2026-01-01' }).expect(201);
    }
    const period = new PeriodDriver(ledger.store, 'fy26-monthly', '2026-03');
    await period.openAndClose(payees.map((payeeId, index) => frozenStatement(payeeId, `${1000 + index}.00`)), testCommandContext());
    const finance = testCommandContext({ actor: { id: 'finance-1', role: 'finance' } });

    // Load before, during and after the outage: one approval and one deal at a time, continuously.
    let deals = 0;
    let approvals = 0;
    let commandsDuringOutage = 0;
    let outage = false;
    const load = async (until: () => boolean): Promise<void> => {
      while (!until()) {
        await period.approve([payees[approvals]], finance);
        approvals++;
        const owner = payees[deals % 10];
        await ledger.http
          .post('/deals')
          .set(json)
          .send({ dealId: `D-${deals}`, ownerPayeeId: owner, amount: `${100 + deals}.00`, currency: 'USD', closeDate: '2026-03-14', product: 'platform', dealType: 'new_business', overlays: [] })
          .expect(201);
        deals++;
        if (outage) commandsDuringOutage += 2;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };

    await load(() => approvals >= 20);
    await relay.waitForPosition(await ledger.store.headPosition());
    broker.stop();
    outage = true;
    const outageEnds = Date.now() + OUTAGE_MS;
    await load(() => Date.now() >= outageEnds);
    outage = false;
    expect(commandsDuringOutage).toBeGreaterThan(50);
    expect(relay.status).toBe('retrying');
    const stuckAt = relay.position;
    expect(stuckAt).toBeLessThan(await ledger.store.headPosition());

    broker.restart();
    const approvalsAfterRestart = approvals + 20;
    await load(() => approvals >= approvalsAfterRestart);
    await relay.waitForPosition(await ledger.store.headPosition());
    expect(relay.status).toBe('running');

    reader = await readTopics(broker.brokers, ['icm.payouts.v1', 'icm.attainment.v1']);
    const distinct = (topic: string): number => new Set(reader!.records.filter((record) => record.topic === topic).map((record) => record.headers['event-id'])).size;
    // Each deal changes the owner's month, quarter and year.
    await reader.waitFor((records) => distinct('icm.payouts.v1') >= approvals && distinct('icm.attainment.v1') >= deals * 3, 60_000, 'every payout and attainment change');
    const approvedPayees = new Set(reader.records.filter((record) => record.headers['event-type'] === 'PayoutApproved').map((record) => record.key));
    expect(approvedPayees).toEqual(new Set(payees.slice(0, approvals)));
    expect(distinct('icm.payouts.v1')).toBe(approvals);
    expect(distinct('icm.attainment.v1')).toBe(deals * 3);

    // Per payee, period and measure, the credited totals only grow: first deliveries arrive in the order recorded.
    const seen = new Set<string>();
    const lastCredited = new Map<string, number>();
    for (const record of reader.records.filter((record) => record.topic === 'icm.attainment.v1')) {
      if (seen.has(record.headers['event-id'])) continue;
      seen.add(record.headers['event-id']);
      const change = fromBinary(AttainmentChangedSchema, record.value);
      const row = `${change.payeeId}/${change.periodId}/${change.measure}`;
      const credited = Number(change.credited);
      expect(credited).toBeGreaterThan(lastCredited.get(row) ?? 0);
      lastCredited.set(row, credited);
    }
  }, 240_000);
});

