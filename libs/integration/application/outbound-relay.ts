import type { EventStore, RecordedEvent, Subscription } from '#lib/event-store/event-store.port.js';
import { PERIOD_EVENT_TYPES as PERIOD_EVENT_TYPE_LIST, PERIOD_STREAM_PREFIX, type PeriodEvent } from '#lib/payouts/domain/period.decider.js';
import { AttainmentFeed, ATTAINMENT_FEED_EVENT_TYPES, type AttainmentFeedEvent, type AttainmentRow } from '../domain/attainment-feed.js';
import { advancePayoutFeedPeriod, emptyPayoutFeedPeriod, payoutChangesOf, type PayoutFeedPeriod } from '../domain/payout-feed.js';
import { encodeAttainmentChange, encodePayoutChange } from './feed-encoding.js';
import type { FeedMessage, FeedPublisher, FeedTopics } from './feed-message.js';

/** What the relay stores: its checkpoint and the attainment rows as of that checkpoint. */
export interface RelayState {
  /** Every event at or before this position has been published and acknowledged (or made no message). */
  position: number;
  attainmentRows: AttainmentRow[];
  attainmentPayees: [payeeId: string, currency: string][];
}

export interface RelayStateStore {
  load(): RelayState;
  /** Stores the new checkpoint and the rows changed since the last one, atomically. */
  commit(position: number, changed: { rows: readonly AttainmentRow[]; payees: readonly [string, string][] }): void;
  close(): void;
}

export interface OutboundRelayOptions {
  topics: FeedTopics;
  /** Most events turned into messages and published as one acknowledged unit. Default 2000. */
  batchSize?: number;
  /** First wait after a failed publish; doubles up to `retryMaxDelayMs`. Default 250 ms. */
  retryInitialDelayMs?: number;
  /** Default 10 s. */
  retryMaxDelayMs?: number;
  /** Told about each failed publish before the relay waits and tries the same batch again. */
  onPublishFailed?: (error: unknown, attempt: number, retryInMs: number) => void;
  /** Told when the relay stops for good on an error that retrying cannot fix (a corrupt stream). */
  onFailed?: (error: unknown) => void;
}

export type RelayStatus = 'stopped' | 'running' | 'retrying' | 'failed';

/** Every period event is folded (so the cached view of a period stays at its stream's latest revision), whether it makes a message or not. */
const PERIOD_EVENT_TYPES: ReadonlySet<string> = new Set<string>(PERIOD_EVENT_TYPE_LIST);
const ATTAINMENT_TYPES: ReadonlySet<string> = new Set(ATTAINMENT_FEED_EVENT_TYPES);
/** Period states kept between events; past this many the oldest are forgotten (and re-read from their stream). */
const PERIOD_CACHE_LIMIT = 10_000;

const TURN_ENDED = Symbol('turn ended');

interface PreparedBatch {
  messages: FeedMessage[];
  /** Position of the batch's last event: the checkpoint once it is acknowledged. */
  position: number;
  changed: ReturnType<AttainmentFeed['takeChanged']>;
  /** The subscription ended after this batch (the relay is stopping). */
  last: boolean;
}

/**
 * Batches from a subscription: the first event waits as long as it takes, then whatever else has already arrived
 * joins it (up to `batchSize`) without waiting, so a live event is never held back for more.
 */
class BatchReader {
  private pending: Promise<IteratorResult<RecordedEvent>> | null = null;

  constructor(
    private readonly iterator: AsyncIterator<RecordedEvent>,
    private readonly batchSize: number,
  ) {}

  async next(): Promise<{ events: RecordedEvent[]; ended: boolean } | null> {
    const first = await (this.pending ?? this.iterator.next());
    this.pending = null;
    if (first.done) return null;
    const events = [first.value];
    const turnEnded = new Promise<typeof TURN_ENDED>((resolve) => setImmediate(() => resolve(TURN_ENDED)));
    while (events.length < this.batchSize) {
      this.pending = this.iterator.next();
      const next = await Promise.race([this.pending, turnEnded]);
      if (next === TURN_ENDED) break;
      this.pending = null;
      if (next.done) return { events, ended: true };
      events.push(next.value);
    }
    return { events, ended: false };
  }
}

