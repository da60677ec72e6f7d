import { randomUUID } from 'node:crypto';
import type { RecordedEvent, Subscription } from '#lib/event-store/event-store.port.js';
import type { ReadModelReader } from '#lib/projections/read-model.port.js';
import type { CommandContext } from '#lib/shared/application/command-context.js';
import { handleCommand } from '#lib/shared/application/handle-command.js';
import { DomainError } from '#lib/shared/domain/domain-error.js';
import { formatMoney, Money } from '#lib/shared/domain/money.js';
import { calendarIdOf, type PlanVersionInput } from '#lib/commissions/domain/commission-plan.js';
import type { Statement } from '#lib/commissions/domain/statement.js';
import type { Credit, DealAmended, DealCancelled, CreditsAllocated } from '#lib/crediting/domain/deal.decider.js';
import type { PlanVersionPublished } from '#lib/plans/domain/index.js';
import { getDeal } from '#lib/crediting/application/deal-queries.js';
import { frequencyOfPeriodId, periodIdOfDate, periodOfId, statementPeriodIdOf, versionsByPlanOf } from '#lib/statements/domain/statement-inputs.js';
import { statementAtPosition } from '#lib/statements/application/statement-as-of.js';
import { nextPeriodId } from '../domain/calendar-periods.js';
import { clawbackLineIdFor, computeClawback } from '../domain/clawback.js';
import {
  periodDeciderOpeningOnDemand,
  periodStreamId,
  type ClawbackWaiver,
  type FrozenPostedLine,
  type PeriodCommand,
  type PeriodEvent,
  type PostedLine,
} from '../domain/period.decider.js';

type PeriodClosedEvent = Extract<PeriodEvent, { type: 'PeriodClosed' }>;
import { computePriorPeriodAdjustment, type AdjustmentAlreadyPosted, type AdjustmentSourceLine } from '../domain/prior-period-adjustment.js';
import { isPayableLine, type AdjustmentCause, type StatementLineSummary, type StatementSummary } from '../domain/statement-summary.js';
import { clawbackPolicyOf, decidingPlanOf, readAssignmentsOverlapping, readPublishedVersions } from './calendar-plans.js';
import type { PayoutDependencies } from './period-commands.js';
import type { PayoutPeriodRow, PayoutStatementRow, PostedLineRow } from './payout-tables.js';
import { statementDigestOf } from './statement-digest.js';

/**
 * The durable reactions of payouts to what happens after a period closed:
 *
 * - a deal amended, its credits re-allocated, or a plan version published that reaches back into a closed period:
 *   the closed statement is recomputed in memory at the event's log position and the difference from the frozen
 *   statement (less what earlier adjustments posted) is posted as adjustment lines in the calendar's earliest open
 *   period, each naming its cause, its event, its deal and the frozen and recomputed amounts of the lines it corrects;
 * - a deal cancelled whose credit sits in a closed period: the plan's clawback terms decide. Inside the window a
 *   negative clawback line of the commission paid on the deal times the clawback percentage is posted in the open
 *   period of the cancellation (or the earliest open one); outside the window, or without terms, nothing is clawed
 *   back and a note says why. When the plan says a cancellation reduces attainment, the rest of the closed statement
 *   is recomputed without the deal and the difference posted as adjustments.
 *
 * A catch-up subscription over the log with its own checkpoint (table `process_checkpoints`, beside the read models
 * but not one of them: a rebuild of the read models does not replay reactions). Every effect is a command with a
 * deterministic command id and line ids, and each reaction first reads, from read models that include every earlier
 * effect, what was already posted: a crash between an effect and its checkpoint, or a replay from an older checkpoint,
 * posts nothing twice.
 */
export const PAYOUT_REACTIONS_NAME = 'payout-reactions';
/** The events that can change what a closed period should have paid. */
const CHANGE_EVENT_TYPES = ['CreditsAllocated', 'DealAmended', 'DealCancelled', 'PlanVersionPublished'] as const;
/** And the close itself: a change recorded while the close was being computed must be looked at again once it lands. */
const REACTION_EVENT_TYPES = [...CHANGE_EVENT_TYPES, 'PeriodClosed'] as const;
const SYSTEM_ACTOR = { id: PAYOUT_REACTIONS_NAME, role: 'system' };
/** Skipped events between two checkpoint writes (a reaction always writes one). */
const CHECKPOINT_EVERY = 5000;

