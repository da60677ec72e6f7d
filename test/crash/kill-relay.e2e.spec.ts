/**
 * `kill -9` of the service while its relay is publishing payout approvals, then a restart: every payout reaches the
 * feed; the only duplicates are records of events after the relay's stored checkpoint (published, but not yet
 * acknowledged back to the relay when it died), and each copy carries the same event id and bytes as the original.
 *
 * Then `cli rebuild` of the read models, with the service stopped, publishes nothing again when the service restarts.
 *
 * The service runs as a child process (the compiled dist/ build) with only the relay on Kafka; this test appends the
 * period's events to the same store file from its own process, as another writer would, while a plain kafkajs
 * consumer reads the topic.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { fromBinary } from '@bufbuild/protobuf';
import kafkajs from 'kafkajs';
import { SqliteEventStore } from '#lib/event-store/embedded/sqlite-event-store.js';
import { testCommandContext } from '#lib/shared/testing/test-command-context.js';
import { PayoutEventSchema } from '#lib/integration/contracts/generated/incentive_ledger/payouts/v1/payout_events_pb.js';
import { describeWithKafka } from '../support/kafka/kafka-broker.js';
import { readTopics, type TopicReader } from '../support/kafka/topic-reader.js';
import { PeriodDriver, frozenStatement } from '../bench/period-driver.js';
import { buildService, freePort, repoRoot, spawnServiceProcess, type ServiceProcess } from '../support/service-process.js';

const cliMain = join(repoRoot, 'dist/apps/cli/src/main.js');
const PAYEES = 300;
/** The kill comes once the consumer has read this many records: mid-stream of the relay's catch-up. */
const KILL_AFTER_RECORDS = 80;

type Service = ServiceProcess;

