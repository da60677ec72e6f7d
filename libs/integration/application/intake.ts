import { DomainError } from '#lib/shared/domain/domain-error.js';

/** What became of one inbound message. Only `rejected` goes to the dead-letter topic. */
export type IntakeOutcome =
  | {
      /** applied: recorded now; already_applied: recorded before under the same id (a redelivery); unchanged: nothing to record. */
      status: 'applied' | 'already_applied' | 'unchanged';
      /** Global log position of the events recorded (0 when none). */
      position: number;
    }
  | {
      status: 'rejected';
      /** Stable code: the domain's (CREDIT.SHARES_NOT_100, PAYOUT.ALREADY_PAID, ...) or INTAKE.* for a bad message. */
      code: string;
      /** Why, for a person reading the dead-letter topic. */
      reason: string;
    };

/** Handles one inbound message value; throws only for failures worth retrying (the store, not the message). */
export type IntakeHandler = (value: Uint8Array) => Promise<IntakeOutcome>;

export const rejected = (code: string, reason: string): IntakeOutcome => ({ status: 'rejected', code, reason });

/** A domain rejection as a dead-letter reason, with its field messages. */
export function rejectionOf(error: DomainError): IntakeOutcome {
  const fields = error.fields.map((field) => `${field.field}: ${field.message}`).join('; ');
  return rejected(error.code, fields.length > 0 ? `${error.message} (${fields})` : error.message);
}