export type PayoutReactionsStatus = 'stopped' | 'running' | 'failed';

export interface PayoutReactionsOptions {
  /** Told when a reaction fails; the process has stopped by then and resumes from the same event on start(). */
  onError?: (error: Error) => void;
}

type ReactionEvent = (DealAmended | DealCancelled | CreditsAllocated | PlanVersionPublished | PeriodClosedEvent) & RecordedEvent;

/** A frozen statement of one payee in one calendar period, as the payouts read model holds it. */
interface FrozenRef {
  payeeId: string;
  calendarId: string;
  periodId: string;
  currency: string;
  logPosition: number;
  statementDigest: string;
  postedLines: FrozenPostedLine[];
}

interface ReactionWaiter {
  position: number;
  resolve(): void;
  reject(error: Error): void;
}

export class PayoutReactions {
  private subscription: Subscription | null = null;
  private loop: Promise<void> | null = null;
  private state: PayoutReactionsStatus = 'stopped';
  private failure: Error | null = null;
  private checkpoint = 0;
  private checkpointSaved = 0;
  /** The log position of this process's latest append: read models must include it before the next reaction reads. */
  private ownWritesUpTo = 0;
  /** While changes recorded during a close are reviewed, the read models must hold the close itself. */
  private readFloor = 0;
  private waiters: ReactionWaiter[] = [];

  constructor(
    private readonly deps: PayoutDependencies,
    private readonly options: PayoutReactionsOptions = {},
  ) {}

  get status(): PayoutReactionsStatus {
    return this.state;
  }

  get lastError(): Error | null {
    return this.failure;
  }

  get position(): number {
    return this.checkpoint;
  }

  async start(): Promise<void> {
    if (this.state === 'running') return;
    this.failure = null;
    this.checkpoint = await this.deps.db.transaction(async (transaction) => {
      await transaction.run('CREATE TABLE IF NOT EXISTS process_checkpoints (process_name TEXT PRIMARY KEY, position INTEGER NOT NULL)');
      const row = await transaction.get<{ position: number }>('SELECT position FROM process_checkpoints WHERE process_name = ?', [PAYOUT_REACTIONS_NAME]);
      return row?.position ?? 0;
    });
    this.checkpointSaved = this.checkpoint;
    // Whatever an earlier run of this process appended is in the log by now: read models must hold it first.
    this.ownWritesUpTo = await this.deps.store.headPosition();
    this.subscription = this.deps.store.subscribeToAll({ afterPosition: this.checkpoint, filter: { eventTypes: REACTION_EVENT_TYPES } });
    this.state = 'running';
    this.loop = this.consume(this.subscription);
  }

  async stop(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = null;
    if (subscription) await subscription.stop();
    if (this.loop) await this.loop;
    this.loop = null;
    if (this.state === 'running') this.state = 'stopped';
    if (this.checkpoint > this.checkpointSaved) await this.saveCheckpoint();
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.reject(this.failure ?? new Error('Payout reactions stopped'));
  }

  /** Resolves once every reaction to events at or before `position` has been carried out. */
  async waitForPosition(position: number): Promise<void> {
    for (;;) {
      if (this.state === 'failed' && this.failure) throw this.failure;
      const next = await this.deps.store.readAll({ afterPosition: this.checkpoint, maxCount: 1, filter: { eventTypes: REACTION_EVENT_TYPES } });
      if (next.length === 0 || next[0]!.position > position) return;
      if (this.state !== 'running') throw new Error('Payout reactions are not running');
      await new Promise<void>((resolve, reject) => {
        this.waiters.push({ position: next[0]!.position, resolve, reject });
        // The reaction may have been carried out while the log was read.
        this.settleWaiters();
      });
    }
  }

