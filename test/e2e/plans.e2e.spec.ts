/**
 * Plans, plan assignments and FX rates driven over HTTP as a comp admin would: draft a three-tier plan, revise and
 * publish it, publish a second version later, put a payee on it and end the assignment, record and correct an FX
 * rate; and see bad input (tiers that overlap or leave a gap, a negative rate, a cap below zero, an unknown plan
 * version, an assignment overlapping another) refused with a stable code and no trace in the log.
 */
import { startLedgerTestApp, type LedgerTestApp } from '../support/ledger-test-app.js';

const json = { 'content-type': 'application/json' };

const threeTiers = {
  kind: 'rate_table',
  id: 'commission',
  name: 'New business commission',
  measure: 'bookings',
  basis: 'attainment',
  mode: 'marginal',
  tiers: [
    { from: '0', to: '50', rate: '0.05' },
    { from: '50', to: '100', rate: '0.10' },
    { from: '100', to: null, rate: '0.15' },
  ],
  capPerPeriod: '20000.00',
};

const planBody = (overrides: Record<string, unknown> = {}) => ({
  planId: 'ae-2026',
  effectiveFrom: '2026-01-01',
  currency: 'USD',
  periodFrequency: 'month',
  components: [threeTiers],
  capitalizable: false,
  benefitMonths: null,
  ...overrides,
});

const withComponent = (overrides: Record<string, unknown>) => ({ components: [{ ...threeTiers, ...overrides }] });

