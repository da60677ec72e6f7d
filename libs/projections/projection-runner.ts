import type { EventStore, RecordedEvent, Subscription } from '#lib/event-store/event-store.port.js';
import { compileFilter, type Projection } from './projection.js';
import type { ReadModelDb, ReadModelReader, ReadModelTransaction } from './read-model.port.js';

/** Each projection's checkpoint and the layout version its tables were built with. */
export const CHECKPOINT_TABLE = 'projection_state';

export interface ProjectionRunnerOptions {
  /**
   * Events read per page while catching up, and most live events applied in one transaction. Default 1000: a page of
   * decoded events then dies in V8's young generation instead of being copied by its collector (measured on a
   * statements rebuild, pages of 5000 made the collector copy about twice the bytes). Live events are committed as
   * soon as no more are waiting, so they are never held back by it.
   */
  batchSize?: number;
  /**
   * Most events applied in one read-model transaction while catching up (a rebuild, a restart): several pages.
   * Larger means fewer writes of rows that many events touch (a quarter's attainment); a crash loses at most this
   * much progress, which is replayed. Default 50000.
   */
  eventsPerCatchUpTransaction?: number;
  /**
   * A catch-up that starts at least this many events behind the log's head writes its rows behind the projections
   * (`writeBehind` transactions: another thread inserts them while the projections go on computing). A shorter one
   * writes them itself: handing rows to a thread costs more than it saves on a few pages. Default 20,000; 0 always
   * writes behind.
   */
  writeBehindMinEvents?: number;
  /** Told when a projection fails on an event; the runner has stopped by then. */
  onError?: (error: ProjectionFailedError) => void;
}

export interface WaitOptions {
  /** Give up after this long (rejects with ProjectionWaitTimeoutError). Default: wait as long as it takes. */
  timeoutMs?: number;
}

export type ProjectionRunnerStatus = 'stopped' | 'running' | 'failed';

