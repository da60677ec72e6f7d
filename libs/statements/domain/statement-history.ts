import type { PlanAssignmentInput, PlanVersionInput, QuotaInput } from '#lib/commissions/domain/commission-plan.js';
import type { CreditInput, FxRateInput, StatementInput } from '#lib/commissions/domain/statement.js';
import type { Credit } from '#lib/crediting/domain/deal.decider.js';
import { assertNever } from '#lib/shared/domain/decider.js';
import {
  assignmentInputOf,
  creditInputOf,
  fxRateInputOf,
  periodOfId,
  quotaInputOf,
  statementPeriodIdOf,
  versionsByPlanOf,
  type AssignmentRecord,
  type DealFacts,
} from './statement-inputs.js';
import type { SourceRef, StatementSourceEvent } from './statement-sources.js';

/** A source event with where it sits in the log. */
export type SourcedEvent = StatementSourceEvent & SourceRef;

/**
 * One payee's statement inputs folded from events, in log order: the reference reading of the log that the
 * as-of query runs on events recorded up to a past time. Pure: the caller reads the streams (the payee's own,
 * their assignments, the plans they were assigned to, the deals that ever credited them, the FX rates their
 * credits need) and hands the events over in position order.
 */
export class PayeeStatementHistory {
  payeeOnboarded = false;
  private readonly quotas = new Map<string, { periodId: string; measure: string; amount: string }>();
  private readonly assignments = new Map<string, AssignmentRecord>();
  private readonly publishedVersions = new Map<string, PlanVersionInput>();
  private readonly fxRates = new Map<string, FxRateInput>();
  private readonly deals = new Map<string, DealFacts>();
  private readonly credits = new Map<string, CreditInput>();

  constructor(readonly payeeId: string) {}

  apply(event: SourcedEvent): void {
    const source: SourceRef = { eventId: event.eventId, position: event.position };
    switch (event.type) {
      case 'PayeeOnboarded':
        if (event.data.payeeId === this.payeeId) this.payeeOnboarded = true;
        return;
      case 'QuotaSet':
        if (event.data.payeeId !== this.payeeId) return;
        this.quotas.set(`${event.data.periodId}|${event.data.measure}`, { periodId: event.data.periodId, measure: event.data.measure, amount: event.data.amount });
        return;
      case 'DealClosedWon': {
        const { dealId, amount, currency, measures, product, dealType } = event.data;
        this.deals.set(dealId, { dealId, amount, currency, measures, product, dealType });
        return;
      }
      case 'CreditsAllocated':
        this.replaceCredits(event.data.dealId, event.data.previousCredits, event.data.credits, source);
        return;
      case 'DealAmended': {
        const previous = this.deals.get(event.data.dealId);
        if (previous !== undefined) {
          this.deals.set(event.data.dealId, { ...previous, amount: event.data.amount, measures: event.data.measures, product: event.data.product });
        }
        this.replaceCredits(event.data.dealId, event.data.previousCredits, event.data.credits, source);
        return;
      }
      case 'DealCancelled':
        this.replaceCredits(event.data.dealId, event.data.reversedCredits, [], source);
        return;
      case 'PlanVersionDrafted':
      case 'PlanDraftRevised':
        return;
      case 'PlanVersionPublished':
        this.publishedVersions.set(`${event.data.planId}#${event.data.version}`, event.data.planVersion);
        return;
      case 'PlanAssigned':
        if (event.data.payeeId !== this.payeeId) return;
        this.assignments.set(event.data.assignmentId, { ...event.data });
        return;
      case 'PlanAssignmentEnded': {
        const assignment = this.assignments.get(event.data.assignmentId);
        if (assignment !== undefined) this.assignments.set(event.data.assignmentId, { ...assignment, effectiveUntil: event.data.effectiveUntil });
        return;
      }
      case 'FxRateRecorded':
        this.fxRates.set(`${event.data.fromCurrency}|${event.data.toCurrency}|${event.data.date}`, fxRateInputOf(event.data));
        return;
      default:
        assertNever(event);
    }
  }

  /** Plan ids the payee has ever been assigned to (whose plan streams the caller should read). */
  assignedPlanIds(): string[] {
    return [...new Set([...this.assignments.values()].map((assignment) => assignment.planId))].sort();
  }

  /** Currencies of the payee's current credits (whose FX streams the caller should read). */
  creditCurrencies(): string[] {
    return [...new Set([...this.credits.values()].map((credit) => credit.currency))].sort();
  }

  planVersions(): PlanVersionInput[] {
    return [...this.publishedVersions.values()];
  }

  assignmentInputs(): PlanAssignmentInput[] {
    const inputs: PlanAssignmentInput[] = [];
    for (const record of this.assignments.values()) {
      const input = assignmentInputOf(record);
      if (input !== null) inputs.push(input);
    }
    return inputs;
  }

  /** The engine's input for one statement period, or null when the id is not a period id. */
  statementInput(periodId: string): StatementInput | null {
    const period = periodOfId(periodId);
    if (period === null) return null;
    const planVersions = this.planVersions();
    const assignments = this.assignmentInputs();
    const versionsByPlan = versionsByPlanOf(planVersions);
    const credits: CreditInput[] = [];
    for (const credit of this.credits.values()) {
      if (credit.creditDate < period.start || credit.creditDate > period.end) continue;
      if (statementPeriodIdOf(assignments, versionsByPlan, credit.creditDate) === periodId) credits.push(credit);
    }
    const quotas: QuotaInput[] = [];
    for (const quota of this.quotas.values()) {
      if (quota.periodId !== periodId) continue;
      const input = quotaInputOf(quota.periodId, quota.measure, quota.amount);
      if (input !== null) quotas.push(input);
    }
    return { payeeId: this.payeeId, period, planVersions, assignments, quotas, fxRates: [...this.fxRates.values()], credits };
  }

  private replaceCredits(dealId: string, previousCredits: readonly Credit[], credits: readonly Credit[], source: SourceRef): void {
    for (const credit of previousCredits) if (credit.payeeId === this.payeeId) this.credits.delete(credit.creditId);
    const deal = this.deals.get(dealId);
    for (const credit of credits) {
      if (credit.payeeId !== this.payeeId) continue;
      if (deal === undefined) throw new Error(`Deal ${dealId} credits ${this.payeeId} before it was closed`);
      this.credits.set(credit.creditId, creditInputOf(credit, deal, source));
    }
  }
}
