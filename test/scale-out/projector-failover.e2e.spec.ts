/**
 * The scale-out topology as real processes: an EventStoreDB server (the test double, over gRPC), read models in
 * PostgreSQL, one `api` process and two `projector` processes started together. Exactly one projector takes the
 * lease and writes; the api process reads at the positions its commands answered, off the checkpoints the projector
 * stores. The writing projector is killed with SIGKILL in the middle of a burst of writes: the other takes the lease
 * over, resumes from the checkpoints, and the read models it leaves equal a rebuild from zero.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import pg from 'pg';
import { EventStoreDbEventStore } from '#lib/event-store/eventstoredb/eventstoredb-event-store.js';
import { createLedgerProjections } from '#lib/projections/ledger-projections.js';
import { ProjectionRunner } from '#lib/projections/projection-runner.js';
import { PostgresReadModelDb, PROJECTOR_LOCK_KEY } from '#lib/shared/infrastructure/postgres-read-model-db.js';
import { dumpReadModel } from '#lib/shared/testing/read-model-dump.js';
import { loadLedgerConfig } from '../../apps/ledger/src/config/ledger-config.js';
import { EventStoreDbTestDouble } from '../support/eventstoredb/eventstoredb-test-double.js';
import { signTestToken } from '../support/ledger-test-app.js';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/postgres/postgres-test-db.js';
import { buildService, call, sleep, startServiceProcess, type ServiceProcess } from '../support/service-process.js';

const REPS = ['R-1', 'R-2', 'R-3', 'R-4'];

describeWithPostgres('two projector processes against one PostgreSQL database and one EventStoreDB', () => {
  let eventStoreDb: EventStoreDbTestDouble;
  let database: TestDatabase;
  let token = '';
  const dataDirs: string[] = [];
  const processes: ServiceProcess[] = [];
  let environment: Record<string, string> = {};

  beforeAll(async () => {
    buildService();
    eventStoreDb = await EventStoreDbTestDouble.start();
    database = await createTestDatabase('failover');
    const secret = randomBytes(32).toString('base64url');
    environment = {
      LEDGER_STORE: 'eventstoredb',
      LEDGER_EVENTSTOREDB_CONNECTION_STRING: eventStoreDb.connectionString,
      LEDGER_READ_MODELS: 'postgres',
      LEDGER_POSTGRES_URL: database.url,
      LEDGER_AUTH_SECRET: secret,
      LEDGER_LEASE_POLL_MS: '200',
      LEDGER_READ_WAIT_MS: '30000',
    };
    token = signTestToken(loadLedgerConfig({ LEDGER_AUTH_SECRET: secret }), secret, { sub: 'failover-test', role: 'admin', ttlSeconds: 3600 });
  }, 180_000);

  afterAll(async () => {
    for (const service of processes) await service.kill('SIGKILL');
    await eventStoreDb?.stop();
    await database?.drop();
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  });

  const start = (roles: string) => {
    const dataDir = mkdtempSync(join(tmpdir(), `ledger-${roles}-`));
    dataDirs.push(dataDir);
    return startServiceProcess({ ...environment, LEDGER_ROLES: roles, LEDGER_DATA_DIR: dataDir }).then((service) => {
      processes.push(service);
      return service;
    });
  };

  /** How many database sessions hold the projector's advisory lock. */
  const lockHolders = async (): Promise<number> => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const result = await client.query("SELECT count(*)::int AS holders FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = $1", [PROJECTOR_LOCK_KEY]);
      return result.rows[0].holders;
    } finally {
      await client.end();
    }
  };

  const post = async (port: number, path: string, body: unknown, method = 'POST'): Promise<any> => {
    const reply = await call(port, method, path, { body, token });
    if (reply.status < 200 || reply.status >= 300) throw new Error(`${method} ${path} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
    return reply.body;
  };

  const deal = (index: number) => ({
    dealId: `D-${index}`,
    ownerPayeeId: REPS[index % REPS.length],
    amount: `${1000 + index}.25`,
    currency: 'USD',
    closeDate: `2026-03-${String(1 + (index % 28)).padStart(2, '0')}`,
    product: 'platform',
    dealType: 'new_business',
  });

  it('lets exactly one write, fails over on kill -9, and leaves read models equal to a rebuild from zero', async () => {
    const [first, second] = await Promise.all([start('projector'), start('projector')]);
    const api = await start('api');

    // Exactly one projector holds the lease, and one session holds the lock.
    const healths = await Promise.all([first.health(), second.health()]);
    expect(healths.map((health) => health.projectorLease).sort()).toEqual(['held', 'standby']);
    expect(healths.every((health) => health.roles.join() === 'projector')).toBe(true);
    expect(await lockHolders()).toBe(1);
    const apiHealth = await api.health();
    expect(apiHealth).toMatchObject({ roles: ['api'], projectorLease: 'not-a-projector', projections: { status: 'elsewhere' } });
    // The projector-only processes serve /health and nothing of the ledger.
    expect((await call(first.port, 'GET', '/deals', { token })).status).toBe(404);

    await post(api.port, '/payees', { payeeId: 'M-1', name: 'Manager', territory: 'EMEA', currency: 'USD', startDate: '2026-01-01' });
    for (const rep of REPS) await post(api.port, '/payees', { payeeId: rep, name: rep, managerId: 'M-1', territory: 'EMEA', currency: 'USD', startDate: '2026-01-01' });

    // A burst of deals through the api process; the writing projector is killed in the middle of it.
    const holder = healths[0].projectorLease === 'held' ? first : second;
    const standby = holder === first ? second : first;
    let lastPosition = 0;
    let written = 0;
    const writes = (async () => {
      for (let index = 0; index < 240; index++) {
        const answer = await post(api.port, '/deals', deal(index));
        lastPosition = Math.max(lastPosition, answer.position);
        written++;
      }
    })();
    while (written < 80) await sleep(10);
    await holder.kill('SIGKILL');
    expect((await holder.exited).signal).toBe('SIGKILL');
    await writes;

    // The standby takes the lease over within a few polls and catches up from the checkpoints.
    for (let attempt = 0; attempt < 100 && (await standby.health()).projectorLease !== 'held'; attempt++) await sleep(100);
    expect(await standby.health()).toMatchObject({ projectorLease: 'held', projections: { status: 'running' } });
    expect(await lockHolders()).toBe(1);

    // The api process reads its own writes, at the position its last command answered.
    const page = await call(api.port, 'GET', `/deals?limit=500&waitForPosition=${lastPosition}`, { token });
    expect(page.status).toBe(200);
    expect(page.body.items).toHaveLength(240);
    expect(page.body.items.find((item: any) => item.dealId === 'D-239')).toMatchObject({ amount: '1239.25' });

    await standby.kill('SIGTERM');
    await api.kill('SIGTERM');

    // The read models the two projectors left between them equal a rebuild from zero of the same log.
    const store = EventStoreDbEventStore.open({ connectionString: eventStoreDb.connectionString });
    const live = await PostgresReadModelDb.open({ connectionString: database.url });
    const rebuiltDatabase = await createTestDatabase('failover_rebuilt');
    const rebuilt = await PostgresReadModelDb.open({ connectionString: rebuiltDatabase.url });
    try {
      const projections = createLedgerProjections();
      await new ProjectionRunner(store, rebuilt, projections).rebuild();
      const liveDump = await dumpReadModel(live, projections);
      expect(liveDump.deals).toHaveLength(240);
      expect(await dumpReadModel(rebuilt, projections)).toEqual(liveDump);
    } finally {
      await live.close();
      await rebuilt.close();
      await store.close();
      await rebuiltDatabase.drop();
    }
  }, 120_000);
});
