/**
 * The right to write read models. Projections must have one writer: two runners folding the same log into the same
 * tables would apply events twice. A projector process takes the lease before it starts its runner and keeps it as
 * long as it projects; the others stand by, try again every so often, and the one that takes it over resumes from
 * the stored checkpoints. A lease is an operating-system or database lock held by a live session, never a timer:
 * when its holder dies (even by kill -9), the lock goes with its session.
 */
export interface ProjectorLease {
  readonly held: boolean;
  /** Takes the lease when free; resolves whether this process holds it (now or already). */
  tryAcquire(): Promise<boolean>;
  release(): Promise<void>;
  /** Told when the lease is lost without release() (its session ended): stop writing at once. */
  onLost(listener: () => void): void;
}

/** The projector lease was lost (its session ended): this process must stop writing read models. */
export class ProjectorLeaseLostError extends Error {
  readonly code = 'PROJECTOR.LEASE_LOST';
  constructor(message = 'This process does not hold the projector lease: read-model writes are refused') {
    super(message);
    this.name = 'ProjectorLeaseLostError';
  }
}
