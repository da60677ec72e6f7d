/**
 * Commission statements over HTTP, as a rep and a comp admin would use them: a plan is drafted, published and
 * assigned, a split deal is closed, the statement is
 * read and a line explained down to its events, the statement is asked as of a time before an amendment, the
 * estimator adds a deal the rep hopes to close, and a draft plan version is modelled over everyone on the plan.
 * Bad input gets a 4xx with a stable code and appends nothing.
 */
import { startLedgerTestApp, type LedgerTestApp } from '../support/ledger-test-app.js';

const json = { 'content-type': 'application/json' };

const payee = (payeeId: string) => ({ payeeId, name: `Payee ${payeeId}`, territory: 'NA', currency: 'USD', startDate: '2026-01-01' });

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
};

/** A monthly USD plan paying a flat rate of bookings. */
const planBody = (rate: string, effectiveFrom = '2026-01-01') => ({
  planId: 'ae-2026',
  effectiveFrom,
  currency: 'USD',
  periodFrequency: 'month',
  components: [{ kind: 'rate_table', id: 'commission', measure: 'bookings', basis: 'amount', mode: 'marginal', tiers: [{ from: '0', to: null, rate }] }],
  capitalizable: false,
  benefitMonths: null,
});

const hopedFor = { dealId: 'D-hope', amount: '20000.00', currency: 'USD', closeDate: '2026-03-28', product: 'platform', dealType: 'new_business' };

