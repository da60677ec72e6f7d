import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { DuplicateEventIdError, type NewEvent } from '../event-store.port.js';
import { planFilter, prepareAppend } from './event-mapping.js';

describe('port filters as EventStoreDB server-side filters', () => {
  it('sends stream prefixes to the server and checks event types on the client', () => {
    const plan = planFilter({ streamPrefixes: ['deal-', 'credit-'], eventTypes: ['DealClosedWon'] }, 64);
    expect(plan.server).toMatchObject({ filterOn: 'streamName', prefixes: ['deal-', 'credit-'], maxSearchWindow: 64 });
    expect(plan.accepts('deal-1', 'DealClosedWon')).toBe(true);
    expect(plan.accepts('deal-1', 'DealCancelled')).toBe(false);
    expect(plan.accepts('dispute-1', 'DealClosedWon')).toBe(false);
  });

  it('sends event types alone as an anchored alternation of the exact names', () => {
    const plan = planFilter({ eventTypes: ['Deal.Closed', 'Credit+Allocated'] }, 64);
    expect(plan.server).toMatchObject({ filterOn: 'eventType' });
    const regex = new RegExp((plan.server as { regex: string }).regex);
    expect(['Deal.Closed', 'Credit+Allocated'].every((type) => regex.test(type))).toBe(true);
    expect(['DealXClosed', 'Deal.ClosedWon', 'XDeal.Closed', 'CreditAllocated'].some((type) => regex.test(type))).toBe(false);
  });

  it("keeps EventStoreDB's own $-streams out, on the server and on the client", () => {
    for (const filter of [undefined, {}, { streamPrefixes: [''] }, { eventTypes: ['$statsCollected'] }]) {
      expect(planFilter(filter, 64).accepts('$stats-127.0.0.1:2113', '$statsCollected')).toBe(false);
    }
    const plan = planFilter(undefined, 64);
    expect(plan.server).toMatchObject({ filterOn: 'streamName', regex: '^[^$]' });
    expect(new RegExp((plan.server as { regex: string }).regex).test('$users')).toBe(false);
    expect(plan.accepts('deal-1', 'DealClosedWon')).toBe(true);
  });
});

describe('an append prepared for EventStoreDB', () => {
  const event = (): NewEvent => ({
    eventId: randomUUID(),
    type: 'DealClosedWon',
    schemaVersion: 3,
    data: { amount: '10.00' },
    metadata: { actor: { id: 'u', role: 'admin' }, correlationId: 'c-1', causationId: null, commandId: null, occurredAt: '2026-01-01T00:00:00.000Z' },
  });

  it('keeps the port metadata whole and adds the schema version and the server correlation id', () => {
    const newEvent = event();
    const [data] = prepareAppend('deal-1', [newEvent], 0).eventData;
    expect(data).toMatchObject({ id: newEvent.eventId, type: 'DealClosedWon', contentType: 'application/json', data: newEvent.data });
    expect(data.metadata).toEqual({ ...newEvent.metadata, schemaVersion: 3, $correlationId: 'c-1' });
  });

  it('refuses a repeated id, a non-uuid id and a malformed expected revision before anything is sent', () => {
    const repeated = event();
    expect(() => prepareAppend('deal-1', [repeated, repeated], 'no_stream')).toThrow(DuplicateEventIdError);
    expect(() => prepareAppend('deal-1', [{ ...event(), eventId: randomUUID().toUpperCase() }], 'no_stream')).toThrow('lower-case uuid');
    expect(() => prepareAppend('deal-1', [event()], -1 as never)).toThrow(TypeError);
    expect(() => prepareAppend('', [event()], 'any')).toThrow(TypeError);
  });
});
