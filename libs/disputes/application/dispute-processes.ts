import type { Actor, EventStore } from '#lib/event-store/event-store.port.js';
import type { ReadModelDb } from '#lib/projections/read-model.port.js';
import type { CommandContext } from '#lib/shared/application/command-context.js';
import { DomainError } from '#lib/shared/domain/domain-error.js';
import { allocateCredits } from '#lib/crediting/application/deal-commands.js';
import { disputeAdjustmentLineId, type DisputeRemedy, type OpenDispute, type ResolutionState } from '../domain/dispute.decider.js';
import { businessDateOf, escalateDispute, loadDispute, recordDisputeRemedy } from './dispute-commands.js';

/**
 * The two durable dispute processes. Their state is the `dispute-process-state` projection (a checkpointed fold of
 * the log, see dispute-process-state.projection.ts); their side effects are commands whose ids are derived from what
 * they act on, so that running them again, after a crash or a restart or a rebuild, changes nothing that was done:
 *
 * - Escalation: every unresolved dispute past its due date (as of the service clock's today) and not yet escalated
 *   for that due date gets EscalateDispute, command id `dispute-escalation:<dispute>:<due date>`.
 * - Resolution remedies: each resolution with a remedy is carried out exactly once.
 *   A credit correction re-allocates the deal through crediting, command id `dispute-remedy:<dispute>:<n>:credits`
 *   (the deal stream answers a repeat from the events it already has). An adjustment goes to the payee's earliest
 *   open period in three recorded steps: the target period is recorded on the dispute first; the line (id
 *   `dispute:<dispute>:<n>`) is posted into that period, which posts a line id once; then the dispute records it
 *   posted. After a crash the recorded target is reused, and a target that has since closed is asked whether it
 *   holds the line before another period is chosen, so the amount lands in one period only.
 */

export interface PeriodRef {
  calendarId: string;
  periodId: string;
}

export interface DisputeAdjustmentLine {
  lineId: string;
  payeeId: string;
  /** Rounded to the currency's minor unit; negative when a reopened dispute takes back part of an earlier approval. */
  amount: string;
  currency: string;
  disputeId: string;
  resolutionNumber: number;
}

/** 'already_posted' when the period holds the line id, whether or not the period has closed since. */
export type PostLineResult = 'posted' | 'already_posted' | 'period_closed';

/** Where dispute adjustments are posted: the payouts machinery. */
export interface DisputeAdjustmentPort {
  /** The payee's earliest open period, or null when none is open (the remedy waits for one). */
  earliestOpenPeriod(payeeId: string): Promise<PeriodRef | null>;
  postLine(period: PeriodRef, line: DisputeAdjustmentLine, context: CommandContext): Promise<PostLineResult>;
}

export interface DisputeProcessOptions {
  now(): Date;
  newId(): string;
  /** Told about a dispute a process could not act on this time (it tries again on the next run). */
  onProblem?(message: string, error: unknown): void;
}

export const ESCALATION_ACTOR: Actor = { id: 'process:dispute-escalation', role: 'system' };
export const REMEDY_ACTOR: Actor = { id: 'process:dispute-remedies', role: 'system' };

export interface RemedyRunResult {
  done: string[];
  waiting: string[];
  failed: string[];
}

/** Most disputes one run of a process takes on; the rest wait for the next run. */
const ROWS_PER_RUN = 500;

export class DisputeProcesses {
  constructor(
    private readonly store: EventStore,
    private readonly readModels: ReadModelDb,
    private readonly adjustments: DisputeAdjustmentPort,
    private readonly options: DisputeProcessOptions,
  ) {}

  /** Escalates every dispute past its due date today; returns the ids escalated now. */
  async escalateOverdue(): Promise<string[]> {
    const today = businessDateOf(this.options.now());
    const due = await this.readModels.read((reader) =>
      reader.all<{ dispute_id: string; due_on: string }>(
        `SELECT dispute_id, due_on FROM dispute_process_due
         WHERE due_on < ? AND (escalated_due_on IS NULL OR escalated_due_on <> due_on) ORDER BY due_on, dispute_id LIMIT ?`,
        [today, ROWS_PER_RUN],
      ),
    );
    const escalated: string[] = [];
    for (const row of due) {
      const context = this.contextFor(ESCALATION_ACTOR, `dispute-escalation:${row.dispute_id}:${row.due_on}`, `dispute-escalation:${row.dispute_id}`, null);
      try {
        const outcome = await escalateDispute(this.store, { disputeId: row.dispute_id }, context);
        if (outcome.events.length > 0 && !outcome.replayed) escalated.push(row.dispute_id);
      } catch (error) {
        // The process state trails the log: the dispute may have been resolved, or answered, since it was read.
        if (error instanceof DomainError && (error.code === 'DISPUTE.CLOSED' || error.code === 'DISPUTE.NOT_OVERDUE')) continue;
        this.options.onProblem?.(`Could not escalate dispute ${row.dispute_id}`, error);
      }
    }
    return escalated;
  }

