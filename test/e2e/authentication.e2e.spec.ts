/**
 * Authentication over HTTP: refused tokens answer 401 Problem Details with a Bearer challenge and append nothing,
 * and the verified caller (sub and role) is the actor recorded on the events their commands append.
 */
import { startLedgerTestApp, signTestToken, type LedgerTestApp } from '../support/ledger-test-app.js';

const json = { 'content-type': 'application/json' };
const payee = (payeeId: string) => ({ payeeId, name: `Payee ${payeeId}`, territory: 'EMEA', currency: 'USD', startDate: '2026-01-01' });

describe('authentication over HTTP', () => {
  let ledger: LedgerTestApp;
  let secret: string;

  beforeAll(async () => {
    ledger = await startLedgerTestApp();
    secret = (ledger.config.auth.keys as { secret: string }).secret;
  });
  afterAll(() => ledger.close());

  it.each<[string, () => string, string]>([
    ['an expired token', () => ledger.token('analyst', { ttlSeconds: -3600 }), 'AUTH.TOKEN_EXPIRED'],
    ['a token signed with another secret', () => signTestToken(ledger.config, 'x'.repeat(40), { sub: 'a', role: 'analyst', ttlSeconds: 60 }), 'AUTH.TOKEN_SIGNATURE_INVALID'],
    ['a token without a role', () => signTestToken(ledger.config, secret, { sub: 'a', role: null, ttlSeconds: 60 }), 'AUTH.ROLE_MISSING'],
    ['a token with an unknown role', () => signTestToken(ledger.config, secret, { sub: 'a', role: 'owner', ttlSeconds: 60 }), 'AUTH.ROLE_UNKNOWN'],
    ['a token for another audience', () => signTestToken(ledger.config, secret, { sub: 'a', role: 'analyst', ttlSeconds: 60, extra: { aud: 'elsewhere' } }), 'AUTH.TOKEN_AUDIENCE_INVALID'],
    ['something that is not a token', () => 'garbage', 'AUTH.TOKEN_MALFORMED'],
  ])('refuses %s with 401, a Bearer challenge, and no event', async (_, token, code) => {
    const headBefore = await ledger.headPosition();
    const reply = await ledger.anonymous.post('/payees').set(json).set('Authorization', `Bearer ${token()}`).send(payee('P-X')).expect(401);
    expect(reply.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(reply.body).toMatchObject({ status: 401, code, type: `urn:incentive-ledger:problem:${code}` });
    expect(reply.headers['www-authenticate']).toMatch(/^Bearer realm="incentive-ledger", error="invalid_token", error_description="[^"]+"$/);
    expect(await ledger.headPosition()).toBe(headBefore);
  });

  it('records the caller as the actor of the events their command appends', async () => {
    const analyst = ledger.as('analyst', { id: 'ana.analyst@example.com' });
    const reply = await analyst.post('/payees').set(json).send(payee('P-1')).expect(201);
    const [event] = await ledger.store.readStream(reply.body.streamId);
    expect(event.metadata.actor).toEqual({ id: 'ana.analyst@example.com', role: 'analyst' });
  });

  it('keeps idempotency keys apart per caller', async () => {
    const key = 'onboard-P-2-key';
    const first = ledger.as('analyst', { id: 'first-analyst' });
    const second = ledger.as('analyst', { id: 'second-analyst' });
    await first.post('/payees').set(json).set('Idempotency-Key', key).send(payee('P-2')).expect(201);
    // The same key from another caller is their own: here a conflicting onboarding, not a replay of the first answer.
    const reply = await second.post('/payees').set(json).set('Idempotency-Key', key).send(payee('P-2')).expect(409);
    expect(reply.body.code).toBe('PAYEE.ALREADY_ONBOARDED');
  });
});
