import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import type { RecordedEvent } from '#lib/event-store/event-store.port.js';
import { AttainmentChangedSchema } from '../contracts/generated/incentive_ledger/attainment/v1/attainment_events_pb.js';
import { PayoutEventSchema } from '../contracts/generated/incentive_ledger/payouts/v1/payout_events_pb.js';
import type { AttainmentChange } from '../domain/attainment-feed.js';
import type { PayoutChange } from '../domain/payout-feed.js';
import type { PayoutFigures } from '#lib/payouts/domain/payout.js';
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

/**
 * The records are written field by field with protobuf's BinaryWriter rather than built with `create` and encoded
 * by reflection: the relay encodes every record it publishes, and this is several times faster. The output is the
 * same bytes `toBinary` gives for the same message (field-number order, defaults of implicit-presence fields left
 * out), which `feed-encoding.unit.spec.ts` checks against the generated code for every kind of record.
 */
const LENGTH_DELIMITED = WireType.LengthDelimited;
const VARINT = WireType.Varint;

/**
 * One writer for every record: `finish()` copies the record's bytes out and rewinds it, keeping its buffer, so a record
 * costs one allocation instead of a buffer grown from empty by doubling. Encoding is synchronous, so records never
 * interleave; a record that throws half-way is discarded before the writer is used again.
 */
const sharedWriter = new BinaryWriter();

function encodeWith(write: (writer: BinaryWriter) => void): Uint8Array {
  try {
    write(sharedWriter);
  } catch (error) {
    sharedWriter.finish();
    throw error;
  }
  return sharedWriter.finish();
}

/** A string field with implicit presence: left out when empty. */
function text(writer: BinaryWriter, fieldNo: number, value: string): void {
  if (value !== '') writer.tag(fieldNo, LENGTH_DELIMITED).string(value);
}

/** An optional string field (explicit presence): written when set, even when empty. */
function optionalText(writer: BinaryWriter, fieldNo: number, value: string | null | undefined): void {
  if (value !== null && value !== undefined) writer.tag(fieldNo, LENGTH_DELIMITED).string(value);
}

/** google.protobuf.Timestamp of an ISO-8601 instant (millisecond precision). */
function timestamp(writer: BinaryWriter, fieldNo: number, iso: string): void {
  const milliseconds = Date.parse(iso);
  const seconds = Math.floor(milliseconds / 1000);
  const nanos = (milliseconds - seconds * 1000) * 1_000_000;
  writer.tag(fieldNo, LENGTH_DELIMITED).fork();
  if (seconds !== 0) writer.tag(1, VARINT).int64(seconds);
  if (nanos !== 0) writer.tag(2, VARINT).int32(nanos);
  writer.join();
}

/** incentive_ledger.common.v1.Source */
function source(writer: BinaryWriter, fieldNo: number, event: RecordedEvent): void {
  writer.tag(fieldNo, LENGTH_DELIMITED).fork();
  text(writer, 1, event.eventId);
  text(writer, 2, event.type);
  if (event.position !== 0) writer.tag(3, VARINT).uint64(event.position);
  text(writer, 4, event.streamId);
  text(writer, 5, event.metadata.correlationId);
  writer.tag(6, LENGTH_DELIMITED).fork();
  text(writer, 1, event.metadata.actor.id);
  text(writer, 2, event.metadata.actor.role);
  writer.join();
  timestamp(writer, 7, event.metadata.occurredAt);
  timestamp(writer, 8, event.recordedAt);
  writer.join();
}