class RelayStoppedError extends Error {
  constructor() {
    super('The relay was stopped');
  }
}

/**
 * Publishes the payout and attainment feeds from the event store's ordered log to Kafka, at least once, in log order.
 *
 * A catch-up subscription from the relay's own checkpoint delivers events; each batch becomes messages (keyed by
 * payee) that the publisher sends with acks=all through an idempotent producer with one request in flight, so one
 * payee's messages reach the broker in log order. Only when the broker has acknowledged the whole batch does the
 * checkpoint move, with the attainment rows the batch changed. A crash before that publishes the batch again on
 * restart: consumers see duplicates there and only there, each with the same `event-id` as before.
 *
 * While the broker is unreachable the relay keeps the batch and tries it again with a doubling delay; nothing else
 * waits for it (commands are accepted as usual and the log simply grows).
 *
 * The checkpoint is not a read-model checkpoint: rebuilding read models never touches it, so it never republishes.
 */
export class OutboundRelay {
  private readonly batchSize: number;
  private readonly retryInitialDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private checkpoint = 0;
  private state: RelayStatus = 'stopped';
  private failure: unknown = null;
  private run: { stopRequested: boolean; subscription: Subscription | null; wake: (() => void) | null } | null = null;
  private loop: Promise<void> | null = null;
  private feed = new AttainmentFeed();
  private readonly periods = new Map<string, { revision: number; period: PayoutFeedPeriod }>();
  private waiters: { position: number; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private messagesPublishedCount = 0;

  constructor(
    private readonly store: EventStore,
    private readonly relayState: RelayStateStore,
    private readonly publisher: FeedPublisher,
    private readonly options: OutboundRelayOptions,
  ) {
    this.batchSize = options.batchSize ?? 2000;
    this.retryInitialDelayMs = options.retryInitialDelayMs ?? 250;
    this.retryMaxDelayMs = options.retryMaxDelayMs ?? 10_000;
  }

  get status(): RelayStatus {
    return this.state;
  }

  /** The acknowledged checkpoint. */
  get position(): number {
    return this.checkpoint;
  }

  get lastError(): unknown {
    return this.failure;
  }

  /** Messages the broker has acknowledged since this relay started. */
  get messagesPublished(): number {
    return this.messagesPublishedCount;
  }

  /** Loads the checkpoint and starts relaying in the background; does not wait for the broker. */
  async start(): Promise<void> {
    if (this.run !== null) return;
    const stored = this.relayState.load();
    this.checkpoint = stored.position;
    this.feed = new AttainmentFeed();
    this.feed.load(stored.attainmentRows, stored.attainmentPayees);
    this.periods.clear();
    this.failure = null;
    const run = { stopRequested: false, subscription: null as Subscription | null, wake: null as (() => void) | null };
    this.run = run;
    this.state = 'running';
    this.loop = this.consume(run);
  }

  /** Stops after the batch in hand is acknowledged, or abandons it (unacknowledged, so it is published again later). */
  async stop(): Promise<void> {
    const run = this.run;
    const loop = this.loop;
    this.run = null;
    this.loop = null;
    if (run !== null) {
      run.stopRequested = true;
      run.wake?.();
      await run.subscription?.stop();
    }
    if (loop !== null) await loop;
    if (this.state !== 'failed') this.state = 'stopped';
  }

  /**
   * Resolves once the checkpoint has reached `position` (every event up to it is acknowledged by the broker); rejects
   * if the relay fails for good first.
   */
  waitForPosition(position: number): Promise<void> {
    if (this.checkpoint >= position) return Promise.resolve();
    if (this.state === 'failed') return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ position, resolve, reject }));
  }

  /**
   * While the broker acknowledges one batch, the next is read and encoded: the relay's CPU goes to the next batch
   * instead of waiting. The batch's attainment rows are taken as they stand when it is encoded, so the next batch's
   * changes are never stored with this batch's checkpoint.
   */
  private async consume(run: NonNullable<OutboundRelay['run']>): Promise<void> {
    try {
      const subscription = this.store.subscribeToAll({ afterPosition: this.checkpoint });
      run.subscription = subscription;
      if (run.stopRequested) return;
      const reader = new BatchReader(subscription[Symbol.asyncIterator](), this.batchSize);
      let prepared = await this.prepare(reader);
      while (prepared !== null && !run.stopRequested) {
        const current = prepared;
        const publishing = this.publishUntilAcknowledged(current.messages, run);
        const next = current.last ? Promise.resolve(null) : this.prepare(reader);
        // A failure preparing the next batch is seen when it is awaited, after this batch is stored.
        next.catch(() => undefined);
        await publishing;
        this.relayState.commit(current.position, current.changed);
        this.checkpoint = current.position;
        this.messagesPublishedCount += current.messages.length;
        this.settleWaiters();
        prepared = await next;
      }
    } catch (error) {
      if (error instanceof RelayStoppedError || run.stopRequested) return;
      this.failure = error;
      this.state = 'failed';
      await run.subscription?.stop();
      const waiters = this.waiters;
      this.waiters = [];
      for (const waiter of waiters) waiter.reject(error);
      this.options.onFailed?.(error);
    }
  }

  /** The next batch of events as records, with the attainment rows as they stand after it; null when the log ended. */
  private async prepare(reader: BatchReader): Promise<PreparedBatch | null> {
    const batch = await reader.next();
    if (batch === null) return null;
    const messages = await this.messagesOf(batch.events);
    return { messages, position: batch.events[batch.events.length - 1].position, changed: this.feed.takeChanged(), last: batch.ended };
  }

  private async publishUntilAcknowledged(messages: readonly FeedMessage[], run: NonNullable<OutboundRelay['run']>): Promise<void> {
    if (messages.length === 0) return;
    let delay = this.retryInitialDelayMs;
    for (let attempt = 1; ; attempt++) {
      if (run.stopRequested) throw new RelayStoppedError();
      try {
        await this.publisher.publish(messages);
        this.state = 'running';
        this.failure = null;
        return;
      } catch (error) {
        if (run.stopRequested) throw new RelayStoppedError();
        this.state = 'retrying';
        this.failure = error;
        this.options.onPublishFailed?.(error, attempt, delay);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          run.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        run.wake = null;
        delay = Math.min(delay * 2, this.retryMaxDelayMs);
      }
    }
  }

  private async messagesOf(batch: readonly RecordedEvent[]): Promise<FeedMessage[]> {
    const messages: FeedMessage[] = [];
    for (const event of batch) {
      if (event.streamId.startsWith(PERIOD_STREAM_PREFIX) && PERIOD_EVENT_TYPES.has(event.type)) {
        const period = await this.periodBefore(event);
        for (const change of payoutChangesOf(event as unknown as PeriodEvent, period)) messages.push(encodePayoutChange(event, change, this.options.topics.payouts));
        advancePayoutFeedPeriod(period, event as unknown as PeriodEvent);
        this.rememberPeriod(event.streamId, event.revision, period);
      } else if (ATTAINMENT_TYPES.has(event.type)) {
        for (const change of this.feed.apply(event as unknown as AttainmentFeedEvent)) messages.push(encodeAttainmentChange(event, change, this.options.topics.attainment));
      }
    }
    return messages;
  }

  /** The period as it stood just before the event: from the cache when it holds the previous revision, else read. */
  private async periodBefore(event: RecordedEvent): Promise<PayoutFeedPeriod> {
    const cached = this.periods.get(event.streamId);
    if (cached !== undefined && cached.revision === event.revision - 1) return cached.period;
    const period = emptyPayoutFeedPeriod();
    if (event.revision > 0) {
      const earlier = await this.store.readStream(event.streamId, { maxCount: event.revision });
      for (const recorded of earlier) if (PERIOD_EVENT_TYPES.has(recorded.type)) advancePayoutFeedPeriod(period, recorded as unknown as PeriodEvent);
    }
    return period;
  }

  private rememberPeriod(streamId: string, revision: number, period: PayoutFeedPeriod): void {
    this.periods.delete(streamId);
    this.periods.set(streamId, { revision, period });
    if (this.periods.size > PERIOD_CACHE_LIMIT) this.periods.delete(this.periods.keys().next().value as string);
  }

  private settleWaiters(): void {
    const remaining: typeof this.waiters = [];
    for (const waiter of this.waiters) {
      if (waiter.position <= this.checkpoint) waiter.resolve();
      else remaining.push(waiter);
    }
    this.waiters = remaining;
  }
}
