import type { EventStore } from '#lib/event-store/event-store.port.js';
import type { ReadModelDb } from '#lib/projections/read-model.port.js';
import { loadDeal } from '#lib/crediting/application/deal-commands.js';
import { dealDecider } from '#lib/crediting/domain/deal.decider.js';
import { payeeExists } from '#lib/organization/application/payee-commands.js';
import { conflictError, notFoundError } from '#lib/shared/domain/domain-error.js';
import type { CreditCorrection, DisputeSubject, SubjectFacts } from '../domain/dispute.decider.js';

/**
 * What the dispute commands need to know about the things a dispute is about, looked up before the decider runs:
 * deals and credits from their streams (no lag), statement lines from the statements read model (a rep disputes a
 * line they have seen, so it is there).
 */
export interface DisputeSubjects {
  factsAbout(payeeId: string, subject: DisputeSubject): Promise<SubjectFacts>;
  /** Rejects a correction the deal would refuse (unknown deal, cancelled deal, bad shares, unknown payees). */
  checkCreditCorrection(correction: CreditCorrection): Promise<void>;
}

const unknown: SubjectFacts = { exists: false, concernsPayee: null };
const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= 300;

export class LedgerDisputeSubjects implements DisputeSubjects {
  constructor(
    private readonly store: EventStore,
    private readonly readModels: ReadModelDb,
  ) {}

  async factsAbout(payeeId: string, subject: DisputeSubject): Promise<SubjectFacts> {
    // Malformed subjects are the decider's to reject, with field messages; here they simply are not found.
    switch (subject?.kind) {
      case 'deal': {
        if (!isText(subject.dealId)) return unknown;
        const deal = await loadDeal(this.store, subject.dealId);
        if (deal.status === 'none') return unknown;
        // A cancelled deal has no credits left to say whose it was; its owner still knows it.
        if (deal.status === 'cancelled') return { exists: true, concernsPayee: deal.ownerPayeeId === payeeId ? true : null };
        return { exists: true, concernsPayee: deal.ownerPayeeId === payeeId || deal.credits.some((credit) => credit.payeeId === payeeId) };
      }
      case 'credit': {
        if (!isText(subject.dealId) || !isText(subject.creditId)) return unknown;
        const deal = await loadDeal(this.store, subject.dealId);
        if (deal.status === 'none') return unknown;
        const credit = deal.credits.find((candidate) => candidate.creditId === subject.creditId);
        return credit === undefined ? unknown : { exists: true, concernsPayee: credit.payeeId === payeeId };
      }
      case 'statement_line': {
        if (!isText(subject.periodId) || !isText(subject.lineId)) return unknown;
        const line = await this.readModels.read((reader) =>
          reader.get('SELECT 1 AS found FROM statement_lines WHERE payee_id = ? AND period_id = ? AND line_id = ?', [payeeId, subject.periodId, subject.lineId]),
        );
        return line === undefined ? unknown : { exists: true, concernsPayee: true };
      }
      case 'period':
        return { exists: true, concernsPayee: null };
      default:
        return unknown;
    }
  }

  async checkCreditCorrection(correction: CreditCorrection): Promise<void> {
    if (!isText(correction?.dealId)) return;
    const deal = await loadDeal(this.store, correction.dealId);
    if (deal.status === 'none') throw notFoundError('DEAL.NOT_FOUND', `Deal ${correction.dealId} has not been closed won`);
    if (deal.status === 'cancelled') throw conflictError('DEAL.CANCELLED', `Deal ${correction.dealId} was cancelled: its credits cannot be corrected`);
    const payeeIds = [...(correction.primarySplits ?? []), ...(correction.overlays ?? [])].map((split) => split?.payeeId).filter(isText);
    const known = (await Promise.all([...new Set(payeeIds)].map(async (payeeId) => ((await payeeExists(this.store, payeeId)) ? payeeId : null)))).filter(
      (payeeId): payeeId is string => payeeId !== null,
    );
    // The deal's own rules judge the splits; overlays left out roll up when the correction is carried out.
    dealDecider.decide(
      {
        type: 'AllocateCredits',
        dealId: correction.dealId,
        primarySplits: correction.primarySplits,
        overlays: correction.overlays ?? [],
        ...(correction.creditDate !== undefined ? { creditDate: correction.creditDate } : {}),
        knownPayeeIds: known,
      },
      deal,
    );
  }
}
