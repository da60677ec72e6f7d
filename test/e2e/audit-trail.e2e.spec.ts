/**
 * The audit trail as finance reads it: everything done to a payee, a deal, a plan or a period, by whom (actor id and
 * role from their token), in which request (correlation id), in log order and a page at a time.
 */
import { startLedgerTestApp, type HttpAgent, type LedgerTestApp } from '../support/ledger-test-app.js';

const json = { 'content-type': 'application/json' };

describe('audit trail', () => {
  let ledger: LedgerTestApp;
  let finance: HttpAgent;
  let head: number;

  beforeAll(async () => {
    ledger = await startLedgerTestApp();
    finance = ledger.as('finance', { id: 'fiona.finance' });
    const hr = ledger.as('analyst', { id: 'hanna.hr' });
    const ops = ledger.as('analyst', { id: 'oscar.ops' });
    const admin = ledger.as('admin', { id: 'ada.admin' });
    await hr.post('/payees').set(json).set('X-Correlation-Id', 'onboard-batch-7').send({ payeeId: 'M-1', name: 'Maria', territory: 'EMEA', currency: 'USD', startDate: '2026-01-01' }).expect(201);
    await hr.post('/payees').set(json).set('X-Correlation-Id', 'onboard-batch-7').send({ payeeId: 'P-1', name: 'Ana', managerId: 'M-1', territory: 'EMEA', currency: 'USD', startDate: '2026-01-01' }).expect(201);
    await hr.post('/payees').set(json).send({ payeeId: 'P-2', name: 'Ben', managerId: 'M-1', territory: 'EMEA', currency: 'USD', startDate: '2026-01-01' }).expect(201);
    await ops.put('/payees/P-1/quotas/2026-03/bookings').set(json).set('Idempotency-Key', 'quota-P-1-2026-03').send({ amount: '100000.00', currency: 'USD' }).expect(200);
    await ops
      .post('/deals')
      .set(json)
      .send({ dealId: 'D-1', ownerPayeeId: 'P-2', amount: '5000.00', currency: 'USD', closeDate: '2026-03-05', product: 'platform', dealType: 'new_business', overlays: [] })
      .expect(201);
    await admin.put('/deals/D-1/credits').set(json).send({ splits: [{ payeeId: 'P-2', sharePercent: '50' }, { payeeId: 'P-1', sharePercent: '50' }], overlays: [] }).expect(200);
    await ops.post('/deals/D-1/cancellation').set(json).send({ cancelDate: '2026-04-01', reason: 'customer withdrew' }).expect(200);
    head = await ledger.headPosition();
  });
  afterAll(() => ledger.close());

  it('lists everything done to a payee, in log order, with who did it and in which request', async () => {
    const trail = await finance.get(`/audit?payeeId=P-1&waitForPosition=${head}`).expect(200);
    expect(trail.body.items.map((entry: { type: string; actor: object }) => [entry.type, entry.actor])).toEqual([
      ['PayeeOnboarded', { id: 'hanna.hr', role: 'analyst' }],
      ['QuotaSet', { id: 'oscar.ops', role: 'analyst' }],
      ['CreditsAllocated', { id: 'ada.admin', role: 'admin' }],
      ['DealCancelled', { id: 'oscar.ops', role: 'analyst' }],
    ]);
    const [onboarded, quota] = trail.body.items;
    expect(onboarded).toEqual({
      position: expect.any(Number),
      eventId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      streamId: 'payee-P-1',
      revision: 0,
      type: 'PayeeOnboarded',
      actor: { id: 'hanna.hr', role: 'analyst' },
      correlationId: 'onboard-batch-7',
      causationId: null,
      commandId: null,
      occurredAt: expect.any(String),
      recordedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
    expect(quota.commandId).toBe('quota-P-1-2026-03');
    const positions = trail.body.items.map((entry: { position: number }) => entry.position);
    expect(positions).toEqual([...positions].sort((left, right) => left - right));
    expect(trail.body.nextAfter).toBeNull();
  });

  it('agrees with the store: each entry is the event at its position', async () => {
    const trail = await finance.get(`/audit?dealId=D-1&waitForPosition=${head}`).expect(200);
    const events = await ledger.store.readStream('deal-D-1');
    expect(trail.body.items.map((entry: { eventId: string; position: number }) => [entry.eventId, entry.position])).toEqual(events.map((event) => [event.eventId, event.position]));
    expect(trail.body.items.map((entry: { type: string; actor: { id: string } }) => `${entry.type} by ${entry.actor.id}`)).toEqual([
      'DealClosedWon by oscar.ops',
      'CreditsAllocated by oscar.ops',
      'CreditsAllocated by ada.admin',
      'DealCancelled by oscar.ops',
    ]);
  });

  it('pages with ?after= and never repeats or skips an entry', async () => {
    const all = (await finance.get(`/audit?payeeId=P-2&waitForPosition=${head}`).expect(200)).body.items;
    const paged: unknown[] = [];
    let after: string | null = null;
    do {
      const page: { body: { items: unknown[]; nextAfter: string | null } } = await finance.get(`/audit?payeeId=P-2&limit=2${after ? `&after=${after}` : ''}`).expect(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      paged.push(...page.body.items);
      after = page.body.nextAfter;
    } while (after !== null);
    expect(all.length).toBeGreaterThan(2);
    expect(paged).toEqual(all);
  });

  it('finds what was done in a period: quotas set for it', async () => {
    const trail = await finance.get(`/audit?periodId=2026-03&waitForPosition=${head}`).expect(200);
    expect(trail.body.items.map((entry: { type: string; streamId: string }) => `${entry.type} ${entry.streamId}`)).toEqual(['QuotaSet payee-P-1']);
  });

  it('answers an unknown subject with an empty trail, and refuses zero or two subjects', async () => {
    expect((await finance.get('/audit?payeeId=NOBODY').expect(200)).body).toEqual({ items: [], nextAfter: null });
    expect((await finance.get('/audit').expect(400)).body.code).toBe('AUDIT.SUBJECT_REQUIRED');
    expect((await finance.get('/audit?payeeId=P-1&dealId=D-1').expect(400)).body.code).toBe('AUDIT.SUBJECT_REQUIRED');
    expect((await finance.get('/audit?payeeId=P-1&after=x').expect(400)).body.code).toBe('REQUEST.AFTER_INVALID');
  });

  it('is for finance and admins: a rep, even about themselves, gets 403', async () => {
    const reply = await ledger.as('rep', { payeeId: 'P-1' }).get('/audit?payeeId=P-1').expect(403);
    expect(reply.body.code).toBe('AUTH.ROLE_FORBIDDEN');
    await ledger.http.get('/audit?payeeId=P-1').expect(200);
  });
});
