/**
 * Period close, approval, payment, prior-period adjustments, clawbacks and the trial balance over HTTP, as an analyst,
 * finance and payroll would use them: March is closed and approved; a deal in March is then amended and the
 * adjustment appears in April with its explanation; another is cancelled and its clawback appears in April; March is
 * paid; the trial balance nets to zero; the frozen March statements still reproduce their digests. Misuse (approving
 * an open period, closing twice, approving your own close, paying an unapproved payout, posting to a closed period)
 * gets a 4xx with a stable code and appends nothing.
 */
import type { PayoutReactions } from '#lib/payouts/application/payout-reactions.js';
import { PAYOUT_REACTIONS } from '../../apps/ledger/src/ledger.tokens.js';
import { startLedgerTestApp, type HttpAgent, type LedgerTestApp } from '../support/ledger-test-app.js';

const json = { 'content-type': 'application/json' };
const MARCH = '/calendars/monthly/periods/2026-03';
const APRIL = '/calendars/monthly/periods/2026-04';

const payee = (payeeId: string) => ({ payeeId, name: `Payee ${payeeId}`, territory: 'NA', currency: 'USD', startDate: '2026-01-01' });
const deal = (dealId: string, ownerPayeeId: string, amount: string, closeDate: string) => ({
  dealId,
  ownerPayeeId,
  amount,
  currency: 'USD',
  closeDate,
  product: 'platform',
  dealType: 'new_business',
  overlays: [],
});

/** 10% of bookings, a recoverable draw of 1,000 a month, and a 90-day clawback of everything paid on a cancelled deal. */
const plan = {
  planId: 'ae-2026',
  effectiveFrom: '2026-01-01',
  currency: 'USD',
  periodFrequency: 'month',
  components: [{ kind: 'rate_table', id: 'commission', measure: 'bookings', basis: 'amount', mode: 'marginal', tiers: [{ from: '0', to: null, rate: '0.10' }] }],
  capitalizable: false,
  benefitMonths: null,
  draw: { kind: 'recoverable', amountPerPeriod: '1000.00' },
  clawback: { window: { length: 90, unit: 'days' }, windowStartsFrom: 'credit_date', percent: '100', reducesAttainment: false },
};