  private async consume(subscription: Subscription): Promise<void> {
    try {
      let skipped = 0;
      for await (const event of subscription) {
        const reacted = await this.react(event as ReactionEvent);
        this.checkpoint = event.position;
        if (reacted || ++skipped >= CHECKPOINT_EVERY) {
          await this.saveCheckpoint();
          skipped = 0;
        }
        this.settleWaiters();
      }
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error));
      this.state = 'failed';
      await this.subscription?.stop();
      const waiters = this.waiters;
      this.waiters = [];
      for (const waiter of waiters) waiter.reject(this.failure);
      this.options.onError?.(this.failure);
    }
  }

  private settleWaiters(): void {
    const remaining: ReactionWaiter[] = [];
    for (const waiter of this.waiters) {
      if (waiter.position <= this.checkpoint) waiter.resolve();
      else remaining.push(waiter);
    }
    this.waiters = remaining;
  }

  private async saveCheckpoint(): Promise<void> {
    const position = this.checkpoint;
    await this.deps.db.transaction((transaction) =>
      transaction.run(
        'INSERT INTO process_checkpoints (process_name, position) VALUES (?, ?) ON CONFLICT (process_name) DO UPDATE SET position = excluded.position',
        [PAYOUT_REACTIONS_NAME, position],
      ),
    );
    this.checkpointSaved = position;
  }

  /** Carries out the reaction to one event; false when the event needs none. */
  private async react(event: ReactionEvent): Promise<boolean> {
    switch (event.type) {
      case 'CreditsAllocated':
        // The first allocation is the deal closing: late, when its credit date is in a closed period. A later one
        // corrects its credits.
        if (event.data.previousCredits.length === 0) {
          return this.adjustForCredits(event, event.data.credits, { kind: 'deal_closed_late', reference: event.data.dealId });
        }
        return this.adjustForCredits(event, [...event.data.previousCredits, ...event.data.credits], { kind: 'credit_corrected', reference: event.data.dealId });
      case 'DealAmended':
        return this.adjustForCredits(event, [...event.data.previousCredits, ...event.data.credits], { kind: 'deal_amended', reference: event.data.dealId });
      case 'DealCancelled':
        return this.clawBack(event);
      case 'PlanVersionPublished':
        return this.adjustForPlan(event);
      case 'PeriodClosed':
        return this.reviewChangesDuringClose(event);
      default:
        return false;
    }
  }

  /**
   * A close freezes statements as the read model stood at its log position, and lands a little later. A change
   * recorded in between may have been reacted to before the close was visible (and found nothing frozen): react to
   * those again now. Reactions are idempotent, so one that did see the close posts nothing more.
   */
  private async reviewChangesDuringClose(event: ReactionEvent & PeriodClosedEvent): Promise<boolean> {
    const logPosition = event.data.statements.reduce((lowest, statement) => Math.min(lowest, statement.logPosition), event.position);
    let after = logPosition;
    let reacted = false;
    this.readFloor = event.position;
    try {
      for (;;) {
        const changes = await this.deps.store.readAll({ afterPosition: after, maxCount: 500, filter: { eventTypes: CHANGE_EVENT_TYPES } });
        const within = changes.filter((change) => change.position < event.position);
        for (const change of within) reacted = (await this.react(change as ReactionEvent)) || reacted;
        if (within.length < changes.length || changes.length < 500) return reacted;
        after = changes[changes.length - 1]!.position;
      }
    } finally {
      this.readFloor = 0;
    }
  }

  private async readModelsFor(event: RecordedEvent): Promise<void> {
    await this.deps.readModelsAt(Math.max(event.position, this.ownWritesUpTo, this.readFloor));
  }

  private contextFor(event: RecordedEvent, effect: string): CommandContext {
    return {
      actor: SYSTEM_ACTOR,
      correlationId: event.metadata.correlationId,
      causationId: event.eventId,
      commandId: `${PAYOUT_REACTIONS_NAME}:${event.eventId}:${effect}`,
      now: () => new Date(),
      newId: () => randomUUID(),
    };
  }

  private async adjustForCredits(event: ReactionEvent, credits: readonly Credit[], cause: Omit<AdjustmentCause, 'eventId' | 'position'>): Promise<boolean> {
    const byPayee = new Map<string, Set<string>>();
    for (const credit of credits) byPayee.set(credit.payeeId, (byPayee.get(credit.payeeId) ?? new Set()).add(credit.creditDate));
    let frozen: FrozenRef[] = [];
    for (const [payeeId, dates] of byPayee) frozen.push(...(await this.frozenFor(event, payeeId, [...dates])));
    if (frozen.length === 0) return false;
    frozen = uniqueFrozen(frozen);
    for (const ref of frozen) await this.adjust(event, ref, { ...cause, eventId: event.eventId, position: event.position }, null);
    return true;
  }

  private async adjustForPlan(event: ReactionEvent & PlanVersionPublished): Promise<boolean> {
    const { planId, planVersion } = event.data;
    await this.readModelsFor(event);
    const calendarId = calendarIdOf(planVersion);
    const refs = await this.deps.db.read(async (reader) => {
      const rows = await reader.all<PayoutStatementRow & { ends_on: string }>(
        `SELECT s.*, p.ends_on FROM payout_statements s JOIN payout_periods p ON p.calendar_id = s.calendar_id AND p.period_id = s.period_id
         WHERE s.calendar_id = ? AND p.ends_on >= ? AND s.payee_id IN (SELECT payee_id FROM statement_assignments WHERE plan_id = ?)
         ORDER BY s.starts_on, s.payee_id`,
        [calendarId, planVersion.effectiveFrom, planId],
      );
      return rows.map(frozenRefOfRow);
    });
    if (refs.length === 0) return false;
    for (const ref of refs) await this.adjust(event, ref, { kind: 'plan_fixed', reference: planVersion.id, eventId: event.eventId, position: event.position }, null);
    return true;
  }

  /** The frozen statements the payee's credits dated on these days count in. */
  private async frozenFor(event: RecordedEvent, payeeId: string, creditDates: readonly string[]): Promise<FrozenRef[]> {
    await this.readModelsFor(event);
    return this.deps.db.read(async (reader) => {
      const versions = await readPublishedVersions(reader);
      const versionsByPlan = versionsByPlanOf(versions);
      const refs: FrozenRef[] = [];
      for (const date of creditDates) {
        const located = await locateStatement(reader, versions, versionsByPlan, payeeId, date);
        if (located === null) continue;
        const row = await reader.get<PayoutStatementRow>('SELECT * FROM payout_statements WHERE calendar_id = ? AND period_id = ? AND payee_id = ?', [
          located.calendarId,
          located.periodId,
          payeeId,
        ]);
        if (row !== undefined) refs.push(frozenRefOfRow(row));
      }
      return refs;
    });
  }

  /** The frozen statement as it was closed, reproduced from the log and checked against its digest. */
  private async reproduceFrozen(ref: FrozenRef): Promise<Statement> {
    const { statement } = await statementAtPosition(this.deps.store, this.deps.db, { payeeId: ref.payeeId, periodId: ref.periodId, position: ref.logPosition });
    if (statementDigestOf(statement, ref.postedLines) !== ref.statementDigest) {
      throw new Error(`The frozen statement of ${ref.payeeId} in ${ref.calendarId} ${ref.periodId} no longer reproduces its digest ${ref.statementDigest}`);
    }
    return statement;
  }

  /**
   * Recomputes a closed statement at the event's position and posts the difference from the frozen one, less earlier
   * adjustments, in the calendar's earliest open period. Deals cancelled since the close are settled by their
   * clawback: their lines are left out, and unless their clawback reduced attainment they keep counting as if the
   * cancellation had not happened. `cancelled` names a cancellation being clawed back right now.
   */
  private async adjust(event: RecordedEvent, ref: FrozenRef, cause: AdjustmentCause, cancelled: { dealId: string; reducesAttainment: boolean } | null): Promise<void> {
    // A statement frozen after the event already holds it (the period was closed, or closed again, since).
    if (event.position <= ref.logPosition) return;
    const { already, target } = await this.deps.db.read(async (reader) => ({
      already: await adjustmentsPostedFor(reader, ref),
      target: await earliestOpenPeriod(reader, ref.calendarId),
    }));
    // Never recompute at a position older than an adjustment already posted was computed at: replayed, an old event
    // finds the difference posted and posts nothing.
    const position = already.reduce((latest, posted) => Math.max(latest, posted.recomputedAtPosition), event.position);
    const frozen = await this.reproduceFrozen(ref);
    const settled = await this.settledCancellations(ref);
    if (cancelled !== null) settled.set(cancelled.dealId, cancelled.reducesAttainment);
    const keepCancelled = new Set([...settled].filter(([, reduces]) => !reduces).map(([dealId]) => dealId));
    const { statement: recomputed } = await statementAtPosition(this.deps.store, this.deps.db, {
      payeeId: ref.payeeId,
      periodId: ref.periodId,
      position,
      ignoreCancellationOf: keepCancelled,
    });
    const leaveOut = new Set(settled.keys());
    const adjustment = computePriorPeriodAdjustment({
      frozen: summaryOf(frozen, ref.currency, leaveOut),
      recomputed: summaryOf(recomputed, ref.currency, leaveOut),
      recomputedDigest: statementDigestOf(recomputed, []),
      causeDefault: cause,
      // What was adjusted on a settled deal is part of what its clawback settled.
      adjustmentsAlreadyPosted: already.filter((posted) => posted.dealId === null || !leaveOut.has(posted.dealId)),
      periods: [
        { periodId: ref.periodId, startsOn: periodOfId(ref.periodId)!.start, status: 'closed' },
        { periodId: target, startsOn: periodOfId(target)!.start, status: 'open' },
      ],
    });
    if (adjustment.lines.length === 0) return;
    const lines: PostedLine[] = adjustment.lines.map((line) => ({
      lineId: line.lineId,
      kind: 'adjustment',
      amount: line.amount,
      dealId: line.dealId,
      cause: line.cause,
      sourcePeriodId: line.sourcePeriodId,
      explanation: line.explanation,
      evidence: {
        sourceLines: line.sourceLines,
        frozenDigest: ref.statementDigest,
        frozenLogPosition: ref.logPosition,
        recomputedAtPosition: position,
      },
    }));
    await this.post(event, ref, target, { type: 'PostLines', data: { payeeId: ref.payeeId, currency: ref.currency, lines, postedBy: SYSTEM_ACTOR.id } }, `adjust:${ref.payeeId}:${ref.periodId}`);
  }

  /** Deals cancelled after this statement froze, by whether their clawback reduced attainment. */
  private async settledCancellations(ref: FrozenRef): Promise<Map<string, boolean>> {
    return this.deps.db.read(async (reader) => {
      const settled = new Map<string, boolean>();
      const clawbacks = await reader.all<Pick<PostedLineRow, 'deal_id' | 'line'>>(
        "SELECT deal_id, line FROM payout_posted_lines WHERE payee_id = ? AND calendar_id = ? AND source_period_id = ? AND kind = 'clawback'",
        [ref.payeeId, ref.calendarId, ref.periodId],
      );
      for (const row of clawbacks) {
        const evidence = (JSON.parse(row.line) as PostedLine).evidence;
        if (row.deal_id !== null) settled.set(row.deal_id, evidence?.reducesAttainment === true);
      }
      const waivers = await reader.all<{ deal_id: string }>('SELECT deal_id FROM payout_clawback_waivers WHERE payee_id = ? AND calendar_id = ? AND source_period_id = ?', [
        ref.payeeId,
        ref.calendarId,
        ref.periodId,
      ]);
      for (const row of waivers) settled.set(row.deal_id, false);
      return settled;
    });
  }

  private async clawBack(event: ReactionEvent & DealCancelled): Promise<boolean> {
    const { dealId, cancelDate, reversedCredits } = event.data;
    let reacted = false;
    const creditDates = new Map<string, string>();
    for (const credit of reversedCredits) creditDates.set(credit.payeeId, credit.creditDate);
    for (const [payeeId, creditDate] of creditDates) {
      const [ref] = await this.frozenFor(event, payeeId, [creditDate]);
      // Not frozen, or frozen after the cancellation (the statement already lost the deal): nothing was paid on it.
      if (ref === undefined || event.position <= ref.logPosition) continue;
      reacted = true;
      const assessmentId = clawbackLineIdFor(payeeId, dealId, event.eventId);
      const { alreadyAssessed, adjustedOnDeal, target } = await this.deps.db.read(async (reader) => ({
        alreadyAssessed:
          (await reader.get('SELECT 1 AS found FROM payout_posted_lines WHERE line_id = ?', [assessmentId])) !== undefined ||
          (await reader.get('SELECT 1 AS found FROM payout_clawback_waivers WHERE assessment_id = ?', [assessmentId])) !== undefined,
        adjustedOnDeal: await reader.all<{ amount: string }>(
          "SELECT amount FROM payout_posted_lines WHERE payee_id = ? AND calendar_id = ? AND source_period_id = ? AND deal_id = ? AND kind = 'adjustment'",
          [payeeId, ref.calendarId, ref.periodId, dealId],
        ),
        target: await targetForCancellation(reader, ref.calendarId, ref.periodId, cancelDate),
      }));
      if (alreadyAssessed) continue;
      const frozen = await this.reproduceFrozen(ref);
      const dealLines = frozen.lines.filter((line) => line.dealId === dealId && isPayableLine(line));
      const paid = [...dealLines.map((line) => line.amount), ...adjustedOnDeal.map((row) => row.amount)].reduce((sum, amount) => sum.plus(amount), new Money(0));
      const commissionPaid = formatMoney(Money.max(paid, new Money(0)), ref.currency);
      const version = await this.planVersionFor(payeeId, frozen, dealLines.map((line) => line.planVersionId), creditDate);
      const policy = clawbackPolicyOf(version);
      const deal = await getDeal(this.deps.db, dealId);
      const evidenceBase = { cancellationEventId: event.eventId, cancelledOn: cancelDate, creditDate, commissionPaid, frozenLines: dealLines.map(({ lineId, kind, amount }) => ({ lineId, kind, amount })) };
      if (policy === null) {
        const waiver: ClawbackWaiver = {
          assessmentId,
          payeeId,
          dealId,
          sourcePeriodId: ref.periodId,
          outcome: 'no_clawback_terms',
          explanation: `Deal ${dealId} was cancelled on ${cancelDate}, after period ${ref.periodId} closed; plan ${version?.id ?? '(none)'} has no clawback terms: nothing is clawed back.`,
          evidence: { ...evidenceBase, reducesAttainment: false },
        };
        await this.post(event, ref, target, { type: 'NoteClawbackWaived', data: { ...waiver, notedBy: SYSTEM_ACTOR.id } }, `clawback:${payeeId}`);
        continue;
      }
      const result = computeClawback(
        { payeeId, dealId, cancellationId: event.eventId, cancelledOn: cancelDate, creditDate, closeDate: deal?.closeDate ?? undefined, commissionPaid, currency: ref.currency, targetPeriodId: target },
        policy,
      );
      const evidence = { ...evidenceBase, windowEndsOn: result.windowEndsOn, percent: policy.percent ?? '100', window: policy.window, windowStartsFrom: policy.windowStartsFrom };
      if (result.line === null) {
        const waiver: ClawbackWaiver = {
          assessmentId,
          payeeId,
          dealId,
          sourcePeriodId: ref.periodId,
          outcome: result.outcome === 'clawed_back' ? 'nothing_to_claw_back' : result.outcome,
          explanation: result.explanation,
          evidence: { ...evidence, reducesAttainment: false },
        };
        await this.post(event, ref, target, { type: 'NoteClawbackWaived', data: { ...waiver, notedBy: SYSTEM_ACTOR.id } }, `clawback:${payeeId}`);
        continue;
      }
      const line: PostedLine = {
        lineId: result.line.lineId,
        kind: 'clawback',
        amount: result.line.amount,
        dealId,
        sourcePeriodId: ref.periodId,
        explanation: result.explanation,
        evidence: { ...evidence, reducesAttainment: result.reducesAttainment },
      };
      await this.post(event, ref, target, { type: 'PostLines', data: { payeeId, currency: ref.currency, lines: [line], postedBy: SYSTEM_ACTOR.id } }, `clawback:${payeeId}`);
      if (result.reducesAttainment) {
        await this.adjust(event, ref, { kind: 'deal_cancelled', reference: dealId, eventId: event.eventId, position: event.position }, { dealId, reducesAttainment: true });
      }
    }
    return reacted;
  }

  /** The plan version that priced the deal's lines, else the payee's deciding plan on the credit date. */
  private async planVersionFor(payeeId: string, frozen: Statement, planVersionIds: readonly (string | null)[], creditDate: string): Promise<PlanVersionInput | null> {
    return this.deps.db.read(async (reader) => {
      const versions = await readPublishedVersions(reader);
      const priced = planVersionIds.find((id) => id !== null);
      if (priced !== undefined) return versions.find((version) => version.id === priced) ?? null;
      const assignments = (await readAssignmentsOverlapping(reader, { id: frozen.periodId, start: frozen.periodStart, end: frozen.periodEnd }, [payeeId])).get(payeeId) ?? [];
      const versionsByPlan = versionsByPlanOf(versions);
      const planId = decidingPlanOf(assignments, versionsByPlan, { id: creditDate, start: creditDate, end: creditDate });
      if (planId === null) return null;
      const list = versionsByPlan.get(planId) ?? [];
      return [...list].reverse().find((version) => version.effectiveFrom <= creditDate) ?? list[0] ?? null;
    });
  }

  /**
   * Appends the effect to the target period, opening it if it never was. A target closed in the meantime is looked
   * up again (the calendar moved on), a few times.
   */
  private async post(event: RecordedEvent, ref: FrozenRef, target: string, command: PeriodCommand, effect: string): Promise<void> {
    let periodId = target;
    for (let attempt = 0; ; attempt++) {
      const period = periodOfId(periodId)!;
      const opening = { calendarId: ref.calendarId, periodId, startsOn: period.start, endsOn: period.end, openedBy: SYSTEM_ACTOR.id };
      const retarget = (lines: PostedLine[]) => lines.map((line) => ({ ...line, explanation: line.explanation?.replaceAll(` in ${target}`, ` in ${periodId}`) }));
      const effective: PeriodCommand = command.type === 'PostLines' ? { ...command, data: { ...command.data, lines: retarget(command.data.lines) } } : command;
      try {
        const outcome = await handleCommand(this.deps.store, periodStreamId(ref.calendarId, periodId), periodDeciderOpeningOnDemand(opening), effective, this.contextFor(event, effect));
        this.ownWritesUpTo = Math.max(this.ownWritesUpTo, outcome.position);
        return;
      } catch (error) {
        if (!(error instanceof DomainError) || error.code !== 'PERIOD.CLOSED' || attempt >= 3) throw error;
        await this.deps.readModelsAt(await this.deps.store.headPosition());
        periodId = await this.deps.db.read((reader) => earliestOpenPeriod(reader, ref.calendarId));
      }
    }
  }
}

