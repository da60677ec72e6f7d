/**
 * Territory overlays driven over HTTP as a comp admin would: register an overlay specialist and a territory manager
 * on a territory with effective dates, close deals without overlays and see the holders in force on each credit date
 * credited next to the manager roll-up (once per payee), a deal given another territory credit that territory's
 * holders, explicit overlays replace them; and see bad registrations refused with a stable code and no trace in the log.
 */
import { startLedgerTestApp, type LedgerTestApp } from '../support/ledger-test-app.js';

const json = { 'content-type': 'application/json' };

interface CreditBody {
  payeeId: string;
  kind: 'primary' | 'overlay';
  role: string | null;
  sharePercent: string;
  amounts: Record<string, string>;
}

const deal = (dealId: string, closeDate: string, extra: Record<string, unknown> = {}) => ({
  dealId,
  ownerPayeeId: 'P-1',
  amount: '80000.00',
  currency: 'USD',
  closeDate,
  product: 'platform',
  dealType: 'new_business',
  ...extra,
});

describe('territory overlays over HTTP', () => {
  let ledger: LedgerTestApp;

  const creditsOf = async (dealId: string, position: number): Promise<CreditBody[]> =>
    (await ledger.http.get(`/deals/${dealId}?waitForPosition=${position}`).expect(200)).body.credits;
  const overlayCredits = (credits: CreditBody[]) =>
    credits.filter((credit) => credit.kind === 'overlay').map(({ payeeId, role, sharePercent, amounts }) => ({ payeeId, role, sharePercent, bookings: amounts.bookings }));

  beforeAll(async () => {
    ledger = await startLedgerTestApp();
    const payees: [string, string | null, string][] = [
      ['P-100', null, 'EMEA'], // manager of the reps
      ['P-1', 'P-100', 'EMEA'], // a rep
      ['P-300', null, 'EMEA'], // overlay specialist
      ['P-400', null, 'EMEA'], // territory manager
      ['P-500', null, 'North America'], // territory manager across the ocean
    ];
    for (const [payeeId, managerId, territory] of payees) {
      await ledger.http.post('/payees').set(json).send({ payeeId, name: `Payee ${payeeId}`, managerId, territory, currency: 'USD', startDate: '2026-01-01' }).expect(201);
    }
  });

  afterAll(async () => {
    await ledger.close();
  });

  it('lists the territory overlay endpoints in the OpenAPI document', async () => {
    const document = await ledger.http.get('/docs-json').expect(200);
    expect(Object.keys(document.body.paths)).toEqual(
      expect.arrayContaining(['/territories/{territory}/overlays', '/territories/{territory}/overlays/{assignmentId}/end']),
    );
  });

  it('registers overlay holders with dates, ends one, and lists them by payee', async () => {
    const specialist = await ledger.http
      .post('/territories/EMEA/overlays')
      .set(json)
      .send({ payeeId: 'P-300', role: 'overlay_specialist', sharePercent: '50', effectiveFrom: '2026-01-01' })
      .expect(201);
    expect(specialist.body).toEqual(expect.objectContaining({ assignmentId: 'P-300@2026-01-01', streamId: 'territory-overlays-EMEA', revision: 0, replayed: false }));
    expect(specialist.headers.location).toBe('/territories/EMEA/overlays');
    await ledger.http.post('/territories/EMEA/overlays').set(json).set('If-Match', '"0"').send({ payeeId: 'P-400', role: 'territory_manager', effectiveFrom: '2026-03-01' }).expect(201);
    // The reps' manager holds the territory too: the roll-up credits them already, so they are not credited twice.
    await ledger.http.post('/territories/EMEA/overlays').set(json).send({ payeeId: 'P-100', role: 'territory_manager', effectiveFrom: '2026-01-01' }).expect(201);
    const ended = await ledger.http.post('/territories/EMEA/overlays/P-400@2026-03-01/end').set(json).send({ effectiveUntil: '2026-06-01' }).expect(200);
    expect(ended.body).toEqual(expect.objectContaining({ assignmentId: 'P-400@2026-03-01', revision: 3 }));
    await ledger.http.post(`/territories/${encodeURIComponent('North America')}/overlays`).set(json).send({ payeeId: 'P-500', role: 'territory_manager', effectiveFrom: '2026-01-01' }).expect(201);

    const listed = await ledger.http.get('/territories/EMEA/overlays').expect(200);
    expect(listed.headers.etag).toBe('"3"');
    expect(listed.body).toEqual({
      territory: 'EMEA',
      revision: 3,
      overlays: [
        { assignmentId: 'P-100@2026-01-01', territory: 'EMEA', payeeId: 'P-100', role: 'territory_manager', sharePercent: '100', effectiveFrom: '2026-01-01', effectiveUntil: null },
        { assignmentId: 'P-300@2026-01-01', territory: 'EMEA', payeeId: 'P-300', role: 'overlay_specialist', sharePercent: '50', effectiveFrom: '2026-01-01', effectiveUntil: null },
        { assignmentId: 'P-400@2026-03-01', territory: 'EMEA', payeeId: 'P-400', role: 'territory_manager', sharePercent: '100', effectiveFrom: '2026-03-01', effectiveUntil: '2026-06-01' },
      ],
    });
    expect((await ledger.http.get('/territories/APAC/overlays').expect(200)).body).toEqual({ territory: 'APAC', revision: -1, overlays: [] });

    // The same registration sent again records nothing.
    const head = await ledger.headPosition();
    const again = await ledger.http.post('/territories/EMEA/overlays').set(json).send({ payeeId: 'P-300', role: 'overlay_specialist', sharePercent: '50', effectiveFrom: '2026-01-01' }).expect(201);
    expect(again.body.eventIds).toEqual([]);
    expect(await ledger.headPosition()).toBe(head);
  });

  it("credits the territory's holders on the credit date next to the manager roll-up, each payee once", async () => {
    const march = await ledger.http.post('/deals').set(json).send(deal('D-MAR', '2026-03-10')).expect(201);
    const marchDeal = (await ledger.http.get(`/deals/D-MAR?waitForPosition=${march.body.position}`).expect(200)).body;
    expect(marchDeal.territory).toBe('EMEA');
    expect(overlayCredits(marchDeal.credits)).toEqual([
      { payeeId: 'P-100', role: 'manager', sharePercent: '100', bookings: '80000' },
      { payeeId: 'P-300', role: 'overlay_specialist', sharePercent: '50', bookings: '40000' },
      { payeeId: 'P-400', role: 'territory_manager', sharePercent: '100', bookings: '80000' },
    ]);

    // Before the territory manager's start and after their end, only the specialist joins the roll-up.
    for (const [dealId, closeDate] of [['D-FEB', '2026-02-10'], ['D-JUN', '2026-06-01']]) {
      const closed = await ledger.http.post('/deals').set(json).send(deal(dealId, closeDate)).expect(201);
      expect(overlayCredits(await creditsOf(dealId, closed.body.position)).map((credit) => credit.payeeId)).toEqual(['P-100', 'P-300']);
    }

    // The credit date decides, not the close date.
    const credited = await ledger.http.post('/deals').set(json).send(deal('D-LATE', '2026-02-25', { creditDate: '2026-03-02' })).expect(201);
    expect(overlayCredits(await creditsOf('D-LATE', credited.body.position)).map((credit) => credit.payeeId)).toEqual(['P-100', 'P-300', 'P-400']);
  });

  it("credits the holders of a deal's given territory, and none when the overlays are given", async () => {
    const abroad = await ledger.http.post('/deals').set(json).send(deal('D-NA', '2026-03-10', { territory: 'North America' })).expect(201);
    const abroadDeal = (await ledger.http.get(`/deals/D-NA?waitForPosition=${abroad.body.position}`).expect(200)).body;
    expect(abroadDeal.territory).toBe('North America');
    expect(overlayCredits(abroadDeal.credits).map((credit) => credit.payeeId)).toEqual(['P-100', 'P-500']);

    const given = await ledger.http.post('/deals').set(json).send(deal('D-GIVEN', '2026-03-10', { overlays: [] })).expect(201);
    expect(overlayCredits(await creditsOf('D-GIVEN', given.body.position))).toEqual([]);

    // Re-allocating without overlays credits the territory's holders on the new credit date.
    const reallocated = await ledger.http.put('/deals/D-GIVEN/credits').set(json).send({ splits: [{ payeeId: 'P-1', sharePercent: '100' }], creditDate: '2026-06-15' }).expect(200);
    expect(overlayCredits(await creditsOf('D-GIVEN', reallocated.body.position)).map((credit) => credit.payeeId)).toEqual(['P-100', 'P-300']);
  });

  describe('bad input gets a 4xx with a stable code and appends nothing', () => {
    const cases: { name: string; path: string; body: unknown; status: number; code: string; field?: string }[] = [
      { name: 'an overlay overlapping the same payee on the territory', path: '/territories/EMEA/overlays', body: { payeeId: 'P-300', role: 'overlay_specialist', effectiveFrom: '2026-05-01' }, status: 409, code: 'TERRITORY_OVERLAY.OVERLAPS' },
      { name: 'the same overlay with another share', path: '/territories/EMEA/overlays', body: { payeeId: 'P-300', role: 'overlay_specialist', sharePercent: '60', effectiveFrom: '2026-01-01' }, status: 409, code: 'TERRITORY_OVERLAY.OVERLAPS' },
      { name: 'an overlay for an unknown payee', path: '/territories/EMEA/overlays', body: { payeeId: 'P-404', role: 'overlay_specialist', effectiveFrom: '2026-01-01' }, status: 404, code: 'PAYEE.NOT_FOUND' },
      { name: 'an overlay before the payee starts', path: '/territories/APAC/overlays', body: { payeeId: 'P-300', role: 'overlay_specialist', effectiveFrom: '2025-12-01' }, status: 400, code: 'TERRITORY_OVERLAY.BEFORE_PAYEE_START', field: 'effectiveFrom' },
      { name: 'an overlay ending before it starts', path: '/territories/APAC/overlays', body: { payeeId: 'P-300', role: 'overlay_specialist', effectiveFrom: '2026-03-01', effectiveUntil: '2026-02-01' }, status: 400, code: 'TERRITORY_OVERLAY.RANGE_EMPTY', field: 'effectiveUntil' },
      { name: 'a share over 100', path: '/territories/APAC/overlays', body: { payeeId: 'P-300', role: 'overlay_specialist', sharePercent: '150', effectiveFrom: '2026-01-01' }, status: 400, code: 'CREDIT.SHARE_OUT_OF_RANGE', field: 'sharePercent' },
      { name: 'a share as a JSON number', path: '/territories/APAC/overlays', body: { payeeId: 'P-300', role: 'overlay_specialist', sharePercent: 50, effectiveFrom: '2026-01-01' }, status: 400, code: 'VALIDATION.FAILED', field: 'sharePercent' },
      { name: 'a role that is not a role name', path: '/territories/APAC/overlays', body: { payeeId: 'P-300', role: 'Overlay Specialist', effectiveFrom: '2026-01-01' }, status: 400, code: 'VALIDATION.FAILED', field: 'role' },
      { name: 'an impossible start date', path: '/territories/APAC/overlays', body: { payeeId: 'P-300', role: 'overlay_specialist', effectiveFrom: '2026-02-30' }, status: 400, code: 'VALIDATION.FAILED', field: 'effectiveFrom' },
      { name: 'a misspelt property', path: '/territories/APAC/overlays', body: { payeeId: 'P-300', role: 'overlay_specialist', effectiveFrom: '2026-01-01', share: '50' }, status: 400, code: 'VALIDATION.FAILED' },
      { name: 'ending an unknown overlay', path: '/territories/EMEA/overlays/P-500@2026-01-01/end', body: { effectiveUntil: '2026-06-01' }, status: 404, code: 'TERRITORY_OVERLAY.NOT_FOUND' },
      { name: 'ending an overlay on its start', path: '/territories/EMEA/overlays/P-400@2026-03-01/end', body: { effectiveUntil: '2026-03-01' }, status: 400, code: 'TERRITORY_OVERLAY.RANGE_EMPTY', field: 'effectiveUntil' },
      { name: 'a deal with a blank territory', path: '/deals', body: deal('D-BLANK', '2026-03-10', { territory: ' ' }), status: 400, code: 'VALIDATION.TEXT', field: 'territory' },
    ];

    it.each(cases)('$name -> $status $code', async ({ path, body, status, code, field }) => {
      const head = await ledger.headPosition();
      const response = await ledger.http.post(path).set(json).send(body as object);
      expect(response.status).toBe(status);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.body).toEqual(expect.objectContaining({ status, code, type: `urn:incentive-ledger:problem:${code}`, detail: expect.any(String) }));
      if (field !== undefined) expect(response.body.fields).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
      expect(await ledger.headPosition()).toBe(head);
    });

    it('refuses a registration made against a stale revision (If-Match) and appends nothing', async () => {
      const head = await ledger.headPosition();
      const response = await ledger.http.post('/territories/EMEA/overlays').set(json).set('If-Match', '"0"').send({ payeeId: 'P-500', role: 'overlay_specialist', effectiveFrom: '2026-01-01' });
      expect(response.status).toBe(409);
      expect(await ledger.headPosition()).toBe(head);
    });
  });
});