describe('periods, payouts and the ledger over HTTP', () => {
  let ledger: LedgerTestApp;
  let analyst: HttpAgent;
  let finance: HttpAgent;
  let payroll: HttpAgent;
  let rep: HttpAgent;
  /** Everything appended so far was reacted to, and the read models hold it: the position to read at. */
  let settled: () => Promise<number>;

  beforeAll(async () => {
    ledger = await startLedgerTestApp();
    analyst = ledger.as('analyst', { id: 'analyst-ana' });
    finance = ledger.as('finance', { id: 'finance-fred' });
    payroll = ledger.as('payroll', { id: 'payroll-pat' });
    rep = ledger.as('rep', { id: 'rep-p1', payeeId: 'P-1' });
    const reactions = ledger.app.get<PayoutReactions>(PAYOUT_REACTIONS);
    settled = async () => {
      const head = await ledger.headPosition();
      await reactions.waitForPosition(head);
      return ledger.headPosition();
    };
    for (const body of [payee('P-1'), payee('P-2')]) await analyst.post('/payees').set(json).send(body).expect(201);
    await analyst.post('/plans').set(json).send(plan).expect(201);
    await analyst.post('/plans/ae-2026/versions/1/publish').expect(200);
    for (const payeeId of ['P-1', 'P-2']) await analyst.post(`/payees/${payeeId}/plan-assignments`).set(json).send({ planId: 'ae-2026', effectiveFrom: '2026-01-01' }).expect(201);
    await analyst.post('/deals').set(json).send(deal('D-1', 'P-1', '50000.00', '2026-03-10')).expect(201);
    await analyst.post('/deals').set(json).send(deal('D-2', 'P-1', '20000.00', '2026-03-12')).expect(201);
    await analyst.post('/deals').set(json).send(deal('D-3', 'P-2', '4000.00', '2026-03-20')).expect(201);
  });

  afterAll(async () => {
    await ledger.close();
  });

  it('documents the endpoints', async () => {
    const document = await ledger.anonymous.get('/docs-json').expect(200);
    expect(Object.keys(document.body.paths)).toEqual(
      expect.arrayContaining([
        '/calendars/{calendarId}/periods/{periodId}/close',
        '/calendars/{calendarId}/periods/{periodId}/approvals',
        '/calendars/{calendarId}/periods/{periodId}/payments',
        '/calendars/{calendarId}/periods/{periodId}/reopen',
        '/calendars/{calendarId}/periods/{periodId}/lines',
        '/calendars/{calendarId}/periods/{periodId}/payees/{payeeId}',
        '/ledger/trial-balance',
      ]),
    );
  });

  it('closes March as the analyst: statements frozen with their digests and payouts priced, the draw topping up P-2', async () => {
    await refused(finance.post(`${MARCH}/approvals`).set(json).send({}), 409, 'PERIOD.NOT_CLOSED');
    const closed = await analyst.post(`${MARCH}/close`).set(json).send({}).expect(200);
    expect(closed.body).toMatchObject({ streamId: 'period-monthly-2026-03', payeesFrozen: 2, totals: [{ currency: 'USD', netPayable: '8000.00' }] });
    await refused(analyst.post(`${MARCH}/close`).set(json).send({}), 409, 'PERIOD.ALREADY_CLOSED');

    const payouts = await finance.get(`${MARCH}/payouts?waitForPosition=${closed.body.position}`).expect(200);
    expect(payouts.body.items.map((payout: Record<string, string>) => [payout.payeeId, payout.status, payout.grossEarned, payout.drawPaid, payout.netPayable])).toEqual([
      ['P-1', 'pending_approval', '7000.00', '0.00', '7000.00'],
      ['P-2', 'pending_approval', '400.00', '600.00', '1000.00'],
    ]);
    expect(await finance.get(MARCH).expect(200)).toMatchObject({ body: { status: 'closed', preparedBy: 'analyst-ana', payees: { frozen: 2, pendingApproval: 2 } } });
  });

  it('refuses an approval by the actor who prepared the close, then approves as finance, once', async () => {
    // An admin may close and approve, but never both for the same period.
    await refused(payroll.post(`${MARCH}/payments`).set(json).send({ payrollReference: 'run-1', paidOn: '2026-04-03' }), 409, 'PAYOUT.NOT_APPROVED');

    const approved = await finance.post(`${MARCH}/approvals`).set(json).send({}).expect(200);
    expect(approved.body.payouts.map((payout: { payeeId: string; netPayable: string }) => [payout.payeeId, payout.netPayable])).toEqual([
      ['P-1', '7000.00'],
      ['P-2', '1000.00'],
    ]);
    const head = await ledger.headPosition();
    const again = await ledger.as('finance', { id: 'finance-gina' }).post(`${MARCH}/approvals`).set(json).send({}).expect(200);
    expect(again.body).toMatchObject({ eventIds: [], payouts: [] });
    expect(await ledger.headPosition()).toBe(head);
    const payout = await payroll.get(`/payouts/${encodeURIComponent(approved.body.payouts[0].payoutId)}?waitForPosition=${approved.body.position}`).expect(200);
    expect(payout.body).toMatchObject({ payeeId: 'P-1', status: 'approved', approvedBy: 'finance-fred', preparedBy: 'analyst-ana' });
  });

  it('refuses separation of duties over HTTP: the preparer of a close cannot approve it', async () => {
    const admin = ledger.as('admin', { id: 'admin-ops' });
    await admin.post('/plans').set(json).send({ ...plan, planId: 'se-2026', calendarId: 'sales-engineers' }).expect(201);
    await admin.post('/plans/se-2026/versions/1/publish').expect(200);
    await admin.post('/calendars/sales-engineers/periods/2026-03/close').set(json).send({}).expect(200);
    await refused(admin.post('/calendars/sales-engineers/periods/2026-03/approvals').set(json).send({}), 403, 'APPROVAL.SAME_PREPARER');
    await refused(analyst.post('/calendars/sales-engineers/periods/2026-03/approvals').set(json).send({}), 403, 'AUTH.ROLE_FORBIDDEN');
    await ledger.as('admin', { id: 'admin-other' }).post('/calendars/sales-engineers/periods/2026-03/approvals').set(json).send({}).expect(200);
  });

  it('posts the difference of a deal amended after March closed in April, explained, and leaves March frozen', async () => {
    await refused(
      analyst
        .post(`${MARCH}/lines`)
        .set(json)
        .send({ payeeId: 'P-1', currency: 'USD', lines: [{ lineId: 'late-1', amount: '10.00', cause: { kind: 'manual', reference: 'ticket-1' }, explanation: 'late' }] }),
      409,
      'PERIOD.CLOSED',
    );
    const amended = await analyst.post('/deals/D-1/amendments').set(json).send({ amount: '65000.00', reason: 'price corrected' }).expect(200);
    const position = await settled();
    expect(position).toBeGreaterThan(amended.body.position);
    const april = await rep.get(`${APRIL}/payees/P-1?waitForPosition=${position}`).expect(200);
    expect(april.body.lines).toEqual([
      expect.objectContaining({
        kind: 'adjustment',
        amount: '1500.00',
        dealId: 'D-1',
        sourcePeriodId: '2026-03',
        cause: { kind: 'deal_amended', reference: 'D-1', eventId: amended.body.eventIds[0], position: amended.body.position },
      }),
    ]);
    expect(april.body.lines[0].explanation).toMatch(/^Deal amended \(D-1, event .+\): period 2026-03 .+ 5000\.00 -> 6500\.00; \+1500\.00 USD posted in 2026-04\.$/);
    expect((await finance.get(`${MARCH}/payees/P-1/frozen-statement`).expect(200)).body).toMatchObject({ digestMatches: true, statement: { totals: { payable: '7000.00' } } });
  });

  it('claws back a deal cancelled within the window in April, saying why', async () => {
    await analyst.post('/deals/D-2/cancellation').set(json).send({ cancelDate: '2026-04-15', reason: 'customer withdrew' }).expect(200);
    const position = await settled();
    const april = await rep.get(`${APRIL}/payees/P-1?waitForPosition=${position}`).expect(200);
    expect(april.body.lines.map((line: { kind: string; amount: string; dealId: string }) => [line.kind, line.dealId, line.amount])).toEqual([
      ['adjustment', 'D-1', '1500.00'],
      ['clawback', 'D-2', '-2000.00'],
    ]);
    expect(april.body.lines[1].explanation).toBe(
      'Deal D-2 was cancelled on 2026-04-15, 34 days after its credit date 2026-03-12, within the 90-day clawback window (through 2026-06-10): 100% of the 2000.00 USD paid on it is clawed back as -2000.00 in 2026-04.',
    );
    await refused(rep.get(`${APRIL}/payees/P-2`), 404, 'PAYEE.NOT_FOUND');
  });

  it('pays March, closes and approves April with its corrections, and reads a trial balance that nets to zero', async () => {
    await refused(payroll.post(`${MARCH}/payments`).set(json).send({ payrollReference: 'run-1', paidOn: '3 April' }), 400, 'VALIDATION.FAILED');
    const paid = await payroll.post(`${MARCH}/payments`).set(json).send({ payrollReference: 'payroll-2026-04-03', paidOn: '2026-04-03' }).expect(200);
    expect(paid.body.payouts).toHaveLength(2);
    await refused(finance.post(`${MARCH}/reopen`).set(json).send({ reason: 'too late' }), 409, 'PERIOD.PAYOUTS_PAID');

    await analyst.post('/deals').set(json).send(deal('D-4', 'P-1', '30000.00', '2026-04-20')).expect(201);
    await analyst.post(`${APRIL}/close`).set(json).send({}).expect(200);
    await refused(payroll.post(`${APRIL}/payments`).set(json).send({ payrollReference: 'run-2', paidOn: '2026-05-05' }), 409, 'PAYOUT.NOT_APPROVED');
    const approved = await finance.post(`${APRIL}/approvals`).set(json).send({ payeeIds: ['P-1'] }).expect(200);
    // 3,000 earned + 1,500 adjusted - 2,000 clawed back = 2,500 (above the 1,000 draw).
    const payout = await payroll.get(`/payouts/${encodeURIComponent(approved.body.payouts[0].payoutId)}?waitForPosition=${approved.body.position}`).expect(200);
    expect(payout.body).toMatchObject({ grossEarned: '3000.00', adjustments: '1500.00', clawbacks: '-2000.00', drawPaid: '0.00', drawRecovered: '0.00', netPayable: '2500.00' });

    const balance = await finance.get(`/ledger/trial-balance?asOf=2026-04-30&waitForPosition=${approved.body.position}`).expect(200);
    expect(balance.body).toMatchObject({ asOf: '2026-04-30', balanced: true, totals: [{ currency: 'USD', net: '0.00' }] });
    expect(Object.fromEntries(balance.body.rows.map((row: { accountType: string; balance: string }) => [row.accountType, row.balance]))).toEqual({
      commission_expense: '9900.00',
      commissions_payable: '2500.00',
      draw_receivable: '600.00',
      payroll_clearing: '8000.00',
    });
    const p1 = await finance.get('/ledger/trial-balance?asOf=2026-04-30&payeeId=P-1').expect(200);
    expect(p1.body.rows.find((row: { accountType: string }) => row.accountType === 'payroll_clearing')).toMatchObject({ payeeId: 'P-1', balance: '7000.00' });
    const entries = await finance.get('/payees/P-1/ledger/entries').expect(200);
    expect(entries.body.items.map((entry: { movement: string }) => entry.movement).sort()).toEqual(['adjustment', 'clawback', 'commission_earned', 'commission_earned', 'payout_paid']);
    await refused(payroll.get('/ledger/trial-balance'), 403, 'AUTH.ROLE_FORBIDDEN');
    await refused(finance.get('/ledger/trial-balance?asOf=2026-13-01'), 400, 'REQUEST.AS_OF_DATE_INVALID');

    // The frozen March statements still reproduce their digests, whatever was appended since.
    for (const payeeId of ['P-1', 'P-2']) expect((await finance.get(`${MARCH}/payees/${payeeId}/frozen-statement`).expect(200)).body.digestMatches).toBe(true);
  });

  it('reopens April with a reason, an audited event that voids its approvals in the ledger', async () => {
    await refused(finance.post(`${APRIL}/reopen`).set(json).send({ reason: '' }), 400, 'VALIDATION.FAILED');
    const reopened = await finance.post(`${APRIL}/reopen`).set(json).send({ reason: 'D-5 belongs to April' }).expect(200);
    const period = await finance.get(`${APRIL}?waitForPosition=${reopened.body.position}`).expect(200);
    expect(period.body).toMatchObject({ status: 'open', reopens: [{ reopenedBy: 'finance-fred', reason: 'D-5 belongs to April', statusBefore: 'closed' }] });
    const balance = await finance.get('/ledger/trial-balance?asOf=2026-04-30').expect(200);
    expect(balance.body.rows.find((row: { accountType: string }) => row.accountType === 'commissions_payable')).toMatchObject({ balance: '0.00' });
    expect(balance.body.balanced).toBe(true);
  });

  describe('bad input gets a 4xx with a stable code and appends nothing', () => {
    const cases: { name: string; method: 'get' | 'post'; path: string; body?: unknown; status: number; code: string; as: () => HttpAgent }[] = [
      { name: 'a period id that is not one', method: 'post', path: '/calendars/monthly/periods/2026-13/close', body: {}, status: 400, code: 'PERIOD.INVALID_ID', as: () => analyst },
      { name: 'an unknown calendar', method: 'post', path: '/calendars/weekly/periods/2026-03/close', body: {}, status: 404, code: 'CALENDAR.NOT_FOUND', as: () => analyst },
      { name: 'a period of another frequency', method: 'post', path: '/calendars/monthly/periods/2026-Q2/close', body: {}, status: 400, code: 'PERIOD.NOT_OF_CALENDAR', as: () => analyst },
      { name: 'closing out of order', method: 'post', path: '/calendars/monthly/periods/2026-06/close', body: {}, status: 409, code: 'PERIOD.PREVIOUS_NOT_CLOSED', as: () => analyst },
      {
        name: 'a line amount as a JSON number',
        method: 'post',
        path: `${APRIL}/lines`,
        body: { payeeId: 'P-1', currency: 'USD', lines: [{ lineId: 'x-1', amount: 10, cause: { kind: 'manual', reference: 't' }, explanation: 'e' }] },
        status: 400,
        code: 'VALIDATION.FAILED',
        as: () => analyst,
      },
      {
        name: 'a line with an unknown cause',
        method: 'post',
        path: `${APRIL}/lines`,
        body: { payeeId: 'P-1', currency: 'USD', lines: [{ lineId: 'x-1', amount: '10.00', cause: { kind: 'typo', reference: 't' }, explanation: 'e' }] },
        status: 400,
        code: 'VALIDATION.FAILED',
        as: () => analyst,
      },
      { name: 'approving an unknown payee', method: 'post', path: `${MARCH}/approvals`, body: { payeeIds: ['P-9'] }, status: 404, code: 'PAYOUT.UNKNOWN_PAYEE', as: () => finance },
      { name: 'a payout that does not exist', method: 'get', path: '/payouts/nope', status: 404, code: 'PAYOUT.NOT_FOUND', as: () => payroll },
      { name: 'a payout list filtered by an unknown status', method: 'get', path: `${MARCH}/payouts?status=due`, status: 400, code: 'REQUEST.STATUS_INVALID', as: () => payroll },
      { name: 'closing as payroll', method: 'post', path: `${APRIL}/close`, body: {}, status: 403, code: 'AUTH.ROLE_FORBIDDEN', as: () => payroll },
    ];

    it.each(cases)('$name -> $status $code', async ({ method, path, body, status, code, as }) => {
      const call = method === 'get' ? as().get(path) : as().post(path).set(json).send(body as object);
      await refused(call, status, code);
    });
  });

  /** A request refused with this status and code, after which the log has not grown. */
  async function refused(call: PromiseLike<{ status: number; body: { code?: string }; headers: Record<string, string> }>, status: number, code: string): Promise<void> {
    const head = await ledger.headPosition();
    const response = await call;
    expect({ status: response.status, code: response.body.code }).toEqual({ status, code });
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(await ledger.headPosition()).toBe(head);
  }
});
