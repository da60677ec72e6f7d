/**
 * Disputes over HTTP, as a rep and an analyst would drive them: the rep files a dispute on a line of their
 * statement, the analyst takes it and asks for information, the rep answers, the analyst approves part of it. The
 * dispute's timeline shows every step with its actor. Along the way, everything the rules forbid is refused with a
 * stable code and appends nothing: a rep resolving, another rep reading, a comment on a closed dispute, a withdrawal
 * of a resolved one, an analyst approving a dispute they filed themselves, bad input.
 */
import { startLedgerTestApp, type HttpAgent, type LedgerTestApp } from '../support/ledger-test-app.js';

const json = { 'content-type': 'application/json' };

const payee = (payeeId: string) => ({ payeeId, name: `Payee ${payeeId}`, managerId: null, territory: 'NA', currency: 'USD', startDate: '2026-01-01' });
const planBody = {
  planId: 'ae-2026',
  effectiveFrom: '2026-01-01',
  currency: 'USD',
  periodFrequency: 'month',
  components: [{ kind: 'rate_table', id: 'commission', measure: 'bookings', basis: 'amount', mode: 'marginal', tiers: [{ from: '0', to: null, rate: '0.08' }] }],
  capitalizable: false,
  benefitMonths: null,
};

describe('disputes over HTTP', () => {
  let ledger: LedgerTestApp;
  let rep: HttpAgent;
  let otherRep: HttpAgent;
  let analyst: HttpAgent;
  let lineId: string;
  let disputeId: string;

  beforeAll(async () => {
    ledger = await startLedgerTestApp();
    for (const payeeId of ['P-1', 'P-2']) await ledger.http.post('/payees').set(json).send(payee(payeeId)).expect(201);
    await ledger.http.post('/plans').set(json).send(planBody).expect(201);
    await ledger.http.post('/plans/ae-2026/versions/1/publish').expect(200);
    await ledger.http.post('/payees/P-1/plan-assignments').set(json).send({ planId: 'ae-2026', effectiveFrom: '2026-01-01' }).expect(201);
    const deal = await ledger.http
      .post('/deals')
      .set(json)
      .send({ dealId: 'D-1', ownerPayeeId: 'P-1', amount: '50000.00', currency: 'USD', closeDate: '2026-03-10', product: 'platform', dealType: 'new_business', overlays: [] })
      .expect(201);
    rep = ledger.as('rep', { id: 'rep-ana', payeeId: 'P-1' });
    otherRep = ledger.as('rep', { id: 'rep-ben', payeeId: 'P-2' });
    analyst = ledger.as('analyst', { id: 'analyst-1' });
    const statement = await rep.get(`/payees/P-1/statements/2026-03?waitForPosition=${deal.body.position}`).expect(200);
    expect(statement.body.lines).toEqual([expect.objectContaining({ kind: 'commission', amount: '4000.00' })]);
    lineId = statement.body.lines[0].lineId;
  });

  afterAll(async () => {
    await ledger.close();
  });

  it('documents the dispute endpoints', async () => {
    const document = await ledger.anonymous.get('/docs-json').expect(200);
    expect(Object.keys(document.body.paths)).toEqual(
      expect.arrayContaining(['/disputes', '/disputes/statistics', '/disputes/{disputeId}', '/disputes/{disputeId}/resolution', '/payees/{payeeId}/disputes']),
    );
  });

  it('refuses bad input with field messages, and a rep filing for someone else, appending nothing', async () => {
    const head = await ledger.headPosition();
    const bad = await rep
      .post('/disputes')
      .set(json)
      .send({ payeeId: 'P-1', subject: { kind: 'statement_line', periodId: '2026-03', lineId }, category: 'bonus', amountClaimed: 500, description: '' })
      .expect(400);
    expect(bad.body.code).toBe('VALIDATION.FAILED');
    expect(bad.body.fields.map((field: { field: string }) => field.field)).toEqual(expect.arrayContaining(['category', 'amountClaimed', 'description']));
    const wrongLine = await rep
      .post('/disputes')
      .set(json)
      .send({ payeeId: 'P-1', subject: { kind: 'statement_line', periodId: '2026-03', lineId: 'no-such-line' }, category: 'wrong_rate', amountClaimed: '500.00', description: 'x' })
      .expect(404);
    expect(wrongLine.body.code).toBe('DISPUTE.SUBJECT_NOT_FOUND');
    await otherRep
      .post('/disputes')
      .set(json)
      .send({ payeeId: 'P-1', subject: { kind: 'period', periodId: '2026-03' }, category: 'other', amountClaimed: '500.00', description: 'x' })
      .expect(404);
    expect(await ledger.headPosition()).toBe(head);
  });

  it('takes a dispute on a statement line from filing to a partial approval, each step in the timeline with its actor', async () => {
    const filed = await rep
      .post('/disputes')
      .set(json)
      .set('Idempotency-Key', 'dispute-ana-0001')
      .send({
        payeeId: 'P-1',
        subject: { kind: 'statement_line', periodId: '2026-03', lineId },
        category: 'wrong_rate',
        amountClaimed: '1000.00',
        description: 'Paid 8%; my plan letter says 10% for new business',
        evidenceReferences: ['doc:plan-letter-2026.pdf'],
      })
      .expect(201);
    disputeId = filed.body.streamId.slice('dispute-'.length);
    expect(filed.headers.location).toBe(`/disputes/${disputeId}`);
    // The same request again (a retry after a lost answer) files nothing new.
    const again = await rep
      .post('/disputes')
      .set(json)
      .set('Idempotency-Key', 'dispute-ana-0001')
      .send({
        payeeId: 'P-1',
        subject: { kind: 'statement_line', periodId: '2026-03', lineId },
        category: 'wrong_rate',
        amountClaimed: '1000.00',
        description: 'Paid 8%; my plan letter says 10% for new business',
        evidenceReferences: ['doc:plan-letter-2026.pdf'],
      })
      .expect(201);
    expect(again.body.eventIds).toEqual(filed.body.eventIds);

    const wait = (answer: { body: { position: number } }) => `?waitForPosition=${answer.body.position}`;
    const assigned = await analyst.put(`/disputes/${disputeId}/assignee${wait(filed)}`).set(json).send({ assigneeId: 'analyst-1' }).expect(200);
    const asked = await analyst
      .post(`/disputes/${disputeId}/information-requests`)
      .set(json)
      .set('If-Match', `"${assigned.body.revision}"`)
      .send({ question: 'Which deals were new business?' })
      .expect(200);
    const answered = await rep
      .post(`/disputes/${disputeId}/information${wait(asked)}`)
      .set(json)
      .send({ answer: 'D-1 is new business', evidenceReferences: ['crm:D-1'] })
      .expect(200);
    await rep.post(`/disputes/${disputeId}/comments${wait(answered)}`).set(json).send({ text: 'The order form is in the CRM' }).expect(200);

    // A rep never resolves, not even their own dispute; the route refuses before anything is decided.
    const head = await ledger.headPosition();
    const byRep = await rep.post(`/disputes/${disputeId}/resolution`).set(json).send({ outcome: 'approved' }).expect(403);
    expect(byRep.body.code).toBe('AUTH.ROLE_FORBIDDEN');
    expect(await ledger.headPosition()).toBe(head);

    const resolved = await analyst
      .post(`/disputes/${disputeId}/resolution`)
      .set(json)
      .send({ outcome: 'partially_approved', amountApproved: '600.00', reason: 'D-1 qualifies; the rest was renewals' })
      .expect(200);

    const view = await rep.get(`/disputes/${disputeId}${wait(resolved)}`).expect(200);
    expect(view.headers.etag).toBe(`"${resolved.body.revision}"`);
    expect(view.body).toMatchObject({
      disputeId,
      payeeId: 'P-1',
      status: 'resolved',
      outcome: 'partially_approved',
      amountClaimed: '1000.00',
      amountApproved: '600.00',
      currency: 'USD',
      subject: { kind: 'statement_line', periodId: '2026-03', lineId },
      remedy: { kind: 'adjustment', amount: '600.00', currency: 'USD' },
      filedBy: { id: 'rep-ana', role: 'rep' },
      assigneeId: 'analyst-1',
    });
    expect(view.body.timeline.map((entry: { type: string; actor: { id: string; role: string } }) => [entry.type, entry.actor.id, entry.actor.role])).toEqual([
      ['DisputeFiled', 'rep-ana', 'rep'],
      ['DisputeAssigned', 'analyst-1', 'analyst'],
      ['DisputeInformationRequested', 'analyst-1', 'analyst'],
      ['DisputeInformationProvided', 'rep-ana', 'rep'],
      ['DisputeCommented', 'rep-ana', 'rep'],
      ['DisputeResolved', 'analyst-1', 'analyst'],
    ]);
    expect(view.body.timeline[5].details).toMatchObject({ outcome: 'partially_approved', amountApproved: '600.00', reason: 'D-1 qualifies; the rest was renewals' });
    // Finance's audit trail of the dispute shows the same steps with the same actors, and the rep's idempotency key.
    const finance = ledger.as('finance', { id: 'fiona' });
    const audit = await finance.get(`/audit?disputeId=${disputeId}&waitForPosition=${resolved.body.position}`).expect(200);
    expect(audit.body.items.map((item: { type: string; actor: { id: string; role: string } }) => [item.type, item.actor.id, item.actor.role])).toEqual([
      ['DisputeFiled', 'rep-ana', 'rep'],
      ['DisputeAssigned', 'analyst-1', 'analyst'],
      ['DisputeInformationRequested', 'analyst-1', 'analyst'],
      ['DisputeInformationProvided', 'rep-ana', 'rep'],
      ['DisputeCommented', 'rep-ana', 'rep'],
      ['DisputeResolved', 'analyst-1', 'analyst'],
    ]);
    expect(audit.body.items[0]).toMatchObject({ commandId: 'dispute-ana-0001' });

    const mine = await rep.get('/payees/P-1/disputes').expect(200);
    expect(mine.body.items.map((item: { disputeId: string }) => item.disputeId)).toEqual([disputeId]);
  });

  it('refuses what a closed dispute and the other rep may not do, appending nothing', async () => {
    const head = await ledger.headPosition();
    expect((await otherRep.get(`/disputes/${disputeId}`).expect(404)).body.code).toBe('DISPUTE.NOT_FOUND');
    expect((await otherRep.get('/payees/P-1/disputes').expect(404)).body.code).toBe('PAYEE.NOT_FOUND');
    expect((await analyst.post(`/disputes/${disputeId}/comments`).set(json).send({ text: 'one more thing' }).expect(409)).body.code).toBe('DISPUTE.CLOSED');
    expect((await rep.post(`/disputes/${disputeId}/withdrawal`).set(json).send({}).expect(409)).body.code).toBe('DISPUTE.ALREADY_RESOLVED');
    expect((await analyst.post(`/disputes/${disputeId}/resolution`).set(json).send({ outcome: 'rejected', reason: 'x' }).expect(409)).body.code).toBe('DISPUTE.ALREADY_RESOLVED');
    expect(await ledger.headPosition()).toBe(head);
  });

  it('refuses an analyst approving a dispute they filed on a rep\'s behalf', async () => {
    const filer = ledger.as('analyst', { id: 'analyst-2' });
    const filed = await filer
      .post('/disputes')
      .set(json)
      .send({ payeeId: 'P-1', subject: { kind: 'deal', dealId: 'D-1' }, category: 'wrong_split', amountClaimed: '200.00', description: 'Filed for Ana by phone' })
      .expect(201);
    const id = filed.body.streamId.slice('dispute-'.length);
    await ledger.http.put(`/disputes/${id}/assignee`).set(json).send({ assigneeId: 'analyst-1' }).expect(200);
    const head = await ledger.headPosition();
    const refused = await filer.post(`/disputes/${id}/resolution`).set(json).send({ outcome: 'approved' }).expect(403);
    expect(refused.body.code).toBe('DISPUTE.FILER_MAY_NOT_APPROVE');
    expect(await ledger.headPosition()).toBe(head);
    // The rep it is about may withdraw it.
    const withdrawn = await rep.post(`/disputes/${id}/withdrawal?waitForPosition=${head}`).set(json).send({ reason: 'sorted out with my manager' }).expect(200);
    const queue = await analyst.get(`/disputes?status=withdrawn&waitForPosition=${withdrawn.body.position}`).expect(200);
    expect(queue.body.items).toEqual([expect.objectContaining({ disputeId: id, status: 'withdrawn', category: 'wrong_split' })]);
  });

  it('serves the analyst queue and the statistics of the period', async () => {
    const queue = await analyst.get('/disputes?status=resolved&category=wrong_rate').expect(200);
    expect(queue.body.items).toEqual([expect.objectContaining({ disputeId, outcome: 'partially_approved', overdue: false })]);
    expect((await analyst.get('/disputes?overdue=maybe').expect(400)).body.code).toBe('REQUEST.BOOLEAN_INVALID');
    const today = new Date().toISOString().slice(0, 7);
    const statistics = await analyst.get(`/disputes/statistics?periodId=${today}`).expect(200);
    expect(statistics.body).toMatchObject({
      filed: { count: 2, byStatus: { resolved: 1, withdrawn: 1 } },
      resolved: { count: 1, byOutcome: { partially_approved: 1 }, amounts: [{ currency: 'USD', claimed: '1000.00', approved: '600.00' }] },
      aging: { open: 0 },
    });
    expect((await rep.get(`/disputes/statistics?periodId=${today}`).expect(403)).body.code).toBe('AUTH.ROLE_FORBIDDEN');
  });
});
