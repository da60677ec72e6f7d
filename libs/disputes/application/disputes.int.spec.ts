/**
 * Disputes against the real parts: the embedded store file, the read models, and the two durable processes
 * (escalation and resolution remedies) driven by a clock the test moves. The processes are killed between their
 * steps (an exception where the process would die) and run again by a fresh instance: every remedy lands exactly
 * once, and a read model rebuilt from the log neither forgets an escalation nor asks for a remedy again.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { Actor } from '#lib/event-store/event-store.port.js';
import { onboardPayee } from '#lib/organization/application/payee-commands.js';
import { cancelDeal, closeDealWon, loadDeal } from '#lib/crediting/application/deal-commands.js';
import { periodDecider, periodStreamId, type PeriodCommand, type PeriodEvent } from '#lib/payouts/domain/period.decider.js';
import { zeroPayoutFigures } from '#lib/payouts/testing/payout-fixtures.js';
import { handleCommand } from '#lib/shared/application/handle-command.js';
import type { CommandContext } from '#lib/shared/application/command-context.js';
import { foldEvents } from '#lib/shared/domain/decider.js';
import { openLedgerHarness, type LedgerHarness } from '#lib/shared/testing/ledger-harness.js';
import { dumpReadModel } from '#lib/shared/testing/read-model-dump.js';
import { createTempDir } from '#lib/shared/testing/temp-dir.js';
import { testCommandContext } from '#lib/shared/testing/test-command-context.js';
import {
  assignDispute,
  commentOnDispute,
  fileDispute,
  loadDispute,
  provideDisputeInformation,
  reopenDispute,
  requestDisputeInformation,
  resolveDispute,
  withdrawDispute,
  type DisputeSettings,
  type FileDisputeInput,
} from './dispute-commands.js';
import { disputeQueue, disputeStatistics, getDispute, listPayeeDisputes } from './dispute-queries.js';
import { DisputeProcesses, type DisputeAdjustmentLine, type DisputeAdjustmentPort, type PeriodRef } from './dispute-processes.js';
import { LedgerDisputeSubjects } from './dispute-subjects.js';
import { PeriodStreamAdjustments } from './period-adjustments.js';

const temp = createTempDir('disputes');
afterAll(() => temp.remove());

const settings: DisputeSettings = {
  policy: { resolutionBusinessDays: { missing_credit: 10, wrong_split: 10, wrong_rate: 15, clawback: 5, other: 20 }, informationBusinessDays: 5 },
  reopenWindowDays: 30,
};

let ledger: LedgerHarness;
let subjects: LedgerDisputeSubjects;
/** The service clock, moved by the tests. Monday 2026-03-16 to start with. */
let now: Date;
const at = (isoDate: string) => {
  now = new Date(`${isoDate}T09:00:00.000Z`);
};

const ada: Actor = { id: 'ada', role: 'rep' };
const bob: Actor = { id: 'bob', role: 'rep' };
const analyst: Actor = { id: 'analyst-1', role: 'analyst' };
const context = (actor: Actor, overrides: Partial<CommandContext> = {}) => testCommandContext({ actor, now: () => now, ...overrides });

beforeEach(async () => {
  at('2026-03-16');
  ledger = await openLedgerHarness(temp.path);
  subjects = new LedgerDisputeSubjects(ledger.store, ledger.db);
  for (const payeeId of ['ada', 'bob']) {
    await onboardPayee(ledger.store, { payeeId, name: payeeId, managerId: null, territory: 'EMEA', currency: 'EUR', startDate: '2026-01-01' }, testCommandContext());
  }
  await closeDealWon(
    ledger.store,
    { dealId: 'd-1', ownerPayeeId: 'ada', amount: '10000.00', currency: 'EUR', closeDate: '2026-03-02', product: 'Ledger Pro', dealType: 'new_business', overlays: [] },
    testCommandContext(),
  );
  await closeDealWon(
    ledger.store,
    {
      dealId: 'd-2',
      ownerPayeeId: 'ada',
      amount: '8000.00',
      currency: 'EUR',
      closeDate: '2026-03-05',
      product: 'Ledger Pro',
      dealType: 'new_business',
      primarySplits: [{ payeeId: 'ada', sharePercent: '50' }, { payeeId: 'bob', sharePercent: '50' }],
      overlays: [],
    },
    testCommandContext(),
  );
});
afterEach(async () => {
  await ledger.close();
});

