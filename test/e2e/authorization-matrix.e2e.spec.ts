/**
 * The authorization matrix: every endpoint, called by every role, on the caller's own data and on someone else's.
 * Each row says which roles the endpoint admits (admin always) and whether it is held to the payee scope; the
 * test asserts the exact allowed set: the expected success for those admitted, 403 AUTH.ROLE_FORBIDDEN for other
 * roles, 404 for a rep or manager reaching outside their scope (as if the payee did not exist), and that a refused
 * request appended nothing. A new endpoint adds a row; a served route without a row fails the first test.
 *
 * The org: M-1 manages R-1 and L-1, who manages R-3; M-2 manages R-2. The rep is R-1; the manager is M-1, whose
 * "own" data is R-3's (two levels down); "other" data is R-2's for everyone.
 */
import { roles, type Role } from '../../apps/ledger/src/http/auth/roles.js';
import { startLedgerTestApp, type HttpAgent, type LedgerTestApp } from '../support/ledger-test-app.js';

const json = { 'content-type': 'application/json' };
const PERIOD = '2026-03';
/** A month of PLAN's calendar closed in setup. */
const FROZEN = '2026-02';
const PLAN = 'PL-M';

type Method = 'get' | 'post' | 'put';
interface Target {
  payeeId: string;
  dealId: string;
}
interface Call {
  path: string;
  body?: unknown;
}
interface Row {
  /** Method and route as Express mounts it: the key that ties a row to a served route. */
  route: `${Method} /${string}`;
  /** Roles admitted besides admin; 'public' for a route without a token. */
  roles: readonly Role[] | 'public';
  /** 'payee': a rep or manager may reach only their scope (404 outside it); 'list': they get their scope's rows; 'none': no payee data. */
  scope: 'payee' | 'list' | 'none';
  /** The code answered outside the scope (default PAYEE.NOT_FOUND). */
  notFoundCode?: string;
  ok: number;
  /** Admitted roles the domain itself refuses on this call (e.g. only the filer withdraws a dispute). */
  refusedBy?: Partial<Record<Role, { status: number; code: string }>>;
  /** Builds the call for a target; `n` is unique per call; setup it needs is done here as an admin. */
  call(target: Target, n: number, admin: HttpAgent): Promise<Call> | Call;
}

const day = (n: number, from = '2030-01-01'): string => {
  const date = new Date(`${from}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + n);
  return date.toISOString().slice(0, 10);
};

const planBody = (planId: string) => ({
  planId,
  effectiveFrom: '2026-01-01',
  currency: 'USD',
  periodFrequency: 'month',
  capitalizable: false,
  benefitMonths: null,
  components: [{ kind: 'rate_table', id: 'commission', measure: 'bookings', basis: 'attainment', mode: 'marginal', tiers: [{ from: '0', to: null, rate: '0.10' }] }],
});

const dealBody = (dealId: string, ownerPayeeId: string) => ({
  dealId,
  ownerPayeeId,
  amount: '10000.00',
  currency: 'USD',
  closeDate: '2026-03-10',
  product: 'platform',
  dealType: 'new_business',
  overlays: [],
});

const disputeBody = (payeeId: string) => ({ payeeId, subject: { kind: 'period', periodId: PERIOD }, category: 'other', amountClaimed: '100.00', description: 'SPIF missing' });

/** A dispute about the payee, filed by the admin and taken through the given steps; with the log position to wait for. */
async function fileDisputeFor(admin: HttpAgent, payeeId: string, steps: ('assign' | 'ask' | 'reject')[] = []): Promise<{ disputeId: string; position: number }> {
  const filed = await admin.post('/disputes').set(json).send(disputeBody(payeeId));
  if (filed.status !== 201) throw new Error(`setup POST /disputes answered ${filed.status}: ${JSON.stringify(filed.body)}`);
  const disputeId = (filed.body.streamId as string).slice('dispute-'.length);
  let position = filed.body.position as number;
  const step = async (method: Method, path: string, body: unknown) => {
    const reply = await admin[method](`/disputes/${disputeId}${path}`).set(json).send(body as object);
    if (reply.status !== 200) throw new Error(`setup ${method} ${path} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
    position = reply.body.position;
  };
  if (steps.includes('assign')) await step('put', '/assignee', { assigneeId: 'analyst-setup' });
  if (steps.includes('ask')) await step('post', '/information-requests', { question: 'Which deal?' });
  if (steps.includes('reject')) await step('post', '/resolution', { outcome: 'rejected', reason: 'paid right' });
  return { disputeId, position };
}

