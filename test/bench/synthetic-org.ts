import { randomUUID } from 'node:crypto';
import type { EventStore, NewEvent } from '#lib/event-store/event-store.port.js';
import type { DomainEvent } from '#lib/shared/domain/decider.js';
import type { PlanAssignmentInput, PlanVersionInput, QuotaInput } from '#lib/commissions/domain/commission-plan.js';
import type { CreditInput, StatementInput } from '#lib/commissions/domain/statement.js';
import { dealDecider, dealStreamId, type Credit, type DealCommand, type DealState } from '#lib/crediting/domain/deal.decider.js';
import { payeeDecider, payeeStreamId, type PayeeCommand, type PayeeState } from '#lib/organization/domain/payee.decider.js';
import { disputeDecider, disputeStreamId, type DisputeCommand, type DisputeState } from '#lib/disputes/domain/dispute.decider.js';
import { creditInputOf, periodOfId, quotaInputOf } from '#lib/statements/domain/statement-inputs.js';
import { fxStreamId, planAssignmentsStreamId, planStreamId } from '#lib/statements/domain/statement-sources.js';
import type { BenchSize } from './bench-types.js';

/**
 * The benchmarks' synthetic org, generated from a seed (no clock, no Math.random), so every run of every benchmark
 * sees the same data: payees under managers with monthly bookings quotas, one tiered plan (three marginal tiers over
 * attainment with a period cap), daily EUR/USD rates, deals closing over 2026 (one in five split 70/30, 5% in EUR,
 * one in fifty amended, one in ninety-seven cancelled) and disputes about some of them.
 *
 * Two views of the same generator:
 * - `writeOrgLog`: the org as an event log, events made by the real deciders and appended many streams at a time;
 * - `orgStatementInputs`: the commission engine's inputs for every payee-period (each payee owns
 *   `deals / payees` deals; a split deal credits 70% to its owner and 30% to a partner payee), in the statements
 *   projection's credit shape, for a full recompute and for the plain-SQL baseline over the same credits.
 */

/** large = 10,000 payees and 1,000,000 deals; each smaller size is ten times smaller. */
export const orgSizes: Readonly<Record<BenchSize, { payees: number; deals: number }>> = {
  small: { payees: 100, deals: 10_000 },
  medium: { payees: 1_000, deals: 100_000 },
  large: { payees: 10_000, deals: 1_000_000 },
};

/** Park–Miller minimal standard generator: reproducible, and not Math.random. */
export function seeded(seed: number): () => number {
  let state = seed % 2147483647;
  if (state <= 0) state += 2147483646;
  return () => {
    state = (state * 16807) % 2147483647;
    return (state - 1) / 2147483646;
  };
}

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');
const daysInMonth2026 = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const money = (cents: number): string => `${Math.floor(cents / 100)}.${pad(cents % 100)}`;

/** The plan's tiers, over attainment of the monthly bookings quota (percent), and its period cap. */
export const orgPlanTiers = [
  { from: 0, to: 50, rate: '0.04' },
  { from: 50, to: 100, rate: '0.08' },
  { from: 100, to: null, rate: '0.12' },
] as const;
export const orgPlanCapPerPeriod = '25000';