const claim = (disputeId: string, overrides: Partial<FileDisputeInput> = {}): FileDisputeInput => ({
  disputeId,
  payeeId: 'ada',
  subject: { kind: 'deal', dealId: 'd-1' },
  category: 'wrong_rate',
  amountClaimed: '500.00',
  currency: 'EUR',
  description: 'Paid at 8%, the plan says 10%',
  evidenceReferences: ['doc:plan.pdf'],
  ...overrides,
});

/** Filed by ada, assigned to analyst-1, resolved as given. */
async function resolvedDispute(disputeId: string, resolution: { outcome: string; amountApproved?: string; reason?: string; creditCorrection?: never }, file: Partial<FileDisputeInput> = {}) {
  await fileDispute(ledger.store, subjects, settings, claim(disputeId, file), context(ada));
  await assignDispute(ledger.store, { disputeId, assigneeId: 'analyst-1' }, context(analyst));
  return resolveDispute(ledger.store, subjects, settings, { disputeId, ...resolution }, context(analyst));
}

const finance = testCommandContext({ actor: { id: 'finance-1', role: 'finance' } });
const periodCommand = (periodId: string, command: PeriodCommand) => handleCommand(ledger.store, periodStreamId('monthly', periodId), periodDecider, command, finance);
const openPeriod = (periodId: string) =>
  periodCommand(periodId, { type: 'OpenPeriod', data: { calendarId: 'monthly', periodId, startsOn: `${periodId}-01`, endsOn: `${periodId}-28`, openedBy: 'finance-1' } });
const linesIn = async (periodId: string) => {
  const state = foldEvents(periodDecider, (await ledger.store.readStream(periodStreamId('monthly', periodId))) as unknown as PeriodEvent[]);
  return Object.values(state.postedLinesById);
};
/** Closes the period with a statement for ada that lists the lines posted to it, as the payouts close does. */
const closePeriod = async (periodId: string) => {
  const postedLines = (await linesIn(periodId)).filter((line) => line.payeeId === 'ada').map(({ lineId, kind, amount }) => ({ lineId, kind, amount }));
  return periodCommand(periodId, {
    type: 'ClosePeriod',
    data: {
      preparedBy: 'finance-1',
      previousPeriod: null,
      statements: [{ payeeId: 'ada', statementDigest: 'sha256:x', logPosition: 1, currency: 'EUR', netPayable: '0.00', figures: zeroPayoutFigures('EUR'), postedLines }],
    },
  });
};

/** The payee's earliest open period, as the test opens and closes them. */
let openPeriods: string[];
const earliestOpen = async (): Promise<PeriodRef | null> => (openPeriods.length === 0 ? null : { calendarId: 'monthly', periodId: openPeriods[0] });

/** A port that dies at a chosen step: before posting the line, or after posting it but before the process records it. */
class DyingAdjustments implements DisputeAdjustmentPort {
  constructor(
    private readonly inner: DisputeAdjustmentPort,
    private readonly dies: 'before_post' | 'after_post',
  ) {}
  earliestOpenPeriod(payeeId: string) {
    return this.inner.earliestOpenPeriod(payeeId);
  }
  async postLine(period: PeriodRef, line: DisputeAdjustmentLine, lineContext: CommandContext): Promise<never> {
    if (this.dies === 'after_post') await this.inner.postLine(period, line, lineContext);
    throw new Error(`the process died ${this.dies.replace('_', ' ')}`);
  }
}

const processes = (port: DisputeAdjustmentPort) => new DisputeProcesses(ledger.store, ledger.db, port, { now: () => now, newId: randomUUID });
const healthy = () => new PeriodStreamAdjustments(ledger.store, earliestOpen);

