/**
 * A payout's id is derived, never drawn: the same payee, period and frozen statement digest always give the same
 * id, so approving twice (or a retried approval) names one payout, and payroll can dedupe on it. A reopened and
 * re-closed period whose statement changed gets a new digest and therefore a new payout id.
 *
 * Each part is percent-encoded so that no choice of ids can make two different triples collide.
 */
export interface PayoutIdParts {
  payeeId: string;
  periodId: string;
  statementDigest: string;
}

export const payoutIdFor = ({ payeeId, periodId, statementDigest }: PayoutIdParts): string =>
  ['payout', payeeId, periodId, statementDigest].map(encodeURIComponent).join(':');
