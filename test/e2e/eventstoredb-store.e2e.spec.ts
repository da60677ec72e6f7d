/**
 * The service with LEDGER_STORE=eventstoredb, talking gRPC to the EventStoreDB test double: commands append
 * through the EventStoreDB adapter, read models follow its catch-up subscription, and both carry on when the
 * server restarts under them. (The whole end-to-end suite runs this way with LEDGER_TEST_STORE=eventstoredb.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { EventStoreDbEventStore } from '#lib/event-store/eventstoredb/eventstoredb-event-store.js';
import { SqliteReadModelDb } from '#lib/shared/infrastructure/sqlite-read-model-db.js';
import { runCli } from '../../apps/cli/src/main.js';
import { startLedgerTestApp, type LedgerTestApp } from '../support/ledger-test-app.js';
import { EventStoreDbTestDouble } from '../support/eventstoredb/eventstoredb-test-double.js';

const json = { 'content-type': 'application/json' };

const payee = (payeeId: string, managerId?: string) => ({
  payeeId,
  name: `Payee ${payeeId}`,
  ...(managerId ? { managerId } : {}),
  territory: 'EMEA',
  currency: 'USD',
  startDate: '2026-01-01',
});

const deal = (dealId: string, amount: string) => ({
  dealId,
  ownerPayeeId: 'P-1',
  amount,
  currency: 'USD',
  closeDate: '2026-03-14',
  product: 'platform',
  dealType: 'new_business',
  overlays: [{ payeeId: 'P-100', sharePercent: '100', role: 'manager' }],
});

describe('the service on EventStoreDB (test double)', () => {
  let ledger: LedgerTestApp;
  let server: EventStoreDbTestDouble;

  beforeAll(async () => {
    ledger = await startLedgerTestApp({}, { store: 'eventstoredb' });
    server = ledger.eventStoreDb as EventStoreDbTestDouble;
    for (const body of [payee('P-100'), payee('P-1', 'P-100')]) await ledger.http.post('/payees').set(json).send(body).expect(201);
    await ledger.http.put('/payees/P-1/quotas/2026-03/bookings').set(json).send({ amount: '100000.00', currency: 'USD' }).expect(200);
  });

  afterAll(async () => {
    await ledger.close();
  });

  it('runs on the EventStoreDB adapter, whose log positions are the server log offsets', async () => {
    expect(ledger.store).toBeInstanceOf(EventStoreDbEventStore);
    const health = await ledger.http.get('/health').expect(200);
    expect(health.body.headPosition).toBe(await ledger.headPosition());
    expect(health.body.headPosition).toBe(server.log.events.at(-1)?.position);
  });

  it('credits deals and reads attainment at the position each command answered, across a restart of the server', async () => {
    const first = await ledger.http.post('/deals').set(json).send(deal('D-1', '30000.00')).expect(201);
    const before = await ledger.http.get(`/payees/P-1/attainment?period=2026-03&waitForPosition=${first.body.position}`).expect(200);
    expect(before.body.measures).toEqual([expect.objectContaining({ creditedAmount: '30000', attainmentPercent: '30.00', dealsCounted: 1 })]);

    await server.restart(100);

    const second = await ledger.http.post('/deals').set(json).send(deal('D-2', '25000.00')).expect(201);
    expect(second.body.position).toBeGreaterThan(first.body.position);
    const after = await ledger.http.get(`/payees/P-1/attainment?period=2026-03&waitForPosition=${second.body.position}`).expect(200);
    expect(after.body.measures).toEqual([expect.objectContaining({ creditedAmount: '55000', attainmentPercent: '55.00', dealsCounted: 2 })]);
    const manager = await ledger.http.get(`/payees/P-100/attainment?period=2026-03&waitForPosition=${second.body.position}`).expect(200);
    expect(manager.body.measures).toEqual([expect.objectContaining({ creditedAmount: '55000' })]);
  });

  it('amends with If-Match, answers 409 to the same If-Match again, and leaves the log as it was', async () => {
    const read = await ledger.http.get('/deals/D-1').expect(200);
    const etag = read.headers.etag as string;
    await ledger.http.post('/deals/D-1/amendments').set(json).set('If-Match', etag).send({ amount: '31000.00', reason: 'typo' }).expect(200);
    const head = await ledger.headPosition();
    const refused = await ledger.http.post('/deals/D-1/amendments').set(json).set('If-Match', etag).send({ amount: '32000.00', reason: 'typo' });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('STORE.CONCURRENCY');
    expect(await ledger.headPosition()).toBe(head);
  });
});

describe('the command line on EventStoreDB (test double)', () => {
  it('seeds a demo org into the server, rebuilds the read models from it, and explains that verify is for the embedded file', async () => {
    const server = await EventStoreDbTestDouble.start();
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-cli-esdb-'));
    const environment = { LEDGER_STORE: 'eventstoredb', LEDGER_EVENTSTOREDB_CONNECTION_STRING: server.connectionString, LEDGER_DATA_DIR: dataDir };
    const output: string[] = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => output.push(String(chunk)) > 0);
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => output.push(String(chunk)) > 0);
    try {
      expect(await runCli(['seed-demo', '--payees', '8', '--deals', '40', '--seed', '3'], environment)).toBe(0);
      const ledgerEvents = server.log.events.filter((event) => !event.streamName.startsWith('$')).length;
      expect(output.join('')).toMatch(new RegExp(`Seeded 8 payees, \\d+ quotas and 40 deals \\(${ledgerEvents} events\\)`));

      expect(await runCli(['rebuild'], environment)).toBe(0);
      const readModels = SqliteReadModelDb.open({ path: join(dataDir, 'read-models.sqlite') });
      const deals = await readModels.read((reader) => reader.get<{ count: number }>('SELECT COUNT(*) AS count FROM deals', []));
      await readModels.close();
      expect(deals?.count).toBe(40);

      expect(await runCli(['verify'], environment)).toBe(2);
      expect(output.join('')).toContain('LEDGER_STORE=eventstoredb has none');
    } finally {
      jest.restoreAllMocks();
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
