/**
 * A dispute's approved amount reaches the rep's pay: the rep files on a line of March's statement, the analyst
 * closes March, asks for information, the rep answers, the analyst approves part of the claim; the dispute process
 * posts the approved amount as an adjustment naming the dispute into the rep's earliest open period (April, March
 * being closed), exactly once, and the rep sees it on April's statement for their payee.
 */
import { startLedgerTestApp, type HttpAgent, type LedgerTestApp } from '../support/ledger-test-app.js';

const json = { 'content-type': 'application/json' };
const MARCH = '/calendars/monthly/periods/2026-03';
const APRIL = '/calendars/monthly/periods/2026-04';

const plan = {
  planId: 'ae-2026',
  effectiveFrom: '2026-01-01',
  currency: 'USD',
  periodFrequency: 'month',
  components: [{ kind: 'rate_table', id: 'commission', measure: 'bookings', basis: 'amount', mode: 'marginal', tiers: [{ from: '0', to: null, rate: '0.08' }] }],
  capitalizable: false,
  benefitMonths: null,
};

interface PeriodLine {
  kind: string;
  amount: string;
  cause?: { kind: string; reference: string };
}

describe('a dispute approved in part', () => {
  let ledger: LedgerTestApp;
  let rep: HttpAgent;
  let analyst: HttpAgent;

  beforeAll(async () => {
    // Processes run every 20 ms here, so the test sees the adjustment without waiting for the 5 s default.
    ledger = await startLedgerTestApp({ LEDGER_DISPUTE_PROCESS_MS: '20' });
    await ledger.http.post('/payees').set(json).send({ payeeId: 'P-1', name: 'Ana Rep', managerId: null, territory: 'NA', currency: 'USD', startDate: '2026-01-01' }).expect(201);
    await ledger.http.post('/plans').set(json).send(plan).expect(201);
    await ledger.http.post('/plans/ae-2026/versions/1/publish').expect(200);
    await ledger.http.post('/payees/P-1/plan-assignments').set(json).send({ planId: 'ae-2026', effectiveFrom: '2026-01-01' }).expect(201);
    await ledger.http
      .post('/deals')
      .set(json)
      .send({ dealId: 'D-1', ownerPayeeId: 'P-1', amount: '50000.00', currency: 'USD', closeDate: '2026-03-10', product: 'platform', dealType: 'new_business', overlays: [] })
      .expect(201);
    rep = ledger.as('rep', { id: 'rep-ana', payeeId: 'P-1' });
    analyst = ledger.as('analyst', { id: 'analyst-1' });
  });

  afterAll(async () => {
    await ledger.close();
  });

  it('is posted once, naming the dispute, into the next open period, where the rep sees it', async () => {
    const statement = await rep.get(`/payees/P-1/statements/2026-03?waitForPosition=${await ledger.headPosition()}`).expect(200);
    const lineId = statement.body.lines[0].lineId as string;
    const filed = await rep
      .post('/disputes')
      .set(json)
      .send({ payeeId: 'P-1', subject: { kind: 'statement_line', periodId: '2026-03', lineId }, category: 'wrong_rate', amountClaimed: '1000.00', description: 'The rate for new business is 10%' })
      .expect(201);
    const disputeId = (filed.body.streamId as string).replace(/^dispute-/, '');

    await analyst.post(`${MARCH}/close?waitForPosition=${filed.body.position}`).set(json).send({}).expect(200);
    await analyst.put(`/disputes/${disputeId}/assignee`).set(json).send({ assigneeId: 'analyst-1' }).expect(200);
    await analyst.post(`/disputes/${disputeId}/information-requests`).set(json).send({ question: 'Which deals?' }).expect(200);
    await rep.post(`/disputes/${disputeId}/information`).set(json).send({ answer: 'D-1' }).expect(200);
    await analyst
      .post(`/disputes/${disputeId}/resolution`)
      .set(json)
      .send({ outcome: 'partially_approved', amountApproved: '600.00', reason: 'D-1 qualifies in part' })
      .expect(200);

    const adjustments = await waitFor(async () => {
      const april = await rep.get(`${APRIL}/payees/P-1`);
      const lines = april.status === 200 ? (april.body.lines as PeriodLine[]) : [];
      return lines.filter((line) => line.cause?.kind === 'dispute_approved');
    });
    expect(adjustments).toEqual([expect.objectContaining({ kind: 'adjustment', amount: '600.00', cause: expect.objectContaining({ kind: 'dispute_approved', reference: disputeId }) })]);

    // March stays as it was closed; the dispute names where its remedy went.
    const march = await rep.get(`${MARCH}/payees/P-1`).expect(200);
    expect((march.body.lines as PeriodLine[]).filter((line) => line.cause?.kind === 'dispute_approved')).toEqual([]);
    const view = await rep.get(`/disputes/${disputeId}?waitForPosition=${await ledger.headPosition()}`).expect(200);
    expect(view.body.timeline.map((entry: { type: string }) => entry.type)).toEqual(expect.arrayContaining(['DisputeResolved']));
    expect(JSON.stringify(view.body)).toContain('2026-04');

    // The process runs on: the line is not posted twice.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const again = await rep.get(`${APRIL}/payees/P-1?waitForPosition=${await ledger.headPosition()}`).expect(200);
    expect((again.body.lines as PeriodLine[]).filter((line) => line.cause?.kind === 'dispute_approved')).toHaveLength(1);
  });
});

async function waitFor<Item>(read: () => Promise<Item[]>, timeoutMs = 10_000): Promise<Item[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const items = await read();
    if (items.length > 0 || Date.now() > deadline) return items;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
