import { Logger } from '@nestjs/common';
import type { CheckpointFollower } from '#lib/projections/checkpoint-follower.js';
import type { ProjectionRunner, WaitOptions } from '#lib/projections/projection-runner.js';
import type { ProjectorLease } from '#lib/projections/projector-lease.js';
import type { PayoutReactions } from '#lib/payouts/application/payout-reactions.js';

export type ProjectorLeaseState = 'held' | 'standby' | 'not-a-projector';

/**
 * The projector role: the projection runner and the durable reactions that act on what the projections wrote (payout
 * reactions; the dispute processes run on the runner's clock and only while it runs), in the one process that holds
 * the projector lease. A process without the lease stands by and tries to take it every `pollMs`; the one that takes it
 * over starts the runner, which resumes from the stored checkpoints. A process that loses it (its lock's session ended)
 * stops both at once and stands by again.
 */
export class Projector {
  private readonly logger = new Logger('Projector');
  private timer: NodeJS.Timeout | null = null;
  private attempt: Promise<void> | null = null;
  private stopping = false;

  constructor(
    private readonly runner: ProjectionRunner,
    private readonly reactions: PayoutReactions,
    /** Null in a process without the projector role. */
    private readonly lease: ProjectorLease | null,
    private readonly pollMs: number,
  ) {
    lease?.onLost(() => void this.leaseLost());
  }

  get leaseState(): ProjectorLeaseState {
    if (this.lease === null) return 'not-a-projector';
    return this.lease.held ? 'held' : 'standby';
  }

  /** Projects in this process: it holds the lease and its runner has started. */
  get active(): boolean {
    return this.lease !== null && this.lease.held && this.runner.status !== 'stopped';
  }

  /** Takes the lease if it is free (and starts projecting), then keeps trying every pollMs while another holds it. */
  async start(): Promise<void> {
    if (this.lease === null) return;
    await this.tryToProject();
    this.timer = setInterval(() => void this.tryToProject(), this.pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.attempt;
    await this.reactions.stop();
    await this.runner.stop();
    await this.lease?.release();
  }

  private tryToProject(): Promise<void> {
    this.attempt ??= (async () => {
      if (this.stopping || this.lease === null || this.lease.held) return;
      try {
        if (!(await this.lease.tryAcquire())) return;
      } catch (error) {
        this.logger.warn(`Cannot reach the projector lease; will try again: ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
      this.logger.log('Took the projector lease: projecting from the stored checkpoints');
      await this.runner.start();
      await this.reactions.start();
    })()
      .catch((error: unknown) => this.logger.error(`Projecting failed to start: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => {
        this.attempt = null;
      });
    return this.attempt;
  }

  private async leaseLost(): Promise<void> {
    if (this.stopping) return;
    this.logger.warn('Lost the projector lease (its database session ended): stopped projecting; standing by');
    await this.reactions.stop().catch(() => undefined);
    await this.runner.stop().catch(() => undefined);
  }
}

/**
 * How far the read models are, for reads and commands that must see a position: the runner's checkpoint while this
 * process projects, else the checkpoints the projector stores (read by the follower).
 */
export class ReadModelProgress {
  private projector: Pick<Projector, 'active'> = { active: false };

  constructor(
    private readonly runner: ProjectionRunner,
    private readonly follower: CheckpointFollower,
  ) {}

  /** The projector role of this process (the reactions it runs wait on this object, hence not a constructor argument). */
  attach(projector: Pick<Projector, 'active'>): void {
    this.projector = projector;
  }

  waitForPosition(position: number, options: WaitOptions = {}): Promise<void> {
    return this.projector.active ? this.runner.waitForPosition(position, options) : this.follower.waitForPosition(position, options);
  }

  /** The position every projection has reached (read again from the database when another process projects). */
  async position(): Promise<number> {
    return this.projector.active ? this.runner.position : this.follower.refresh();
  }
}
