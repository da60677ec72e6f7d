import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  ConcurrencyError,
  DuplicateEventIdError,
  type EventMetadata,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
  type Subscription,
} from '../event-store.port.js';

/**
 * The behaviour every EventStore adapter must have, as one jest suite. An adapter's int spec calls
 * `describeEventStoreContract('name', createStore)`.
 *
 * Written for a store that may be shared and not empty (an EventStoreDB node): every test works in
 * streams under its own random prefix, reads the global log after the head it saw at its start, and
 * assumes only that positions increase, never that they are consecutive or start at 1.
 */
export interface EventStoreUnderTest {
  store: EventStore;
  dispose(): Promise<void>;
}

export function describeEventStoreContract(
  adapterName: string,
  createStore: () => Promise<EventStoreUnderTest>,
): void {
  describe(`EventStore contract: ${adapterName}`, () => {
    let underTest: EventStoreUnderTest;
    let store: EventStore;
    let prefix: string;

    beforeEach(async () => {
      underTest = await createStore();
      store = underTest.store;
      prefix = `contract${randomUUID().replaceAll('-', '')}-`;
    });

    afterEach(async () => {
      await underTest.dispose();
    });

    describe('expected revision', () => {
      it('no_stream creates a stream whose revisions start at 0', async () => {
        const streamId = `${prefix}deal-1`;
        const result = await store.append(streamId, [newEvent(), newEvent()], 'no_stream');
        expect(result.nextExpectedRevision).toBe(1);
        const recorded = await store.readStream(streamId);
        expect(recorded.map((event) => event.revision)).toEqual([0, 1]);
        expect(result.position).toBe(recorded[1].position);
        expect(recorded[1].position).toBeGreaterThan(recorded[0].position);
        expect(recorded[0].position).toBeGreaterThan(0);
      });

      it('no_stream on a stream that has events is a ConcurrencyError carrying the actual revision', async () => {
        const streamId = `${prefix}deal-1`;
        await store.append(streamId, [newEvent(), newEvent()], 'no_stream');
        const error = await rejectionOf(store.append(streamId, [newEvent()], 'no_stream'));
        expect(error).toBeInstanceOf(ConcurrencyError);
        expect(error).toMatchObject({ streamId, expectedRevision: 'no_stream', actualRevision: 1, code: 'STORE.CONCURRENCY' });
        expect(await store.readStream(streamId)).toHaveLength(2);
      });

      it('stream_exists on a missing stream is a ConcurrencyError with actual revision -1', async () => {
        const streamId = `${prefix}missing`;
        const error = await rejectionOf(store.append(streamId, [newEvent()], 'stream_exists'));
        expect(error).toBeInstanceOf(ConcurrencyError);
        expect(error).toMatchObject({ streamId, expectedRevision: 'stream_exists', actualRevision: -1 });
        expect(await store.readStream(streamId)).toEqual([]);
      });

      it('stream_exists appends to a stream that has events', async () => {
        const streamId = `${prefix}deal-1`;
        await store.append(streamId, [newEvent()], 'no_stream');
        const result = await store.append(streamId, [newEvent()], 'stream_exists');
        expect(result.nextExpectedRevision).toBe(1);
      });

      it('a revision number appends only when it is the revision of the last event', async () => {
        const streamId = `${prefix}deal-1`;
        const first = await store.append(streamId, [newEvent()], 'no_stream');
        const second = await store.append(streamId, [newEvent(), newEvent()], first.nextExpectedRevision);
        expect(second.nextExpectedRevision).toBe(2);

        const stale = await rejectionOf(store.append(streamId, [newEvent()], first.nextExpectedRevision));
        expect(stale).toBeInstanceOf(ConcurrencyError);
        expect(stale).toMatchObject({ expectedRevision: 0, actualRevision: 2 });
        const ahead = await rejectionOf(store.append(streamId, [newEvent()], 5));
        expect(ahead).toMatchObject({ expectedRevision: 5, actualRevision: 2 });
        const onMissing = await rejectionOf(store.append(`${prefix}missing`, [newEvent()], 0));
        expect(onMissing).toMatchObject({ expectedRevision: 0, actualRevision: -1 });
        expect(await store.readStream(streamId)).toHaveLength(3);
      });

      it('any appends whatever the stream holds', async () => {
        const streamId = `${prefix}log`;
        expect((await store.append(streamId, [newEvent()], 'any')).nextExpectedRevision).toBe(0);
        expect((await store.append(streamId, [newEvent()], 'any')).nextExpectedRevision).toBe(1);
      });
    });

    describe('idempotent re-append', () => {
      it('the same event ids at the same expected revision succeed again with the same result and no duplicates', async () => {
        const streamId = `${prefix}deal-1`;
        await store.append(streamId, [newEvent()], 'no_stream');
        const events = [newEvent(), newEvent()];
        const first = await store.append(streamId, events, 0);
        const headAfterFirst = await store.headPosition();

        const again = await store.append(streamId, events, 0);
        expect(again).toEqual(first);
        expect(await store.readStream(streamId)).toHaveLength(3);
        expect(await store.headPosition()).toBe(headAfterFirst);
      });

      it('a retried first append with no_stream succeeds after the stream moved on', async () => {
        const streamId = `${prefix}deal-1`;
        const events = [newEvent()];
        const first = await store.append(streamId, events, 'no_stream');
        await store.append(streamId, [newEvent()], 0);
        expect(await store.append(streamId, events, 'no_stream')).toEqual(first);
        expect(await store.readStream(streamId)).toHaveLength(2);
      });

      it('a retry with any finds the events where they are', async () => {
        const streamId = `${prefix}log`;
        await store.append(streamId, [newEvent()], 'any');
        const events = [newEvent(), newEvent()];
        const first = await store.append(streamId, events, 'any');
        expect(await store.append(streamId, events, 'any')).toEqual(first);
        expect(await store.readStream(streamId)).toHaveLength(3);
      });
    });

    describe('duplicate event ids', () => {
      it('an id already recorded in another stream is a DuplicateEventIdError', async () => {
        const event = newEvent();
        await store.append(`${prefix}a`, [event], 'no_stream');
        const error = await rejectionOf(store.append(`${prefix}b`, [newEvent(), event], 'no_stream'));
        expect(error).toBeInstanceOf(DuplicateEventIdError);
        expect(error).toMatchObject({ eventId: event.eventId, code: 'STORE.DUPLICATE_EVENT_ID' });
        expect(await store.readStream(`${prefix}b`)).toEqual([]);
      });

      it('an id already recorded at another place in the same stream is a DuplicateEventIdError', async () => {
        const streamId = `${prefix}deal-1`;
        const event = newEvent();
        await store.append(streamId, [event], 'no_stream');
        const error = await rejectionOf(store.append(streamId, [event], 0));
        expect(error).toBeInstanceOf(DuplicateEventIdError);
        expect(await store.readStream(streamId)).toHaveLength(1);
      });

      it('the same id at the same place with different content is a DuplicateEventIdError', async () => {
        const streamId = `${prefix}deal-1`;
        const event = newEvent();
        await store.append(streamId, [event], 'no_stream');
        const changedData = { ...event, data: { ...(event.data as object), amount: '1.00' } };
        expect(await rejectionOf(store.append(streamId, [changedData], 'no_stream'))).toBeInstanceOf(DuplicateEventIdError);
        const changedType = { ...event, type: 'DealReopened' };
        expect(await rejectionOf(store.append(streamId, [changedType], 'no_stream'))).toBeInstanceOf(DuplicateEventIdError);
        const recorded = await store.readStream(streamId);
        expect(recorded).toHaveLength(1);
        expect(recorded[0].data).toEqual(event.data);
      });

      it('the same id twice in one append is a DuplicateEventIdError and writes nothing', async () => {
        const streamId = `${prefix}deal-1`;
        const event = newEvent();
        expect(await rejectionOf(store.append(streamId, [event, event], 'no_stream'))).toBeInstanceOf(DuplicateEventIdError);
        expect(await store.readStream(streamId)).toEqual([]);
      });
    });

    describe('readStream', () => {
      it('reads a range by first revision and count, and nothing past the end or of a missing stream', async () => {
        const streamId = `${prefix}deal-1`;
        const events = Array.from({ length: 5 }, () => newEvent());
        await store.append(streamId, events, 'no_stream');

        expect((await store.readStream(streamId)).map((event) => event.eventId)).toEqual(events.map((event) => event.eventId));
        expect((await store.readStream(streamId, { fromRevision: 2 })).map((event) => event.revision)).toEqual([2, 3, 4]);
        expect((await store.readStream(streamId, { fromRevision: 1, maxCount: 2 })).map((event) => event.revision)).toEqual([1, 2]);
        expect(await store.readStream(streamId, { fromRevision: 5 })).toEqual([]);
        expect(await store.readStream(`${prefix}missing`)).toEqual([]);
      });

      it('round-trips every field: data, type, schema version, full metadata, stream, revision, position, recordedAt', async () => {
        const streamId = `${prefix}deal-ü-1`;
        const metadata: EventMetadata = {
          actor: { id: 'user-7', role: 'analyst' },
          correlationId: randomUUID(),
          causationId: randomUUID(),
          commandId: 'close-deal-42',
          occurredAt: '2026-03-31T23:59:59.999Z',
        };
        const data = {
          dealId: 'deal-42',
          amount: '123456789012345678901234.5678',
          currency: 'EUR',
          lines: [{ sku: 'A-1', quantity: 3, unitPrice: '0.10' }],
          note: 'Zoë’s deal — 東京 🚀',
          flags: { renewal: false, region: null },
        };
        const event: NewEvent = { eventId: randomUUID(), type: 'DealClosedWon', schemaVersion: 3, data, metadata };
        const withoutOptional: NewEvent = {
          ...newEvent(),
          metadata: { ...metadata, causationId: null, commandId: null },
        };
        const result = await store.append(streamId, [event, withoutOptional], 'no_stream');

        const [recorded, second] = await store.readStream(streamId);
        expect(recorded).toEqual({
          eventId: event.eventId,
          type: 'DealClosedWon',
          schemaVersion: 3,
          data,
          metadata,
          streamId,
          revision: 0,
          position: recorded.position,
          recordedAt: recorded.recordedAt,
        });
        expect(second.metadata).toEqual(withoutOptional.metadata);
        expect(second.position).toBe(result.position);
        expect(new Date(recorded.recordedAt).toISOString()).toBe(recorded.recordedAt);

        const [fromLog] = await store.readAll({ afterPosition: recorded.position - 1, maxCount: 1, filter: { streamPrefixes: [prefix] } });
        expect(fromLog).toEqual(recorded);
      });
    });

    describe('readAll', () => {
      it('reads strictly after a position, in position order, with a count limit', async () => {
        const headBefore = await store.headPosition();
        await store.append(`${prefix}a`, [newEvent(), newEvent()], 'no_stream');
        await store.append(`${prefix}b`, [newEvent()], 'no_stream');
        await store.append(`${prefix}a`, [newEvent()], 1);

        const all = await store.readAll({ afterPosition: headBefore, filter: { streamPrefixes: [prefix] } });
        expect(all.map((event) => [event.streamId, event.revision])).toEqual([
          [`${prefix}a`, 0],
          [`${prefix}a`, 1],
          [`${prefix}b`, 0],
          [`${prefix}a`, 2],
        ]);
        expectIncreasing(all.map((event) => event.position));
        expect(await store.headPosition()).toBeGreaterThanOrEqual(all[3].position);

        const afterSecond = await store.readAll({ afterPosition: all[1].position, filter: { streamPrefixes: [prefix] } });
        expect(afterSecond.map((event) => event.eventId)).toEqual(all.slice(2).map((event) => event.eventId));
        const limited = await store.readAll({ afterPosition: headBefore, maxCount: 2, filter: { streamPrefixes: [prefix] } });
        expect(limited.map((event) => event.eventId)).toEqual(all.slice(0, 2).map((event) => event.eventId));
        expect(await store.readAll({ afterPosition: all[3].position, filter: { streamPrefixes: [prefix] } })).toEqual([]);
      });

      it('filters by stream prefixes and by event types, together', async () => {
        const headBefore = await store.headPosition();
        await store.append(`${prefix}deal-1`, [newEvent('DealClosedWon'), newEvent('DealCancelled')], 'no_stream');
        await store.append(`${prefix}credit-1`, [newEvent('CreditAllocated')], 'no_stream');
        await store.append(`${prefix}dispute-1`, [newEvent('DisputeFiled')], 'no_stream');
        await store.append(`${prefix}deal-2`, [newEvent('DealClosedWon')], 'no_stream');
        const read = (filter: { streamPrefixes?: string[]; eventTypes?: string[] }) =>
          store
            .readAll({ afterPosition: headBefore, filter })
            .then((events) => events.map((event) => `${event.streamId.slice(prefix.length)}:${event.type}`));

        expect(await read({ streamPrefixes: [`${prefix}deal-`] })).toEqual([
          'deal-1:DealClosedWon',
          'deal-1:DealCancelled',
          'deal-2:DealClosedWon',
        ]);
        expect(await read({ streamPrefixes: [`${prefix}credit-`, `${prefix}dispute-`] })).toEqual([
          'credit-1:CreditAllocated',
          'dispute-1:DisputeFiled',
        ]);
        expect(await read({ streamPrefixes: [prefix], eventTypes: ['DealClosedWon', 'DisputeFiled'] })).toEqual([
          'deal-1:DealClosedWon',
          'dispute-1:DisputeFiled',
          'deal-2:DealClosedWon',
        ]);
        expect(await read({ streamPrefixes: [`${prefix}deal-`], eventTypes: ['DisputeFiled'] })).toEqual([]);
      });
    });

    describe('readAllPages', () => {
      const pagesOf = async (iterable: AsyncIterable<RecordedEvent[]>): Promise<RecordedEvent[][]> => {
        const pages: RecordedEvent[][] = [];
        for await (const page of iterable) pages.push(page);
        return pages;
      };

      it('reads the same events as readAll, a page of at most pageSize at a time, and ends at the first short page', async () => {
        const headBefore = await store.headPosition();
        for (let index = 0; index < 7; index++) await store.append(`${prefix}deal-${index % 3}`, [newEvent()], 'any');
        const filter = { streamPrefixes: [prefix] };

        const pages = await pagesOf(store.readAllPages({ afterPosition: headBefore, pageSize: 3, filter }));
        expect(pages.map((page) => page.length)).toEqual([3, 3, 1]);
        expect(pages.flat()).toEqual(await store.readAll({ afterPosition: headBefore, filter }));
        const fromThird = await pagesOf(store.readAllPages({ afterPosition: pages[0][2].position, pageSize: 10, filter }));
        expect(fromThird.flat().map((event) => event.eventId)).toEqual(pages.flat().slice(3).map((event) => event.eventId));
      });

      it('yields no empty page when the log ends on a page boundary, and none at all after the head', async () => {
        const headBefore = await store.headPosition();
        for (let index = 0; index < 4; index++) await store.append(`${prefix}deal-${index}`, [newEvent()], 'no_stream');
        const filter = { streamPrefixes: [prefix] };
        expect((await pagesOf(store.readAllPages({ afterPosition: headBefore, pageSize: 2, filter }))).map((page) => page.length)).toEqual([2, 2]);
        expect(await pagesOf(store.readAllPages({ afterPosition: await store.headPosition(), pageSize: 2 }))).toEqual([]);
      });

      it('can be left early, and sees events appended while it is being read', async () => {
        const headBefore = await store.headPosition();
        for (let index = 0; index < 6; index++) await store.append(`${prefix}deal-${index}`, [newEvent()], 'no_stream');
        const filter = { streamPrefixes: [prefix] };
        const read: RecordedEvent[] = [];
        for await (const page of store.readAllPages({ afterPosition: headBefore, pageSize: 2, filter })) {
          read.push(...page);
          if (read.length === 2) await store.append(`${prefix}late`, [newEvent()], 'no_stream');
        }
        expect(read.map((event) => event.streamId)).toEqual([0, 1, 2, 3, 4, 5].map((index) => `${prefix}deal-${index}`).concat(`${prefix}late`));

        for await (const page of store.readAllPages({ afterPosition: headBefore, pageSize: 2, filter })) {
          expect(page).toHaveLength(2);
          break;
        }
        await store.append(`${prefix}after-leaving`, [newEvent()], 'no_stream');
        expect(await store.readStream(`${prefix}after-leaving`)).toHaveLength(1);
      });
    });

    describe('subscribeToAll', () => {
      it('catches up on history, then turns live, with no gap and no duplicate while appends run concurrently', async () => {
        const historyIds = new Set<string>();
        for (let index = 0; index < 30; index++) {
          const events = [newEvent(), newEvent()];
          await store.append(`${prefix}history-${index % 7}`, events, 'any');
          for (const event of events) historyIds.add(event.eventId);
        }
        const headBefore = (await store.readAll({ filter: { streamPrefixes: [prefix] }, maxCount: 1 }))[0].position - 1;
        const subscription = store.subscribeToAll({ afterPosition: headBefore, filter: { streamPrefixes: [prefix] } });

        const liveIds = new Set<string>();
        const writers = Array.from({ length: 8 }, async (_, writer) => {
          let expected: number | 'no_stream' = 'no_stream';
          for (let round = 0; round < 15; round++) {
            const event = newEvent();
            liveIds.add(event.eventId);
            expected = (await store.append(`${prefix}live-${writer}`, [event], expected)).nextExpectedRevision;
          }
        });
        const received = await take(subscription, historyIds.size + 8 * 15);
        await Promise.all(writers);

        expectIncreasing(received.map((event) => event.position));
        const receivedIds = received.map((event) => event.eventId);
        expect(new Set(receivedIds).size).toBe(receivedIds.length);
        expect(new Set(receivedIds)).toEqual(new Set([...historyIds, ...liveIds]));
        expect(receivedIds.slice(0, historyIds.size)).toEqual([...historyIds]);

        const straggler = newEvent();
        await store.append(`${prefix}late`, [straggler], 'no_stream');
        const [late] = await take(subscription, 1);
        expect(late.eventId).toBe(straggler.eventId);
        await subscription.stop();
      });

      it('starts strictly after the given checkpoint', async () => {
        const events = Array.from({ length: 6 }, () => newEvent());
        await store.append(`${prefix}deal-1`, events, 'no_stream');
        const recorded = await store.readStream(`${prefix}deal-1`);
        const subscription = store.subscribeToAll({ afterPosition: recorded[2].position, filter: { streamPrefixes: [prefix] } });
        const received = await take(subscription, 3);
        expect(received.map((event) => event.revision)).toEqual([3, 4, 5]);
        await subscription.stop();
      });

      it('delivers only events that match its filter', async () => {
        const subscription = store.subscribeToAll({
          afterPosition: await store.headPosition(),
          filter: { streamPrefixes: [`${prefix}deal-`], eventTypes: ['DealClosedWon'] },
        });
        await store.append(`${prefix}credit-1`, [newEvent('DealClosedWon')], 'no_stream');
        await store.append(`${prefix}deal-1`, [newEvent('DealCancelled'), newEvent('DealClosedWon')], 'no_stream');
        await store.append(`${prefix}deal-2`, [newEvent('DealClosedWon')], 'no_stream');
        const received = await take(subscription, 2);
        expect(received.map((event) => `${event.streamId.slice(prefix.length)}:${event.revision}`)).toEqual(['deal-1:1', 'deal-2:0']);
        await subscription.stop();
      });

      it('stop() ends the iteration: a pending next() resolves done', async () => {
        const subscription = store.subscribeToAll({
          afterPosition: await store.headPosition(),
          filter: { streamPrefixes: [prefix] },
        });
        const iterator = subscription[Symbol.asyncIterator]();
        const pending = iterator.next();
        await subscription.stop();
        await expect(pending).resolves.toMatchObject({ done: true });
        await expect(iterator.next()).resolves.toMatchObject({ done: true });
      });

      it('breaking out of for-await ends the subscription', async () => {
        await store.append(`${prefix}deal-1`, [newEvent(), newEvent()], 'no_stream');
        const subscription = store.subscribeToAll({ filter: { streamPrefixes: [prefix] } });
        let seen = 0;
        for await (const event of subscription) {
          expect(event.streamId).toBe(`${prefix}deal-1`);
          seen++;
          break;
        }
        expect(seen).toBe(1);
        await expect(subscription[Symbol.asyncIterator]().next()).resolves.toMatchObject({ done: true });
      });
    });

    describe('concurrent writers', () => {
      it('concurrent appends to one stream at the same expected revision: exactly one wins each revision', async () => {
        const streamId = `${prefix}deal-1`;
        const attempts = await Promise.allSettled(
          Array.from({ length: 10 }, () => store.append(streamId, [newEvent()], 'no_stream')),
        );
        expect(attempts.filter((attempt) => attempt.status === 'fulfilled')).toHaveLength(1);
        for (const attempt of attempts) {
          if (attempt.status === 'rejected') expect(attempt.reason).toBeInstanceOf(ConcurrencyError);
        }

        const atRevisionZero = await Promise.allSettled(
          Array.from({ length: 10 }, () => store.append(streamId, [newEvent(), newEvent()], 0)),
        );
        const winners = atRevisionZero.filter((attempt) => attempt.status === 'fulfilled');
        expect(winners).toHaveLength(1);
        expect((winners[0] as PromiseFulfilledResult<{ nextExpectedRevision: number }>).value.nextExpectedRevision).toBe(2);
        expect((await store.readStream(streamId)).map((event) => event.revision)).toEqual([0, 1, 2]);
      });

      it('retrying writers to one stream each land exactly once, in a gap-free revision sequence', async () => {
        const streamId = `${prefix}counter`;
        const writerEventIds = await Promise.all(
          Array.from({ length: 6 }, async () => {
            const event = newEvent();
            for (;;) {
              const lastRevision = (await store.readStream(streamId)).length - 1;
              try {
                await store.append(streamId, [event], lastRevision < 0 ? 'no_stream' : lastRevision);
                return event.eventId;
              } catch (error) {
                if (!(error instanceof ConcurrencyError)) throw error;
              }
            }
          }),
        );
        const recorded = await store.readStream(streamId);
        expect(recorded.map((event) => event.revision)).toEqual([0, 1, 2, 3, 4, 5]);
        expect(new Set(recorded.map((event) => event.eventId))).toEqual(new Set(writerEventIds));
      });

      it('many concurrent writers to different streams all land, with unique increasing positions', async () => {
        const writers = 40;
        const appendsPerWriter = 5;
        const headBefore = await store.headPosition();
        const results = await Promise.all(
          Array.from({ length: writers }, async (_, writer) => {
            const positions: number[] = [];
            let expected: number | 'no_stream' = 'no_stream';
            for (let round = 0; round < appendsPerWriter; round++) {
              const result = await store.append(`${prefix}rep-${writer}`, [newEvent()], expected);
              expected = result.nextExpectedRevision;
              positions.push(result.position);
            }
            return positions;
          }),
        );
        for (const positions of results) expectIncreasing(positions);
        const allPositions = results.flat();
        expect(new Set(allPositions).size).toBe(writers * appendsPerWriter);

        const log = await store.readAll({ afterPosition: headBefore, filter: { streamPrefixes: [prefix] } });
        expect(log).toHaveLength(writers * appendsPerWriter);
        expectIncreasing(log.map((event) => event.position));
        expect(new Set(log.map((event) => event.position))).toEqual(new Set(allPositions));
        for (let writer = 0; writer < writers; writer++) {
          const stream = await store.readStream(`${prefix}rep-${writer}`);
          expect(stream.map((event) => event.revision)).toEqual([0, 1, 2, 3, 4]);
        }
      });
    });
  });
}

function newEvent(type = 'DealClosedWon'): NewEvent {
  return {
    eventId: randomUUID(),
    type,
    schemaVersion: 1,
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

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('Expected the promise to reject, but it resolved');
}

/** Takes the next `count` events; the subscription stays usable. */
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

function expectIncreasing(values: readonly number[]): void {
  for (let index = 1; index < values.length; index++) {
    if (!(values[index] > values[index - 1])) {
      throw new Error(`Expected increasing values, but ${values[index]} follows ${values[index - 1]} at index ${index}`);
    }
  }
}
