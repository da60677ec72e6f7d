import type { EventStore, RecordedEvent, Subscription } from '#lib/event-store/event-store.port.js';
import { matchesFilter, type Projection } from './projection.js';
import type { ReadModelDb, ReadModelReader, ReadModelTransaction } from './read-model.port.js';

export const CHECKPOINT_TABLE = 'projection_checkpoints';

export interface ProjectionRunnerOptions {
  /** Most events applied in one read-model transaction. Default 1000. */
  batchSize?: number;
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

/** Creates the checkpoint table when missing. */
export async function setupCheckpoints(transaction: ReadModelTransaction): Promise<void> {
  await transaction.run(`CREATE TABLE IF NOT EXISTS ${CHECKPOINT_TABLE} (projection_name TEXT PRIMARY KEY, position INTEGER NOT NULL)`);
}

/** The stored checkpoint of each projection (absent: never run). For a process that reads but does not project. */
export async function readCheckpoints(reader: ReadModelReader): Promise<Map<string, number>> {
  const rows = await reader.all<{ projection_name: string; position: number }>(`SELECT projection_name, position FROM ${CHECKPOINT_TABLE}`);
  return new Map(rows.map((row) => [row.projection_name, row.position]));
}

/**
 * Drives projections from the store's global log. One catch-up subscription feeds every projection; each
 * projection keeps its own checkpoint (so one added later catches up on its own), stored in the same
 * read-model transaction as the rows its batch wrote.
 *
 * Events are applied in batches: a batch is whatever has arrived up to `batchSize` before the event loop
 * would otherwise go idle, so a catch-up or rebuild commits large batches while a live event is committed
 * at once.
 *
 * Reads that must see a write wait on the checkpoint: `waitForPosition(append.position)`, never a sleep.
 */
export class ProjectionRunner {
  private readonly batchSize: number;
  private readonly onError: ((error: ProjectionFailedError) => void) | undefined;
  private readonly checkpoints = new Map<string, number>();
  private waiters: Waiter[] = [];
  private subscription: Subscription | null = null;
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
    this.batchSize = options.batchSize ?? 1000;
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
      for (const projection of this.projections) await projection.setup(transaction);
      const stored = await readCheckpoints(transaction);
      for (const projection of this.projections) this.checkpoints.set(projection.name, stored.get(projection.name) ?? 0);
    });
    const subscription = this.store.subscribeToAll({ afterPosition: this.position });
    this.subscription = subscription;
    this.state = 'running';
    this.loop = this.consume(subscription);
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
          await saveCheckpoint(transaction, projection.name, 0);
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
    const subscription = this.subscription;
    const loop = this.loop;
    this.subscription = null;
    this.loop = null;
    if (subscription) await subscription.stop();
    if (loop) await loop;
    if (this.state === 'running') this.state = 'stopped';
  }

  private async consume(subscription: Subscription): Promise<void> {
    const iterator = subscription[Symbol.asyncIterator]();
    // A next() that lost the race against the end of an event-loop turn is kept for the following batch.
    let pending: Promise<IteratorResult<RecordedEvent>> | null = null;
    try {
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
    } catch (error) {
      await subscription.stop();
      const failure =
        error instanceof ProjectionFailedError ? error : new ProjectionFailedError('(runner)', this.position, '(subscription)', error);
      this.failure = failure;
      this.state = 'failed';
      this.rejectWaiters(() => failure);
      this.onError?.(failure);
    }
  }

  private async applyBatch(batch: readonly RecordedEvent[]): Promise<void> {
    const lastPosition = batch[batch.length - 1].position;
    await this.db.transaction(async (transaction) => {
      for (const event of batch) {
        for (const projection of this.projections) {
          if (event.position <= (this.checkpoints.get(projection.name) ?? 0) || !matchesFilter(projection.filter, event)) continue;
          try {
            await projection.apply(event, transaction);
          } catch (error) {
            throw new ProjectionFailedError(projection.name, event.position, event.type, error);
          }
        }
      }
      for (const projection of this.projections) {
        if (lastPosition > (this.checkpoints.get(projection.name) ?? 0)) await saveCheckpoint(transaction, projection.name, lastPosition);
      }
    });
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

async function saveCheckpoint(transaction: ReadModelTransaction, projectionName: string, position: number): Promise<void> {
  await transaction.run(
    `INSERT INTO ${CHECKPOINT_TABLE} (projection_name, position) VALUES (?, ?)
     ON CONFLICT (projection_name) DO UPDATE SET position = excluded.position`,
    [projectionName, position],
  );
}