describeWithKafka('kill -9 of the service while its relay publishes', (brokers) => {
  const prefix = `crash-${randomUUID().slice(0, 8)}.`;
  const topic = `${prefix}icm.payouts.v1`;
  let dataDir: string;
  let port: number;
  let store: SqliteEventStore;
  let reader: TopicReader;
  let service: Service | null = null;

  // Not waiting for /health: the relay starts publishing at boot, and the kill must land while it catches up.
  const startService = (): Service =>
    spawnServiceProcess(
      {
        LEDGER_DATA_DIR: dataDir,
        LEDGER_POLL_MS: '10',
        LEDGER_KAFKA_BROKERS: brokers.join(','),
        LEDGER_KAFKA_TOPIC_PREFIX: prefix,
        LEDGER_KAFKA_TOPIC_PARTITIONS: '3',
        LEDGER_KAFKA_ROLES: 'relay',
        // Small batches: many checkpoints, so the kill lands between two of them.
        LEDGER_KAFKA_RELAY_BATCH: '7',
      },
      port,
    );

  const relayCheckpoint = (): number => {
    const stateFile = new Database(join(dataDir, 'relay.sqlite'), { readonly: true });
    try {
      return (stateFile.prepare("SELECT position FROM relay_checkpoints WHERE relay_name = 'outbound'").get() as { position: number }).position;
    } finally {
      stateFile.close();
    }
  };

  const waitForRelay = async (position: number): Promise<void> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const relay = await relayHealth();
      if (relay !== null && relay.position >= position) return;
      if (Date.now() > deadline) throw new Error(`relay did not reach ${position}: ${JSON.stringify(relay)}\n${service?.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const relayHealth = async (): Promise<{ position: number; status: string } | null> => {
    try {
      const reply = await fetch(`http://127.0.0.1:${port}/health`);
      if (!reply.ok) return null;
      const body = (await reply.json()) as { kafka: { relay: { position: number; status: string } } };
      return body.kafka.relay;
    } catch {
      return null;
    }
  };

  beforeAll(async () => {
    buildService();
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-kill-relay-'));
    port = await freePort();
    store = SqliteEventStore.open({ path: join(dataDir, 'events.sqlite'), pollIntervalMs: 10 });
    reader = await readTopics(brokers, [topic]);
  }, 180_000);

  afterAll(async () => {
    if (service !== null && service.child.exitCode === null && service.child.signalCode === null) {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    await reader?.close();
    await store?.close();
    const admin = new kafkajs.Kafka({ clientId: 'cleanup', brokers, logLevel: kafkajs.logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: (await admin.listTopics()).filter((name) => name.startsWith(prefix)) }).catch(() => undefined);
    await admin.disconnect();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('publishes every payout after a kill and restart, duplicating only what followed the stored checkpoint', async () => {
    const payees = Array.from({ length: PAYEES }, (_, index) => `R-${String(index).padStart(3, '0')}`);
    const period = new PeriodDriver(store, 'fy26-monthly', '2026-03');
    await period.openAndClose(payees.map((payeeId, index) => frozenStatement(payeeId, `${500 + index}.25`)), testCommandContext());
    const finance = testCommandContext({ actor: { id: 'finance-1', role: 'finance' } });

    // Two thirds of the approvals are in the log before the service starts, so its relay is busy catching up (a batch
    // in flight most of the time) when the kill lands; the rest are recorded while it is down and after the restart.
    let approved = 0;
    while (approved < 200) await period.approve([payees[approved++]], finance);
    service = await startService();
    await reader.waitFor((records) => records.length >= KILL_AFTER_RECORDS, 60_000, `${KILL_AFTER_RECORDS} records before the kill`);
    service.child.kill('SIGKILL');
    await service.exited;
    while (approved < 250) await period.approve([payees[approved++]], finance);
    const checkpointAtKill = relayCheckpoint();
    expect(checkpointAtKill).toBeGreaterThan(0);
    expect(checkpointAtKill).toBeLessThan(await store.headPosition());

    service = await startService();
    while (approved < PAYEES) await period.approve([payees[approved++]], finance);
    const head = await store.headPosition();
    await waitForRelay(head);
    const distinctIds = (): number => new Set(reader.records.map((record) => record.headers['event-id'])).size;
    await reader.waitFor(() => distinctIds() >= PAYEES, 60_000, `${PAYEES} distinct payouts`);

    const records = reader.records.map((record) => ({ record, payout: fromBinary(PayoutEventSchema, record.value) }));
    expect(new Set(records.map(({ payout }) => payout.payeeId))).toEqual(new Set(payees));
    expect(records.every(({ record }) => record.headers['event-type'] === 'PayoutApproved')).toBe(true);
    const copiesById = new Map<string, typeof records>();
    for (const entry of records) copiesById.set(entry.record.headers['event-id'], [...(copiesById.get(entry.record.headers['event-id']) ?? []), entry]);
    expect(copiesById.size).toBe(PAYEES);
    // The checkpoint moves after every batch, so at most the one batch in flight at the kill comes twice.
    expect(records.length - PAYEES).toBeLessThanOrEqual(7);
    for (const copies of copiesById.values()) {
      const position = Number(copies[0].payout.source!.ledgerPosition);
      // At or before the stored checkpoint: acknowledged and recorded, so never published again.
      if (position <= checkpointAtKill) expect(copies).toHaveLength(1);
      for (const copy of copies) expect(Buffer.from(copy.record.value).equals(Buffer.from(copies[0].record.value))).toBe(true);
    }
    // Per payee, one partition.
    for (const payeeId of payees) expect(new Set(records.filter(({ payout }) => payout.payeeId === payeeId).map(({ record }) => record.partition)).size).toBe(1);
  }, 240_000);

  it('publishes nothing again after cli rebuild of the read models', async () => {
    service!.child.kill('SIGTERM');
    await service!.exited;
    const checkpoint = relayCheckpoint();
    const recordsBefore = reader.records.length;
    const rebuild = spawnSync(process.execPath, [cliMain, 'rebuild', '--data-dir', dataDir], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, LEDGER_LOG_LEVEL: 'warn' } });
    expect({ status: rebuild.status, stderr: rebuild.stderr }).toEqual({ status: 0, stderr: '' });
    expect(rebuild.stdout).toMatch(/^Rebuilt /);
    expect(relayCheckpoint()).toBe(checkpoint);

    // One new approval after the rebuild: the only record the restarted relay publishes.
    service = await startService();
    const april = new PeriodDriver(store, 'fy26-monthly', '2026-04');
    await april.openAndClose([frozenStatement('R-000', '10.00')], testCommandContext());
    await april.approve(['R-000'], testCommandContext({ actor: { id: 'finance-1', role: 'finance' } }));
    await waitForRelay(await store.headPosition());
    await reader.waitFor((records) => records.length > recordsBefore, 30_000, 'the approval after the rebuild');
    expect(reader.records.slice(recordsBefore).map((record) => fromBinary(PayoutEventSchema, record.value).periodId)).toEqual(['2026-04']);
  }, 120_000);
});
