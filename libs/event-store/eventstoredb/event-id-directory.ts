import type { RecordedEvent, Subscription } from '../event-store.port.js';

export interface EventPlace {
  streamId: string;
  revision: number;
}

/**
 * Where each event id of the log is (stream and revision): what the port's DuplicateEventIdError needs and
 * EventStoreDB does not offer. The server recognises a retried append only in the same stream at the same
 * expected revision, and does not compare content; an id reused in another stream, at another place in the
 * same stream, or with other content would simply be written again (docs/decisions/0061).
 *
 * Built on first use from a catch-up subscription to $all (the ledger's events only) that then stays live,
 * so it also learns of appends by other processes; this instance's own appends are added as they succeed.
 * Cost: one pass over the log when first needed and roughly 100 bytes of memory per event.
 */
export class EventIdDirectory {
  private readonly places = new Map<string, EventPlace>();
  /** One string per stream id, shared by its entries. */
  private readonly streamIds = new Map<string, string>();
  private through = 0;
  private waiters: { position: number; resolve(): void; reject(error: unknown): void }[] = [];
  private failure: unknown = null;
  private readonly consuming: Promise<void>;

  constructor(private readonly subscription: Subscription) {
    this.consuming = this.consume();
  }

  /** Resolves once every event up to `position` (a head read before) is in the directory. */
  reached(position: number): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (position <= this.through) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ position, resolve, reject }));
  }

  placeOf(eventId: string): EventPlace | undefined {
    return this.places.get(eventId);
  }

  /** Adds an append this instance made, once it succeeded. The first place an id was written stays. */
  addAppend(streamId: string, eventIds: readonly string[], firstRevision: number): void {
    const sharedStreamId = this.sharedStreamId(streamId);
    for (const [offset, eventId] of eventIds.entries()) {
      if (!this.places.has(eventId)) this.places.set(eventId, { streamId: sharedStreamId, revision: firstRevision + offset });
    }
  }

  /** Why it stopped following the log, if it did. */
  get error(): unknown {
    return this.failure;
  }

  async close(): Promise<void> {
    await this.subscription.stop();
    await this.consuming;
  }

  private async consume(): Promise<void> {
    try {
      for await (const event of this.subscription) this.add(event);
      this.failure = new Error('The event store is closed');
    } catch (error) {
      this.failure = error;
    }
    for (const waiter of this.waiters) waiter.reject(this.failure);
    this.waiters = [];
  }

  private add(event: RecordedEvent): void {
    if (!this.places.has(event.eventId)) {
      this.places.set(event.eventId, { streamId: this.sharedStreamId(event.streamId), revision: event.revision });
    }
    this.through = event.position;
    if (this.waiters.length === 0) return;
    const waiting: typeof this.waiters = [];
    for (const waiter of this.waiters) {
      if (waiter.position <= this.through) waiter.resolve();
      else waiting.push(waiter);
    }
    this.waiters = waiting;
  }

  private sharedStreamId(streamId: string): string {
    let shared = this.streamIds.get(streamId);
    if (shared === undefined) {
      shared = streamId;
      this.streamIds.set(streamId, shared);
    }
    return shared;
  }
}