function frozenRefOfRow(row: PayoutStatementRow): FrozenRef {
  return {
    payeeId: row.payee_id,
    calendarId: row.calendar_id,
    periodId: row.period_id,
    currency: row.currency,
    logPosition: row.log_position,
    statementDigest: row.statement_digest,
    postedLines: JSON.parse(row.posted_lines) as FrozenPostedLine[],
  };
}

function uniqueFrozen(refs: readonly FrozenRef[]): FrozenRef[] {
  const seen = new Map<string, FrozenRef>();
  for (const ref of refs) seen.set(`${ref.payeeId}|${ref.calendarId}|${ref.periodId}`, ref);
  return [...seen.values()];
}

/** Which calendar period the payee's credit dated `date` counts in: the period of the plan that decides it. */
async function locateStatement(
  reader: ReadModelReader,
  versions: readonly PlanVersionInput[],
  versionsByPlan: Map<string, PlanVersionInput[]>,
  payeeId: string,
  date: string,
): Promise<{ calendarId: string; periodId: string } | null> {
  const day = { id: date, start: date, end: date };
  const assignments = (await readAssignmentsOverlapping(reader, day, [payeeId])).get(payeeId) ?? [];
  const periodId = statementPeriodIdOf(assignments, versionsByPlan, date);
  const period = periodOfId(periodId)!;
  const planId = decidingPlanOf(assignments, versionsByPlan, period);
  if (planId === null) return null;
  const version = versions.find((candidate) => candidate.planId === planId);
  return version === undefined ? null : { calendarId: calendarIdOf(version), periodId };
}