async function eventTypes(disputeId: string): Promise<string[]> {
  return (await ledger.store.readStream(`dispute-${disputeId}`)).map((event) => event.type);
}

describe('dispute commands and read models', () => {
  it('takes a dispute from filing to a partial approval, each step in the rep\'s timeline with its actor', async () => {
    await fileDispute(ledger.store, subjects, settings, claim('DSP-1'), context(ada));
    await commentOnDispute(ledger.store, { disputeId: 'DSP-1', text: 'The plan letter is attached' }, context(ada));
    await assignDispute(ledger.store, { disputeId: 'DSP-1', assigneeId: 'analyst-1' }, context(analyst));
    at('2026-03-18');
    await requestDisputeInformation(ledger.store, settings, { disputeId: 'DSP-1', question: 'Which deals?' }, context(analyst));
    at('2026-03-20');
    await provideDisputeInformation(ledger.store, { disputeId: 'DSP-1', answer: 'd-1 only', evidenceReferences: ['crm:d-1'] }, context(ada));
    at('2026-03-23');
    const resolved = await resolveDispute(
      ledger.store,
      subjects,
      settings,
      { disputeId: 'DSP-1', outcome: 'partially_approved', amountApproved: '300.00', reason: 'Half the deals were under the new rate' },
      context(analyst),
    );
    await ledger.runner.waitForPosition(resolved.position);

    const view = await getDispute(ledger.db, 'DSP-1', '2026-03-23');
    expect(view).toMatchObject({
      disputeId: 'DSP-1',
      payeeId: 'ada',
      status: 'resolved',
      outcome: 'partially_approved',
      amountClaimed: '500.00',
      amountApproved: '300.00',
      remedy: { kind: 'adjustment', amount: '300.00', currency: 'EUR' },
      remedyStatus: 'pending',
      // 15 business days from 2026-03-16 was 2026-04-06; 13 were left when the rep's clock ran from the 18th to the 20th.
      dueOn: '2026-04-08',
      overdue: false,
      ageDays: 7,
      reopenableUntil: '2026-04-22',
      revision: 5,
    });
    expect(view!.timeline.map((entry) => [entry.type, entry.actor.id])).toEqual([
      ['DisputeFiled', 'ada'],
      ['DisputeCommented', 'ada'],
      ['DisputeAssigned', 'analyst-1'],
      ['DisputeInformationRequested', 'analyst-1'],
      ['DisputeInformationProvided', 'ada'],
      ['DisputeResolved', 'analyst-1'],
    ]);
    expect(view!.timeline[3].details).toMatchObject({ question: 'Which deals?', responseDueOn: '2026-03-25', resolutionBusinessDaysLeft: 13 });

    const mine = await listPayeeDisputes(ledger.db, { payeeId: 'ada' }, '2026-03-23');
    expect(mine.items.map((item) => item.disputeId)).toEqual(['DSP-1']);
    expect((await listPayeeDisputes(ledger.db, { payeeId: 'bob' }, '2026-03-23')).items).toEqual([]);
  });

  it('refuses a dispute on someone else\'s credit, a deal that does not exist, and a rep filing for another payee, appending nothing', async () => {
    const head = await ledger.store.headPosition();
    await expect(
      fileDispute(ledger.store, subjects, settings, claim('DSP-x', { category: 'wrong_split', subject: { kind: 'credit', dealId: 'd-2', creditId: 'd-2:bob:primary' } }), context(ada)),
    ).rejects.toMatchObject({ code: 'DISPUTE.SUBJECT_NOT_PAYEES' });
    await expect(fileDispute(ledger.store, subjects, settings, claim('DSP-x', { subject: { kind: 'deal', dealId: 'd-404' } }), context(ada))).rejects.toMatchObject({
      code: 'DISPUTE.SUBJECT_NOT_FOUND',
      kind: 'not_found',
    });
    await expect(fileDispute(ledger.store, subjects, settings, claim('DSP-x'), context(bob))).rejects.toMatchObject({ code: 'DISPUTE.NOT_OWN_PAYEE', kind: 'forbidden' });
    await expect(
      fileDispute(ledger.store, subjects, settings, claim('DSP-x', { subject: { kind: 'statement_line', periodId: '2026-03', lineId: 'no-such-line' } }), context(ada)),
    ).rejects.toMatchObject({ code: 'DISPUTE.SUBJECT_NOT_FOUND' });
    expect(await ledger.store.headPosition()).toBe(head);
  });

  it('files one dispute for one idempotency key: the retry finds the same dispute', async () => {
    const first = await fileDispute(ledger.store, subjects, settings, claim('DSP-k', { disputeId: undefined }), context(ada, { commandId: 'retry-key-0001' }));
    const again = await fileDispute(ledger.store, subjects, settings, claim('DSP-k', { disputeId: undefined }), context(ada, { commandId: 'retry-key-0001' }));
    expect(again).toMatchObject({ streamId: first.streamId, replayed: true, position: first.position });
    expect(first.streamId).toMatch(/^dispute-DSP-[0-9a-f]{24}$/);
  });

  it('filters the analyst queue by status, category, assignee, overdue and age, a page at a time, and counts per period', async () => {
    await fileDispute(ledger.store, subjects, settings, claim('Q-1', { category: 'clawback' }), context(ada)); // due 03-23
    await fileDispute(ledger.store, subjects, settings, claim('Q-2', { category: 'other' }), context(ada)); // due 04-13
    at('2026-03-20');
    await fileDispute(ledger.store, subjects, settings, claim('Q-3', { category: 'missing_credit', subject: { kind: 'deal', dealId: 'd-2' } }), context(ada));
    await assignDispute(ledger.store, { disputeId: 'Q-2', assigneeId: 'analyst-1' }, context(analyst));
    await fileDispute(ledger.store, subjects, settings, claim('Q-4'), context(ada));
    await withdrawDispute(ledger.store, { disputeId: 'Q-4', reason: 'my mistake' }, context(ada));
    await assignDispute(ledger.store, { disputeId: 'Q-3', assigneeId: 'analyst-2' }, context(analyst));
    at('2026-03-25');
    const last = await resolveDispute(ledger.store, subjects, settings, { disputeId: 'Q-3', outcome: 'rejected', reason: 'credited on d-1' }, context(analyst));
    await ledger.runner.waitForPosition(last.position);

    const ids = async (query: Parameters<typeof disputeQueue>[1], today = '2026-03-25') => (await disputeQueue(ledger.db, query, today)).items.map((item) => item.disputeId);
    expect(await ids({})).toEqual(['Q-1', 'Q-2']);
    expect(await ids({ statuses: ['withdrawn', 'resolved'] })).toEqual(['Q-3', 'Q-4']);
    expect(await ids({ categories: ['other'] })).toEqual(['Q-2']);
    expect(await ids({ assigneeId: 'analyst-1' })).toEqual(['Q-2']);
    expect(await ids({ unassigned: true })).toEqual(['Q-1']);
    expect(await ids({ overdue: true })).toEqual(['Q-1']);
    expect(await ids({ overdue: false })).toEqual(['Q-2']);
    expect(await ids({ minAgeDays: 9 })).toEqual(['Q-1', 'Q-2']);
    expect(await ids({ maxAgeDays: 8 })).toEqual([]);
    expect(await ids({ statuses: ['filed', 'under_review', 'resolved', 'withdrawn'], maxAgeDays: 5 })).toEqual(['Q-3', 'Q-4']);
    const first = await disputeQueue(ledger.db, { statuses: ['filed', 'under_review', 'resolved', 'withdrawn'], limit: 3 }, '2026-03-25');
    const second = await disputeQueue(ledger.db, { statuses: ['filed', 'under_review', 'resolved', 'withdrawn'], limit: 3, after: first.nextAfter! }, '2026-03-25');
    expect([...first.items, ...second.items].map((item) => item.disputeId)).toEqual(['Q-1', 'Q-3', 'Q-4', 'Q-2']);
    expect(second.nextAfter).toBeNull();
    await expect(disputeQueue(ledger.db, { categories: ['bonus'] }, '2026-03-25')).rejects.toMatchObject({ code: 'REQUEST.FILTER_INVALID' });

    const statistics = await disputeStatistics(ledger.db, '2026-03', '2026-03-25');
    expect(statistics).toMatchObject({
      from: '2026-03-01',
      to: '2026-03-31',
      filed: { count: 4, byCategory: { clawback: 1, other: 1, missing_credit: 1, wrong_rate: 1, wrong_split: 0 }, byStatus: { filed: 1, under_review: 1, resolved: 1, withdrawn: 1 } },
      resolved: {
        count: 1,
        byOutcome: { rejected: 1, approved: 0, partially_approved: 0 },
        businessDaysToResolve: { count: 1, mean: 3, median: 3, p90: 3, max: 3 },
        byCategory: { missing_credit: { count: 1, mean: 3 } },
        amounts: [{ currency: 'EUR', claimed: '500.00', approved: '0.00' }],
      },
      // filed on the 16th are open 7 business days on the 25th; Q-1 is past due.
      aging: { open: 2, overdue: 1, buckets: [{ businessDays: '0-5', count: 0 }, { businessDays: '6-10', count: 2 }, { businessDays: '11-20', count: 0 }, { businessDays: '21+', count: 0 }] },
    });
    expect((await disputeStatistics(ledger.db, '2026-Q2', '2026-03-25')).filed.count).toBe(0);
  });

  it('rebuilds the dispute read models and the process state from the log to the same rows', async () => {
    await resolvedDispute('R-1', { outcome: 'partially_approved', amountApproved: '120.00', reason: 'part' });
    await fileDispute(ledger.store, subjects, settings, claim('R-2'), context(ada));
    await reopenDispute(ledger.store, settings, { disputeId: 'R-1', reason: 'more deals' }, context(ada));
    await ledger.runner.caughtUp();
    const rebuilt = ledger.openReadModel();
    await rebuilt.runner.rebuild();
    const names = new Set(['disputes', 'dispute-process-state']);
    const dump = (db: typeof ledger.db) => dumpReadModel(db, ledger.projections.filter((projection) => names.has(projection.name)));
    expect(await dump(rebuilt.db)).toEqual(await dump(ledger.db));
    expect((await dump(ledger.db)).dispute_timeline).toHaveLength(5);
    expect((await dump(ledger.db)).dispute_process_due).toHaveLength(2);
  });
});