/** A projection threw while applying an event: nothing of that batch was written and the runner stopped. */
export class ProjectionFailedError extends Error {
  readonly code = 'PROJECTION.FAILED';
  constructor(
    readonly projectionName: string,
    readonly eventPosition: number,
    readonly eventType: string,
    override readonly cause: unknown,
  ) {
    super(`Projection ${projectionName} failed on ${eventType} at position ${eventPosition}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'ProjectionFailedError';
  }
}

export class ProjectionWaitTimeoutError extends Error {
  readonly code = 'PROJECTION.WAIT_TIMEOUT';
  constructor(
    readonly position: number,
    readonly reachedPosition: number,
  ) {
    super(`Read models reached position ${reachedPosition}, not ${position}, in the time allowed`);
    this.name = 'ProjectionWaitTimeoutError';
  }
}

export class ProjectionRunnerStoppedError extends Error {
  readonly code = 'PROJECTION.STOPPED';
  constructor(readonly position: number) {
    super(`The projection runner stopped before read models reached position ${position}`);
    this.name = 'ProjectionRunnerStoppedError';
  }
}

interface Waiter {
  position: number;
  resolve(): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout | null;
}

const TURN_ENDED = Symbol('turn ended');

/** One start-to-stop run of the consuming loop. */
interface RunControl {
  stopRequested: boolean;
  subscription: Subscription | null;
}

/** Creates the checkpoint table when missing. */
export async function setupCheckpoints(transaction: ReadModelTransaction): Promise<void> {
  // The table of an earlier layout, without versions; its projections are rebuilt since they have no state here.
  await transaction.run('DROP TABLE IF EXISTS projection_checkpoints');
  await transaction.run(
    `CREATE TABLE IF NOT EXISTS ${CHECKPOINT_TABLE} (projection_name TEXT PRIMARY KEY, position INTEGER NOT NULL, layout_version INTEGER NOT NULL)`,
  );
}

/** The stored checkpoint of each projection (absent: never run). For a process that reads but does not project. */
export async function readCheckpoints(reader: ReadModelReader): Promise<Map<string, number>> {
  const rows = await reader.all<{ projection_name: string; position: number }>(`SELECT projection_name, position FROM ${CHECKPOINT_TABLE}`);
  return new Map(rows.map((row) => [row.projection_name, row.position]));
}

const layoutVersionOf = (projection: Projection): number => projection.version ?? 1;

/**
 * Drives projections from the store's global log. One reader feeds every projection (pages of history, then a
 * subscription from the last event read); each projection keeps its own checkpoint (so one added later catches
 * up on its own), stored in the same read-model transaction as the rows its batch wrote.
 *
 * Events are applied in batches: a page of history while catching up, and live, whatever has arrived (up to
 * `batchSize`) before the event loop would otherwise go idle, so a live event is committed at once.
 *
 * Reads that must see a write wait on the checkpoint: `waitForPosition(append.position)`, never a sleep.
 */
export class ProjectionRunner {
  private readonly batchSize: number;
  private readonly eventsPerCatchUpTransaction: number;
  private readonly writeBehindMinEvents: number;
  private readonly onError: ((error: ProjectionFailedError) => void) | undefined;
  private readonly checkpoints = new Map<string, number>();
  private readonly wants: ReadonlyMap<Projection, (event: RecordedEvent) => boolean>;
  private waiters: Waiter[] = [];
  private run: RunControl | null = null;
  private loop: Promise<void> | null = null;
  private state: ProjectionRunnerStatus = 'stopped';
  private failure: ProjectionFailedError | null = null;
  /** A rebuild stops and restarts the loop; waits that arrive in between are kept, not refused. */
  private rebuilding = false;

  constructor(
    private readonly store: EventStore,
    private readonly db: ReadModelDb,
    private readonly projections: readonly Projection[],
    options: ProjectionRunnerOptions = {},
  ) {
    const names = new Set(projections.map((projection) => projection.name));
    if (names.size !== projections.length) throw new Error('Projection names must be unique');
    this.wants = new Map(projections.map((projection) => [projection, compileFilter(projection.filter)]));
    this.batchSize = options.batchSize ?? 1000;
    this.eventsPerCatchUpTransaction = options.eventsPerCatchUpTransaction ?? 50_000;
    this.writeBehindMinEvents = options.writeBehindMinEvents ?? 20_000;
    this.onError = options.onError;
  }

  get status(): ProjectionRunnerStatus {
    return this.state;
  }

  /** Why the runner failed, when it did. */
  get lastError(): ProjectionFailedError | null {
    return this.failure;
  }

  /** The position every projection has reached: all events up to it are in the read models. */
  get position(): number {
    let lowest = Number.POSITIVE_INFINITY;
    for (const position of this.checkpoints.values()) lowest = Math.min(lowest, position);
    return Number.isFinite(lowest) ? lowest : 0;
  }

  /** Each projection's checkpoint. */
  checkpointsByProjection(): Record<string, number> {
    return Object.fromEntries(this.checkpoints);
  }

  /** Creates missing tables, loads the checkpoints and subscribes after the lowest one. */
  async start(): Promise<void> {
    if (this.state === 'running') return;
    this.failure = null;
    await this.db.transaction(async (transaction) => {
      await setupCheckpoints(transaction);
      const stored = await transaction.all<{ projection_name: string; position: number; layout_version: number }>(
        `SELECT projection_name, position, layout_version FROM ${CHECKPOINT_TABLE}`,
      );
      const storedByName = new Map(stored.map((row) => [row.projection_name, row]));
      for (const projection of this.projections) {
        const state = storedByName.get(projection.name);
        if (state === undefined || state.layout_version !== layoutVersionOf(projection)) {
          // Never run here, or built with another table layout: start it over from the beginning of the log.
          await projection.reset(transaction);
          await projection.setup(transaction);
          await saveCheckpoint(transaction, projection, 0);
          this.checkpoints.set(projection.name, 0);
        } else {
          await projection.setup(transaction);
          this.checkpoints.set(projection.name, state.position);
        }
      }
    });
    const run: RunControl = { stopRequested: false, subscription: null };
    this.run = run;
    this.state = 'running';
    this.loop = this.consume(run);
    this.settleWaiters();
  }

  /** Stops after the batch in hand is committed. Waits still pending are rejected. */
  async stop(): Promise<void> {
    await this.halt();
    this.rejectWaiters((waiter) => new ProjectionRunnerStoppedError(waiter.position));
  }

  /**
   * Drops every read model and replays the whole log into it, then carries on live if the runner was running.
   * Resolves once the read models hold every event that was in the store when it was called.
   * While it runs, reads see a partly rebuilt model.
   */
  async rebuild(options: WaitOptions = {}): Promise<void> {
    const wasRunning = this.state === 'running';
    this.rebuilding = true;
    try {
      await this.halt();
      await this.db.transaction(async (transaction) => {
        await setupCheckpoints(transaction);
        for (const projection of this.projections) {
          await projection.reset(transaction);
          await projection.setup(transaction);
          await saveCheckpoint(transaction, projection, 0);
        }
      });
      for (const projection of this.projections) this.checkpoints.set(projection.name, 0);
      await this.start();
    } finally {
      this.rebuilding = false;
    }
    await this.caughtUp(options);
    if (!wasRunning) await this.stop();
  }

  /** Resolves when every projection has applied the log up to `position` (e.g. an append's position). */
  waitForPosition(position: number, options: WaitOptions = {}): Promise<void> {
    if (position <= 0 || (this.position >= position && this.checkpoints.size === this.projections.length)) return Promise.resolve();
    if (this.state === 'failed' && this.failure) return Promise.reject(this.failure);
    if (this.state === 'stopped' && !this.rebuilding) return Promise.reject(new ProjectionRunnerStoppedError(position));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { position, resolve, reject, timer: null };
      if (options.timeoutMs !== undefined) {
        waiter.timer = setTimeout(() => {
          this.waiters = this.waiters.filter((other) => other !== waiter);
          reject(new ProjectionWaitTimeoutError(position, this.position));
        }, options.timeoutMs);
      }
      this.waiters.push(waiter);
    });
  }

  /** Resolves when the read models hold every event committed before this call. */
  async caughtUp(options: WaitOptions = {}): Promise<void> {
    await this.waitForPosition(await this.store.headPosition(), options);
  }

  private async halt(): Promise<void> {
    const run = this.run;
    const loop = this.loop;
    this.run = null;
    this.loop = null;
    if (run) {
      run.stopRequested = true;
      if (run.subscription) await run.subscription.stop();
    }
    if (loop) await loop;
    if (this.state === 'running') this.state = 'stopped';
  }

  /**
   * Catches up by reading the log in pages (a whole batch per read, no per-event iteration; the store may read the
   * next pages while these are applied), then subscribes after the last event read and applies live events as they
   * come. The subscription starts strictly after that position, so nothing falls between the two.
   */
  private async consume(run: RunControl): Promise<void> {
    try {
      let after = this.position;
      const writeBehind = (await this.store.headPosition()) - after >= this.writeBehindMinEvents;
      const pages = this.store.readAllPages({ afterPosition: after, pageSize: this.batchSize })[Symbol.asyncIterator]();
      try {
        let caughtUp = false;
        while (!caughtUp && !run.stopRequested) {
          // Several pages per transaction: each touched read-model row is written once per transaction, not per page;
          // rows are written behind the projections, which go on computing meanwhile.
          await this.inTransaction(writeBehind, async (apply) => {
            for (let applied = 0; applied < this.eventsPerCatchUpTransaction && !run.stopRequested; ) {
              const next = await pages.next();
              if (next.done || run.stopRequested) {
                caughtUp = true;
                return;
              }
              const page = next.value;
              await apply(page);
              after = page[page.length - 1].position;
              applied += page.length;
              if (page.length < this.batchSize) {
                caughtUp = true;
                return;
              }
            }
          });
        }
      } finally {
        await pages.return?.();
      }
      if (run.stopRequested) return;
      run.subscription = this.store.subscribeToAll({ afterPosition: after });
      await this.consumeLive(run.subscription);
    } catch (error) {
      await run.subscription?.stop();
      const failure =
        error instanceof ProjectionFailedError ? error : new ProjectionFailedError('(runner)', this.position, '(subscription)', error);
      this.failure = failure;
      this.state = 'failed';
      this.rejectWaiters(() => failure);
      this.onError?.(failure);
    }
  }

  private async consumeLive(subscription: Subscription): Promise<void> {
    const iterator = subscription[Symbol.asyncIterator]();
    // A next() that lost the race against the end of an event-loop turn is kept for the following batch.
    let pending: Promise<IteratorResult<RecordedEvent>> | null = null;
    for (;;) {
      const first = await (pending ?? iterator.next());
      pending = null;
      if (first.done) return;
      const batch = [first.value];
      let ended = false;
      const turnEnded = new Promise<typeof TURN_ENDED>((resolve) => setImmediate(() => resolve(TURN_ENDED)));
      while (batch.length < this.batchSize) {
        pending = iterator.next();
        const next = await Promise.race([pending, turnEnded]);
        if (next === TURN_ENDED) break;
        pending = null;
        if (next.done) {
          ended = true;
          break;
        }
        batch.push(next.value);
      }
      await this.applyBatch(batch);
      if (ended) return;
    }
  }

  private async applyBatch(batch: readonly RecordedEvent[]): Promise<void> {
    await this.inTransaction(false, async (apply) => apply(batch));
  }

  /**
   * Runs `fill` in one read-model transaction; `fill` hands it events (one or more pages) to apply. Then each
   * projection flushes, and the checkpoints move to the last event applied, in the same transaction. With
   * `writeBehind` (a long catch-up) the rows are written behind the projections: a failed write then fails the
   * transaction at its next read or at its commit, with nothing of it kept, as any other failure does.
   */
  private async inTransaction(writeBehind: boolean, fill: (apply: (events: readonly RecordedEvent[]) => Promise<void>) => Promise<void>): Promise<void> {
    let lastPosition = 0;
    try {
      await this.db.transaction(async (transaction) => {
        await fill(async (events) => {
          for (const event of events) {
            for (const projection of this.projections) {
              if (event.position <= (this.checkpoints.get(projection.name) ?? 0) || !this.wants.get(projection)!(event)) continue;
              try {
                const applying = projection.apply(event, transaction);
                if (applying !== undefined) await applying;
              } catch (error) {
                throw new ProjectionFailedError(projection.name, event.position, event.type, error);
              }
            }
          }
          if (events.length > 0) lastPosition = events[events.length - 1].position;
        });
        if (lastPosition === 0) return;
        for (const projection of this.projections) {
          if (projection.flush === undefined) continue;
          try {
            await projection.flush(transaction);
          } catch (error) {
            throw new ProjectionFailedError(projection.name, lastPosition, '(flush)', error);
          }
        }
        for (const projection of this.projections) {
          if (lastPosition > (this.checkpoints.get(projection.name) ?? 0)) await saveCheckpoint(transaction, projection, lastPosition);
        }
      }, { writeBehind });
    } catch (error) {
      for (const projection of this.projections) projection.discard?.();
      throw error;
    }
    for (const projection of this.projections) {
      if (lastPosition > (this.checkpoints.get(projection.name) ?? 0)) this.checkpoints.set(projection.name, lastPosition);
    }
    this.settleWaiters();
  }

  private settleWaiters(): void {
    const reached = this.position;
    const remaining: Waiter[] = [];
    for (const waiter of this.waiters) {
      if (waiter.position <= reached) {
        if (waiter.timer) clearTimeout(waiter.timer);
        waiter.resolve();
      } else {
        remaining.push(waiter);
      }
    }
    this.waiters = remaining;
  }

  private rejectWaiters(errorFor: (waiter: Waiter) => Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) {
      if (waiter.timer) clearTimeout(waiter.timer);
      waiter.reject(errorFor(waiter));
    }
  }
}

async function saveCheckpoint(transaction: ReadModelTransaction, projection: Projection, position: number): Promise<void> {
  await transaction.run(
    `INSERT INTO ${CHECKPOINT_TABLE} (projection_name, position, layout_version) VALUES (?, ?, ?)
     ON CONFLICT (projection_name) DO UPDATE SET position = excluded.position, layout_version = excluded.layout_version`,
    [projection.name, position, layoutVersionOf(projection)],
  );
}