describe('plans, assignments and FX rates over HTTP', () => {
  let ledger: LedgerTestApp;

  beforeAll(async () => {
    ledger = await startLedgerTestApp();
    for (const [payeeId, startDate, currency] of [['P-1', '2026-01-01', 'USD'], ['P-2', '2026-01-01', 'USD'], ['P-3', '2025-06-01', 'USD'], ['P-EUR', '2026-01-01', 'EUR']]) {
      await ledger.http.post('/payees').set(json).send({ payeeId, name: `Payee ${payeeId}`, territory: 'EMEA', currency, startDate }).expect(201);
    }
  });

  afterAll(async () => {
    await ledger.close();
  });

  it('lists the new endpoints in the OpenAPI document', async () => {
    const document = await ledger.http.get('/docs-json').expect(200);
    expect(Object.keys(document.body.paths)).toEqual(
      expect.arrayContaining([
        '/plans',
        '/plans/{planId}',
        '/plans/{planId}/versions/{version}',
        '/plans/{planId}/versions/{version}/publish',
        '/payees/{payeeId}/plan-assignments',
        '/payees/{payeeId}/plan-assignments/{assignmentId}/end',
        '/fx-rates',
      ]),
    );
  });

  it('drafts a three-tier plan, revises the draft, publishes it, and publishes a second version later', async () => {
    const drafted = await ledger.http.post('/plans').set(json).send(planBody()).expect(201);
    expect(drafted.body).toEqual(expect.objectContaining({ planId: 'ae-2026', version: 1, streamId: 'plan-ae-2026', revision: 0, replayed: false }));
    expect(drafted.headers.location).toBe('/plans/ae-2026');

    const draftView = await ledger.http.get('/plans/ae-2026').expect(200);
    expect(draftView.headers.etag).toBe('"0"');
    expect(draftView.body.versions).toEqual([
      expect.objectContaining({ version: 1, status: 'draft', effectiveFrom: '2026-01-01', publishedAt: null, planVersion: expect.objectContaining({ id: 'ae-2026@1', components: [threeTiers] }) }),
    ]);

    // Revising with If-Match: the revision read.
    const revised = await ledger.http
      .put('/plans/ae-2026/versions/1')
      .set(json)
      .set('If-Match', '"0"')
      .send({ ...planBody(), planId: undefined, ...withComponent({ capPerPeriod: '25000.00' }) })
      .expect(200);
    expect(revised.body).toEqual(expect.objectContaining({ version: 1, revision: 1 }));

    const published = await ledger.http.post('/plans/ae-2026/versions/1/publish').expect(200);
    expect(published.body).toEqual(expect.objectContaining({ version: 1, revision: 2 }));

    // Version 2 from July: same currency and period frequency, a later effectiveFrom.
    const second = await ledger.http.post('/plans').set(json).send(planBody({ effectiveFrom: '2026-07-01', ...withComponent({ capPerPeriod: null }) })).expect(201);
    expect(second.body.version).toBe(2);
    await ledger.http.post('/plans/ae-2026/versions/2/publish').expect(200);

    const plan = await ledger.http.get('/plans/ae-2026').expect(200);
    expect(plan.body).toEqual({
      planId: 'ae-2026',
      revision: 4,
      versions: [
        expect.objectContaining({ version: 1, status: 'published', effectiveFrom: '2026-01-01', effectiveUntil: '2026-07-01', publishedAt: expect.any(String) }),
        expect.objectContaining({ version: 2, status: 'published', effectiveFrom: '2026-07-01', effectiveUntil: null }),
      ],
    });
    expect(plan.body.versions[0].planVersion.components[0].capPerPeriod).toBe('25000.00');

    const events = await ledger.store.readStream('plan-ae-2026');
    expect(events.map((event) => event.type)).toEqual(['PlanVersionDrafted', 'PlanDraftRevised', 'PlanVersionPublished', 'PlanVersionDrafted', 'PlanVersionPublished']);
    expect(events[2].data).toEqual({
      planId: 'ae-2026',
      version: 1,
      planVersion: {
        id: 'ae-2026@1',
        planId: 'ae-2026',
        version: 1,
        effectiveFrom: '2026-01-01',
        currency: 'USD',
        periodFrequency: 'month',
        components: [{ ...threeTiers, capPerPeriod: '25000.00' }],
        capitalizable: false,
        benefitMonths: null,
      },
    });
  });

  it('assigns the plan to a payee, ends the assignment, and assigns again after it', async () => {
    const assigned = await ledger.http.post('/payees/P-1/plan-assignments').set(json).send({ planId: 'ae-2026', effectiveFrom: '2026-01-01' }).expect(201);
    expect(assigned.body).toEqual(expect.objectContaining({ assignmentId: 'ae-2026@2026-01-01', streamId: 'plan-assignments-P-1', revision: 0 }));

    const endedAnswer = await ledger.http.post('/payees/P-1/plan-assignments/ae-2026@2026-01-01/end').set(json).send({ effectiveUntil: '2026-10-01' }).expect(200);
    expect(endedAnswer.body.revision).toBe(1);
    await ledger.http.post('/payees/P-1/plan-assignments').set(json).send({ planId: 'ae-2026', effectiveFrom: '2026-10-01', effectiveUntil: '2027-01-01' }).expect(201);

    const list = await ledger.http.get('/payees/P-1/plan-assignments').expect(200);
    expect(list.headers.etag).toBe('"2"');
    expect(list.body.assignments).toEqual([
      { assignmentId: 'ae-2026@2026-01-01', payeeId: 'P-1', planId: 'ae-2026', effectiveFrom: '2026-01-01', effectiveUntil: '2026-10-01' },
      { assignmentId: 'ae-2026@2026-10-01', payeeId: 'P-1', planId: 'ae-2026', effectiveFrom: '2026-10-01', effectiveUntil: '2027-01-01' },
    ]);
    const events = await ledger.store.readStream('plan-assignments-P-1');
    expect(events.map((event) => [event.type, event.data])).toEqual([
      ['PlanAssigned', { assignmentId: 'ae-2026@2026-01-01', payeeId: 'P-1', planId: 'ae-2026', effectiveFrom: '2026-01-01', effectiveUntil: null }],
      ['PlanAssignmentEnded', { assignmentId: 'ae-2026@2026-01-01', payeeId: 'P-1', planId: 'ae-2026', effectiveUntil: '2026-10-01' }],
      ['PlanAssigned', { assignmentId: 'ae-2026@2026-10-01', payeeId: 'P-1', planId: 'ae-2026', effectiveFrom: '2026-10-01', effectiveUntil: '2027-01-01' }],
    ]);

    // The same assignment sent again records nothing.
    const head = await ledger.headPosition();
    const again = await ledger.http.post('/payees/P-1/plan-assignments').set(json).send({ planId: 'ae-2026', effectiveFrom: '2026-10-01', effectiveUntil: '2027-01-01' }).expect(201);
    expect(again.body.eventIds).toEqual([]);
    expect(await ledger.headPosition()).toBe(head);
  });

  it('records an FX rate, corrects it, and lists the pair by date', async () => {
    await ledger.http.post('/fx-rates').set(json).send({ fromCurrency: 'EUR', toCurrency: 'USD', date: '2026-03-19', rate: '1.0900' }).expect(201);
    const first = await ledger.http.post('/fx-rates').set(json).send({ fromCurrency: 'EUR', toCurrency: 'USD', date: '2026-03-18', rate: '1.0850' }).expect(201);
    expect(first.body.streamId).toBe('fx-EUR-USD');
    await ledger.http.post('/fx-rates').set(json).send({ fromCurrency: 'EUR', toCurrency: 'USD', date: '2026-03-18', rate: '1.0870' }).expect(201);

    const rates = await ledger.http.get('/fx-rates?from=EUR&to=USD').expect(200);
    expect(rates.body).toEqual({
      fromCurrency: 'EUR',
      toCurrency: 'USD',
      revision: 2,
      rates: [
        expect.objectContaining({ date: '2026-03-18', rate: '1.0870', previousRates: ['1.0850'] }),
        expect.objectContaining({ date: '2026-03-19', rate: '1.0900', previousRates: [] }),
      ],
    });
    const oneDay = await ledger.http.get('/fx-rates?from=EUR&to=USD&fromDate=2026-03-19&toDate=2026-03-19').expect(200);
    expect(oneDay.body.rates.map((rate: { date: string }) => rate.date)).toEqual(['2026-03-19']);
    expect((await ledger.http.get('/fx-rates?from=USD&to=EUR').expect(200)).body.rates).toEqual([]);
  });

  describe('bad input gets a 4xx with a stable code and appends nothing', () => {
    const tiers = (list: unknown[]) => withComponent({ tiers: list });
    const cases: { name: string; method: 'post' | 'put'; path: string; body?: unknown; status: number; code: string; field?: string }[] = [
      {
        name: 'overlapping tiers',
        method: 'post',
        path: '/plans',
        body: planBody({ planId: 'bad-1', ...tiers([{ from: '0', to: '60', rate: '0.05' }, { from: '50', to: null, rate: '0.10' }]) }),
        status: 400,
        code: 'PLAN.TIERS_OVERLAP',
        field: 'components[0].tiers[1].from',
      },
      {
        name: 'gapped tiers',
        method: 'post',
        path: '/plans',
        body: planBody({ planId: 'bad-1', ...tiers([{ from: '0', to: '50', rate: '0.05' }, { from: '60', to: null, rate: '0.10' }]) }),
        status: 400,
        code: 'PLAN.TIERS_GAP',
        field: 'components[0].tiers[1].from',
      },
      {
        name: 'a negative rate',
        method: 'post',
        path: '/plans',
        body: planBody({ planId: 'bad-1', ...tiers([{ from: '0', to: null, rate: '-0.05' }]) }),
        status: 400,
        code: 'PLAN.RATE_NEGATIVE',
        field: 'components[0].tiers[0].rate',
      },
      {
        name: 'a cap below zero',
        method: 'post',
        path: '/plans',
        body: planBody({ planId: 'bad-1', ...withComponent({ capPerPeriod: '-100.00' }) }),
        status: 400,
        code: 'PLAN.CAP_NEGATIVE',
        field: 'components[0].capPerPeriod',
      },
      {
        name: 'a misspelt component property',
        method: 'post',
        path: '/plans',
        body: planBody({ planId: 'bad-1', ...withComponent({ capPerPeriood: '100.00' }) }),
        status: 400,
        code: 'VALIDATION.FAILED',
        field: 'components[0].capPerPeriood',
      },
      {
        name: 'a rate as a JSON number',
        method: 'post',
        path: '/plans',
        body: planBody({ planId: 'bad-1', ...tiers([{ from: '0', to: null, rate: 0.05 }]) }),
        status: 400,
        code: 'VALIDATION.FAILED',
        field: 'components[0].tiers[0].rate',
      },
      { name: 'an unknown component kind', method: 'post', path: '/plans', body: planBody({ planId: 'bad-1', ...withComponent({ kind: 'bonus' }) }), status: 400, code: 'VALIDATION.FAILED', field: 'components[0].kind' },
      { name: 'a version dated before the published one', method: 'post', path: '/plans', body: planBody({ effectiveFrom: '2026-06-30' }), status: 400, code: 'PLAN.VERSION_ORDER', field: 'effectiveFrom' },
      { name: 'another currency than the published versions', method: 'post', path: '/plans', body: planBody({ effectiveFrom: '2027-01-01', currency: 'EUR' }), status: 400, code: 'PLAN.CURRENCY_CHANGED', field: 'currency' },
      { name: 'publishing an unknown plan version', method: 'post', path: '/plans/ae-2026/versions/9/publish', status: 404, code: 'PLAN.VERSION_NOT_FOUND' },
      { name: 'revising an unknown plan version', method: 'put', path: '/plans/ae-2026/versions/9', body: { ...planBody(), planId: undefined }, status: 404, code: 'PLAN.VERSION_NOT_FOUND' },
      { name: 'publishing a version of an unknown plan', method: 'post', path: '/plans/nope/versions/1/publish', status: 404, code: 'PLAN.NOT_FOUND' },
      { name: 'revising a published version', method: 'put', path: '/plans/ae-2026/versions/1', body: { ...planBody(), planId: undefined }, status: 409, code: 'PLAN.VERSION_PUBLISHED' },
      { name: 'publishing a published version', method: 'post', path: '/plans/ae-2026/versions/2/publish', status: 409, code: 'PLAN.VERSION_PUBLISHED' },
      { name: 'a version that is not a number', method: 'post', path: '/plans/ae-2026/versions/one/publish', status: 400, code: 'REQUEST.VERSION_INVALID', field: 'version' },
      {
        name: 'an assignment overlapping another',
        method: 'post',
        path: '/payees/P-1/plan-assignments',
        body: { planId: 'ae-2026', effectiveFrom: '2026-09-01', effectiveUntil: '2026-11-01' },
        status: 409,
        code: 'ASSIGNMENT.OVERLAPS',
      },
      { name: 'ending an assignment into the next one', method: 'post', path: '/payees/P-1/plan-assignments/ae-2026@2026-01-01/end', body: { effectiveUntil: '2026-12-01' }, status: 409, code: 'ASSIGNMENT.OVERLAPS' },
      { name: 'an assignment to an unknown plan', method: 'post', path: '/payees/P-2/plan-assignments', body: { planId: 'nope', effectiveFrom: '2026-01-01' }, status: 404, code: 'PLAN.NOT_FOUND' },
      { name: 'an assignment for an unknown payee', method: 'post', path: '/payees/P-404/plan-assignments', body: { planId: 'ae-2026', effectiveFrom: '2026-01-01' }, status: 404, code: 'PAYEE.NOT_FOUND' },
      { name: 'an assignment before the plan is in force', method: 'post', path: '/payees/P-3/plan-assignments', body: { planId: 'ae-2026', effectiveFrom: '2025-12-01' }, status: 400, code: 'ASSIGNMENT.BEFORE_PLAN_EFFECTIVE', field: 'effectiveFrom' },
      { name: 'an assignment ending before it starts', method: 'post', path: '/payees/P-2/plan-assignments', body: { planId: 'ae-2026', effectiveFrom: '2026-03-01', effectiveUntil: '2026-02-01' }, status: 400, code: 'ASSIGNMENT.RANGE_EMPTY', field: 'effectiveUntil' },
      { name: 'an assignment before the payee starts', method: 'post', path: '/payees/P-2/plan-assignments', body: { planId: 'ae-2026', effectiveFrom: '2025-12-01' }, status: 400, code: 'ASSIGNMENT.BEFORE_PAYEE_START', field: 'effectiveFrom' },
      { name: "a plan in another currency than the payee's", method: 'post', path: '/payees/P-EUR/plan-assignments', body: { planId: 'ae-2026', effectiveFrom: '2026-01-01' }, status: 400, code: 'ASSIGNMENT.CURRENCY_MISMATCH', field: 'planId' },
      { name: 'ending an unknown assignment', method: 'post', path: '/payees/P-2/plan-assignments/ae-2026@2026-01-01/end', body: { effectiveUntil: '2026-06-01' }, status: 404, code: 'ASSIGNMENT.NOT_FOUND' },
      { name: 'an FX rate of zero', method: 'post', path: '/fx-rates', body: { fromCurrency: 'EUR', toCurrency: 'USD', date: '2026-03-20', rate: '0' }, status: 400, code: 'FX.RATE_NOT_POSITIVE', field: 'rate' },
      { name: 'a negative FX rate', method: 'post', path: '/fx-rates', body: { fromCurrency: 'EUR', toCurrency: 'USD', date: '2026-03-20', rate: '-1.08' }, status: 400, code: 'FX.RATE_NOT_POSITIVE', field: 'rate' },
      { name: 'an FX rate between one currency', method: 'post', path: '/fx-rates', body: { fromCurrency: 'EUR', toCurrency: 'EUR', date: '2026-03-20', rate: '1' }, status: 400, code: 'FX.SAME_CURRENCY', field: 'toCurrency' },
      { name: 'an FX rate as a JSON number', method: 'post', path: '/fx-rates', body: { fromCurrency: 'EUR', toCurrency: 'USD', date: '2026-03-20', rate: 1.08 }, status: 400, code: 'VALIDATION.FAILED', field: 'rate' },
      { name: 'an FX rate on an impossible date', method: 'post', path: '/fx-rates', body: { fromCurrency: 'EUR', toCurrency: 'USD', date: '2026-02-30', rate: '1.08' }, status: 400, code: 'VALIDATION.FAILED', field: 'date' },
    ];

    it.each(cases)('$name -> $status $code', async ({ method, path, body, status, code, field }) => {
      const head = await ledger.headPosition();
      const response = await ledger.http[method](path).set(json).send(body as object);
      expect(response.status).toBe(status);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.body).toEqual(expect.objectContaining({ status, code, type: `urn:incentive-ledger:problem:${code}`, detail: expect.any(String) }));
      if (field !== undefined) expect(response.body.fields).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
      expect(await ledger.headPosition()).toBe(head);
    });
  });

  it('answers reads of unknown things and bad read queries as problems', async () => {
    expect((await ledger.http.get('/plans/nope').expect(404)).body.code).toBe('PLAN.NOT_FOUND');
    expect((await ledger.http.get('/payees/P-404/plan-assignments').expect(404)).body.code).toBe('PAYEE.NOT_FOUND');
    expect((await ledger.http.get('/payees/P-2/plan-assignments').expect(200)).body).toEqual({ payeeId: 'P-2', revision: -1, assignments: [] });
    const badQuery = await ledger.http.get('/fx-rates?from=eur&toDate=2026-13-01').expect(400);
    expect(badQuery.body.code).toBe('REQUEST.FX_QUERY_INVALID');
    expect(badQuery.body.fields.map((field: { field: string }) => field.field)).toEqual(['from', 'to', 'toDate']);
  });
});
