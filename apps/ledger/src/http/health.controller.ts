import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { EventStore } from '#lib/event-store/event-store.port.js';
import type { ProjectionRunner } from '#lib/projections/projection-runner.js';
import { DomainError } from '#lib/shared/domain/domain-error.js';
import type { LedgerConfig } from '../config/ledger-config.js';
import { EVENT_STORE, KAFKA_INTEGRATION, LEDGER_CONFIG, PROJECTION_RUNNER, PROJECTOR, READ_MODEL_PROGRESS } from '../ledger.tokens.js';
import type { KafkaIntegration } from '../kafka/kafka-integration.js';
import type { Projector, ReadModelProgress } from '../roles/projector.js';
import { Public } from './auth/roles.js';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(PROJECTION_RUNNER) private readonly runner: ProjectionRunner,
    @Inject(PROJECTOR) private readonly projector: Projector,
    @Inject(READ_MODEL_PROGRESS) private readonly progress: ReadModelProgress,
    @Inject(LEDGER_CONFIG) private readonly config: LedgerConfig,
    @Inject(KAFKA_INTEGRATION) private readonly kafka: KafkaIntegration | null,
  ) {}

  @Get()
  @Public()
  @ApiOperation({
    summary:
      'Readiness: the store answers; this process\'s roles; whether it holds the projector lease; how far the read models and the Kafka relay trail the log',
  })
  async health() {
    const headPosition = await this.store.headPosition();
    const projecting = this.projector.active;
    if (projecting && this.runner.status === 'failed') {
      throw new DomainError('HEALTH.PROJECTIONS_FAILED', `Projections stopped: ${this.runner.lastError?.message ?? 'unknown error'}`, 'unavailable');
    }
    const position = await this.progress.position();
    // Projections run here ("running"), or in another process whose stored checkpoints this one reads ("elsewhere").
    const projections = { status: projecting ? this.runner.status : 'elsewhere', position, lagEvents: Math.max(0, headPosition - position) };
    // The relay waiting for the broker is not a reason to stop taking commands: it is reported, not failed on.
    const kafkaStatus = this.kafka?.status() ?? null;
    const kafka =
      kafkaStatus === null
        ? null
        : {
            ...kafkaStatus,
            relay: kafkaStatus.relay === null ? null : { ...kafkaStatus.relay, lagEvents: Math.max(0, headPosition - kafkaStatus.relay.position) },
          };
    return { status: 'ok' as const, roles: this.config.roles, projectorLease: this.projector.leaseState, headPosition, projections, kafka };
  }
}
