/**
 * The first slice driven over HTTP as a comp admin would: onboard a team, set quotas, close a split deal with a
 * manager overlay, read attainment, amend and cancel the deal, and see bad input refused without a trace in the log.
 */
import { startLedgerTestApp, type LedgerTestApp } from '../support/ledger-test-app.js';

const json = { 'content-type': 'application/json' };

const payee = (payeeId: string, managerId?: string) => ({
  payeeId,
  name: `Payee ${payeeId}`,
  ...(managerId ? { managerId } : {}),
  territory: 'EMEA',
  currency: 'USD',
  startDate: '2026-01-01',
});

const splitDeal = {
  dealId: 'D-1',
  ownerPayeeId: 'P-1',
  amount: '80000.00',
  currency: 'USD',
  closeDate: '2026-03-14',
  product: 'platform',
  dealType: 'new_business',
  splits: [
    { payeeId: 'P-1', sharePercent: '70' },
    { payeeId: 'P-2', sharePercent: '30' },
  ],
  overlays: [{ payeeId: 'P-100', sharePercent: '100', role: 'manager' }],
};

describe('first slice over HTTP', () => {
  let ledger: LedgerTestApp;

  beforeAll(async () => {
    ledger = await startLedgerTestApp();
    for (const body of [payee('P-100'), payee('P-1', 'P-100'), payee('P-2', 'P-100')]) {
      await ledger.http.post('/payees').set(json).send(body).expect(201);
    }
    await ledger.http.put('/payees/P-1/quotas/2026-03/bookings').set(json).send({ amount: '100000.00', currency: 'USD' }).expect(200);
    await ledger.http.post('/deals').set(json).send({ ...splitDeal, dealId: 'D-0', closeDate: '2026-05-02', splits: undefined, overlays: undefined }).expect(201);
    await ledger.http.put('/payees/P-2/quotas/2026-Q1/bookings').set(json).send({ amount: '240000.00', currency: 'USD' }).expect(200);
  });

  afterAll(async () => {
    await ledger.close();
  });

  it('serves the API docs and the OpenAPI document', async () => {
    const ui = await ledger.http.get('/docs').expect(200);
    expect(ui.text).toContain('swagger');
    const document = await ledger.http.get('/docs-json').expect(200);
    expect(Object.keys(document.body.paths)).toEqual(expect.arrayContaining(['/payees', '/deals', '/payees/{payeeId}/attainment', '/health']));
  });

  it('credits a split deal with a manager overlay and reports attainment per period', async () => {
    const closed = await ledger.http.post('/deals').set(json).send(splitDeal).expect(201);
    expect(closed.headers.location).toBe('/deals/D-1');
    const position = closed.body.position;

    const rep = await ledger.http.get(`/payees/P-1/attainment?period=2026-03&waitForPosition=${position}`).expect(200);
    expect(rep.body.measures).toEqual([
      expect.objectContaining({ measure: 'bookings', creditedAmount: '56000', quotaAmount: '100000.00', attainmentPercent: '56.00', dealsCounted: 1 }),
    ]);
    const partnerQuarter = await ledger.http.get('/payees/P-2/attainment?period=2026-Q1').expect(200);
    expect(partnerQuarter.body.measures).toEqual([expect.objectContaining({ creditedAmount: '24000', quotaAmount: '240000.00', attainmentPercent: '10.00' })]);
    const manager = await ledger.http.get('/payees/P-100/attainment?period=2026-03').expect(200);
    expect(manager.body.measures).toEqual([expect.objectContaining({ creditedAmount: '80000', quotaAmount: null, attainmentPercent: null })]);

    const deal = await ledger.http.get('/deals/D-1').expect(200);
    expect(deal.headers.etag).toBe(`"${closed.body.revision}"`);
    const credits = await ledger.http.get('/payees/P-2/credits').expect(200);
    expect(credits.body.items).toEqual([expect.objectContaining({ dealId: 'D-1', kind: 'primary', sharePercent: '30' })]);
  });

  it('amends with If-Match, refuses a stale If-Match, and cancels', async () => {
    const read = await ledger.http.get('/deals/D-1').expect(200);
    const etag = read.headers.etag as string;
    const amended = await ledger.http.post('/deals/D-1/amendments').set(json).set('If-Match', etag).send({ amount: '90000.00', reason: 'price corrected' }).expect(200);
    const afterAmend = await ledger.http.get(`/payees/P-1/attainment?period=2026-03&waitForPosition=${amended.body.position}`).expect(200);
    expect(afterAmend.body.measures[0]).toEqual(expect.objectContaining({ creditedAmount: '63000', attainmentPercent: '63.00' }));

    const head = await ledger.headPosition();
    const stale = await ledger.http.post('/deals/D-1/amendments').set(json).set('If-Match', etag).send({ amount: '1.00', reason: 'stale' }).expect(409);
    expect(stale.body.code).toBe('STORE.CONCURRENCY');
    expect(await ledger.headPosition()).toBe(head);

    const cancelled = await ledger.http.post('/deals/D-1/cancellation').set(json).send({ cancelDate: '2026-04-02', reason: 'customer withdrew' }).expect(200);
    const afterCancel = await ledger.http.get(`/payees/P-1/attainment?period=2026-03&waitForPosition=${cancelled.body.position}`).expect(200);
    expect(afterCancel.body.measures[0]).toEqual(expect.objectContaining({ creditedAmount: '0', attainmentPercent: '0.00' }));
  });

  it('makes retries safe with Idempotency-Key and refuses a key reused for another request', async () => {
    const body = { ...splitDeal, dealId: 'D-idem', splits: undefined, overlays: undefined };
    const first = await ledger.http.post('/deals').set(json).set('Idempotency-Key', 'close-D-idem-1').send(body).expect(201);
    const head = await ledger.headPosition();
    const again = await ledger.http.post('/deals').set(json).set('Idempotency-Key', 'close-D-idem-1').send(body).expect(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    const reused = await ledger.http.post('/deals').set(json).set('Idempotency-Key', 'close-D-idem-1').send({ ...body, amount: '1.00' }).expect(409);
    expect(reused.body.code).toBe('IDEMPOTENCY.KEY_REUSED');
    expect(await ledger.headPosition()).toBe(head);
  });

  describe('bad input gets a 4xx with a stable code and appends nothing', () => {
    const deal = (overrides: Record<string, unknown>) => ({ ...splitDeal, dealId: 'D-bad', ...overrides });
    const cases: { name: string; method: 'post' | 'put'; path: string; body: unknown; raw?: string; headers?: Record<string, string>; status: number; code: string; field?: string }[] = [
      { name: 'malformed JSON', method: 'post', path: '/deals', body: undefined, raw: '{"dealId": "D-bad",', status: 400, code: 'REQUEST.MALFORMED_JSON' },
      { name: 'missing fields', method: 'post', path: '/deals', body: { dealId: 'D-bad' }, status: 400, code: 'VALIDATION.FAILED', field: 'ownerPayeeId' },
      { name: 'amount as a JSON number', method: 'post', path: '/deals', body: deal({ amount: 80000 }), status: 400, code: 'VALIDATION.FAILED', field: 'amount' },
      { name: 'negative amount', method: 'post', path: '/deals', body: deal({ amount: '-5.00' }), status: 400, code: 'VALIDATION.FAILED', field: 'amount' },
      { name: 'non-numeric amount', method: 'post', path: '/deals', body: deal({ amount: 'ten' }), status: 400, code: 'VALIDATION.FAILED', field: 'amount' },
      { name: 'impossible date', method: 'post', path: '/deals', body: deal({ closeDate: '2026-02-30' }), status: 400, code: 'VALIDATION.FAILED', field: 'closeDate' },
      { name: 'unknown property', method: 'post', path: '/deals', body: deal({ commission: '1.00' }), status: 400, code: 'VALIDATION.FAILED', field: 'commission' },
      {
        name: 'shares not summing to 100%',
        method: 'post',
        path: '/deals',
        body: deal({ splits: [{ payeeId: 'P-1', sharePercent: '70' }, { payeeId: 'P-2', sharePercent: '20' }] }),
        status: 400,
        code: 'CREDIT.SHARES_NOT_100',
      },
      { name: 'unknown payee in splits', method: 'post', path: '/deals', body: deal({ splits: [{ payeeId: 'P-404', sharePercent: '100' }] }), status: 404, code: 'CREDIT.UNKNOWN_PAYEE' },
      { name: 'unknown owner', method: 'post', path: '/deals', body: deal({ ownerPayeeId: 'P-404', splits: undefined }), status: 404, code: 'CREDIT.UNKNOWN_PAYEE' },
      { name: 'amending an unknown deal', method: 'post', path: '/deals/D-404/amendments', body: { amount: '1.00', reason: 'x' }, status: 404, code: 'DEAL.NOT_FOUND' },
      { name: 'cancelling an unknown deal', method: 'post', path: '/deals/D-404/cancellation', body: { cancelDate: '2026-04-01', reason: 'x' }, status: 404, code: 'DEAL.NOT_FOUND' },
      { name: 'duplicate deal id', method: 'post', path: '/deals', body: { ...splitDeal, dealId: 'D-0' }, status: 409, code: 'DEAL.ALREADY_CLOSED' },
      { name: 'duplicate payee id', method: 'post', path: '/payees', body: payee('P-1'), status: 409, code: 'PAYEE.ALREADY_ONBOARDED' },
      { name: 'unknown manager', method: 'post', path: '/payees', body: payee('P-9', 'P-404'), status: 404, code: 'PAYEE.MANAGER_NOT_FOUND' },
      { name: 'quota for an unknown payee', method: 'put', path: '/payees/P-404/quotas/2026-03/bookings', body: { amount: '1.00', currency: 'USD' }, status: 404, code: 'PAYEE.NOT_FOUND' },
      { name: 'quota with a bad period', method: 'put', path: '/payees/P-1/quotas/2026-13/bookings', body: { amount: '1.00', currency: 'USD' }, status: 400, code: 'QUOTA.INVALID_PERIOD' },
      { name: 'malformed If-Match', method: 'post', path: '/deals/D-1/amendments', body: { amount: '1.00', reason: 'x' }, headers: { 'If-Match': 'W/"abc"' }, status: 400, code: 'REQUEST.IF_MATCH_INVALID' },
      { name: 'malformed Idempotency-Key', method: 'post', path: '/deals', body: deal({}), headers: { 'Idempotency-Key': 'x' }, status: 400, code: 'REQUEST.IDEMPOTENCY_KEY_INVALID' },
    ];

    it.each(cases)('$name -> $status $code', async ({ method, path, body, raw, headers, status, code, field }) => {
      const head = await ledger.headPosition();
      let call = ledger.http[method](path).set(json);
      for (const [name, value] of Object.entries(headers ?? {})) call = call.set(name, value);
      const response = await call.send(raw ?? (body as object));
      expect(response.status).toBe(status);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.body).toEqual(expect.objectContaining({ status, code, type: `urn:incentive-ledger:problem:${code}`, detail: expect.any(String) }));
      if (field !== undefined) expect(response.body.fields).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
      expect(await ledger.headPosition()).toBe(head);
    });
  });

  it('answers unknown routes and reads of unknown things as problems', async () => {
    expect((await ledger.http.get('/nowhere').expect(404)).body.code).toBe('HTTP.NOT_FOUND');
    expect((await ledger.http.get('/deals/D-404').expect(404)).body.code).toBe('DEAL.NOT_FOUND');
    expect((await ledger.http.get('/payees/P-404').expect(404)).body.code).toBe('PAYEE.NOT_FOUND');
    expect((await ledger.http.get('/payees/P-1/attainment?period=March').expect(400)).body.code).toBe('REQUEST.PERIOD_INVALID');
  });

  it('reports health with the projections caught up', async () => {
    const head = await ledger.headPosition();
    const health = await ledger.http.get(`/health`).expect(200);
    expect(health.body).toEqual(expect.objectContaining({ status: 'ok', headPosition: head }));
  });
});
