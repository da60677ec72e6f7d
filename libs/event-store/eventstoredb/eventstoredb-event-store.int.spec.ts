import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { EventStoreDBClient } from '@eventstore/db-client';
import { describeEventStoreContract } from '../contract/event-store.contract.js';
import { ConcurrencyError, DuplicateEventIdError, type NewEvent, type RecordedEvent, type Subscription } from '../event-store.port.js';
import { EventStoreDbTestDouble } from '../../../test/support/eventstoredb/eventstoredb-test-double.js';
import { EventStoreDbEventStore, type EventStoreDbEventStoreOptions } from './eventstoredb-event-store.js';

/**
 * The adapter over real gRPC with the real client: always against the test double in test/support (no
 * EventStoreDB server can be installed where this runs, CI included), and also against a real server when
 * EVENTSTORE_CONNECTION_STRING names one (see the adapter's README for starting one with Docker).
 */
describe('EventStoreDB adapter over gRPC, against the test double', () => {
  let double: EventStoreDbTestDouble;
  const opened: EventStoreDbEventStore[] = [];
  const open = (options: Partial<EventStoreDbEventStoreOptions> = {}) => {
    const store = EventStoreDbEventStore.open({ connectionString: double.connectionString, ...options });
    opened.push(store);
    return store;
  };

  beforeAll(async () => {
    double = await EventStoreDbTestDouble.start();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });
  afterAll(async () => {
    await double.stop();
  });

  describeEventStoreContract('EventStoreDB (test double)', async () => {
    const store = EventStoreDbEventStore.open({ connectionString: double.connectionString });
    return { store, dispose: () => store.close() };
  });

  describe('EventStoreDbEventStore', () => {
    it('sends the expected revision exactly and turns WrongExpectedVersion into ConcurrencyError', async () => {
      const store = open();
      const streamId = `deal-${randomUUID()}`;
      const sentFor = () => double.probe.appendRequests.filter((request) => request.streamName === streamId).map((request) => request.expected);

      await store.append(streamId, [newEvent(), newEvent()], 'no_stream');
      await store.append(streamId, [newEvent()], 1);
      await store.append(streamId, [newEvent()], 'stream_exists');
      const stale = await rejectionOf(store.append(streamId, [newEvent()], 1));
      const ahead = await rejectionOf(store.append(streamId, [newEvent()], 7));
      const exists = await rejectionOf(store.append(streamId, [newEvent()], 'no_stream'));
      const missing = await rejectionOf(store.append(`deal-${randomUUID()}`, [newEvent()], 'stream_exists'));

      // Every check was the server's: the adapter sent each expected revision as it was given.
      expect(sentFor()).toEqual([
        { kind: 'no_stream' },
        { kind: 'revision', revision: 1 },
        { kind: 'stream_exists' },
        { kind: 'revision', revision: 1 },
        { kind: 'revision', revision: 7 },
        { kind: 'no_stream' },
      ]);
      for (const error of [stale, ahead, exists, missing]) expect(error).toBeInstanceOf(ConcurrencyError);
      expect(stale).toMatchObject({ streamId, expectedRevision: 1, actualRevision: 3 });
      expect(ahead).toMatchObject({ expectedRevision: 7, actualRevision: 3 });
      expect(exists).toMatchObject({ expectedRevision: 'no_stream', actualRevision: 3 });
      expect(missing).toMatchObject({ expectedRevision: 'stream_exists', actualRevision: -1 });
    });

    it('sends an append again when its answer is lost with the connection, and the server, knowing its event ids, writes it once', async () => {
      const store = open();
      const streamId = `deal-${randomUUID()}`;
      await store.append(streamId, [newEvent()], 'no_stream');
      const events = [newEvent(), newEvent()];
      double.probe.appendAnswersToLose = 1;

      const result = await store.append(streamId, events, 0);

      const requests = double.probe.appendRequests.filter((request) => request.streamName === streamId).slice(1);
      expect(requests.map((request) => request.eventIds)).toEqual([events.map((event) => event.eventId), events.map((event) => event.eventId)]);
      const recorded = await store.readStream(streamId);
      expect(recorded.map((event) => event.eventId)).toEqual([expect.any(String), ...events.map((event) => event.eventId)]);
      expect(result).toEqual({ nextExpectedRevision: 2, position: recorded[2].position });
    });

    it('keeps a subscription going when the server drops it and when the server restarts: no gap, no duplicate', async () => {
      const store = open();
      const prefix = `resume${randomUUID().slice(0, 8)}-`;
      const subscription = store.subscribeToAll({ afterPosition: await store.headPosition(), filter: { streamPrefixes: [prefix] } });
      const written: string[] = [];
      const received: RecordedEvent[] = [];
      const iterator = subscription[Symbol.asyncIterator]();
      const appendOne = async (index: number) => {
        const event = newEvent();
        written.push(event.eventId);
        await store.append(`${prefix}deal-${index % 3}`, [event], 'any');
      };
      const receiveUpTo = async (count: number) => {
        while (received.length < count) {
          const next = await iterator.next();
          if (next.done) throw new Error('The subscription ended');
          received.push(next.value);
        }
      };

      for (let index = 0; index < 10; index++) await appendOne(index);
      await receiveUpTo(5);
      expect(double.dropSubscriptions()).toBeGreaterThan(0);
      for (let index = 10; index < 20; index++) await appendOne(index);
      await receiveUpTo(15);
      await double.restart(100);
      for (let index = 20; index < 30; index++) await appendOne(index);
      await receiveUpTo(30);
      await subscription.stop();

      expect(received.map((event) => event.eventId)).toEqual(written);
      expectIncreasing(received.map((event) => event.position));
      const resubscriptions = double.probe.subscriptionRequests.filter((request) => request.filter?.prefixes.includes(prefix));
      expect(resubscriptions.length).toBeGreaterThanOrEqual(3);
    });

    it('starts a subscription while the server is down and delivers from where it was asked once the server is back', async () => {
      const store = open();
      const streamId = `deal-${randomUUID()}`;
      await store.append(streamId, [newEvent(), newEvent()], 'no_stream');
      const [, second] = await store.readStream(streamId);
      const later = newEvent();
      const restarted = double.restart(300);
      const subscription = store.subscribeToAll({ afterPosition: second.position - 1, filter: { streamPrefixes: [streamId] } });
      const receiving = take(subscription, 2);
      await restarted;
      await store.append(streamId, [later], 1);
      const received = await receiving;
      await subscription.stop();
      expect(received.map((event) => event.eventId)).toEqual([second.eventId, later.eventId]);
    });

    it('after a drop, resumes a filtered subscription from the server checkpoint past the events its filter passed over', async () => {
      const store = open({ subscriptionSearchWindow: 4 });
      const prefix = `sparse${randomUUID().slice(0, 8)}-`;
      const subscription = store.subscribeToAll({ afterPosition: await store.headPosition(), filter: { streamPrefixes: [prefix] } });
      await store.append(`${prefix}deal`, [newEvent()], 'no_stream');
      const [first] = await take(subscription, 1);
      const checkpointsBefore = double.probe.checkpointsSent.length;
      for (let index = 0; index < 12; index++) await store.append(`other-${randomUUID()}`, [newEvent()], 'no_stream');
      await waitFor(() => double.probe.checkpointsSent.length >= checkpointsBefore + 3);
      const lastCheckpoint = double.probe.checkpointsSent.at(-1) as number;

      double.dropSubscriptions();
      const later = newEvent();
      await store.append(`${prefix}deal`, [later], 0);
      const [next] = await take(subscription, 1);
      await subscription.stop();

      expect(next.eventId).toBe(later.eventId);
      const resumedAt = double.probe.subscriptionRequests.filter((request) => request.filter?.prefixes.includes(prefix)).at(-1)?.start;
      expect(resumedAt).toMatchObject({ kind: 'position' });
      const resumedPosition = (resumedAt as { commit: number }).commit;
      expect(resumedPosition).toBeGreaterThan(first.position);
      expect(resumedPosition).toBeLessThanOrEqual(lastCheckpoint);
    });

    it("leaves EventStoreDB's own events out of reads, subscriptions and the head position", async () => {
      const store = open();
      const head = await store.headPosition();
      const subscription = store.subscribeToAll({ afterPosition: head });
      double.appendSystemEvent('$stats-127.0.0.1:2113', '$statsCollected');
      expect(await store.headPosition()).toBe(head);
      expect(await store.readAll({ afterPosition: head })).toEqual([]);

      const event = newEvent();
      await store.append(`deal-${randomUUID()}`, [event], 'no_stream');
      double.appendSystemEvent('$stats-127.0.0.1:2113', '$statsCollected');
      const [received] = await take(subscription, 1);
      await subscription.stop();
      expect(received.eventId).toBe(event.eventId);
      expect(await store.headPosition()).toBe(received.position);
      expect((await store.readAll({ afterPosition: head })).map((recorded) => recorded.eventId)).toEqual([event.eventId]);
    });

    it("carries the port's metadata in the EventStoreDB event metadata, with the server's correlation keys", async () => {
      const store = open();
      const streamId = `deal-${randomUUID()}`;
      const event = newEvent();
      const causationId = randomUUID();
      event.metadata = { ...event.metadata, causationId, commandId: 'close-deal-7' };
      await store.append(streamId, [event], 'no_stream');

      const client = EventStoreDBClient.connectionString(double.connectionString);
      const raw = [];
      for await (const resolved of client.readStream(streamId)) raw.push(resolved.event);
      await client.dispose();
      expect(raw).toHaveLength(1);
      expect(raw[0]).toMatchObject({ id: event.eventId, type: event.type, isJson: true, data: event.data });
      expect(raw[0]?.metadata).toEqual({
        ...event.metadata,
        schemaVersion: event.schemaVersion,
        $correlationId: event.metadata.correlationId,
        $causationId: causationId,
      });
    });

    it('knows the event ids another instance wrote before it started: reusing one in another stream is a DuplicateEventIdError', async () => {
      const first = open();
      const event = newEvent();
      await first.append(`deal-${randomUUID()}`, [event], 'no_stream');
      const second = open();
      const otherStream = `deal-${randomUUID()}`;
      const error = await rejectionOf(second.append(otherStream, [event], 'no_stream'));
      expect(error).toBeInstanceOf(DuplicateEventIdError);
      expect(await second.readStream(otherStream)).toEqual([]);
    });

    it('refuses what EventStoreDB cannot hold for the ledger before sending anything', async () => {
      const store = open();
      const before = double.probe.appendRequests.length;
      await expect(store.append('$settings', [newEvent()], 'any')).rejects.toThrow(TypeError);
      await expect(store.append(`deal-${randomUUID()}`, [{ ...newEvent(), eventId: 'deal-42-closed' }], 'no_stream')).rejects.toThrow('uuid');
      await expect(store.readStream('$users')).rejects.toThrow(TypeError);
      expect(double.probe.appendRequests.length).toBe(before);
    });
  });
});