/** The first period after the calendar's latest frozen one: where corrections of closed periods go. */
async function earliestOpenPeriod(reader: ReadModelReader, calendarId: string): Promise<string> {
  const latest = await reader.get<Pick<PayoutPeriodRow, 'period_id'>>(
    "SELECT period_id FROM payout_periods WHERE calendar_id = ? AND status IN ('closed', 'approved', 'paid') ORDER BY starts_on DESC LIMIT 1",
    [calendarId],
  );
  if (latest === undefined) throw new Error(`Calendar ${calendarId} has no closed period to correct`);
  return nextPeriodId(latest.period_id);
}

/** The open period of the cancellation date, or the earliest open one when that period is closed already. */
async function targetForCancellation(reader: ReadModelReader, calendarId: string, sourcePeriodId: string, cancelDate: string): Promise<string> {
  const earliest = await earliestOpenPeriod(reader, calendarId);
  const ofCancellation = periodIdOfDate(cancelDate, frequencyOfPeriodId(sourcePeriodId)!);
  return periodOfId(ofCancellation)!.start > periodOfId(earliest)!.start ? ofCancellation : earliest;
}

/** Adjustments already posted for the frozen statement, per source line they corrected, with the deal they were for. */
async function adjustmentsPostedFor(reader: ReadModelReader, ref: FrozenRef): Promise<(AdjustmentAlreadyPosted & { dealId: string | null; recomputedAtPosition: number })[]> {
  const rows = await reader.all<Pick<PostedLineRow, 'line' | 'deal_id'>>(
    "SELECT line, deal_id FROM payout_posted_lines WHERE payee_id = ? AND calendar_id = ? AND source_period_id = ? AND kind = 'adjustment'",
    [ref.payeeId, ref.calendarId, ref.periodId],
  );
  const already: (AdjustmentAlreadyPosted & { dealId: string | null; recomputedAtPosition: number })[] = [];
  for (const row of rows) {
    const line = JSON.parse(row.line) as PostedLine;
    const sourceLines = (line.evidence?.sourceLines ?? []) as AdjustmentSourceLine[];
    const recomputedAtPosition = typeof line.evidence?.recomputedAtPosition === 'number' ? line.evidence.recomputedAtPosition : 0;
    for (const source of sourceLines) already.push({ sourceLineId: source.lineId, amount: source.amount, dealId: row.deal_id, recomputedAtPosition });
  }
  return already;
}

/** The payable lines of a statement as payouts read them, leaving out the lines of deals a clawback settles. */
function summaryOf(statement: Statement, currency: string, leaveOut: ReadonlySet<string>): StatementSummary {
  const lines: StatementLineSummary[] = statement.lines
    .filter((line) => isPayableLine(line) && !(line.dealId !== null && leaveOut.has(line.dealId)))
    .map((line) => ({ lineId: line.lineId, kind: line.kind, amount: line.amount, dealId: line.dealId }));
  const total = lines.reduce((sum, line) => sum.plus(line.amount), new Money(0));
  // A period without a plan in force is in 'XXX'; its (empty) lines take the frozen statement's currency.
  return { payeeId: statement.payeeId, periodId: statement.periodId, currency, lines, totalEarned: formatMoney(total, currency) };
}
