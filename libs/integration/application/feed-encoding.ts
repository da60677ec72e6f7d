import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { RecordedEvent } from '#lib/event-store/event-store.port.js';
import { SourceSchema, type Source } from '../contracts/generated/incentive_ledger/common/v1/common_pb.js';
import { AttainmentChangedSchema } from '../contracts/generated/incentive_ledger/attainment/v1/attainment_events_pb.js';
import { AdjustmentLineSchema, PayoutEventSchema } from '../contracts/generated/incentive_ledger/payouts/v1/payout_events_pb.js';
import type { AttainmentChange } from '../domain/attainment-feed.js';
import type { PayoutChange } from '../domain/payout-feed.js';
import { feedMessageId, type FeedMessage } from './feed-message.js';

/** The `schema` header: the fully qualified protobuf message name of the record's value. */
export const PAYOUT_EVENT_SCHEMA = PayoutEventSchema.typeName;
export const ATTAINMENT_CHANGED_SCHEMA = AttainmentChangedSchema.typeName;

/** The `event-type` header of each payout change. */
const payoutEventTypes = {
  approved: 'PayoutApproved',
  paid: 'PayoutPaid',
  adjusted: 'PayoutAdjusted',
  approval_voided: 'PayoutApprovalVoided',
} as const satisfies Record<PayoutChange['kind'], string>;

function sourceOf(event: RecordedEvent): Source {
  return create(SourceSchema, {
    ledgerEventId: event.eventId,
    ledgerEventType: event.type,
    ledgerPosition: BigInt(event.position),
    ledgerStreamId: event.streamId,
    correlationId: event.metadata.correlationId,
    actor: { id: event.metadata.actor.id, role: event.metadata.actor.role },
    occurredAt: timestampFromDate(new Date(event.metadata.occurredAt)),
    recordedAt: timestampFromDate(new Date(event.recordedAt)),
  });
}

function headersOf(event: RecordedEvent, eventId: string, eventType: string, schema: string): FeedMessage['headers'] {
  return {
    'event-id': eventId,
    'event-type': eventType,
    schema,
    'correlation-id': event.metadata.correlationId,
  };
}

/** One record per payout change; the message id is derived from the ledger event, the payee and the kind of change. */
export function encodePayoutChange(event: RecordedEvent, change: PayoutChange, topic: string): FeedMessage {
  const eventType = payoutEventTypes[change.kind];
  const eventId = feedMessageId(event.eventId, topic, `${change.kind}\u0000${change.payeeId}`);
  let value: Uint8Array;
  const base = { eventId, payeeId: change.payeeId, calendarId: change.calendarId, periodId: change.periodId, source: sourceOf(event) };
  switch (change.kind) {
    case 'approved': {
      const { payoutId, statementDigest, currency, netPayable, approvedBy } = change;
      value = toBinary(PayoutEventSchema, create(PayoutEventSchema, { ...base, change: { case: 'approved', value: { payoutId, statementDigest, currency, netPayable, approvedBy } } }));
      break;
    }
    case 'paid': {
      const { payoutId, payrollReference, confirmedBy } = change;
      value = toBinary(PayoutEventSchema, create(PayoutEventSchema, { ...base, change: { case: 'paid', value: { payoutId, payrollReference, confirmedBy } } }));
      break;
    }
    case 'adjusted': {
      const lines = change.lines.map((line) =>
        create(AdjustmentLineSchema, {
          lineId: line.lineId,
          kind: line.kind,
          amount: line.amount,
          ...(line.dealId ? { dealId: line.dealId } : {}),
          ...(line.sourcePeriodId !== undefined ? { sourcePeriodId: line.sourcePeriodId } : {}),
          ...(line.cause !== undefined ? { causeKind: line.cause.kind, causeReference: line.cause.reference } : {}),
        }),
      );
      value = toBinary(
        PayoutEventSchema,
        create(PayoutEventSchema, { ...base, change: { case: 'adjusted', value: { currency: change.currency, lines, postedBy: change.postedBy } } }),
      );
      break;
    }
    case 'approval_voided': {
      const { payoutId, reason, reopenedBy } = change;
      value = toBinary(PayoutEventSchema, create(PayoutEventSchema, { ...base, change: { case: 'approvalVoided', value: { payoutId, reason, reopenedBy } } }));
      break;
    }
  }
  return { topic, key: change.payeeId, value, headers: headersOf(event, eventId, eventType, PAYOUT_EVENT_SCHEMA) };
}

/** One record per changed attainment row; the message id is derived from the ledger event and the row. */
export function encodeAttainmentChange(event: RecordedEvent, change: AttainmentChange, topic: string): FeedMessage {
  const eventId = feedMessageId(event.eventId, topic, `${change.payeeId}\u0000${change.periodId}\u0000${change.measure}`);
  const value = toBinary(
    AttainmentChangedSchema,
    create(AttainmentChangedSchema, {
      eventId,
      payeeId: change.payeeId,
      periodId: change.periodId,
      measure: change.measure,
      currency: change.currency,
      credited: change.credited,
      ...(change.quota !== null ? { quota: change.quota } : {}),
      ...(change.attainmentPercent !== null ? { attainmentPercent: change.attainmentPercent } : {}),
      dealsCounted: change.dealsCounted,
      reason: change.reason,
      ...(change.dealId !== null ? { dealId: change.dealId } : {}),
      source: sourceOf(event),
    }),
  );
  return { topic, key: change.payeeId, value, headers: headersOf(event, eventId, 'AttainmentChanged', ATTAINMENT_CHANGED_SCHEMA) };
}
