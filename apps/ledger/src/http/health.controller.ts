import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { EventStore } from '#lib/event-store/event-store.port.js';
import type { ProjectionRunner } from '#lib/projections/projection-runner.js';
import { DomainError } from '#lib/shared/domain/domain-error.js';
import { EVENT_STORE, KAFKA_INTEGRATION, PROJECTION_RUNNER } from '../ledger.tokens.js';
import type { KafkaIntegration } from '../kafka/kafka-integration.js';
import { Public } from './auth/roles.js';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(PROJECTION_RUNNER) private readonly runner: ProjectionRunner,
    @Inject(KAFKA_INTEGRATION) private readonly kafka: KafkaIntegration | null,
  ) {}

  @Get()
  @Public()
  @ApiOperation({ summary: 'Readiness: the store answers; projections run; how far they and the Kafka relay trail the log' })
  async health() {
    const headPosition = await this.store.headPosition();
    const projections = { status: this.runner.status, position: this.runner.position, lagEvents: Math.max(0, headPosition - this.runner.position) };
    if (this.runner.status === 'failed') {
      throw new DomainError('HEALTH.PROJECTIONS_FAILED', `Projections stopped: ${this.runner.lastError?.message ?? 'unknown error'}`, 'unavailable');
    }
    // The relay waiting for the broker is not a reason to stop taking commands: it is reported, not failed on.
    const kafkaStatus = this.kafka?.status() ?? null;
    const kafka =
      kafkaStatus === null
        ? null
        : {
            ...kafkaStatus,
            relay: kafkaStatus.relay === null ? null : { ...kafkaStatus.relay, lagEvents: Math.max(0, headPosition - kafkaStatus.relay.position) },
          };
    return { status: 'ok' as const, headPosition, projections, kafka };
  }
}
