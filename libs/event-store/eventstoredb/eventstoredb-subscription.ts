import type { AllStreamResolvedEvent, AllStreamSubscription, Filter, ReadPosition } from '@eventstore/db-client';
import type { RecordedEvent, Subscription } from '../event-store.port.js';
import { backoffDelay, isTransient, type Backoff } from './connection-errors.js';
import { toRecordedEvent, type FilterPlan } from './event-mapping.js';
import { positionFromAll, toEventStoreDbPosition, toSafeNumber } from './positions.js';

export interface SubscriptionSource {
  /** Where to subscribe so that the first event delivered is the first one after `position` (see the store). */
  startAfter(position: number): Promise<ReadPosition>;
  open(from: ReadPosition, filter: Filter): AllStreamSubscription;
  detach(subscription: EventStoreDbSubscription): void;
}

/** One server call of the subscription: it ends when the connection drops, and another one takes over. */
interface ServerCall {
  subscription: AllStreamSubscription;
  iterator: AsyncIterator<AllStreamResolvedEvent>;
  /** Events taken from this call so far. */
  taken: number;
  /**
   * Checkpoints the server sent: every event before one was looked at by the server's filter. A checkpoint
   * counts once every event that came before it on this call has been taken.
   */
  checkpoints: { position: number; takenBefore: number }[];
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };
const STOPPED = Symbol('stopped');

/**
 * A catch-up subscription to $all that survives dropped connections. It reads through a server-side
 * filtered catch-up subscription (never a persistent one: those do not keep order) and remembers how far it
 * got: the last event it delivered, or a later checkpoint of the server's filter. When the call fails with a
 * transient error (connection reset, node restarting), it waits (doubling from `backoff.firstDelayMs` to
 * `backoff.maxDelayMs`) and subscribes again strictly after that point, so nothing is missed; it also drops
 * any event at or before that point, so nothing is delivered twice. Other errors end the iteration with the
 * error. Calls to next() are served one after another.
 */
export class EventStoreDbSubscription implements Subscription, AsyncIterator<RecordedEvent> {
  /** Every event at or before this position has been delivered or passed over. */
  private through: number;
  /** `through` is the position of an event taken from the server (not the caller's start or a checkpoint). */
  private throughIsEvent = false;
  private call: ServerCall | null = null;
  private stopped = false;
  private failures = 0;
  private inFlight: Promise<IteratorResult<RecordedEvent>> | null = null;
  private readonly stopSignal: Promise<typeof STOPPED>;
  private signalStop: () => void = () => undefined;

  constructor(
    private readonly source: SubscriptionSource,
    afterPosition: number,
    private readonly plan: FilterPlan,
    private readonly backoff: Backoff,
  ) {
    this.through = afterPosition;
    this.stopSignal = new Promise((resolve) => {
      this.signalStop = () => resolve(STOPPED);
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    return this;
  }

  next(): Promise<IteratorResult<RecordedEvent>> {
    if (this.stopped && this.inFlight === null) return Promise.resolve(DONE);
    const previous = this.inFlight ?? Promise.resolve(DONE);
    const current = previous.then(
      () => this.pull(),
      () => this.pull(),
    );
    this.inFlight = current;
    void current.then(
      () => this.clearInFlight(current),
      () => this.clearInFlight(current),
    );
    return current;
  }

  async return(): Promise<IteratorResult<RecordedEvent>> {
    await this.stop();
    return DONE;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.signalStop();
    const call = this.call;
    this.call = null;
    this.source.detach(this);
    if (call) await closeCall(call);
  }

  private clearInFlight(settled: Promise<IteratorResult<RecordedEvent>>): void {
    if (this.inFlight === settled) this.inFlight = null;
  }

  private async pull(): Promise<IteratorResult<RecordedEvent>> {
    for (;;) {
      if (this.stopped) return DONE;
      try {
        if (this.call === null) {
          const opened = await this.openCall();
          if (this.stopped) {
            await closeCall(opened);
            return DONE;
          }
          this.call = opened;
        }
        const call = this.call;
        const next = await Promise.race([call.iterator.next(), this.stopSignal]);
        if (next === STOPPED || this.stopped) return DONE;
        // The server does not end a subscription on its own; an ended call is a dropped one.
        if (next.done) throw Object.assign(new Error('EventStoreDB ended the subscription'), { code: 14 });
        call.taken++;
        this.passCheckpoints(call);
        const resolved = next.value;
        const position = positionFromAll(resolved.event?.position, `event ${resolved.event?.id} in $all`);
        if (position <= this.through) continue;
        this.through = position;
        this.throughIsEvent = true;
        this.failures = 0;
        const streamId = resolved.event?.streamId ?? '';
        if (!this.plan.accepts(streamId, resolved.event?.type ?? '')) continue;
        return { done: false, value: toRecordedEvent(resolved, position) };
      } catch (error) {
        const call = this.call;
        this.call = null;
        if (call) {
          // Checkpoints whose events were all taken still count: the next call starts after them.
          this.passCheckpoints(call);
          await closeCall(call);
        }
        if (this.stopped) return DONE;
        if (!isTransient(error)) {
          await this.stop();
          throw error;
        }
        const delay = backoffDelay(this.backoff, this.failures++);
        await Promise.race([new Promise((resolve) => setTimeout(resolve, delay)), this.stopSignal]);
      }
    }
  }

  private async openCall(): Promise<ServerCall> {
    // After an event: subscribe from it (the server starts strictly after it). Otherwise the store works out
    // where to start, as the caller's position or a checkpoint need not be an event's.
    const from = this.throughIsEvent ? toEventStoreDbPosition(this.through) : await this.source.startAfter(this.through);
    const call = { taken: 0, checkpoints: [] } as unknown as ServerCall;
    const filter: Filter = {
      ...this.plan.server,
      checkpointReached: (subscription, position) => {
        // Runs in order with the events: those before it are taken already or waiting in the stream's buffer.
        call.checkpoints.push({ position: toSafeNumber(position.commit, 'checkpoint position'), takenBefore: call.taken + subscription.readableLength });
      },
    };
    call.subscription = this.source.open(from, filter);
    call.iterator = call.subscription[Symbol.asyncIterator]();
    return call;
  }

  private passCheckpoints(call: ServerCall): void {
    while (call.checkpoints.length > 0 && call.checkpoints[0].takenBefore <= call.taken) {
      const { position } = call.checkpoints.shift() as { position: number };
      if (position > this.through) {
        this.through = position;
        this.throughIsEvent = false;
      }
    }
  }
}

/** Cancels the server call; a call that already failed has nothing left to cancel. */
async function closeCall(call: ServerCall): Promise<void> {
  try {
    await call.subscription.unsubscribe();
  } catch {
    // The call never started or has ended: there is nothing to cancel.
  } finally {
    call.subscription.destroy();
  }
}
