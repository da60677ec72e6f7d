/**
 * Crash safety of the real service process: `kill -9` in the middle of a burst of concurrent deal writes must lose no
 * acknowledged command, leave the hash chain intact, and leave read models that, once caught up after restart, equal
 * a rebuild from position 0 and the credits the deals in the store imply.
 *
 * The service runs as a child process over a temporary data directory (the compiled dist/ build), driven over HTTP.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decimal } from 'decimal.js';
import { buildService, call as callService, freePort, repoRoot, startServiceProcess, type Reply, type ServiceProcess } from '../support/service-process.js';

const cliMain = join(repoRoot, 'dist/apps/cli/src/main.js');

const PERIOD = '2026-03';
const WRITERS = 16;
const KILL_AFTER_ACKNOWLEDGED = 300;
/** Upper bound per writer, so a service that never fails cannot keep the burst going forever. */
const MAX_DEALS_PER_WRITER = 400;

const VP = 'VP-1';
const MANAGERS = ['M-1', 'M-2'];
const REPS = ['R-1', 'R-2', 'R-3', 'R-4', 'R-5', 'R-6', 'R-7'];
const managerOf = (rep: string): string => MANAGERS[REPS.indexOf(rep) % MANAGERS.length];

interface DealBody {
  dealId: string;
  ownerPayeeId: string;
  amount: string;
  currency: 'USD';
  closeDate: string;
  product: string;
  dealType: string;
  splits?: { payeeId: string; sharePercent: string }[];
  overlays?: { payeeId: string; sharePercent: string; role: string }[];
}

type Service = ServiceProcess;

// ---------------------------------------------------------------------------------------------------------------------
// Plumbing: a fresh connection per request (no pooled socket survives a kill), child processes, ports.

/** An admin token minted by `cli token` with the secret the service keeps in its data directory. */
let bearerToken = '';

/** One request on a fresh connection, as the admin. */
function call(port: number, method: string, path: string, body?: unknown): Promise<Reply> {
  return callService(port, method, path, { body, ...(bearerToken === '' ? {} : { token: bearerToken }) });
}

async function expectStatus(port: number, method: string, path: string, status: number, body?: unknown): Promise<any> {
  const reply = await call(port, method, path, body);
  if (reply.status !== status) {
    throw new Error(`${method} ${path} answered ${reply.status}, expected ${status}: ${JSON.stringify(reply.body)}`);
  }
  return reply.body;
}


/** The service on `dataDir`, always on `port` (restarts keep it), once /health answers. */
const startService = (dataDir: string, port: number): Promise<Service> =>
  startServiceProcess({ LEDGER_DATA_DIR: dataDir, LEDGER_READ_WAIT_MS: '30000' }, { port, timeoutMs: 20_000 });

async function stopGracefully(service: Service): Promise<void> {
  service.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), 15_000)));
  const outcome = await Promise.race([service.exited, timedOut]);
  clearTimeout(timer);
  if (outcome === null) throw new Error(`The service did not exit within 15 s of SIGTERM:\n${service.output()}`);
  expect(outcome.code === 0 || outcome.signal === 'SIGTERM').toBe(true);
}

