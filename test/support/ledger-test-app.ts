import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { EventStore } from '#lib/event-store/event-store.port.js';
import { loadLedgerConfig, type LedgerConfig } from '../../apps/ledger/src/config/ledger-config.js';
import { createLedgerApp } from '../../apps/ledger/src/ledger.app.js';
import { EVENT_STORE } from '../../apps/ledger/src/ledger.tokens.js';
import { signingSecretOf } from '../../apps/ledger/src/http/auth/bearer-tokens.js';
import type { Role } from '../../apps/ledger/src/http/auth/roles.js';

export type HttpAgent = ReturnType<typeof request.agent>;

export interface ActorOptions {
  /** The token's subject: the actor id recorded in events. Default `<role>-1`. */
  id?: string;
  /** The caller's own payee (the `payee_id` claim); reps and managers need one. */
  payeeId?: string;
  /** Token lifetime in seconds, default 3600; negative for an expired token. */
  ttlSeconds?: number;
}
import { EventStoreDbTestDouble } from './eventstoredb/eventstoredb-test-double.js';

/**
 * The whole HTTP application over a fresh temporary data directory, as a user would drive it.
 *
 * The event store is the embedded file; with LEDGER_TEST_STORE=eventstoredb in the environment of the test
 * run, each app gets a fresh EventStoreDB test double (test/support/eventstoredb) and LEDGER_STORE=eventstoredb,
 * so the end-to-end suite runs on the EventStoreDB adapter over gRPC:
 *   LEDGER_TEST_STORE=eventstoredb npm test -- test/e2e
 */
export interface LedgerTestApp {
  app: INestApplication;
  /** Requests as an admin (actor `test-admin`). */
  http: HttpAgent;
  /** Requests without any Authorization header. */
  anonymous: HttpAgent;
  /** Requests as another caller, e.g. `as('rep', { payeeId: 'P-1' })`. */
  as(role: Role, options?: ActorOptions): HttpAgent;
  /** A token the app accepts, for tests that set the header themselves. */
  token(role: Role, options?: ActorOptions): string;
  config: LedgerConfig;
  store: EventStore;
  dataDir: string;
  /** The EventStoreDB test double the app's store talks to, when it runs on one (tests can drop or restart it). */
  eventStoreDb: EventStoreDbTestDouble | null;
  /** The global log position of the last event: tests assert it did not move after a rejected command. */
  headPosition(): Promise<number>;
  close(): Promise<void>;
}

export interface LedgerTestAppOptions {
  /** Default: LEDGER_TEST_STORE from the environment of the test run, else embedded. */
  store?: 'embedded' | 'eventstoredb';
}

export async function startLedgerTestApp(environment: Record<string, string> = {}, options: LedgerTestAppOptions = {}): Promise<LedgerTestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-e2e-'));
  const storeKind = options.store ?? (process.env.LEDGER_TEST_STORE === 'eventstoredb' ? 'eventstoredb' : 'embedded');
  const eventStoreDb = storeKind === 'eventstoredb' ? await EventStoreDbTestDouble.start() : null;
  const storeEnvironment: Record<string, string> = eventStoreDb
    ? { LEDGER_STORE: 'eventstoredb', LEDGER_EVENTSTOREDB_CONNECTION_STRING: eventStoreDb.connectionString }
    : {};
  const config = loadLedgerConfig({
    LEDGER_DATA_DIR: dataDir,
    LEDGER_LOG_LEVEL: 'error',
    // A fresh secret per app, unless the test configures keys itself.
    ...(environment.LEDGER_AUTH_PUBLIC_KEY_FILE || environment.LEDGER_AUTH_JWKS_FILE ? {} : { LEDGER_AUTH_SECRET: randomBytes(32).toString('base64url') }),
    ...storeEnvironment,
    ...environment,
  });
  const app = await createLedgerApp(config);
  await app.init();
  const store = app.get<EventStore>(EVENT_STORE);
  const secret = signingSecretOf(config.auth);
  const token = (role: Role, options: ActorOptions = {}): string => {
    if (secret === null) throw new Error('This test app verifies tokens with a public key: sign them with its private key');
    return signTestToken(config, secret, { sub: options.id ?? `${role}-1`, role, payeeId: options.payeeId, ttlSeconds: options.ttlSeconds ?? 3600 });
  };
  const server = app.getHttpServer();
  const as = (role: Role, options: ActorOptions = {}): HttpAgent => request.agent(server).set('Authorization', `Bearer ${token(role, options)}`);
  return {
    app,
    http: as('admin', { id: 'test-admin' }),
    anonymous: request.agent(server),
    as,
    token,
    config,
    store,
    dataDir,
    eventStoreDb,
    headPosition: () => store.headPosition(),
    close: async () => {
      await app.close();
      await eventStoreDb?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * An HS256 token as `cli token` mints it (claims named by the configuration), signed synchronously so that `as()`
 * can hand back an agent at once.
 */
export function signTestToken(
  config: LedgerConfig,
  secret: string,
  claims: { sub: string; role: string | null; payeeId?: string; ttlSeconds: number; extra?: Record<string, unknown> },
): string {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = { sub: claims.sub, iss: config.auth.issuer, aud: config.auth.audience, iat: now, exp: now + claims.ttlSeconds };
  if (claims.role !== null) payload[config.auth.roleClaim] = claims.role;
  if (claims.payeeId !== undefined) payload[config.auth.payeeClaim] = claims.payeeId;
  Object.assign(payload, claims.extra);
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signingInput = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(payload)}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}
