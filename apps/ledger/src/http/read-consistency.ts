import { Inject, Injectable } from '@nestjs/common';
import { ProjectionWaitTimeoutError } from '#lib/projections/projection-runner.js';
import { DomainError, validationError } from '#lib/shared/domain/domain-error.js';
import type { LedgerConfig } from '../config/ledger-config.js';
import { LEDGER_CONFIG, READ_MODEL_PROGRESS } from '../ledger.tokens.js';
import type { ReadModelProgress } from '../roles/projector.js';

/**
 * Read models trail the log by the projection lag. A client that has just written passes the position its command
 * answered as `?waitForPosition=`, and the read waits on the projections' checkpoint (never on a timer) so it sees
 * its own write. In a process that does not project itself, that is the checkpoint the projector stores with its rows.
 */
@Injectable()
export class ReadConsistency {
  constructor(
    @Inject(READ_MODEL_PROGRESS) private readonly progress: ReadModelProgress,
    @Inject(LEDGER_CONFIG) private readonly config: LedgerConfig,
  ) {}

  async waitFor(waitForPosition: string | undefined): Promise<void> {
    if (waitForPosition === undefined) return;
    if (!/^\d{1,15}$/.test(waitForPosition)) {
      throw validationError('REQUEST.WAIT_FOR_POSITION_INVALID', 'waitForPosition must be a non-negative integer log position', [
        { field: 'waitForPosition', message: 'must be a non-negative integer log position' },
      ]);
    }
    try {
      await this.progress.waitForPosition(Number(waitForPosition), { timeoutMs: this.config.readWaitMs });
    } catch (error) {
      if (error instanceof ProjectionWaitTimeoutError) {
        throw new DomainError(
          'READ_MODEL.NOT_CAUGHT_UP',
          `The read models have not reached position ${waitForPosition} within ${this.config.readWaitMs} ms; retry shortly.`,
          'unavailable',
        );
      }
      throw error;
    }
  }
}