  /** Carries out every remedy still pending. */
  async carryOutRemedies(): Promise<RemedyRunResult> {
    const pending = await this.readModels.read((reader) =>
      reader.all<{ dispute_id: string; resolution_number: number; event_id: string; correlation_id: string }>(
        'SELECT dispute_id, resolution_number, event_id, correlation_id FROM dispute_process_remedies ORDER BY position LIMIT ?',
        [ROWS_PER_RUN],
      ),
    );
    const result: RemedyRunResult = { done: [], waiting: [], failed: [] };
    for (const row of pending) {
      const key = `${row.dispute_id}#${row.resolution_number}`;
      try {
        const status = await this.carryOut(row.dispute_id, row.resolution_number, row.event_id, row.correlation_id);
        result[status].push(key);
      } catch (error) {
        result.waiting.push(key);
        this.options.onProblem?.(`Could not carry out the remedy of dispute ${row.dispute_id}, resolution ${row.resolution_number}`, error);
      }
    }
    return result;
  }

  private contextFor(actor: Actor, commandId: string, correlationId: string, causationId: string | null): CommandContext {
    return { actor, correlationId, causationId, commandId, now: this.options.now, newId: this.options.newId };
  }

  private async carryOut(disputeId: string, resolutionNumber: number, causeEventId: string, correlationId: string): Promise<keyof RemedyRunResult> {
    const dispute = await loadDispute(this.store, disputeId);
    if (dispute.status === 'none') throw new Error(`Dispute ${disputeId} has a pending remedy but no stream`);
    const resolution = dispute.resolutions.find((candidate) => candidate.resolutionNumber === resolutionNumber);
    if (resolution === undefined || resolution.remedy === null) throw new Error(`Dispute ${disputeId} has no remedy for resolution ${resolutionNumber}`);
    // The process state trails the stream: what the stream says is done is done.
    if (resolution.remedyStatus === 'done') return 'done';
    if (resolution.remedyStatus === 'failed') return 'failed';
    const step = (name: string) => this.contextFor(REMEDY_ACTOR, `dispute-remedy:${disputeId}:${resolutionNumber}:${name}`, correlationId, causeEventId);
    const record = (outcome: Parameters<typeof recordDisputeRemedy>[1]['outcome'], name: string) =>
      recordDisputeRemedy(this.store, { disputeId, resolutionNumber, outcome }, step(name));
    const remedy: DisputeRemedy = resolution.remedy;
    if (remedy.kind === 'credit_correction') {
      const { correction } = remedy;
      let dealRevision: number;
      try {
        const outcome = await allocateCredits(
          this.store,
          {
            dealId: correction.dealId,
            primarySplits: correction.primarySplits,
            ...(correction.overlays !== undefined ? { overlays: correction.overlays } : {}),
            ...(correction.creditDate !== undefined ? { creditDate: correction.creditDate } : {}),
          },
          step('credits'),
        );
        dealRevision = outcome.revision;
      } catch (error) {
        if (error instanceof DomainError && error.kind !== 'unavailable') {
          // The deal refuses the correction (cancelled since, a payee gone): say so on the dispute, do not retry forever.
          await record({ kind: 'failed', code: error.code, message: error.message }, 'failed');
          return 'failed';
        }
        throw error;
      }
      await record({ kind: 'credits_corrected', dealId: correction.dealId, dealRevision }, 'recorded');
      return 'done';
    }
    return this.postAdjustment(dispute, resolution, remedy, record, step);
  }

  private async postAdjustment(
    dispute: OpenDispute,
    resolution: ResolutionState,
    remedy: Extract<DisputeRemedy, { kind: 'adjustment' }>,
    record: (outcome: Parameters<typeof recordDisputeRemedy>[1]['outcome'], name: string) => Promise<unknown>,
    step: (name: string) => CommandContext,
  ): Promise<keyof RemedyRunResult> {
    const line: DisputeAdjustmentLine = {
      lineId: disputeAdjustmentLineId(dispute.disputeId, resolution.resolutionNumber),
      payeeId: dispute.payeeId,
      amount: remedy.amount,
      currency: remedy.currency,
      disputeId: dispute.disputeId,
      resolutionNumber: resolution.resolutionNumber,
    };
    // Each target is numbered, so a period chosen again later (it reopened) is still recorded as the current one.
    let targetsRecorded = resolution.targets.length;
    const target = async (): Promise<PeriodRef | null> => {
      const period = await this.adjustments.earliestOpenPeriod(dispute.payeeId);
      if (period !== null) await record({ kind: 'adjustment_targeted', ...period }, `target:${++targetsRecorded}`);
      return period;
    };
    let period: PeriodRef | null = resolution.targets[resolution.targets.length - 1] ?? (await target());
    // A period can close between choosing it and posting into it; a few tries, then the next run.
    for (let attempt = 0; attempt < 3 && period !== null; attempt++) {
      const result = await this.adjustments.postLine(period, line, step('line'));
      if (result !== 'period_closed') {
        await record({ kind: 'adjustment_posted', ...period, lineId: line.lineId }, 'posted');
        return 'done';
      }
      const closed: PeriodRef = period;
      period = await target();
      if (period !== null && period.calendarId === closed.calendarId && period.periodId === closed.periodId) break;
    }
    return 'waiting';
  }
}