const disputeCall = ({ disputeId, position }: { disputeId: string; position: number }, path = '', body?: unknown): Call => ({
  path: `/disputes/${disputeId}${path}?waitForPosition=${position}`,
  ...(body !== undefined ? { body } : {}),
});

const managerOf: Record<string, string | null> = { 'M-1': null, 'M-2': null, 'R-1': 'M-1', 'L-1': 'M-1', 'R-3': 'L-1', 'R-2': 'M-2' };
const readers: Role[] = ['rep', 'manager', 'analyst', 'finance'];

async function created(admin: HttpAgent, method: Method, path: string, body: unknown): Promise<void> {
  const reply = await admin[method](path).set(json).send(body as object);
  if (reply.status >= 300) throw new Error(`setup ${method} ${path} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
}

const rows: Row[] = [
  { route: 'get /health', roles: 'public', scope: 'none', ok: 200, call: () => ({ path: '/health' }) },

  // payees
  { route: 'post /payees', roles: ['analyst'], scope: 'none', ok: 201, call: (_, n) => ({ path: '/payees', body: { payeeId: `N-${n}`, name: `New ${n}`, managerId: null, territory: 'EMEA', currency: 'USD', startDate: '2026-01-01' } }) },
  { route: 'get /payees', roles: readers, scope: 'list', ok: 200, call: () => ({ path: '/payees' }) },
  { route: 'get /payees/:payeeId', roles: readers, scope: 'payee', ok: 200, call: (t) => ({ path: `/payees/${t.payeeId}` }) },
  { route: 'put /payees/:payeeId/manager', roles: ['analyst'], scope: 'none', ok: 200, call: (t, n) => ({ path: `/payees/${t.payeeId}/manager`, body: { managerId: managerOf[t.payeeId], effectiveDate: day(n) } }) },
  { route: 'put /payees/:payeeId/territory', roles: ['analyst'], scope: 'none', ok: 200, call: (t, n) => ({ path: `/payees/${t.payeeId}/territory`, body: { territory: 'EMEA', effectiveDate: day(n) } }) },
  { route: 'put /payees/:payeeId/quotas/:periodId/:measure', roles: ['analyst'], scope: 'none', ok: 200, call: (t, n) => ({ path: `/payees/${t.payeeId}/quotas/${PERIOD}/bookings`, body: { amount: `${1000 + n}.00`, currency: 'USD' } }) },

  // deals and credits
  { route: 'post /deals', roles: ['analyst'], scope: 'none', ok: 201, call: (t, n) => ({ path: '/deals', body: dealBody(`D-N-${n}`, t.payeeId) }) },
  { route: 'get /deals', roles: readers, scope: 'list', ok: 200, call: () => ({ path: '/deals' }) },
  { route: 'get /deals/:dealId', roles: readers, scope: 'payee', notFoundCode: 'DEAL.NOT_FOUND', ok: 200, call: (t) => ({ path: `/deals/${t.dealId}` }) },
  { route: 'put /deals/:dealId/credits', roles: ['analyst'], scope: 'none', ok: 200, call: (t) => ({ path: `/deals/${t.dealId}/credits`, body: { splits: [{ payeeId: t.payeeId, sharePercent: '100' }], overlays: [] } }) },
  { route: 'post /deals/:dealId/amendments', roles: ['analyst'], scope: 'none', ok: 200, call: (t, n) => ({ path: `/deals/${t.dealId}/amendments`, body: { amount: `${10000 + n}.00`, reason: 'price corrected' } }) },
  {
    route: 'post /deals/:dealId/cancellation',
    roles: ['analyst'],
    scope: 'none',
    ok: 200,
    call: async (t, n, admin) => {
      await created(admin, 'post', '/deals', dealBody(`D-C-${n}`, t.payeeId));
      return { path: `/deals/D-C-${n}/cancellation`, body: { cancelDate: '2026-04-02', reason: 'customer withdrew' } };
    },
  },
  { route: 'get /payees/:payeeId/credits', roles: readers, scope: 'payee', ok: 200, call: (t) => ({ path: `/payees/${t.payeeId}/credits` }) },

  // attainment
  { route: 'get /payees/:payeeId/attainment', roles: readers, scope: 'payee', ok: 200, call: (t) => ({ path: `/payees/${t.payeeId}/attainment?period=${PERIOD}` }) },
  { route: 'get /attainment', roles: readers, scope: 'list', ok: 200, call: () => ({ path: `/attainment?period=${PERIOD}` }) },

  // statements
  { route: 'get /payees/:payeeId/statements/:periodId', roles: readers, scope: 'payee', ok: 200, call: (t) => ({ path: `/payees/${t.payeeId}/statements/${PERIOD}` }) },
  {
    route: 'get /payees/:payeeId/statements/:periodId/lines/:lineId/explain',
    roles: readers,
    scope: 'payee',
    ok: 200,
    call: async (t, _, admin) => {
      const statement = await admin.get(`/payees/${t.payeeId}/statements/${PERIOD}`).expect(200);
      return { path: `/payees/${t.payeeId}/statements/${PERIOD}/lines/${encodeURIComponent(statement.body.lines[0].lineId)}/explain` };
    },
  },
  {
    route: 'post /payees/:payeeId/statements/:periodId/estimate',
    roles: readers,
    scope: 'payee',
    ok: 200,
    call: (t) => ({ path: `/payees/${t.payeeId}/statements/${PERIOD}/estimate`, body: { deals: [{ amount: '5000.00', currency: 'USD', closeDate: '2026-03-28', product: 'platform', dealType: 'new_business' }] } }),
  },
  { route: 'post /plans/:planId/versions/:version/model', roles: ['analyst', 'finance'], scope: 'none', ok: 200, call: () => ({ path: `/plans/${PLAN}/versions/1/model`, body: { periodId: PERIOD } }) },

  // plans and assignments
  { route: 'post /plans', roles: ['analyst'], scope: 'none', ok: 201, call: (_, n) => ({ path: '/plans', body: planBody(`PL-${n}`) }) },
  {
    route: 'put /plans/:planId/versions/:version',
    roles: ['analyst'],
    scope: 'none',
    ok: 200,
    call: async (_, n, admin) => {
      await created(admin, 'post', '/plans', planBody(`PL-R-${n}`));
      const { planId, ...content } = planBody(`PL-R-${n}`);
      return { path: `/plans/${planId}/versions/1`, body: { ...content, effectiveFrom: '2026-02-01' } };
    },
  },
  {
    route: 'post /plans/:planId/versions/:version/publish',
    roles: ['analyst'],
    scope: 'none',
    ok: 200,
    call: async (_, n, admin) => {
      await created(admin, 'post', '/plans', planBody(`PL-P-${n}`));
      return { path: `/plans/PL-P-${n}/versions/1/publish`, body: {} };
    },
  },
  { route: 'get /plans/:planId', roles: ['analyst', 'finance'], scope: 'none', ok: 200, call: () => ({ path: `/plans/${PLAN}` }) },
  { route: 'post /payees/:payeeId/plan-assignments', roles: ['analyst'], scope: 'none', ok: 201, call: (t, n) => ({ path: `/payees/${t.payeeId}/plan-assignments`, body: { planId: PLAN, effectiveFrom: day(2 * n), effectiveUntil: day(2 * n + 1) } }) },
  {
    route: 'post /payees/:payeeId/plan-assignments/:assignmentId/end',
    roles: ['analyst'],
    scope: 'none',
    ok: 200,
    call: async (t, n, admin) => {
      const from = day(3 * n, '2040-01-01');
      await created(admin, 'post', `/payees/${t.payeeId}/plan-assignments`, { planId: PLAN, effectiveFrom: from, effectiveUntil: day(3 * n + 2, '2040-01-01') });
      return { path: `/payees/${t.payeeId}/plan-assignments/${encodeURIComponent(`${PLAN}@${from}`)}/end`, body: { effectiveUntil: day(3 * n + 1, '2040-01-01') } };
    },
  },
  { route: 'get /payees/:payeeId/plan-assignments', roles: readers, scope: 'payee', ok: 200, call: (t) => ({ path: `/payees/${t.payeeId}/plan-assignments` }) },

  // territory overlays
  {
    route: 'post /territories/:territory/overlays',
    roles: ['analyst'],
    scope: 'none',
    ok: 201,
    call: (t, n) => ({ path: `/territories/T-${n}/overlays`, body: { payeeId: t.payeeId, role: 'overlay_specialist', sharePercent: '10', effectiveFrom: '2026-01-01' } }),
  },
  {
    route: 'post /territories/:territory/overlays/:assignmentId/end',
    roles: ['analyst'],
    scope: 'none',
    ok: 200,
    call: async (t, n, admin) => {
      await created(admin, 'post', `/territories/TE-${n}/overlays`, { payeeId: t.payeeId, role: 'overlay_specialist', sharePercent: '10', effectiveFrom: '2026-01-01' });
      return { path: `/territories/TE-${n}/overlays/${encodeURIComponent(`${t.payeeId}@2026-01-01`)}/end`, body: { effectiveUntil: '2026-07-01' } };
    },
  },
  { route: 'get /territories/:territory/overlays', roles: ['analyst', 'finance'], scope: 'none', ok: 200, call: () => ({ path: '/territories/EMEA/overlays' }) },

  // FX rates
  { route: 'post /fx-rates', roles: ['analyst'], scope: 'none', ok: 201, call: (_, n) => ({ path: '/fx-rates', body: { fromCurrency: 'EUR', toCurrency: 'USD', date: day(n), rate: '1.08' } }) },
  { route: 'get /fx-rates', roles: ['analyst', 'finance'], scope: 'none', ok: 200, call: () => ({ path: '/fx-rates?from=EUR&to=USD' }) },

  // audit
  { route: 'get /audit', roles: ['finance'], scope: 'none', ok: 200, call: (t) => ({ path: `/audit?payeeId=${t.payeeId}` }) },

  // disputes (set up by the admin as filer, then read with ?waitForPosition= so the scope check sees them)
  { route: 'post /disputes', roles: ['rep', 'analyst'], scope: 'payee', ok: 201, call: (t) => ({ path: '/disputes', body: disputeBody(t.payeeId) }) },
  { route: 'get /disputes', roles: ['analyst', 'finance'], scope: 'none', ok: 200, call: () => ({ path: '/disputes?status=filed&category=other' }) },
  { route: 'get /disputes/statistics', roles: ['analyst', 'finance'], scope: 'none', ok: 200, call: () => ({ path: `/disputes/statistics?periodId=${PERIOD}` }) },
  { route: 'get /payees/:payeeId/disputes', roles: readers, scope: 'payee', ok: 200, call: (t) => ({ path: `/payees/${t.payeeId}/disputes` }) },
  {
    route: 'get /disputes/:disputeId',
    roles: readers,
    scope: 'payee',
    notFoundCode: 'DISPUTE.NOT_FOUND',
    ok: 200,
    call: async (t, _, admin) => disputeCall(await fileDisputeFor(admin, t.payeeId)),
  },
  {
    route: 'put /disputes/:disputeId/assignee',
    roles: ['analyst'],
    scope: 'none',
    ok: 200,
    call: async (t, n, admin) => disputeCall(await fileDisputeFor(admin, t.payeeId), '/assignee', { assigneeId: `analyst-${n}` }),
  },
  {
    route: 'post /disputes/:disputeId/comments',
    roles: ['rep', 'analyst'],
    scope: 'payee',
    notFoundCode: 'DISPUTE.NOT_FOUND',
    ok: 200,
    call: async (t, _, admin) => disputeCall(await fileDisputeFor(admin, t.payeeId), '/comments', { text: 'Any news?' }),
  },
  {
    route: 'post /disputes/:disputeId/information-requests',
    roles: ['analyst'],
    scope: 'none',
    ok: 200,
    call: async (t, _, admin) => disputeCall(await fileDisputeFor(admin, t.payeeId, ['assign']), '/information-requests', { question: 'Which deal?' }),
  },
  {
    route: 'post /disputes/:disputeId/information',
    roles: ['rep'],
    scope: 'payee',
    notFoundCode: 'DISPUTE.NOT_FOUND',
    ok: 200,
    // Only the rep the dispute is about, or its filer, answers.
    refusedBy: { admin: { status: 403, code: 'DISPUTE.NOT_FILER' } },
    call: async (t, _, admin) => disputeCall(await fileDisputeFor(admin, t.payeeId, ['assign', 'ask']), '/information', { answer: 'D-1' }),
  },
  {
    route: 'post /disputes/:disputeId/resolution',
    roles: ['analyst'],
    scope: 'none',
    ok: 200,
    call: async (t, _, admin) => disputeCall(await fileDisputeFor(admin, t.payeeId, ['assign']), '/resolution', { outcome: 'rejected', reason: 'paid right' }),
  },
  {
    route: 'post /disputes/:disputeId/withdrawal',
    roles: ['rep', 'analyst'],
    scope: 'payee',
    notFoundCode: 'DISPUTE.NOT_FOUND',
    ok: 200,
    // Only the filer, or the rep the dispute is about, withdraws.
    refusedBy: { analyst: { status: 403, code: 'DISPUTE.NOT_FILER' }, admin: { status: 403, code: 'DISPUTE.NOT_FILER' } },
    call: async (t, _, admin) => disputeCall(await fileDisputeFor(admin, t.payeeId), '/withdrawal', { reason: 'found it' }),
  },
  {
    route: 'post /disputes/:disputeId/reopening',
    roles: ['rep', 'analyst'],
    scope: 'payee',
    notFoundCode: 'DISPUTE.NOT_FOUND',
    ok: 200,
    call: async (t, _, admin) => disputeCall(await fileDisputeFor(admin, t.payeeId, ['assign', 'reject']), '/reopening', { reason: 'new evidence' }),
  },

  // periods, payouts and the ledger (calendar "monthly" of PLAN has FROZEN closed by the setup admin, a month without
  // deals, so that no deal command of another row reaches a closed period; each command that changes a period's
  // status works on a calendar of its own, so that every admitted call can succeed)
  {
    route: 'post /calendars/:calendarId/periods/:periodId/close',
    roles: ['analyst'],
    scope: 'none',
    ok: 200,
    call: async (_, n, admin) => ({ path: `/calendars/${await calendarFor(admin, n)}/periods/${PERIOD}/close`, body: {} }),
  },
  {
    route: 'post /calendars/:calendarId/periods/:periodId/approvals',
    roles: ['finance'],
    scope: 'none',
    ok: 200,
    call: async (_, n, admin) => ({ path: `/calendars/${await calendarFor(admin, n, ['close'])}/periods/${PERIOD}/approvals`, body: {} }),
  },
  {
    route: 'post /calendars/:calendarId/periods/:periodId/payments',
    roles: ['payroll'],
    scope: 'none',
    ok: 200,
    call: async (_, n, admin) => ({
      path: `/calendars/${await calendarFor(admin, n, ['close', 'approve'])}/periods/${PERIOD}/payments`,
      body: { payrollReference: `run-${n}`, paidOn: '2026-04-05' },
    }),
  },
  {
    route: 'post /calendars/:calendarId/periods/:periodId/reopen',
    roles: ['finance'],
    scope: 'none',
    ok: 200,
    call: async (_, n, admin) => ({ path: `/calendars/${await calendarFor(admin, n, ['close'])}/periods/${PERIOD}/reopen`, body: { reason: 'late deal' } }),
  },
  {
    route: 'post /calendars/:calendarId/periods/:periodId/lines',
    roles: ['analyst'],
    scope: 'none',
    ok: 201,
    call: (t, n) => ({
      path: '/calendars/monthly/periods/2026-04/lines',
      body: { payeeId: t.payeeId, currency: 'USD', lines: [{ lineId: `manual-${n}`, amount: '10.00', cause: { kind: 'manual', reference: `ticket-${n}` }, explanation: 'goodwill' }] },
    }),
  },
  { route: 'get /calendars/:calendarId/periods/:periodId', roles: ['analyst', 'finance', 'payroll'], scope: 'none', ok: 200, call: () => ({ path: `/calendars/monthly/periods/${FROZEN}` }) },
  { route: 'get /calendars/:calendarId/periods/:periodId/payouts', roles: ['analyst', 'finance', 'payroll'], scope: 'none', ok: 200, call: () => ({ path: `/calendars/monthly/periods/${FROZEN}/payouts` }) },
  {
    route: 'get /calendars/:calendarId/periods/:periodId/payees/:payeeId',
    roles: [...readers, 'payroll'],
    scope: 'payee',
    ok: 200,
    call: (t) => ({ path: `/calendars/monthly/periods/${FROZEN}/payees/${t.payeeId}` }),
  },
  {
    route: 'get /calendars/:calendarId/periods/:periodId/payees/:payeeId/frozen-statement',
    roles: [...readers, 'payroll'],
    scope: 'payee',
    ok: 200,
    call: (t) => ({ path: `/calendars/monthly/periods/${FROZEN}/payees/${t.payeeId}/frozen-statement` }),
  },
  {
    route: 'get /payouts/:payoutId',
    roles: ['analyst', 'finance', 'payroll'],
    scope: 'none',
    ok: 200,
    call: async (t, _, admin) => {
      const payee = await admin.get(`/calendars/monthly/periods/${FROZEN}/payees/${t.payeeId}`).expect(200);
      return { path: `/payouts/${encodeURIComponent(payee.body.payout.payoutId)}` };
    },
  },
  { route: 'get /ledger/trial-balance', roles: ['finance'], scope: 'none', ok: 200, call: () => ({ path: '/ledger/trial-balance?asOf=2026-12-31' }) },
  { route: 'get /payees/:payeeId/ledger/entries', roles: ['finance'], scope: 'none', ok: 200, call: (t) => ({ path: `/payees/${t.payeeId}/ledger/entries` }) },
];

/** Approves and pays in setup: the setup admin prepares closes, and may not approve them too. */
let setupFinance: HttpAgent;

/** A calendar of its own (a plan closing in it), taken through the given steps in PERIOD by the setup actors. */
async function calendarFor(admin: HttpAgent, n: number, steps: ('close' | 'approve')[] = []): Promise<string> {
  const calendarId = `cal-${n}`;
  await created(admin, 'post', '/plans', { ...planBody(`PL-CAL-${n}`), calendarId });
  await created(admin, 'post', `/plans/PL-CAL-${n}/versions/1/publish`, {});
  if (steps.includes('close')) await created(admin, 'post', `/calendars/${calendarId}/periods/${PERIOD}/close`, {});
  if (steps.includes('approve')) await created(setupFinance, 'post', `/calendars/${calendarId}/periods/${PERIOD}/approvals`, {});
  return calendarId;
}

/** The caller each role is tested as, and the payee whose data is "their own". */
const callerOf: Record<Role, { payeeId?: string; own: string }> = {
  rep: { payeeId: 'R-1', own: 'R-1' },
  manager: { payeeId: 'M-1', own: 'R-3' },
  analyst: { own: 'R-1' },
  finance: { own: 'R-1' },
  payroll: { own: 'R-1' },
  admin: { own: 'R-1' },
};
const dealOf = (payeeId: string) => `D-${payeeId}`;

describe('authorization matrix', () => {
  let ledger: LedgerTestApp;
  let counter = 0;
  const agents = new Map<Role, HttpAgent>();

  beforeAll(async () => {
    ledger = await startLedgerTestApp();
    for (const [payeeId, managerId] of Object.entries(managerOf)) {
      await created(ledger.http, 'post', '/payees', { payeeId, name: `Payee ${payeeId}`, managerId, territory: 'EMEA', currency: 'USD', startDate: '2026-01-01' });
    }
    await created(ledger.http, 'post', '/plans', planBody(PLAN));
    await created(ledger.http, 'post', `/plans/${PLAN}/versions/1/publish`, {});
    for (const payeeId of ['R-1', 'R-2', 'R-3']) {
      await created(ledger.http, 'put', `/payees/${payeeId}/quotas/${PERIOD}/bookings`, { amount: '100000.00', currency: 'USD' });
      await created(ledger.http, 'post', `/payees/${payeeId}/plan-assignments`, { planId: PLAN, effectiveFrom: '2026-01-01', effectiveUntil: '2029-12-31' });
      await created(ledger.http, 'post', '/deals', dealBody(dealOf(payeeId), payeeId));
    }
    await created(ledger.http, 'post', '/fx-rates', { fromCurrency: 'EUR', toCurrency: 'USD', date: '2026-03-02', rate: '1.08' });
    await ledger.http.get(`/payees?waitForPosition=${await ledger.headPosition()}`).expect(200);
    await created(ledger.http, 'post', `/calendars/monthly/periods/${FROZEN}/close`, {});
    await ledger.http.get(`/payees?waitForPosition=${await ledger.headPosition()}`).expect(200);
    setupFinance = ledger.as('finance', { id: 'finance-setup' });
    for (const role of roles) agents.set(role, ledger.as(role, { id: `${role}-matrix`, payeeId: callerOf[role].payeeId }));
  });

  afterAll(() => ledger.close());

  it('has a row for every route the application serves', () => {
    const instance = ledger.app.getHttpAdapter().getInstance();
    const stack = (instance.router ?? instance._router).stack as { route?: { path: string; methods: Record<string, boolean> } }[];
    const served = stack
      .filter((layer) => layer.route !== undefined && !/^\/docs(\/|-json|-yaml|$)/.test(layer.route.path))
      .flatMap((layer) => Object.keys(layer.route!.methods).map((method) => `${method} ${layer.route!.path}`));
    expect(rows.map((row) => row.route).sort()).toEqual(served.sort());
  });

  it.each(rows.map((row) => [row.route, row] as const))('%s', async (_, row) => {
    const failures: string[] = [];
    for (const role of roles) {
      for (const whose of ['own', 'other'] as const) {
        const payeeId = whose === 'own' ? callerOf[role].own : 'R-2';
        const target = { payeeId, dealId: dealOf(payeeId) };
        const call = await row.call(target, ++counter, ledger.http);
        const method = row.route.split(' ')[0] as Method;
        const headBefore = await ledger.headPosition();
        const pending = agents.get(role)![method](call.path);
        const reply = call.body === undefined ? await pending : await pending.set(json).send(call.body as object);
        const admitted = row.roles === 'public' || role === 'admin' || row.roles.includes(role);
        const scoped = (role === 'rep' || role === 'manager') && row.scope === 'payee' && whose === 'other';
        const expected = !admitted
          ? { status: 403, code: 'AUTH.ROLE_FORBIDDEN' }
          : scoped
            ? { status: 404, code: row.notFoundCode ?? 'PAYEE.NOT_FOUND' }
            : (row.refusedBy?.[role] ?? { status: row.ok });
        const answered = { status: reply.status, ...('code' in expected ? { code: reply.body?.code } : {}) };
        if (JSON.stringify(answered) !== JSON.stringify(expected)) {
          failures.push(`${role} on ${whose} data: expected ${JSON.stringify(expected)}, got ${reply.status} ${JSON.stringify(reply.body).slice(0, 200)}`);
        }
        if (expected.status >= 400 && (await ledger.headPosition()) !== headBefore) failures.push(`${role} on ${whose} data: a refused request appended events`);
      }
    }
    expect(failures).toEqual([]);
  });

  describe('lists hold only the caller\'s scope', () => {
    const idsOf = async (agent: HttpAgent, path: string, key: string) => ((await agent.get(path).expect(200)).body.items as Record<string, string>[]).map((item) => item[key]);

    it('payees: a rep sees themselves, a manager their whole team, a filter naming others matches nothing', async () => {
      expect(await idsOf(agents.get('rep')!, '/payees', 'payeeId')).toEqual(['R-1']);
      expect(await idsOf(agents.get('manager')!, '/payees?limit=500', 'payeeId')).toEqual(['L-1', 'M-1', 'R-1', 'R-3']);
      expect(await idsOf(agents.get('manager')!, '/payees?managerId=M-2', 'payeeId')).toEqual([]);
      expect(await idsOf(agents.get('manager')!, '/payees?managerId=L-1', 'payeeId')).toEqual(['R-3']);
      expect(await idsOf(agents.get('finance')!, '/payees?managerId=M-2', 'payeeId')).toEqual(['R-2']);
    });

    it('payees: paging a manager\'s team never reaches beyond it', async () => {
      const seen: string[] = [];
      let after: string | null = '';
      while (after !== null) {
        const page: { body: { items: { payeeId: string }[]; nextAfter: string | null } } = await agents.get('manager')!.get(`/payees?limit=1${after ? `&after=${after}` : ''}`).expect(200);
        seen.push(...page.body.items.map((item) => item.payeeId));
        after = page.body.nextAfter;
      }
      expect(seen).toEqual(['L-1', 'M-1', 'R-1', 'R-3']);
    });

    it('deals: those owned by or crediting someone in scope', async () => {
      const repDeals = await idsOf(agents.get('rep')!, '/deals?limit=500', 'dealId');
      expect(repDeals).toContain('D-R-1');
      expect(repDeals.filter((dealId) => dealId.startsWith('D-R-'))).toEqual(['D-R-1']);
      expect(await idsOf(agents.get('rep')!, '/deals?ownerPayeeId=R-2', 'dealId')).toEqual([]);
      const managerDeals = await idsOf(agents.get('manager')!, '/deals?limit=500', 'dealId');
      expect(managerDeals.filter((dealId) => dealId.startsWith('D-R-'))).toEqual(['D-R-1', 'D-R-3']);
      const everyone = await idsOf(agents.get('analyst')!, '/deals?limit=500', 'dealId');
      expect(everyone.filter((dealId) => dealId.startsWith('D-R-'))).toEqual(['D-R-1', 'D-R-2', 'D-R-3']);
    });

    it('deals: a deal split with someone in scope is visible, whoever owns it', async () => {
      await created(ledger.http, 'post', '/deals', { ...dealBody('D-SPLIT', 'R-2'), splits: [{ payeeId: 'R-2', sharePercent: '60' }, { payeeId: 'R-1', sharePercent: '40' }] });
      const position = await ledger.headPosition();
      await agents.get('rep')!.get(`/deals/D-SPLIT?waitForPosition=${position}`).expect(200);
      expect(await idsOf(agents.get('rep')!, `/deals?ownerPayeeId=R-2&waitForPosition=${position}`, 'dealId')).toEqual(['D-SPLIT']);
    });

    it('attainment: a rep\'s row, a manager\'s team\'s rows', async () => {
      expect(await idsOf(agents.get('rep')!, `/attainment?period=${PERIOD}`, 'payeeId')).toEqual(['R-1']);
      const team = await idsOf(agents.get('manager')!, `/attainment?period=${PERIOD}&limit=500`, 'payeeId');
      expect(team).toContain('R-3');
      expect(team).not.toContain('R-2');
    });
  });

  it('answers a rep asking for another payee exactly as for a payee that does not exist', async () => {
    const rep = agents.get('rep')!;
    const strip = (body: Record<string, unknown>) => ({ ...body, instance: undefined, detail: String(body.detail).replace(/R-2|NOBODY/, '?') });
    const hidden = await rep.get(`/payees/R-2/statements/${PERIOD}`).expect(404);
    const missing = await rep.get(`/payees/NOBODY/statements/${PERIOD}`).expect(404);
    expect(strip(hidden.body)).toEqual(strip(missing.body));
    const hiddenDeal = await rep.get('/deals/D-R-2').expect(404);
    const missingDeal = await rep.get('/deals/D-NOBODY').expect(404);
    expect(hiddenDeal.body.code).toBe(missingDeal.body.code);
  });
});
