import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { EventStore } from '#lib/event-store/event-store.port.js';
import type { ProjectionRunner } from '#lib/projections/projection-runner.js';
import type { ReadModelDb } from '#lib/projections/read-model.port.js';
import { DisputeProcesses, type DisputeAdjustmentPort } from '#lib/disputes/application/dispute-processes.js';
import type { LedgerConfig } from '../../config/ledger-config.js';
import { CLOCK, DISPUTE_ADJUSTMENTS, EVENT_STORE, LEDGER_CONFIG, PROJECTION_RUNNER, READ_MODEL_DB, type Clock } from '../../ledger.tokens.js';

/**
 * Runs the dispute processes on the service clock, every LEDGER_DISPUTE_PROCESS_MS and once at start: escalate what
 * is overdue today, carry out pending remedies. What they act on is in the read-model file (their state is a fold of
 * the log), so a restart picks up exactly where the last run left off; what they do is idempotent, so a run cut short
 * by a shutdown or a crash is simply done again.
 */
@Injectable()
export class DisputeProcessTimer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('DisputeProcesses');
  private readonly processes: DisputeProcesses;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopping = false;

  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(READ_MODEL_DB) readModels: ReadModelDb,
    @Inject(PROJECTION_RUNNER) private readonly runner: ProjectionRunner,
    @Inject(LEDGER_CONFIG) private readonly config: LedgerConfig,
    @Inject(CLOCK) clock: Clock,
    @Inject(DISPUTE_ADJUSTMENTS) adjustments: DisputeAdjustmentPort,
  ) {
    this.processes = new DisputeProcesses(store, readModels, adjustments, {
      now: () => clock.now(),
      newId: () => randomUUID(),
      onProblem: (message, error) => this.logger.warn(`${message}: ${error instanceof Error ? error.message : String(error)}`),
    });
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.runOnce(), this.config.disputeProcessIntervalMs);
    this.timer.unref();
    void this.runOnce();
  }

  /** One run of both processes; a run already under way is joined, not doubled. */
  runOnce(): Promise<void> {
    if (this.running !== null) return this.running;
    this.running = this.run().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.timer !== null) clearInterval(this.timer);
    await this.running;
  }

  private async run(): Promise<void> {
    // The projections start with the application; until then the process state may be behind or absent.
    if (this.stopping || this.runner.status !== 'running') return;
    try {
      await this.runner.caughtUp({ timeoutMs: this.config.readWaitMs });
      if (this.stopping) return;
      const escalated = await this.processes.escalateOverdue();
      if (escalated.length > 0) this.logger.log(`Escalated ${escalated.length} overdue dispute(s)`);
      if (this.stopping) return;
      const remedies = await this.processes.carryOutRemedies();
      if (remedies.done.length + remedies.failed.length > 0) {
        this.logger.log(`Dispute remedies: ${remedies.done.length} carried out, ${remedies.failed.length} failed, ${remedies.waiting.length} waiting`);
      }
    } catch (error) {
      if (!this.stopping) this.logger.warn(`Dispute processes will try again: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