describe('the escalation process', () => {
  it('escalates a dispute once it is past its due date, once per due date, and again for the rep\'s late answer', async () => {
    await fileDispute(ledger.store, subjects, settings, claim('E-1', { category: 'clawback' }), context(ada)); // due 2026-03-23
    await fileDispute(ledger.store, subjects, settings, claim('E-2', { category: 'other' }), context(ada)); // due 2026-04-13
    await ledger.runner.caughtUp();

    at('2026-03-23');
    expect(await processes(healthy()).escalateOverdue()).toEqual([]);
    at('2026-03-24');
    expect(await processes(healthy()).escalateOverdue()).toEqual(['E-1']);
    // Run again before the process state has seen the escalation: the command is answered from the stream.
    expect(await processes(healthy()).escalateOverdue()).toEqual([]);
    await ledger.runner.caughtUp();
    expect(await processes(healthy()).escalateOverdue()).toEqual([]);
    expect((await eventTypes('E-1')).filter((type) => type === 'DisputeEscalated')).toHaveLength(1);

    // The analyst asks for information: the rep's clock runs, and when it runs out that escalates too.
    await assignDispute(ledger.store, { disputeId: 'E-1', assigneeId: 'analyst-1' }, context(analyst));
    await requestDisputeInformation(ledger.store, settings, { disputeId: 'E-1', question: 'Which deals?' }, context(analyst)); // answer due 03-31
    await ledger.runner.caughtUp();
    at('2026-04-01');
    expect(await processes(healthy()).escalateOverdue()).toEqual(['E-1']);
    const escalations = (await ledger.store.readStream('dispute-E-1')).filter((event) => event.type === 'DisputeEscalated');
    expect(escalations.map((event) => [(event.data as { reason: string }).reason, (event.data as { level: number }).level, event.metadata.actor.id])).toEqual([
      ['resolution_overdue', 1, 'process:dispute-escalation'],
      ['information_overdue', 2, 'process:dispute-escalation'],
    ]);

    // A read model rebuilt from zero knows both escalations: nothing is escalated twice, and E-2 in its turn.
    const rebuilt = ledger.openReadModel();
    await rebuilt.runner.rebuild();
    const afterRebuild = new DisputeProcesses(ledger.store, rebuilt.db, healthy(), { now: () => now, newId: randomUUID });
    expect(await afterRebuild.escalateOverdue()).toEqual([]);
    at('2026-04-14');
    expect(await afterRebuild.escalateOverdue()).toEqual(['E-2']);
  });

  it('leaves resolved and withdrawn disputes alone', async () => {
    await resolvedDispute('E-3', { outcome: 'rejected', reason: 'rate was right' }, { category: 'clawback' });
    await fileDispute(ledger.store, subjects, settings, claim('E-4', { category: 'clawback' }), context(ada));
    await withdrawDispute(ledger.store, { disputeId: 'E-4' }, context(ada));
    await ledger.runner.caughtUp();
    at('2026-06-01');
    expect(await processes(healthy()).escalateOverdue()).toEqual([]);
  });
});

