/**
 * The escalation process survives a restart: the service is stopped while a dispute is not yet due, the clock passes
 * its due date while it is down, and the service started again over the same data directory escalates it, once. A
 * dispute escalated before the restart is not escalated again after it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { EventStore, RecordedEvent } from '#lib/event-store/event-store.port.js';
import { loadLedgerConfig } from '../../apps/ledger/src/config/ledger-config.js';
import { createLedgerApp } from '../../apps/ledger/src/ledger.app.js';
import { EVENT_STORE } from '../../apps/ledger/src/ledger.tokens.js';
import { signTestToken } from '../support/ledger-test-app.js';
import { EventStoreDbTestDouble } from '../support/eventstoredb/eventstoredb-test-double.js';

const json = { 'content-type': 'application/json' };

let dataDir: string;
const secret = randomBytes(32).toString('base64url');
/** With LEDGER_TEST_STORE=eventstoredb the log lives in an EventStoreDB test double that outlives both services. */
let eventStoreDb: EventStoreDbTestDouble | null = null;
let now: Date;
const clock = { now: () => now };
const at = (isoDate: string) => {
  now = new Date(`${isoDate}T12:00:00.000Z`);
};

/** The service over the shared data directory, on the test's clock; `http` acts as an analyst. */
async function startService(): Promise<{ app: INestApplication; http: ReturnType<typeof request.agent>; store: EventStore }> {
  const config = loadLedgerConfig({
    LEDGER_DATA_DIR: dataDir,
    LEDGER_LOG_LEVEL: 'error',
    LEDGER_AUTH_SECRET: secret,
    LEDGER_DISPUTE_PROCESS_MS: '20',
    LEDGER_DISPUTE_DUE_DAYS: 'clawback=5,other=20',
    ...(eventStoreDb ? { LEDGER_STORE: 'eventstoredb', LEDGER_EVENTSTOREDB_CONNECTION_STRING: eventStoreDb.connectionString } : {}),
  });
  const app = await createLedgerApp(config, { clock });
  await app.init();
  const token = signTestToken(config, secret, { sub: 'analyst-1', role: 'analyst', ttlSeconds: 600 });
  return { app, http: request.agent(app.getHttpServer()).set('Authorization', `Bearer ${token}`), store: app.get<EventStore>(EVENT_STORE) };
}

/** Resolves with the first event of this type in this stream after `afterPosition`, from the store's subscription. */
async function nextEvent(store: EventStore, streamId: string, type: string, afterPosition: number): Promise<RecordedEvent> {
  const subscription = store.subscribeToAll({ afterPosition, filter: { streamPrefixes: [streamId], eventTypes: [type] } });
  try {
    for await (const event of subscription) if (event.streamId === streamId) return event;
    throw new Error('subscription ended');
  } finally {
    await subscription.stop();
  }
}

const escalationsOf = async (store: EventStore, disputeId: string) =>
  (await store.readStream(`dispute-${disputeId}`)).filter((event) => event.type === 'DisputeEscalated');

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ledger-e2e-restart-'));
  if (process.env.LEDGER_TEST_STORE === 'eventstoredb') eventStoreDb = await EventStoreDbTestDouble.start();
});
afterAll(async () => {
  await eventStoreDb?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

it('escalates after a restart a dispute that fell due while the service was down, and never twice', async () => {
  at('2026-03-16');
  let service = await startService();
  await service.http.post('/payees').set(json).send({ payeeId: 'P-1', name: 'Ada', territory: 'NA', currency: 'USD', startDate: '2026-01-01' }).expect(201);
  const dispute = (disputeId: string, category: string) => ({
    disputeId,
    payeeId: 'P-1',
    subject: { kind: 'period', periodId: '2026-03' },
    category,
    amountClaimed: '250.00',
    description: 'March SPIF missing',
  });
  const early = await service.http.post('/disputes').set(json).send(dispute('DSP-early', 'clawback')).expect(201); // due 2026-03-23
  await service.http.post('/disputes').set(json).send(dispute('DSP-late', 'other')).expect(201); // due 2026-04-13

  // Past the first due date while running: the process escalates it on its own.
  at('2026-03-24');
  const escalated = await nextEvent(service.store, 'dispute-DSP-early', 'DisputeEscalated', early.body.position);
  expect(escalated).toMatchObject({ data: { dueOn: '2026-03-23', reason: 'resolution_overdue', level: 1 }, metadata: { actor: { id: 'process:dispute-escalation', role: 'system' } } });
  const queue = await service.http.get(`/disputes?overdue=true&waitForPosition=${escalated.position}`).expect(200);
  expect(queue.body.items).toEqual([expect.objectContaining({ disputeId: 'DSP-early', overdue: true, escalationLevel: 1 })]);
  await service.app.close();

  // Down while the second due date passes; up again over the same data directory.
  at('2026-04-15');
  service = await startService();
  const head = await service.store.headPosition();
  const late = await nextEvent(service.store, 'dispute-DSP-late', 'DisputeEscalated', escalated.position);
  expect(late).toMatchObject({ data: { dueOn: '2026-04-13', level: 1 } });
  expect(late.position).toBeGreaterThan(head);
  // One more run of the process, then count: the early dispute still has its single escalation.
  await service.http.get(`/disputes?waitForPosition=${late.position}`).expect(200);
  expect(await escalationsOf(service.store, 'DSP-early')).toHaveLength(1);
  expect(await escalationsOf(service.store, 'DSP-late')).toHaveLength(1);
  const after = await service.http.get('/disputes?escalated=true').expect(200);
  expect(after.body.items.map((item: { disputeId: string }) => item.disputeId)).toEqual(['DSP-early', 'DSP-late']);
  await service.app.close();
});