const realServer = process.env.EVENTSTORE_CONNECTION_STRING;
if (realServer) {
  describe('EventStoreDB adapter against the server at EVENTSTORE_CONNECTION_STRING', () => {
    describeEventStoreContract('EventStoreDB (real server)', async () => {
      const store = EventStoreDbEventStore.open({ connectionString: realServer });
      return { store, dispose: () => store.close() };
    });
  });
}

function newEvent(type = 'DealClosedWon'): NewEvent {
  return {
    eventId: randomUUID(),
    type,
    schemaVersion: 2,
    data: { dealId: randomUUID(), amount: '1000.00', currency: 'USD' },
    metadata: {
      actor: { id: 'user-1', role: 'analyst' },
      correlationId: randomUUID(),
      causationId: null,
      commandId: null,
      occurredAt: '2026-01-15T10:00:00.000Z',
    },
  };
}

async function take(subscription: Subscription, count: number): Promise<RecordedEvent[]> {
  const iterator = subscription[Symbol.asyncIterator]();
  const received: RecordedEvent[] = [];
  while (received.length < count) {
    const next = await iterator.next();
    if (next.done) throw new Error(`Subscription ended after ${received.length} of ${count} events`);
    received.push(next.value);
  }
  return received;
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('The condition did not come true in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('Expected the promise to reject, but it resolved');
}

function expectIncreasing(values: readonly number[]): void {
  for (let index = 1; index < values.length; index++) expect(values[index]).toBeGreaterThan(values[index - 1]);
}
