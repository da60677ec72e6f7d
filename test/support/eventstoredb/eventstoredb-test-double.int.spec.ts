import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  NO_STREAM,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  jsonEvent,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type Position,
} from '@eventstore/db-client';
import { EventStoreDbTestDouble } from './eventstoredb-test-double.js';

/**
 * The test double answers the real client as EventStoreDB does, for what the ledger's adapter relies on.
 * Each expectation below is the server's documented behaviour; the adapter's own suite then runs on top.
 */
describe('EventStoreDB test double, driven by @eventstore/db-client', () => {
  let double: EventStoreDbTestDouble;
  let client: EventStoreDBClient;

  beforeAll(async () => {
    double = await EventStoreDbTestDouble.start();
    client = EventStoreDBClient.connectionString(double.connectionString);
  });
  afterAll(async () => {
    await client.dispose();
    await double.stop();
  });

  const event = (id = randomUUID(), type = 'DealClosedWon') => jsonEvent({ id, type, data: { id }, metadata: { by: 'test' } });
  const stream = () => `deal-${randomUUID()}`;

  it('answers an append with the last revision and the last event position, commit = prepare', async () => {
    const streamName = stream();
    const result = await client.appendToStream(streamName, [event(), event()], { expectedRevision: NO_STREAM });
    expect(result.nextExpectedRevision).toBe(1n);
    const read = await collect(client.readStream(streamName));
    expect(read.map((resolved) => resolved.event?.revision)).toEqual([0n, 1n]);
    expect(result.position).toEqual(read[1].event?.position);
    expect(result.position?.commit).toBe(result.position?.prepare);
    expect(Number(read[1].event?.position?.prepare) - Number(read[0].event?.position?.prepare)).toBeGreaterThan(100);
  });

  it('reports WrongExpectedVersion with the current and the expected revision', async () => {
    const streamName = stream();
    await client.appendToStream(streamName, [event(), event()], { expectedRevision: NO_STREAM });
    const stale = await rejectionOf(client.appendToStream(streamName, [event()], { expectedRevision: 0n }));
    expect(stale).toBeInstanceOf(WrongExpectedVersionError);
    expect(stale).toMatchObject({ streamName, expectedVersion: 0n, actualVersion: 1n });
    const missing = await rejectionOf(client.appendToStream(stream(), [event()], { expectedRevision: 'stream_exists' }));
    expect(missing).toMatchObject({ expectedVersion: 'stream_exists', actualVersion: 'no_stream' });
    const exists = await rejectionOf(client.appendToStream(streamName, [event()], { expectedRevision: NO_STREAM }));
    expect(exists).toMatchObject({ expectedVersion: 'no_stream', actualVersion: 1n });
  });

  it('treats the same event ids at the same expected revision as a retry: same answer, nothing written', async () => {
    const streamName = stream();
    await client.appendToStream(streamName, [event()], { expectedRevision: NO_STREAM });
    const events = [event(), event()];
    const first = await client.appendToStream(streamName, events, { expectedRevision: 0n });
    await client.appendToStream(streamName, [event()], { expectedRevision: 2n });
    const again = await client.appendToStream(streamName, events, { expectedRevision: 0n });
    expect(again).toEqual(first);
    const anyAgain = await client.appendToStream(streamName, events, { expectedRevision: 'any' });
    expect(anyAgain).toEqual(first);
    expect(await collect(client.readStream(streamName))).toHaveLength(4);
  });

  it('does not check event ids across streams, nor content: that is left to the client', async () => {
    const shared = event();
    await client.appendToStream(stream(), [shared], { expectedRevision: NO_STREAM });
    const elsewhere = await client.appendToStream(stream(), [shared], { expectedRevision: NO_STREAM });
    expect(elsewhere.nextExpectedRevision).toBe(0n);
  });

  it('answers StreamNotFound for a stream with no events', async () => {
    await expect(collect(client.readStream(stream()))).rejects.toBeInstanceOf(StreamNotFoundError);
  });

  it('reads $all from a record position inclusively, refuses a position inside a record, and holds the node system events', async () => {
    const streamName = stream();
    await client.appendToStream(streamName, [event(), event(), event()], { expectedRevision: NO_STREAM });
    const [first, second] = await collect(client.readStream(streamName));
    const from = first.event?.position as Position;
    const read = await collect(client.readAll({ fromPosition: from, maxCount: 2 }));
    expect(read.map((resolved) => resolved.event?.id)).toEqual([first.event?.id, second.event?.id]);

    const inside = { commit: from.commit + 1n, prepare: from.prepare + 1n };
    const error = await rejectionOf(collect(client.readAll({ fromPosition: inside, maxCount: 1 })));
    expect(error).toMatchObject({ code: 3 });

    const fromStart = await collect(client.readAll({ fromPosition: START, maxCount: 4 }));
    expect(fromStart.map((resolved) => resolved.event?.streamId)).toEqual(['$users', '$user-admin', '$user-ops', '$settings']);
    const [last] = await collect(client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 1 }));
    expect(last.event?.streamId).toBe(streamName);
  });

  it('starts a subscription strictly after its position, filters on the server and sends checkpoints', async () => {
    const prefix = `sub${randomUUID().slice(0, 8)}-`;
    await client.appendToStream(`${prefix}a`, [event(), event()], { expectedRevision: NO_STREAM });
    const [atFirst] = await collect(client.readStream(`${prefix}a`));
    const checkpoints: Position[] = [];
    const subscription = client.subscribeToAll({
      fromPosition: atFirst.event?.position as Position,
      filter: streamNameFilter({ prefixes: [prefix], maxSearchWindow: 2, checkpointReached: (_, position) => void checkpoints.push(position) }),
    });
    for (let index = 0; index < 5; index++) await client.appendToStream(stream(), [event()], { expectedRevision: NO_STREAM });
    await client.appendToStream(`${prefix}b`, [event()], { expectedRevision: NO_STREAM });
    const received: AllStreamResolvedEvent[] = [];
    for await (const resolved of subscription) {
      received.push(resolved);
      if (received.length === 2) break;
    }
    expect(received.map((resolved) => `${resolved.event?.streamId}@${resolved.event?.revision}`)).toEqual([`${prefix}a@1`, `${prefix}b@0`]);
    expect(checkpoints.length).toBeGreaterThan(0);
    expect(double.probe.subscriptionRequests.at(-1)?.filter).toEqual({ on: 'stream', prefixes: [prefix], regex: '' });
  });
});

async function collect<T>(read: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of read) items.push(item);
  return items;
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('Expected the promise to reject, but it resolved');
}
