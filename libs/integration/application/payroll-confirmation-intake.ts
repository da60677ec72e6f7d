import { fromBinary } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { EventStore } from '#lib/event-store/event-store.port.js';
import { handleCommand } from '#lib/shared/application/handle-command.js';
import type { Decider } from '#lib/shared/domain/decider.js';
import { DomainError } from '#lib/shared/domain/domain-error.js';
import { periodDecider, periodStreamId, type PeriodCommand, type PeriodEvent, type PeriodState } from '#lib/payouts/domain/period.decider.js';
import { PayoutPaidConfirmationSchema, type PayoutPaidConfirmation } from '../contracts/generated/incentive_ledger/payroll/v1/payout_confirmations_pb.js';
import { nameBasedUuid } from './feed-message.js';
import { rejected, rejectionOf, type IntakeOutcome } from './intake.js';

/** Who records payroll's confirmations; stored in every event's metadata and as `confirmedBy`. */
export const PAYROLL_CONFIRMATIONS_ACTOR = { id: 'payroll-confirmations', role: 'system' } as const;

/**
 * Marks a payout paid when payroll confirms it (topic payroll.confirmations.v1), with the period's own command
 * (ConfirmPayoutsPaid for that one payee, paid on the confirmation's business date). Idempotent by payout id: the command id is `payroll:<payout id>`, so a
 * redelivered confirmation records nothing. A confirmation of the same payout under another payroll reference, of a
 * payout the period does not hold (unknown, or voided by a reopen) or of one not approved is rejected, to the
 * dead-letter topic.
 */
export async function applyPayrollConfirmation(store: EventStore, value: Uint8Array, clock: () => Date): Promise<IntakeOutcome> {
  let confirmation: PayoutPaidConfirmation;
  try {
    confirmation = fromBinary(PayoutPaidConfirmationSchema, value);
  } catch (error) {
    return rejected('INTAKE.UNDECODABLE', `Not a ${PayoutPaidConfirmationSchema.typeName}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const { payeeId, calendarId, periodId, payoutId, payrollReference } = confirmation;
  const missing = Object.entries({ payeeId, calendarId, periodId, payoutId, payrollReference }).filter(([, text]) => text.trim() === '');
  if (missing.length > 0) return rejected('INTAKE.FIELD_MISSING', `Required: ${missing.map(([field]) => field).join(', ')}`);
  const paidAt = confirmation.paidAt === undefined ? null : timestampDate(confirmation.paidAt);
  // The business date paid on: as payroll gives it, else the UTC date of the instant it gives (decision 0057).
  const paidOn = confirmation.paidOn !== '' ? confirmation.paidOn : paidAt !== null && !Number.isNaN(paidAt.getTime()) ? paidAt.toISOString().slice(0, 10) : null;
  if (paidOn === null) return rejected('INTAKE.FIELD_MISSING', 'Required: paidOn (or paidAt)');
  const commandId = `payroll:${payoutId}`;
  try {
    const outcome = await handleCommand(
      store,
      periodStreamId(calendarId, periodId),
      confirmingPayout(payeeId, payoutId),
      { type: 'ConfirmPayoutsPaid', data: { confirmedBy: PAYROLL_CONFIRMATIONS_ACTOR.id, payrollReference, paidOn, payeeIds: [payeeId] } },
      {
        actor: { ...PAYROLL_CONFIRMATIONS_ACTOR },
        correlationId: nameBasedUuid(`payroll-confirmation\u0000${payoutId}`),
        causationId: null,
        commandId,
        now: () => paidAt ?? clock(),
        newId: (() => {
          let named = 0;
          return () => nameBasedUuid(`payroll-confirmation\u0000${payoutId}\u0000${named++}`);
        })(),
      },
    );
    if (outcome.replayed) {
      const paidUnder = outcome.state.statementsByPayee[payeeId]?.payrollReference;
      if (paidUnder !== payrollReference) {
        return rejected('PAYOUT.ALREADY_PAID', `Payout ${payoutId} was already confirmed paid under ${paidUnder ?? 'another reference'}`);
      }
      return { status: 'already_applied', position: outcome.position };
    }
    return { status: outcome.events.length === 0 ? 'unchanged' : 'applied', position: outcome.position };
  } catch (error) {
    if (error instanceof DomainError) return rejectionOf(error);
    throw error;
  }
}

/** The period decider, refusing first a payout id that is not the payee's payout in the period as it stands. */
function confirmingPayout(payeeId: string, payoutId: string): Decider<PeriodCommand, PeriodEvent, PeriodState> {
  return {
    ...periodDecider,
    decide(command, state) {
      const statement = state.statementsByPayee[payeeId];
      if (statement === undefined || statement.payoutId !== payoutId) {
        throw new DomainError('PAYOUT.UNKNOWN', `Period ${state.periodId ?? '(not opened)'} holds no payout ${payoutId} for payee ${payeeId}`, 'not_found');
      }
      return periodDecider.decide(command, state);
    },
  };
}