/** Three marginal tiers over attainment of a monthly bookings quota, with a period cap. */
export function orgPlan(): PlanVersionInput {
  return {
    id: 'ae-2026@1',
    planId: 'ae-2026',
    version: 1,
    effectiveFrom: '2026-01-01',
    currency: 'USD',
    periodFrequency: 'month',
    components: [
      {
        kind: 'rate_table',
        id: 'commission',
        measure: 'bookings',
        basis: 'attainment',
        mode: 'marginal',
        tiers: orgPlanTiers.map((tier) => ({ from: String(tier.from), to: tier.to === null ? null : String(tier.to), rate: tier.rate })),
        capPerPeriod: orgPlanCapPerPeriod,
      },
    ],
    capitalizable: false,
    benefitMonths: null,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The engine's view: statement inputs for every payee-period

export interface OrgShape {
  payees: number;
  dealsPerPayee: number;
}

export const orgShape = (payees: number, deals: number): OrgShape => ({ payees, dealsPerPayee: Math.round(deals / payees) });

/** A payee's own deals: `(payee + PARTNER_OFFSET) % payees` is the 30% partner of its split deals. */
const PARTNER_OFFSET = 5003;

interface OrgDeal {
  dealId: string;
  amountCents: number;
  closeDate: string;
  split: boolean;
}

function dealsOwnedBy(payee: number, shape: OrgShape): OrgDeal[] {
  const random = seeded(payee + 1);
  const deals: OrgDeal[] = [];
  for (let index = 0; index < shape.dealsPerPayee; index++) {
    const month = Math.floor(random() * 12);
    const day = 1 + Math.floor(random() * daysInMonth2026[month]!);
    deals.push({
      dealId: `d-${payee}-${index}`,
      amountCents: 100_000 + Math.floor(random() * 5_900_000),
      closeDate: `2026-${pad(month + 1)}-${pad(day)}`,
      split: random() < 0.2,
    });
  }
  return deals;
}

/** Every statement input of the payees in [from, to) over the twelve months of 2026, credits in the projection's shape. */
export function orgStatementInputs(from: number, to: number, shape: OrgShape): StatementInput[] {
  const planVersions = [orgPlan()];
  const assignments: PlanAssignmentInput[] = [];
  for (let payee = from; payee < to; payee++) assignments.push({ payeeId: `p${payee}`, planId: 'ae-2026', effectiveFrom: '2026-01-01', effectiveUntil: null });
  const inputs: StatementInput[] = [];
  let position = 0;
  const creditOf = (deal: OrgDeal, payeeId: string, sharePercent: string, kind: 'primary'): CreditInput => {
    const amount = money(deal.amountCents);
    const credit: Credit = { creditId: `${deal.dealId}:${payeeId}:${kind}`, dealId: deal.dealId, payeeId, kind, role: null, sharePercent, currency: 'USD', creditDate: deal.closeDate, amounts: {} };
    return creditInputOf(credit, { dealId: deal.dealId, amount, currency: 'USD', measures: { bookings: amount }, product: 'platform', dealType: 'new_business' }, { eventId: `e-${deal.dealId}`, position: ++position });
  };
  for (let payee = from; payee < to; payee++) {
    const payeeId = `p${payee}`;
    const byMonth: CreditInput[][] = Array.from({ length: 12 }, () => []);
    for (const deal of dealsOwnedBy(payee, shape)) byMonth[Number(deal.closeDate.slice(5, 7)) - 1]!.push(creditOf(deal, payeeId, deal.split ? '70' : '100', 'primary'));
    for (const deal of dealsOwnedBy((payee - PARTNER_OFFSET + shape.payees * 2) % shape.payees, shape)) {
      if (deal.split) byMonth[Number(deal.closeDate.slice(5, 7)) - 1]!.push(creditOf(deal, payeeId, '30', 'primary'));
    }
    const random = seeded(payee + 7);
    for (let month = 1; month <= 12; month++) {
      const periodId = `2026-${pad(month)}`;
      const quotas: QuotaInput[] = [quotaInputOf(periodId, 'bookings', String(200_000 + Math.floor(random() * 10) * 10_000))!];
      inputs.push({ payeeId, period: periodOfId(periodId)!, planVersions, assignments, quotas, fxRates: [], credits: byMonth[month - 1]! });
    }
  }
  return inputs;
}

// ---------------------------------------------------------------------------------------------------------------
// The log's view: the org as events

export interface OrgLogOptions {
  payees: number;
  deals: number;
  /** Seed of the deal generator. Default 2026. */
  seed?: number;
  /** One payee in ten manages the next ones (their managerId set). Default true. */
  hierarchy?: boolean;
  /** One deal in this many is disputed by its owner (0: none). Default 100. */
  disputeEvery?: number;
}

const metadata = { actor: { id: 'bench', role: 'admin' }, correlationId: 'synthetic-org', causationId: null, commandId: null, occurredAt: '2026-01-01T00:00:00.000Z' };
/** The events as the store takes them, each with a fresh id and `eventMetadata` (the org's by default). */
export const toNewEvents = (events: readonly DomainEvent[], eventMetadata: NewEvent['metadata'] = metadata): NewEvent[] =>
  events.map((event) => ({ eventId: randomUUID(), type: event.type, schemaVersion: 1, data: event.data, metadata: eventMetadata }));

export function decided<Command, Event extends DomainEvent, State>(decider: { decide(command: Command, state: State): Event[]; evolve(state: State, event: Event): State; initialState(): State }, commands: Command[]): Event[] {
  let state = decider.initialState();
  const events: Event[] = [];
  for (const command of commands) {
    const produced = decider.decide(command, state);
    for (const event of produced) state = decider.evolve(state, event);
    events.push(...produced);
  }
  return events;
}

async function inChunks<Item>(items: readonly Item[], size: number, work: (item: Item) => Promise<number>): Promise<number> {
  let appended = 0;
  for (let start = 0; start < items.length; start += size) for (const count of await Promise.all(items.slice(start, start + size).map(work))) appended += count;
  return appended;
}

const disputePolicy = { resolutionBusinessDays: { missing_credit: 10, wrong_split: 10, wrong_rate: 15, clawback: 15, other: 20 }, informationBusinessDays: 5 };

/** Writes the org's log (seeded: the same every time, bar event ids); returns how many events it holds. */
export async function writeOrgLog(store: EventStore, options: OrgLogOptions): Promise<number> {
  const { payees, deals } = options;
  const hierarchy = options.hierarchy ?? true;
  const disputeEvery = options.disputeEvery ?? 100;
  const random = seeded(options.seed ?? 2026);
  const plan = orgPlan();
  let appended = 0;
  await store.append(planStreamId(plan.planId), toNewEvents([
    { type: 'PlanVersionDrafted', data: { planId: plan.planId, version: 1, planVersion: plan } },
    { type: 'PlanVersionPublished', data: { planId: plan.planId, version: 1, planVersion: plan } },
  ]), 'no_stream');
  appended += 2;
  const fxEvents: DomainEvent[] = [];
  for (let month = 1; month <= 12; month++) {
    for (let day = 1; day <= daysInMonth2026[month - 1]!; day++) {
      fxEvents.push({ type: 'FxRateRecorded', data: { fromCurrency: 'EUR', toCurrency: 'USD', date: `2026-${pad(month)}-${pad(day)}`, rate: (1.05 + random() / 10).toFixed(4) } });
    }
  }
  await store.append(fxStreamId('EUR', 'USD'), toNewEvents(fxEvents), 'no_stream');
  appended += fxEvents.length;
  const payeeIds = Array.from({ length: payees }, (_, index) => `p${index}`);
  // Managers (the first tenth) are onboarded before the payees they manage.
  const managers = hierarchy ? Math.max(1, Math.floor(payees / 10)) : 0;
  const onboard = async (payeeId: string) => {
    const index = Number(payeeId.slice(1));
    const managerId = index < managers || managers === 0 ? null : `p${index % managers}`;
    const commands: PayeeCommand[] = [
      { type: 'OnboardPayee', payeeId, name: `Payee ${payeeId}`, managerId, territory: 'NA', currency: 'USD', startDate: '2026-01-01', manager: { found: managerId !== null, managersAbove: [] } },
      ...Array.from({ length: 12 }, (_, month): PayeeCommand => ({ type: 'SetQuota', payeeId, periodId: `2026-${pad(month + 1)}`, measure: 'bookings', amount: String(200_000 + (index % 10) * 10_000), currency: 'USD' })),
    ];
    const events = decided<PayeeCommand, DomainEvent, PayeeState>(payeeDecider as never, commands);
    await store.append(payeeStreamId(payeeId), toNewEvents(events), 'no_stream');
    await store.append(planAssignmentsStreamId(payeeId), toNewEvents([{ type: 'PlanAssigned', data: { assignmentId: 'ae-2026@2026-01-01', payeeId, planId: 'ae-2026', effectiveFrom: '2026-01-01', effectiveUntil: null } }]), 'no_stream');
    return events.length + 1;
  };
  appended += await inChunks(payeeIds.slice(0, managers), 200, onboard);
  appended += await inChunks(payeeIds.slice(managers), 200, onboard);
  // Deals close in date order over the year, one in ten back-dated by up to two weeks.
  const dealIndexes = Array.from({ length: deals }, (_, index) => index);
  const disputed: { dealId: string; owner: string }[] = [];
  appended += await inChunks(dealIndexes, 500, async (index) => {
    const dayOfYear = Math.min(364, Math.floor((index / deals) * 365) - (random() < 0.1 ? Math.floor(random() * 14) : 0));
    let month = 0;
    let day = Math.max(0, dayOfYear);
    while (day >= daysInMonth2026[month]!) day -= daysInMonth2026[month++]!;
    const owner = payeeIds[Math.floor(random() * payees)]!;
    const partner = payeeIds[Math.floor(random() * payees)]!;
    const split = random() < 0.2 && partner !== owner;
    const dealId = `d${index}`;
    const commands: DealCommand[] = [
      {
        type: 'CloseDealWon',
        dealId,
        ownerPayeeId: owner,
        amount: money(100_000 + Math.floor(random() * 5_900_000)),
        currency: random() < 0.05 ? 'EUR' : 'USD',
        closeDate: `2026-${pad(month + 1)}-${pad(day + 1)}`,
        product: random() < 0.5 ? 'platform' : 'services',
        dealType: 'new_business',
        primarySplits: split ? [{ payeeId: owner, sharePercent: '70' }, { payeeId: partner, sharePercent: '30' }] : undefined,
        overlays: [],
        knownPayeeIds: [owner, partner],
      },
    ];
    if (index % 50 === 7) commands.push({ type: 'AmendDeal', dealId, amount: money(200_000 + Math.floor(random() * 1_000_000)), reason: 'repriced' });
    if (index % 97 === 11) commands.push({ type: 'CancelDeal', dealId, cancelDate: '2026-12-31', reason: 'withdrawn' });
    if (disputeEvery > 0 && index % disputeEvery === 3) disputed.push({ dealId, owner });
    const events = decided<DealCommand, DomainEvent, DealState>(dealDecider as never, commands);
    await store.append(dealStreamId(dealId), toNewEvents(events), 'no_stream');
    return events.length;
  });
  appended += await inChunks(disputed, 500, async ({ dealId, owner }) => {
    const disputeId = `DSP-${dealId}`;
    const command: DisputeCommand = {
      type: 'FileDispute',
      disputeId,
      payeeId: owner,
      subject: { kind: 'deal', dealId },
      category: 'missing_credit',
      amountClaimed: '250.00',
      currency: 'USD',
      description: 'A credit on this deal is missing from my statement',
      evidenceReferences: [`crm:${dealId}`],
      actor: { id: `rep-${owner}`, role: 'rep', payeeId: owner },
      today: '2026-12-31',
      policy: disputePolicy,
      payee: { exists: true, currency: 'USD' },
      subjectFacts: { exists: true, concernsPayee: true },
    };
    const events = decided<DisputeCommand, DomainEvent, DisputeState>(disputeDecider as never, [command]);
    await store.append(disputeStreamId(disputeId), toNewEvents(events), 'no_stream');
    return events.length;
  });
  return appended;
}