function runCli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [cliMain, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs `work` over `items` with at most `concurrency` at a time. */
async function eachLimited<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

async function listAll(port: number, path: string, waitForPosition: number): Promise<any[]> {
  const items: any[] = [];
  let after: string | null = null;
  do {
    const query: string = `limit=500&waitForPosition=${waitForPosition}${after === null ? '' : `&after=${encodeURIComponent(after)}`}`;
    const page: any = await expectStatus(port, 'GET', `${path}${path.includes('?') ? '&' : '?'}${query}`, 200);
    items.push(...page.items);
    after = page.nextAfter;
  } while (after !== null);
  return items;
}

// ---------------------------------------------------------------------------------------------------------------------
// The workload: deals of every shape, some outside the period, all with cents.

function dealFor(writer: number, index: number): DealBody {
  const owner = REPS[(writer + index) % REPS.length];
  const partner = REPS[(writer + index + 3) % REPS.length];
  const cents = 100_000 + ((writer * 7919 + index * 104_729) % 9_000_000);
  const deal: DealBody = {
    dealId: `D-${writer}-${index}`,
    ownerPayeeId: owner,
    amount: new Decimal(cents).div(100).toFixed(2),
    currency: 'USD',
    closeDate: index % 8 === 7 ? '2026-02-20' : `2026-03-${String(1 + ((writer + index) % 28)).padStart(2, '0')}`,
    product: index % 2 === 0 ? 'platform' : 'services',
    dealType: 'new_business',
  };
  switch (index % 4) {
    case 1:
      deal.splits = [
        { payeeId: owner, sharePercent: '60' },
        { payeeId: partner, sharePercent: '40' },
      ];
      break;
    case 2:
      deal.splits = [
        { payeeId: owner, sharePercent: '70' },
        { payeeId: partner, sharePercent: '30' },
      ];
      deal.overlays = [{ payeeId: managerOf(owner), sharePercent: '100', role: 'manager' }];
      break;
    case 3:
      deal.overlays = [
        { payeeId: managerOf(owner), sharePercent: '100', role: 'manager' },
        { payeeId: VP, sharePercent: '50', role: 'vp' },
      ];
      break;
  }
  return deal;
}

/**
 * Every credit a deal body implies: primary shares (owner 100% without splits) and overlays, exact. A deal sent
 * without overlays rolls up: each primary payee's manager and the VP above them get 100% overlay credit, once each.
 */
function creditsOf(deal: DealBody): { payeeId: string; kind: 'primary' | 'overlay'; amount: Decimal }[] {
  const primary = deal.splits ?? [{ payeeId: deal.ownerPayeeId, sharePercent: '100' }];
  const rolledUp = [...new Set(primary.flatMap((split) => [managerOf(split.payeeId), VP]))].map((payeeId) => ({ payeeId, sharePercent: '100', role: 'manager' }));
  return [
    ...primary.map((split) => ({ payeeId: split.payeeId, kind: 'primary' as const, amount: new Decimal(deal.amount).times(split.sharePercent).div(100) })),
    ...(deal.overlays ?? rolledUp).map((overlay) => ({ payeeId: overlay.payeeId, kind: 'overlay' as const, amount: new Decimal(deal.amount).times(overlay.sharePercent).div(100) })),
  ];
}

const normalized = (amount: string | Decimal): string => new Decimal(amount).toFixed();

// ---------------------------------------------------------------------------------------------------------------------

describe('kill -9 of the service during a write burst', () => {
  let dataDir: string;
  let port: number;
  let service: Service | null = null;

  /** Every deal the burst tried to close, acknowledged or not. */
  const attempted = new Map<string, DealBody>();
  /** Deals answered 2xx: the service promised these are durable. */
  const acknowledged = new Map<string, { position: number; revision: number }>();
  let maxAcknowledgedPosition = 0;
  let inFlightAtKill = -1;
  let headAfterRestart = 0;
  /** Deal ids present in the store after restart, as the deals read model lists them. */
  let presentDealIds: string[] = [];

  beforeAll(async () => {
    buildService();
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-crash-'));
    port = await freePort();
    const token = runCli('token', '--data-dir', dataDir, '--role', 'admin', '--sub', 'crash-test');
    if (token.status !== 0) throw new Error(`cli token failed (exit ${token.status}):\n${token.stderr}`);
    bearerToken = token.stdout.trim();
  }, 180_000);

  afterAll(async () => {
    if (service !== null && service.child.exitCode === null && service.child.signalCode === null) {
      service.child.kill('SIGKILL');
      await service.exited;
    }
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  it('acknowledges deals from concurrent writers until the process is killed with writes in flight', async () => {
    service = await startService(dataDir, port);
    const payee = (payeeId: string, managerId?: string) => ({
      payeeId,
      name: `Payee ${payeeId}`,
      ...(managerId !== undefined ? { managerId } : {}),
      territory: 'EMEA',
      currency: 'USD',
      startDate: '2026-01-01',
    });
    await expectStatus(port, 'POST', '/payees', 201, payee(VP));
    for (const manager of MANAGERS) await expectStatus(port, 'POST', '/payees', 201, payee(manager, VP));
    for (const rep of REPS) {
      await expectStatus(port, 'POST', '/payees', 201, payee(rep, managerOf(rep)));
      await expectStatus(port, 'PUT', `/payees/${rep}/quotas/${PERIOD}/bookings`, 200, { amount: '100000.00', currency: 'USD' });
    }
    for (const manager of MANAGERS) {
      await expectStatus(port, 'PUT', `/payees/${manager}/quotas/${PERIOD}/bookings`, 200, { amount: '400000.00', currency: 'USD' });
    }

    const victim = service;
    let killed = false;
    let killTimer: NodeJS.Timeout | undefined;
    let inFlight = 0;
    const unexpected: string[] = [];

    const writer = async (writerIndex: number): Promise<void> => {
      for (let index = 0; index < MAX_DEALS_PER_WRITER && !killed; index++) {
        const deal = dealFor(writerIndex, index);
        attempted.set(deal.dealId, deal);
        inFlight++;
        let reply: Reply;
        try {
          reply = await call(port, 'POST', '/deals', deal);
        } catch (error) {
          // A request cut off by the kill has no answer, so it promised nothing.
          if (!killed) unexpected.push(`${deal.dealId}: ${(error as Error).message}`);
          return;
        } finally {
          inFlight--;
        }
        if (reply.status >= 200 && reply.status < 300) {
          // Counted even when the answer arrives after the kill: the service sent it, so it promised durability.
          acknowledged.set(deal.dealId, { position: reply.body.position, revision: reply.body.revision });
          maxAcknowledgedPosition = Math.max(maxAcknowledgedPosition, reply.body.position);
          if (!killTimer && acknowledged.size >= KILL_AFTER_ACKNOWLEDGED) {
            // A few milliseconds of jitter, so that across runs the kill lands anywhere in the append cycle:
            // between requests, mid-transaction, mid-fsync, or between the commit and its answer.
            killTimer = setTimeout(() => {
              killed = true;
              inFlightAtKill = inFlight;
              process.kill(victim.child.pid as number, 'SIGKILL');
            }, Math.floor(Math.random() * 10));
          }
        } else {
          unexpected.push(`${deal.dealId}: ${reply.status} ${JSON.stringify(reply.body)}`);
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: WRITERS }, (_, writerIndex) => writer(writerIndex)));

    expect(unexpected).toEqual([]);
    expect(killed).toBe(true);
    const exit = await victim.exited;
    expect(exit.signal).toBe('SIGKILL');
    expect(inFlightAtKill).toBeGreaterThan(0);
    expect(acknowledged.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKNOWLEDGED);
    expect(new Set([...acknowledged.values()].map((ack) => ack.position)).size).toBe(acknowledged.size);
  }, 60_000);

  it('leaves the hash chain intact as the crash left it', () => {
    const verify = runCli('verify', '--data-dir', dataDir);
    expect({ status: verify.status, stderr: verify.stderr }).toEqual({ status: 0, stderr: '' });
    expect(verify.stdout).toMatch(/^OK: \d+ events, hash chain intact/);
  });

  it('restarts with every acknowledged deal readable, with its amount', async () => {
    service = await startService(dataDir, port);
    const health = await expectStatus(port, 'GET', '/health', 200);
    headAfterRestart = health.headPosition;
    // The store may also hold deals whose answer the kill cut off; it must hold nothing the burst did not send.
    presentDealIds = (await listAll(port, '/deals', headAfterRestart)).map((deal) => deal.dealId);
    expect(presentDealIds.filter((dealId) => !attempted.has(dealId))).toEqual([]);
    expect(headAfterRestart).toBeGreaterThanOrEqual(maxAcknowledgedPosition);

    const missing: string[] = [];
    const wrong: string[] = [];
    await eachLimited([...acknowledged.keys()], 16, async (dealId) => {
      const reply = await call(port, 'GET', `/deals/${dealId}?waitForPosition=${maxAcknowledgedPosition}`);
      if (reply.status === 404) return void missing.push(dealId);
      const sent = attempted.get(dealId) as DealBody;
      if (reply.status !== 200 || reply.body.amount !== sent.amount || reply.body.status !== 'won' || reply.body.revision !== acknowledged.get(dealId)?.revision) {
        wrong.push(`${dealId}: ${reply.status} ${JSON.stringify(reply.body)}`);
      }
    });
    expect({ missing, wrong }).toEqual({ missing: [], wrong: [] });

    expect(presentDealIds.filter((dealId) => acknowledged.has(dealId)).length).toBe(acknowledged.size);

    const verify = runCli('verify', '--data-dir', dataDir);
    expect(verify.status).toBe(0);
    expect(Number(/^OK: (\d+) events/.exec(verify.stdout)?.[1])).toBe(headAfterRestart);
  }, 60_000);

  it('has credits and attainment that match the deals in the store exactly', async () => {
    // Each present deal's credits are those its request implied; primary credits add up to its amount.
    let totalAmount = new Decimal(0);
    let totalPrimary = new Decimal(0);
    const mismatched: string[] = [];
    await eachLimited(presentDealIds, 16, async (dealId) => {
      const view = await expectStatus(port, 'GET', `/deals/${dealId}?waitForPosition=${headAfterRestart}`, 200);
      const sent = attempted.get(dealId) as DealBody;
      const expected = creditsOf(sent).map((credit) => `${credit.payeeId}/${credit.kind}/${normalized(credit.amount)}`).sort();
      const actual = (view.credits as any[]).map((credit) => `${credit.payeeId}/${credit.kind}/${normalized(credit.amounts.bookings)}`).sort();
      if (view.amount !== sent.amount || JSON.stringify(actual) !== JSON.stringify(expected)) {
        mismatched.push(`${dealId}: sent ${JSON.stringify(sent)}, read ${JSON.stringify(view)}`);
      }
      totalAmount = totalAmount.plus(view.amount);
      for (const credit of view.credits as any[]) if (credit.kind === 'primary') totalPrimary = totalPrimary.plus(credit.amounts.bookings);
    });
    expect(mismatched).toEqual([]);
    expect(normalized(totalPrimary)).toBe(normalized(totalAmount));

    // Attainment in the period: per payee, the sum of its credits from the period's deals, and how many deals.
    const expectedByPayee = new Map<string, { credited: Decimal; deals: number }>();
    for (const dealId of presentDealIds) {
      const deal = attempted.get(dealId) as DealBody;
      if (!deal.closeDate.startsWith(`${PERIOD}-`)) continue;
      for (const credit of creditsOf(deal)) {
        const entry = expectedByPayee.get(credit.payeeId) ?? { credited: new Decimal(0), deals: 0 };
        entry.credited = entry.credited.plus(credit.amount);
        entry.deals += 1;
        expectedByPayee.set(credit.payeeId, entry);
      }
    }
    const attainment = await listAll(port, `/attainment?period=${PERIOD}&measure=bookings`, headAfterRestart);
    const actualByPayee = Object.fromEntries(attainment.map((item) => [item.payeeId, { credited: normalized(item.creditedAmount), deals: item.dealsCounted }]));
    const expectedView = Object.fromEntries(
      [VP, ...MANAGERS, ...REPS]
        .filter((payeeId) => expectedByPayee.has(payeeId) || payeeId in actualByPayee)
        .map((payeeId) => {
          const entry = expectedByPayee.get(payeeId);
          return [payeeId, { credited: normalized(entry?.credited ?? new Decimal(0)), deals: entry?.deals ?? 0 }];
        }),
    );
    expect(actualByPayee).toEqual(expectedView);
    for (const rep of REPS) expect(actualByPayee[rep]).toBeDefined();
  }, 60_000);

  it('has read models after the crash equal to a rebuild from position 0', async () => {
    const live = service as Service;
    const attainmentBefore = await listAll(port, `/attainment?period=${PERIOD}`, headAfterRestart);
    const dealsBefore = await listAll(port, '/deals', headAfterRestart);
    expect(attainmentBefore.length).toBeGreaterThan(0);
    await stopGracefully(live);
    service = null;

    const rebuild = runCli('rebuild', '--data-dir', dataDir);
    expect({ status: rebuild.status, stderr: rebuild.stderr }).toEqual({ status: 0, stderr: '' });
    expect(rebuild.stdout).toContain(`to ${headAfterRestart}`);

    service = await startService(dataDir, port);
    const health = await expectStatus(port, 'GET', '/health', 200);
    expect(health.headPosition).toBe(headAfterRestart);
    const attainmentAfter = await listAll(port, `/attainment?period=${PERIOD}`, headAfterRestart);
    const dealsAfter = await listAll(port, '/deals', headAfterRestart);
    expect(attainmentAfter).toEqual(attainmentBefore);
    expect(dealsAfter).toEqual(dealsBefore);
  }, 60_000);
});
