import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { EventStore } from '#lib/event-store/event-store.port.js';
import type { ProjectionRunner } from '#lib/projections/projection-runner.js';
import { DomainError } from '#lib/shared/domain/domain-error.js';
import { EVENT_STORE, PROJECTION_RUNNER } from '../ledger.tokens.js';
import { Public } from './auth/roles.js';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(PROJECTION_RUNNER) private readonly runner: ProjectionRunner,
  ) {}

  @Get()
  @Public()
  @ApiOperation({ summary: 'Readiness: the store answers; projections run; how far they trail the log' })
  async health() {
    const headPosition = await this.store.headPosition();
    const projections = { status: this.runner.status, position: this.runner.position, lagEvents: Math.max(0, headPosition - this.runner.position) };
    if (this.runner.status === 'failed') {
      throw new DomainError('HEALTH.PROJECTIONS_FAILED', `Projections stopped: ${this.runner.lastError?.message ?? 'unknown error'}`, 'unavailable');
    }
    return { status: 'ok' as const, headPosition, projections };
  }
}
