import type { RecordedEvent, Subscription } from '../event-store.port.js';

export interface SubscriptionPage {
  events: RecordedEvent[];
  /** Every event at or before this position has been looked at (matching the filter or not). */
  scannedToPosition: number;
}

export interface SubscriptionSource {
  /** Reads the next page of matching events strictly after `afterPosition`. */
  readPage(afterPosition: number): SubscriptionPage;
  detach(subscription: SqliteSubscription): void;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * A catch-up subscription over the embedded store: pages through history, then waits to be woken by a
 * commit of its own store instance, or by the poll timer, which is how it notices commits made by other
 * processes on the same file. Calls to next() are served one after another, so concurrent callers
 * never receive the same event.
 */
export class SqliteSubscription implements Subscription, AsyncIterator<RecordedEvent> {
  private afterPosition: number;
  private page: RecordedEvent[] = [];
  private pageIndex = 0;
  private stopped = false;
  private inFlight: Promise<IteratorResult<RecordedEvent>> | null = null;
  private wakeWaiter: (() => void) | null = null;

  constructor(
    private readonly source: SubscriptionSource,
    afterPosition: number,
    private readonly pollIntervalMs: number,
  ) {
    this.afterPosition = afterPosition;
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    return this;
  }

  next(): Promise<IteratorResult<RecordedEvent>> {
    if (this.inFlight === null) {
      if (this.stopped) return Promise.resolve(DONE);
      if (this.pageIndex < this.page.length) return Promise.resolve({ done: false, value: this.page[this.pageIndex++] });
    }
    const previous = this.inFlight ?? Promise.resolve(DONE);
    const current = previous.then(() => this.nextAfterWaiting());
    this.inFlight = current;
    void current.finally(() => {
      if (this.inFlight === current) this.inFlight = null;
    });
    return current;
  }

  async return(): Promise<IteratorResult<RecordedEvent>> {
    await this.stop();
    return DONE;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.page = [];
    this.source.detach(this);
    this.wake();
  }

  /** Called by the store after each commit. */
  wake(): void {
    const waiter = this.wakeWaiter;
    this.wakeWaiter = null;
    waiter?.();
  }

  private async nextAfterWaiting(): Promise<IteratorResult<RecordedEvent>> {
    for (;;) {
      if (this.stopped) return DONE;
      if (this.pageIndex < this.page.length) return { done: false, value: this.page[this.pageIndex++] };
      const { events, scannedToPosition } = this.source.readPage(this.afterPosition);
      this.afterPosition = scannedToPosition;
      this.page = events;
      this.pageIndex = 0;
      if (events.length > 0) continue;
      // Reading the page and arming the waiter happen in one synchronous step, so no commit slips between them.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => this.wake(), this.pollIntervalMs);
        this.wakeWaiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}