describe('statements over HTTP', () => {
  let ledger: LedgerTestApp;
  let closedAt: number;

  beforeAll(async () => {
    ledger = await startLedgerTestApp();
    for (const body of [payee('P-1'), payee('P-2')]) await ledger.http.post('/payees').set(json).send(body).expect(201);
    await ledger.http.put('/payees/P-1/quotas/2026-03/bookings').set(json).send({ amount: '100000.00', currency: 'USD' }).expect(200);
    await ledger.http.post('/plans').set(json).send(planBody('0.10')).expect(201);
    await ledger.http.post('/plans/ae-2026/versions/1/publish').expect(200);
    for (const payeeId of ['P-1', 'P-2']) {
      await ledger.http.post(`/payees/${payeeId}/plan-assignments`).set(json).send({ planId: 'ae-2026', effectiveFrom: '2026-01-01' }).expect(201);
    }
    const closed = await ledger.http.post('/deals').set(json).send(splitDeal).expect(201);
    closedAt = closed.body.position;
  });

  afterAll(async () => {
    await ledger.close();
  });

  it('documents the statement endpoints', async () => {
    const document = await ledger.http.get('/docs-json').expect(200);
    expect(Object.keys(document.body.paths)).toEqual(
      expect.arrayContaining([
        '/payees/{payeeId}/statements/{periodId}',
        '/payees/{payeeId}/statements/{periodId}/lines/{lineId}/explain',
        '/payees/{payeeId}/statements/{periodId}/estimate',
        '/plans/{planId}/versions/{version}/model',
      ]),
    );
  });

  it('pays the 70/30 split of $80,000 at 10%: 5,600.00 and 2,400.00, and explains the line', async () => {
    const rep = await ledger.http.get(`/payees/P-1/statements/2026-03?waitForPosition=${closedAt}`).expect(200);
    expect(rep.body).toMatchObject({ payeeId: 'P-1', periodId: '2026-03', currency: 'USD', status: 'computed', totals: { payable: '5600.00', held: '0.00' } });
    expect(rep.body.lines).toEqual([expect.objectContaining({ kind: 'commission', amount: '5600.00', creditId: 'D-1:P-1:primary', dealId: 'D-1' })]);
    expect(rep.body.attainment).toEqual([{ measure: 'bookings', credited: '56000.00', quota: '100000.00', percent: '56.00' }]);
    const partner = await ledger.http.get('/payees/P-2/statements/2026-03').expect(200);
    expect(partner.body.totals.payable).toBe('2400.00');

    const lineId: string = rep.body.lines[0].lineId;
    const explained = await ledger.http.get(`/payees/P-1/statements/2026-03/lines/${encodeURIComponent(lineId)}/explain`).expect(200);
    expect(explained.body).toMatchObject({
      lineId,
      amount: '5600.00',
      formula: 'tier 1 [0, ∞) rate 0.1: (80000.00 USD × share 0.7) = 56000 × 0.1 = 5600',
      rounding: { unrounded: '5600', rounded: '5600.00', rule: 'half-even', minorUnits: 2 },
      tier: { number: 1, rate: '0.10' },
      planVersion: { id: 'ae-2026@1', planId: 'ae-2026', version: 1 },
      credit: { creditId: 'D-1:P-1:primary', share: '0.7', creditDate: '2026-03-14' },
      deal: { dealId: 'D-1', amount: '80000.00', product: 'platform' },
      sources: [{ eventId: expect.any(String), position: closedAt }],
    });
  });

  it('reproduces the statement as it stood before an amendment', async () => {
    const before = (await ledger.store.readStream('deal-D-1')).at(-1)!.recordedAt;
    const amended = await ledger.http.post('/deals/D-1/amendments').set(json).send({ amount: '90000.00', reason: 'price corrected' }).expect(200);
    const amendedAt = (await ledger.store.readStream('deal-D-1')).at(-1)!.recordedAt;
    expect(Date.parse(amendedAt)).toBeGreaterThan(Date.parse(before));

    const now = await ledger.http.get(`/payees/P-1/statements/2026-03?waitForPosition=${amended.body.position}`).expect(200);
    expect(now.body.totals.payable).toBe('6300.00');
    const then = await ledger.http.get(`/payees/P-1/statements/2026-03?asOf=${encodeURIComponent(before)}`).expect(200);
    expect(then.body).toMatchObject({ asOf: before, statement: { totals: { payable: '5600.00' } } });
    expect(then.body.position).toBeLessThan(amended.body.position);
    const latest = await ledger.http.get(`/payees/P-1/statements/2026-03?asOf=${encodeURIComponent(amendedAt)}`).expect(200);
    expect(latest.body.statement.lines).toEqual(now.body.lines);
  });

  it('estimates the statement with a deal the rep hopes to close, recording nothing', async () => {
    const head = await ledger.headPosition();
    const estimate = await ledger.http.post('/payees/P-1/statements/2026-03/estimate').set(json).send({ deals: [hopedFor] }).expect(200);
    expect(estimate.body.difference).toEqual({
      currency: 'USD',
      payableBefore: '6300.00',
      payableAfter: '8300.00',
      payableDifference: '2000.00',
      heldBefore: '0.00',
      heldAfter: '0.00',
      heldDifference: '0.00',
    });
    expect(estimate.body.addedLines).toEqual([expect.objectContaining({ dealId: 'D-hope', amount: '2000.00' })]);
    expect(await ledger.headPosition()).toBe(head);
    expect((await ledger.http.get('/payees/P-1/statements/2026-03').expect(200)).body.totals.payable).toBe('6300.00');
  });

  it('models a draft plan version over everyone on the plan, recording nothing', async () => {
    const drafted = await ledger.http.post('/plans').set(json).send(planBody('0.12', '2026-03-01')).expect(201);
    expect(drafted.body).toMatchObject({ version: 2 });
    const head = await ledger.headPosition();
    const model = await ledger.http.post(`/plans/ae-2026/versions/2/model?waitForPosition=${head}`).set(json).send({ periodId: '2026-03' }).expect(200);
    expect(model.body).toMatchObject({
      planId: 'ae-2026',
      version: 2,
      status: 'draft',
      periodId: '2026-03',
      payees: [
        { payeeId: 'P-1', currentPayable: '6300.00', modeledPayable: '7560.00', difference: '1260.00' },
        { payeeId: 'P-2', currentPayable: '2700.00', modeledPayable: '3240.00', difference: '540.00' },
      ],
      totals: [{ currency: 'USD', currentPayable: '9000.00', modeledPayable: '10800.00', difference: '1800.00' }],
    });
    expect(await ledger.headPosition()).toBe(head);
  });

  describe('bad input gets a 4xx with a stable code and appends nothing', () => {
    const cases: { name: string; method: 'get' | 'post'; path: string; body?: unknown; status: number; code: string; field?: string }[] = [
      { name: 'unknown payee', method: 'get', path: '/payees/P-404/statements/2026-03', status: 404, code: 'PAYEE.NOT_FOUND' },
      { name: 'not a period id', method: 'get', path: '/payees/P-1/statements/2026-13', status: 400, code: 'PERIOD.INVALID_ID', field: 'periodId' },
      { name: 'a period the plan does not pay by', method: 'get', path: '/payees/P-1/statements/2026-Q1', status: 400, code: 'STATEMENT.PERIOD_NOT_OF_PLAN', field: 'periodId' },
      { name: 'asOf without a time', method: 'get', path: '/payees/P-1/statements/2026-03?asOf=2026-03-01', status: 400, code: 'REQUEST.AS_OF_INVALID', field: 'asOf' },
      { name: 'waitForPosition not a number', method: 'get', path: '/payees/P-1/statements/2026-03?waitForPosition=soon', status: 400, code: 'REQUEST.WAIT_FOR_POSITION_INVALID' },
      { name: 'unknown line', method: 'get', path: '/payees/P-1/statements/2026-03/lines/nope/explain', status: 404, code: 'STATEMENT_LINE.NOT_FOUND' },
      { name: 'estimate without deals', method: 'post', path: '/payees/P-1/statements/2026-03/estimate', body: { deals: [] }, status: 400, code: 'VALIDATION.FAILED', field: 'deals' },
      {
        name: 'estimate with an amount as a JSON number',
        method: 'post',
        path: '/payees/P-1/statements/2026-03/estimate',
        body: { deals: [{ ...hopedFor, amount: 20000 }] },
        status: 400,
        code: 'VALIDATION.FAILED',
        field: 'deals[0].amount',
      },
      {
        name: 'estimate with a deal closing outside the period',
        method: 'post',
        path: '/payees/P-1/statements/2026-03/estimate',
        body: { deals: [{ ...hopedFor, closeDate: '2026-04-01' }] },
        status: 400,
        code: 'ESTIMATE.DEAL_INVALID',
        field: 'deals[0].closeDate',
      },
      {
        name: 'estimate with a share over 100%',
        method: 'post',
        path: '/payees/P-1/statements/2026-03/estimate',
        body: { deals: [{ ...hopedFor, sharePercent: '120' }] },
        status: 400,
        code: 'ESTIMATE.DEAL_INVALID',
        field: 'deals[0].sharePercent',
      },
      { name: 'estimate for an unknown payee', method: 'post', path: '/payees/P-404/statements/2026-03/estimate', body: { deals: [hopedFor] }, status: 404, code: 'PAYEE.NOT_FOUND' },
      { name: 'model an unknown version', method: 'post', path: '/plans/ae-2026/versions/9/model', body: { periodId: '2026-03' }, status: 404, code: 'PLAN_VERSION.NOT_FOUND' },
      { name: 'model a version that is not a number', method: 'post', path: '/plans/ae-2026/versions/two/model', body: { periodId: '2026-03' }, status: 400, code: 'REQUEST.VERSION_INVALID', field: 'version' },
      { name: 'model without a period', method: 'post', path: '/plans/ae-2026/versions/1/model', body: {}, status: 400, code: 'VALIDATION.FAILED', field: 'periodId' },
      { name: 'model a period of another frequency', method: 'post', path: '/plans/ae-2026/versions/1/model', body: { periodId: '2026-Q1' }, status: 400, code: 'MODEL.PERIOD_NOT_OF_PLAN', field: 'periodId' },
    ];

    it.each(cases)('$name -> $status $code', async ({ method, path, body, status, code, field }) => {
      const head = await ledger.headPosition();
      const call = method === 'get' ? ledger.http.get(path) : ledger.http.post(path).set(json).send(body as object);
      const response = await call.expect(status);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.body.code).toBe(code);
      if (field !== undefined) expect(response.body.fields).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
      expect(await ledger.headPosition()).toBe(head);
    });
  });
});
