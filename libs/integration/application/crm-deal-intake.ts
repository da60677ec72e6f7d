import { fromBinary } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { EventStore } from '#lib/event-store/event-store.port.js';
import type { CommandContext } from '#lib/shared/application/command-context.js';
import type { CommandOutcome } from '#lib/shared/application/handle-command.js';
import { DomainError } from '#lib/shared/domain/domain-error.js';
import { amendDeal, cancelDeal, closeDealWon, type CloseDealWonInput } from '#lib/crediting/application/deal-commands.js';
import type { DealState } from '#lib/crediting/domain/deal.decider.js';
import { DealEventSchema, type DealEvent } from '../contracts/generated/incentive_ledger/crm/v1/deal_events_pb.js';
import { nameBasedUuid } from './feed-message.js';
import { rejected, rejectionOf, type IntakeOutcome } from './intake.js';

/** Who records what the CRM sends; stored in every event's metadata. */
export const CRM_INTAKE_ACTOR = { id: 'crm-intake', role: 'system' } as const;

/**
 * Turns one CRM deal event (topic crm.deals.v1) into the deal command it stands for: closed won, amended or
 * cancelled, through the same command functions the HTTP API uses (libs/crediting).
 *
 * The CRM's event id is the idempotency key: the command id is `crm:<event id>`, so a redelivered message finds its
 * events already in the deal's stream and records nothing; event ids and the correlation id are derived from it too.
 * A message that cannot be decoded, lacks its ids, or that the domain rejects comes back as `rejected` (the consumer
 * sends it to the dead-letter topic and moves on). Anything else (the store failing) is thrown, to be retried.
 */
export async function applyCrmDealEvent(store: EventStore, value: Uint8Array, clock: () => Date): Promise<IntakeOutcome> {
  let event: DealEvent;
  try {
    event = fromBinary(DealEventSchema, value);
  } catch (error) {
    return rejected('INTAKE.UNDECODABLE', `Not a ${DealEventSchema.typeName}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (event.eventId.trim() === '') return rejected('INTAKE.EVENT_ID_MISSING', 'event_id is required: it is the idempotency key');
  if (event.dealId.trim() === '') return rejected('INTAKE.DEAL_ID_MISSING', 'deal_id is required');
  const context = crmCommandContext(event, clock);
  let outcome: CommandOutcome<DealState>;
  try {
    switch (event.change.case) {
      case 'closedWon':
        outcome = await closeDealWon(store, closeDealWonInput(event.dealId, event.change.value), context);
        break;
      case 'amended': {
        const amended = event.change.value;
        outcome = await amendDeal(
          store,
          {
            dealId: event.dealId,
            reason: amended.reason,
            ...(amended.amount !== undefined ? { amount: amended.amount } : {}),
            ...(Object.keys(amended.measures).length > 0 ? { measures: { ...amended.measures } } : {}),
            ...(amended.closeDate !== undefined ? { closeDate: amended.closeDate } : {}),
            ...(amended.product !== undefined ? { product: amended.product } : {}),
          },
          context,
        );
        break;
      }
      case 'cancelled':
        outcome = await cancelDeal(store, { dealId: event.dealId, cancelDate: event.change.value.cancelDate, reason: event.change.value.reason }, context);
        break;
      case undefined:
        return rejected('INTAKE.CHANGE_MISSING', 'The deal event names no change this version of the ledger knows (closed_won, amended, cancelled)');
    }
  } catch (error) {
    if (error instanceof DomainError) return rejectionOf(error);
    throw error;
  }
  return { status: outcome.replayed ? 'already_applied' : outcome.events.length === 0 ? 'unchanged' : 'applied', position: outcome.position };
}

function closeDealWonInput(dealId: string, won: Extract<DealEvent['change'], { case: 'closedWon' }>['value']): CloseDealWonInput {
  return {
    dealId,
    ownerPayeeId: won.ownerPayeeId,
    amount: won.amount,
    currency: won.currency,
    closeDate: won.closeDate,
    product: won.product,
    dealType: won.dealType,
    ...(Object.keys(won.measures).length > 0 ? { measures: { ...won.measures } } : {}),
    ...(won.primarySplits.length > 0 ? { primarySplits: won.primarySplits.map(({ payeeId, sharePercent }) => ({ payeeId, sharePercent })) } : {}),
    ...(won.overlays !== undefined ? { overlays: won.overlays.overlays.map(({ payeeId, sharePercent, role }) => ({ payeeId, sharePercent, role })) } : {}),
    ...(won.creditDate !== undefined ? { creditDate: won.creditDate } : {}),
  };
}

/** The command context of a CRM event: system actor, ids derived from the CRM event id, business time from the CRM. */
function crmCommandContext(event: DealEvent, clock: () => Date): CommandContext {
  const occurredAt = event.occurredAt === undefined ? null : timestampDate(event.occurredAt);
  let eventsNamed = 0;
  return {
    actor: { ...CRM_INTAKE_ACTOR },
    correlationId: nameBasedUuid(`crm-deal-event\u0000${event.eventId}`),
    causationId: null,
    commandId: `crm:${event.eventId}`,
    now: () => occurredAt ?? clock(),
    newId: () => nameBasedUuid(`crm-deal-event\u0000${event.eventId}\u0000${eventsNamed++}`),
  };
}
