import { CHECKPOINT_TABLE, ProjectionWaitTimeoutError, type WaitOptions } from './projection-runner.js';
import type { Projection } from './projection.js';
import type { ReadModelDb } from './read-model.port.js';

/**
 * How far the read models are, for a process that reads them but does not project (an api process, or a projector
 * standing by while another holds the lease): it reads the checkpoints the projector stores with every batch.
 * A read that must see a write (`?waitForPosition=`) waits here as it would on the runner: on the stored checkpoint,
 * read again every `waitPollMs` while anyone waits.
 */
export class CheckpointFollower {
  private checkpoints = new Map<string, number>();
  private waiters: { position: number; resolve(): void; reject(error: Error): void; deadline: number }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly db: ReadModelDb,
    private readonly projections: readonly Pick<Projection, 'name' | 'version'>[],
    private readonly options: { waitPollMs?: number } = {},
  ) {}

  /** The position every projection has reached, as last read. */
  get position(): number {
    let lowest = Number.POSITIVE_INFINITY;
    for (const projection of this.projections) lowest = Math.min(lowest, this.checkpoints.get(projection.name) ?? 0);
    return Number.isFinite(lowest) ? lowest : 0;
  }

  checkpointsByProjection(): Record<string, number> {
    return Object.fromEntries(this.projections.map((projection) => [projection.name, this.checkpoints.get(projection.name) ?? 0]));
  }

  /** Reads the stored checkpoints again. A projection stored under another layout version counts as not started. */
  async refresh(): Promise<number> {
    this.polling ??= (async () => {
      try {
        const rows = await this.db.read((reader) =>
          reader.all<{ projection_name: string; position: number; layout_version: number }>(
            `SELECT projection_name, position, layout_version FROM ${CHECKPOINT_TABLE}`,
          ),
        );
        const versions = new Map(this.projections.map((projection) => [projection.name, projection.version ?? 1]));
        this.checkpoints = new Map(rows.filter((row) => versions.get(row.projection_name) === row.layout_version).map((row) => [row.projection_name, row.position]));
      } catch (error) {
        // No projector has created the checkpoint table yet: nothing is projected.
        if (!/no such table|does not exist/.test(String((error as Error).message))) throw error;
        this.checkpoints = new Map();
      }
    })().finally(() => {
      this.polling = null;
    });
    await this.polling;
    return this.position;
  }

  /** Resolves once the stored checkpoints reach `position`. */
  async waitForPosition(position: number, options: WaitOptions = {}): Promise<void> {
    if (position <= 0 || this.position >= position) return;
    if (this.stopped) throw new Error('The checkpoint follower has stopped');
    if ((await this.refresh()) >= position) return;
    await new Promise<void>((resolve, reject) => {
      this.waiters.push({ position, resolve, reject, deadline: options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeoutMs });
      this.schedule();
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.reject(new Error('The checkpoint follower has stopped'));
  }

  private schedule(): void {
    if (this.timer !== null || this.waiters.length === 0 || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.poll();
    }, this.options.waitPollMs ?? 20);
  }

  private async poll(): Promise<void> {
    try {
      await this.refresh();
    } catch {
      // Read again at the next turn; a wait that outlives its deadline times out below.
    }
    const reached = this.position;
    const now = Date.now();
    const remaining: typeof this.waiters = [];
    for (const waiter of this.waiters) {
      if (waiter.position <= reached) waiter.resolve();
      else if (waiter.deadline <= now) waiter.reject(new ProjectionWaitTimeoutError(waiter.position, reached));
      else remaining.push(waiter);
    }
    this.waiters = remaining;
    this.schedule();
  }
}
