import { describe, expect, it } from '@jest/globals';
import type { AllStreamResolvedEvent, AllStreamSubscription, Filter, ReadPosition } from '@eventstore/db-client';
import { planFilter } from './event-mapping.js';
import { EventStoreDbSubscription, type SubscriptionSource } from './eventstoredb-subscription.js';

/**
 * A test double of the client's subscription stream, named as such: each call replays a script of steps. The gRPC
 * test server cannot order a checkpoint before the event at its own position on demand; the real client can (its
 * filter callback runs when the checkpoint arrives, before a following event is in the stream's buffer).
 */
type Step = { event: number } | { checkpoint: number } | { drop: true };

function resolvedEvent(position: number): AllStreamResolvedEvent {
  return {
    event: {
      id: `00000000-0000-4000-8000-${String(position).padStart(12, '0')}`,
      streamId: `deal-${position}`,
      type: 'DealClosedWon',
      revision: 0n,
      isJson: true,
      data: { position },
      metadata: { schemaVersion: 1, actor: { id: 'a', role: 'analyst' } },
      created: new Date('2026-03-31T00:00:00Z'),
      position: { commit: BigInt(position), prepare: BigInt(position) },
    },
  } as unknown as AllStreamResolvedEvent;
}

function scriptedSource(calls: Step[][], log: number[]): SubscriptionSource {
  let callIndex = 0;
  return {
    startAfter: async (position: number): Promise<ReadPosition> => {
      log.push(position);
      return { commit: BigInt(position), prepare: BigInt(position) };
    },
    open(_from: ReadPosition, filter: Filter): AllStreamSubscription {
      const steps = calls[callIndex++] ?? [];
      const subscription = {
        readableLength: 0,
        unsubscribe: async () => undefined,
        destroy: () => undefined,
        async *[Symbol.asyncIterator]() {
          for (const step of steps) {
            if ('checkpoint' in step) {
              // The event at the checkpoint's own position is not in the buffer yet.
              filter.checkpointReached?.(subscription as unknown as AllStreamSubscription, {
                commit: BigInt(step.checkpoint),
                prepare: BigInt(step.checkpoint),
              });
            } else if ('drop' in step) {
              throw Object.assign(new Error('connection reset'), { code: 14 });
            } else {
              yield resolvedEvent(step.event);
            }
          }
          await new Promise(() => undefined);
        },
      };
      return subscription as unknown as AllStreamSubscription;
    },
    detach: () => undefined,
  };
}

describe('EventStoreDbSubscription (against a test double of the client stream)', () => {
  it('does not pass over an event at a checkpoint position when the call drops before that event arrives', async () => {
    const resumedAfter: number[] = [];
    const source = scriptedSource(
      [
        [{ event: 100 }, { checkpoint: 200 }, { drop: true }],
        [{ event: 200 }, { event: 300 }],
      ],
      resumedAfter,
    );
    const subscription = new EventStoreDbSubscription(source, 0, planFilter(undefined, 32), { firstDelayMs: 1, maxDelayMs: 1 });
    const delivered: number[] = [];
    for (let index = 0; index < 3; index++) {
      const next = await subscription.next();
      if (next.done) break;
      delivered.push(next.value.position);
    }
    await subscription.stop();

    expect(delivered).toEqual([100, 200, 300]);
    // Resumed from just before the checkpoint: everything before it was looked at, the event at it was not.
    expect(resumedAfter).toEqual([0, 199]);
  });

  it('does not deliver an event twice when a checkpoint at its position arrives after it', async () => {
    const resumedAfter: number[] = [];
    const source = scriptedSource(
      [
        [{ event: 100 }, { checkpoint: 100 }, { drop: true }],
        [{ event: 100 }, { event: 200 }],
      ],
      resumedAfter,
    );
    const subscription = new EventStoreDbSubscription(source, 0, planFilter(undefined, 32), { firstDelayMs: 1, maxDelayMs: 1 });
    const delivered: number[] = [];
    for (let index = 0; index < 2; index++) {
      const next = await subscription.next();
      if (next.done) break;
      delivered.push(next.value.position);
    }
    await subscription.stop();

    expect(delivered).toEqual([100, 200]);
  });
});