/** incentive_ledger.payouts.v1.PayoutFigures */
function figures(writer: BinaryWriter, fieldNo: number, payout: PayoutFigures): void {
  writer.tag(fieldNo, LENGTH_DELIMITED).fork();
  text(writer, 1, payout.grossEarned);
  for (const capitalized of payout.capitalized) {
    writer.tag(2, LENGTH_DELIMITED).fork();
    if (capitalized.benefitMonths !== 0) writer.tag(1, VARINT).uint32(capitalized.benefitMonths);
    text(writer, 2, capitalized.amount);
    writer.join();
  }
  text(writer, 3, payout.adjustments);
  text(writer, 4, payout.clawbacks);
  text(writer, 5, payout.earningsDeficitApplied);
  text(writer, 6, payout.drawKind ?? '');
  text(writer, 7, payout.drawPaid);
  text(writer, 8, payout.drawRecovered);
  text(writer, 9, payout.carryClosing.drawBalance);
  text(writer, 10, payout.carryClosing.earningsDeficit);
  writer.join();
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
  // incentive_ledger.payouts.v1.PayoutEvent
  const value = encodeWith((writer) => {
    text(writer, 1, eventId);
    text(writer, 2, change.payeeId);
    text(writer, 3, change.calendarId);
    text(writer, 4, change.periodId);
    source(writer, 5, event);
    switch (change.kind) {
      case 'approved':
        writer.tag(10, LENGTH_DELIMITED).fork();
        text(writer, 1, change.payoutId);
        text(writer, 2, change.statementDigest);
        text(writer, 3, change.currency);
        text(writer, 4, change.netPayable);
        text(writer, 5, change.approvedBy);
        figures(writer, 6, change.figures);
        writer.join();
        break;
      case 'paid':
        writer.tag(11, LENGTH_DELIMITED).fork();
        text(writer, 1, change.payoutId);
        text(writer, 2, change.payrollReference);
        text(writer, 3, change.confirmedBy);
        text(writer, 4, change.paidOn);
        text(writer, 5, change.currency);
        text(writer, 6, change.netPayable);
        writer.join();
        break;
      case 'adjusted':
        writer.tag(12, LENGTH_DELIMITED).fork();
        text(writer, 1, change.currency);
        for (const line of change.lines) {
          writer.tag(2, LENGTH_DELIMITED).fork();
          text(writer, 1, line.lineId);
          text(writer, 2, line.kind);
          text(writer, 3, line.amount);
          // A line without a deal has no deal id (null or absent alike).
          optionalText(writer, 4, line.dealId === null || line.dealId === undefined || line.dealId === '' ? null : line.dealId);
          optionalText(writer, 5, line.sourcePeriodId);
          optionalText(writer, 6, line.cause?.kind);
          optionalText(writer, 7, line.cause?.reference);
          optionalText(writer, 8, line.explanation);
          writer.join();
        }
        text(writer, 3, change.postedBy);
        writer.join();
        break;
      case 'approval_voided':
        writer.tag(13, LENGTH_DELIMITED).fork();
        text(writer, 1, change.payoutId);
        text(writer, 2, change.reason);
        text(writer, 3, change.reopenedBy);
        writer.join();
        break;
    }
  });
  return { topic, key: change.payeeId, value, headers: headersOf(event, eventId, eventType, PAYOUT_EVENT_SCHEMA) };
}

/** One record per changed attainment row; the message id is derived from the ledger event and the row. */
export function encodeAttainmentChange(event: RecordedEvent, change: AttainmentChange, topic: string): FeedMessage {
  const eventId = feedMessageId(event.eventId, topic, `${change.payeeId}\u0000${change.periodId}\u0000${change.measure}`);
  // incentive_ledger.attainment.v1.AttainmentChanged
  const value = encodeWith((writer) => {
    text(writer, 1, eventId);
    text(writer, 2, change.payeeId);
    text(writer, 3, change.periodId);
    text(writer, 4, change.measure);
    text(writer, 5, change.currency);
    text(writer, 6, change.credited);
    optionalText(writer, 7, change.quota);
    optionalText(writer, 8, change.attainmentPercent);
    if (change.dealsCounted !== 0) writer.tag(9, VARINT).uint32(change.dealsCounted);
    text(writer, 10, change.reason);
    optionalText(writer, 11, change.dealId);
    source(writer, 12, event);
  });
  return { topic, key: change.payeeId, value, headers: headersOf(event, eventId, 'AttainmentChanged', ATTAINMENT_CHANGED_SCHEMA) };
}