describe('the resolution remedies process', () => {
  beforeEach(async () => {
    openPeriods = ['2026-03'];
    await openPeriod('2026-03');
  });

  it('posts the approved amount into the earliest open period, naming the dispute, once', async () => {
    await resolvedDispute('A-1', { outcome: 'partially_approved', amountApproved: '300.00', reason: 'half' });
    await ledger.runner.caughtUp();
    expect(await processes(healthy()).carryOutRemedies()).toEqual({ done: ['A-1#1'], waiting: [], failed: [] });
    expect(await processes(healthy()).carryOutRemedies()).toMatchObject({ done: ['A-1#1'] }); // the state has not caught up yet; the stream says done
    await ledger.runner.caughtUp();
    expect(await processes(healthy()).carryOutRemedies()).toEqual({ done: [], waiting: [], failed: [] });

    expect(await linesIn('2026-03')).toEqual([
      { lineId: 'dispute:A-1:1', kind: 'adjustment', amount: '300.00', cause: { kind: 'dispute_approved', reference: 'A-1' }, payeeId: 'ada', currency: 'EUR' },
    ]);
    const posted = (await ledger.store.readStream('dispute-A-1')).filter((event) => event.type === 'DisputeAdjustmentPosted');
    expect(posted).toHaveLength(1);
    expect(posted[0]).toMatchObject({ data: { periodId: '2026-03', lineId: 'dispute:A-1:1', amount: '300.00' }, metadata: { actor: { id: 'process:dispute-remedies', role: 'system' } } });
    const resolvedEvent = (await ledger.store.readStream('dispute-A-1')).find((event) => event.type === 'DisputeResolved')!;
    expect(posted[0].metadata).toMatchObject({ causationId: resolvedEvent.eventId, correlationId: resolvedEvent.metadata.correlationId });
    expect(await getDispute(ledger.db, 'A-1', '2026-03-23')).toMatchObject({ remedyStatus: 'done' });
  });

  it('dies after posting the line; the period closes; the next run records the line where it went and posts nothing more', async () => {
    await resolvedDispute('A-2', { outcome: 'partially_approved', amountApproved: '300.00', reason: 'half' });
    await ledger.runner.caughtUp();
    expect(await processes(new DyingAdjustments(healthy(), 'after_post')).carryOutRemedies()).toEqual({ done: [], waiting: ['A-2#1'], failed: [] });
    expect(await linesIn('2026-03')).toHaveLength(1);
    expect(await eventTypes('A-2')).toEqual(['DisputeFiled', 'DisputeAssigned', 'DisputeResolved', 'DisputeAdjustmentTargeted']);

    await closePeriod('2026-03');
    await openPeriod('2026-04');
    openPeriods = ['2026-04'];
    expect(await processes(healthy()).carryOutRemedies()).toEqual({ done: ['A-2#1'], waiting: [], failed: [] });
    expect(await linesIn('2026-03')).toHaveLength(1);
    expect(await linesIn('2026-04')).toEqual([]);
    expect((await loadDispute(ledger.store, 'A-2'))).toMatchObject({ resolutions: [{ remedyStatus: 'done', targets: [{ periodId: '2026-03' }] }] });

    // Rebuilt from zero, the process state asks for nothing again.
    await ledger.runner.rebuild();
    expect(await processes(healthy()).carryOutRemedies()).toEqual({ done: [], waiting: [], failed: [] });
  });

  it('dies before posting the line; the period closes; the next run posts into the next open period instead', async () => {
    await resolvedDispute('A-3', { outcome: 'approved' });
    await ledger.runner.caughtUp();
    await processes(new DyingAdjustments(healthy(), 'before_post')).carryOutRemedies();
    await closePeriod('2026-03').catch(() => undefined); // no payee has lines in it: it closes with the statement given
    await openPeriod('2026-04');
    openPeriods = ['2026-04'];
    expect(await processes(healthy()).carryOutRemedies()).toEqual({ done: ['A-3#1'], waiting: [], failed: [] });
    expect(await linesIn('2026-03')).toEqual([]);
    expect((await linesIn('2026-04')).map((line) => [line.lineId, line.amount])).toEqual([['dispute:A-3:1', '500.00']]);
    expect(await eventTypes('A-3')).toEqual([
      'DisputeFiled',
      'DisputeAssigned',
      'DisputeResolved',
      'DisputeAdjustmentTargeted',
      'DisputeAdjustmentTargeted',
      'DisputeAdjustmentPosted',
    ]);
  });

  it('waits while no period is open, and posts when one opens', async () => {
    openPeriods = [];
    await resolvedDispute('A-4', { outcome: 'approved' });
    await ledger.runner.caughtUp();
    expect(await processes(healthy()).carryOutRemedies()).toEqual({ done: [], waiting: ['A-4#1'], failed: [] });
    openPeriods = ['2026-03'];
    expect(await processes(healthy()).carryOutRemedies()).toEqual({ done: ['A-4#1'], waiting: [], failed: [] });
  });

  it('posts only the difference when a reopened dispute is approved in full, and takes it back when rejected', async () => {
    await resolvedDispute('A-5', { outcome: 'partially_approved', amountApproved: '300.00', reason: 'half' });
    await ledger.runner.caughtUp();
    await processes(healthy()).carryOutRemedies();
    at('2026-03-20');
    await reopenDispute(ledger.store, settings, { disputeId: 'A-5', reason: 'the other deals too' }, context(ada));
    await resolveDispute(ledger.store, subjects, settings, { disputeId: 'A-5', outcome: 'approved' }, context(analyst));
    await reopenDispute(ledger.store, settings, { disputeId: 'A-5', reason: 'audit' }, context(analyst));
    await resolveDispute(ledger.store, subjects, settings, { disputeId: 'A-5', outcome: 'rejected', reason: 'audit found the rate right' }, context(analyst));
    await ledger.runner.caughtUp();
    await processes(healthy()).carryOutRemedies();
    expect((await linesIn('2026-03')).map((line) => [line.lineId, line.amount])).toEqual([
      ['dispute:A-5:1', '300.00'],
      ['dispute:A-5:2', '200.00'],
      ['dispute:A-5:3', '-500.00'],
    ]);
  });

  it('corrects the credits of a wrong split through the deal, once', async () => {
    await fileDispute(ledger.store, subjects, settings, claim('C-1', { category: 'wrong_split', subject: { kind: 'deal', dealId: 'd-2' }, amountClaimed: '160.00' }), context(ada));
    await assignDispute(ledger.store, { disputeId: 'C-1', assigneeId: 'analyst-1' }, context(analyst));
    await expect(
      resolveDispute(
        ledger.store,
        subjects,
        settings,
        { disputeId: 'C-1', outcome: 'approved', creditCorrection: { dealId: 'd-2', primarySplits: [{ payeeId: 'ada', sharePercent: '70' }, { payeeId: 'bob', sharePercent: '20' }], overlays: [] } },
        context(analyst),
      ),
    ).rejects.toMatchObject({ code: 'CREDIT.SHARES_NOT_100' });
    await resolveDispute(
      ledger.store,
      subjects,
      settings,
      { disputeId: 'C-1', outcome: 'approved', creditCorrection: { dealId: 'd-2', primarySplits: [{ payeeId: 'ada', sharePercent: '70' }, { payeeId: 'bob', sharePercent: '30' }], overlays: [] } },
      context(analyst),
    );
    await ledger.runner.caughtUp();
    expect(await processes(healthy()).carryOutRemedies()).toEqual({ done: ['C-1#1'], waiting: [], failed: [] });
    expect(await processes(healthy()).carryOutRemedies()).toEqual({ done: ['C-1#1'], waiting: [], failed: [] });
    const deal = await loadDeal(ledger.store, 'd-2');
    expect(deal.status !== 'none' && deal.credits.map((credit) => [credit.payeeId, credit.sharePercent])).toEqual([
      ['ada', '70'],
      ['bob', '30'],
    ]);
    const dealEvents = await ledger.store.readStream('deal-d-2');
    expect(dealEvents.map((event) => event.type)).toEqual(['DealClosedWon', 'CreditsAllocated', 'CreditsAllocated']);
    expect(dealEvents[2].metadata).toMatchObject({ actor: { id: 'process:dispute-remedies' }, commandId: 'dispute-remedy:C-1:1:credits' });
    expect((await ledger.store.readStream('dispute-C-1')).at(-1)).toMatchObject({ type: 'DisputeCreditsCorrected', data: { dealId: 'd-2', dealRevision: 2 } });
    expect(await linesIn('2026-03')).toEqual([]);
  });

  it('records a correction the deal refuses (cancelled since) as failed, and does not try again', async () => {
    // bob says he should have had credit on ada's deal d-1.
    await fileDispute(ledger.store, subjects, settings, claim('C-2', { payeeId: 'bob', category: 'missing_credit', subject: { kind: 'deal', dealId: 'd-1' } }), context(bob));
    await assignDispute(ledger.store, { disputeId: 'C-2', assigneeId: 'analyst-1' }, context(analyst));
    await resolveDispute(
      ledger.store,
      subjects,
      settings,
      { disputeId: 'C-2', outcome: 'approved', creditCorrection: { dealId: 'd-1', primarySplits: [{ payeeId: 'ada', sharePercent: '80' }, { payeeId: 'bob', sharePercent: '20' }], overlays: [] } },
      context(analyst),
    );
    await cancelDeal(ledger.store, { dealId: 'd-1', cancelDate: '2026-03-20', reason: 'customer withdrew' }, testCommandContext());
    await ledger.runner.caughtUp();
    expect(await processes(healthy()).carryOutRemedies()).toEqual({ done: [], waiting: [], failed: ['C-2#1'] });
    await ledger.runner.caughtUp();
    expect(await processes(healthy()).carryOutRemedies()).toEqual({ done: [], waiting: [], failed: [] });
    expect((await ledger.store.readStream('dispute-C-2')).at(-1)).toMatchObject({ type: 'DisputeRemedyFailed', data: { code: 'DEAL.CANCELLED' } });
    expect(await getDispute(ledger.db, 'C-2', '2026-03-20')).toMatchObject({ remedyStatus: 'failed' });
  });
});
