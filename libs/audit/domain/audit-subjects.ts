import { DEAL_STREAM_PREFIX } from '#lib/crediting/domain/deal.decider.js';
import { PAYEE_STREAM_PREFIX } from '#lib/organization/domain/payee.decider.js';
import { PLAN_ASSIGNMENTS_STREAM_PREFIX } from '#lib/plans/domain/plan-assignment.decider.js';
import { PLAN_STREAM_PREFIX } from '#lib/plans/domain/plan.decider.js';

/**
 * What an event is about, for the audit trail: the payees, deals, plans, periods and disputes it touches. An
 * auditor asks "who did what to payee P-1" and gets every event that names P-1, whether in P-1's own stream
 * (onboarding, quota), in a deal that credits them (or took a credit back), in a plan assignment, or in a close.
 */
export const auditSubjectKinds = ['payee', 'deal', 'plan', 'period', 'dispute'] as const;
export type AuditSubjectKind = (typeof auditSubjectKinds)[number];

export interface AuditSubject {
  kind: AuditSubjectKind;
  id: string;
}

/** How a stream's id names its subject. A context with a new kind of stream adds a rule here. */
export interface StreamSubjectRule {
  streamPrefix: string;
  subjectOf(streamId: string): AuditSubject | null;
}

const rest = (kind: AuditSubjectKind, prefix: string): StreamSubjectRule => ({
  streamPrefix: prefix,
  subjectOf: (streamId) => ({ kind, id: streamId.slice(prefix.length) }),
});

/** Period streams are `period-<calendarId>-<periodId>`, the period a month "2026-03", a quarter "2026-Q1" or a year. */
const periodRule: StreamSubjectRule = {
  streamPrefix: 'period-',
  subjectOf: (streamId) => {
    const match = /-(\d{4}(?:-(?:0[1-9]|1[0-2]|Q[1-4]))?)$/.exec(streamId);
    return match ? { kind: 'period', id: match[1] } : null;
  },
};

/** Longest prefix first: `plan-assignments-` must win over `plan-`. */
export const streamSubjectRules: readonly StreamSubjectRule[] = [
  rest('payee', PLAN_ASSIGNMENTS_STREAM_PREFIX),
  rest('payee', PAYEE_STREAM_PREFIX),
  rest('deal', DEAL_STREAM_PREFIX),
  rest('plan', PLAN_STREAM_PREFIX),
  periodRule,
  rest('dispute', 'dispute-'),
].sort((left, right) => right.streamPrefix.length - left.streamPrefix.length);

/**
 * Event data fields, at any depth (`primarySplits[].payeeId`, `payouts[].payeeId`), that name a subject. Events
 * name what they touch with these field names across contexts; a new reference adds its field here.
 */
export const dataSubjectFields: Readonly<Record<string, AuditSubjectKind>> = {
  payeeId: 'payee',
  ownerPayeeId: 'payee',
  payeeIds: 'payee',
  dealId: 'deal',
  planId: 'plan',
  periodId: 'period',
  disputeId: 'dispute',
};

/** Objects nested deeper than this are not searched: event data is shallow, and a pathological event must not stall the projection. */
const depthMax = 8;

function collect(value: unknown, depth: number, into: AuditSubject[]): void {
  if (depth > depthMax || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) collect(item, depth + 1, into);
    return;
  }
  for (const [field, fieldValue] of Object.entries(value)) {
    const kind = dataSubjectFields[field];
    if (kind !== undefined) {
      for (const id of Array.isArray(fieldValue) ? fieldValue : [fieldValue]) {
        if (typeof id === 'string' && id !== '') into.push({ kind, id });
      }
    }
    if (typeof fieldValue === 'object') collect(fieldValue, depth + 1, into);
  }
}

/** The distinct subjects of an event: its stream's and those its data names, in the order first found. */
export function auditSubjectsOf(event: { streamId: string; data: unknown }): AuditSubject[] {
  const found: AuditSubject[] = [];
  const rule = streamSubjectRules.find((candidate) => event.streamId.startsWith(candidate.streamPrefix));
  const fromStream = rule?.subjectOf(event.streamId);
  if (fromStream) found.push(fromStream);
  collect(event.data, 0, found);
  const seen = new Set<string>();
  return found.filter((subject) => {
    const key = `${subject.kind}\u0000${subject.id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
