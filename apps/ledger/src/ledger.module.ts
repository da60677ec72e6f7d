import { join } from 'node:path';
import { Inject, Logger, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { EventStore } from '#lib/event-store/event-store.port.js';
import { SqliteEventStore } from '#lib/event-store/embedded/sqlite-event-store.js';
import { ProjectionRunner } from '#lib/projections/projection-runner.js';
import type { ReadModelDb } from '#lib/projections/read-model.port.js';
import { SqliteReadModelDb } from '#lib/shared/infrastructure/sqlite-read-model-db.js';
import type { LedgerConfig } from './config/ledger-config.js';
import { EVENT_STORE, KAFKA_INTEGRATION, LEDGER_CONFIG, PROJECTION_RUNNER, READ_MODEL_DB } from './ledger.tokens.js';
import { KafkaIntegration } from './kafka/kafka-integration.js';
import { createLedgerProjections } from '#lib/projections/ledger-projections.js';
import { HealthController } from './http/health.controller.js';
import { IDEMPOTENCY_STORE, IdempotencyInterceptor, SqliteIdempotencyStore, type IdempotencyStore } from './http/idempotency.js';
import { ReadConsistency } from './http/read-consistency.js';
import {
  ChangePayeeManager,
  ChangePayeeTerritory,
  GetPayee,
  ListPayees,
  OnboardPayee,
  PayeesController,
  SetQuota,
} from './modules/organization/payees.controller.js';
import {
  AllocateCredits,
  AmendDeal,
  CancelDeal,
  CloseDealWon,
  DealsController,
  GetDeal,
  ListCreditsForPayee,
  ListDeals,
} from './modules/crediting/deals.controller.js';
import { AttainmentController, GetAttainment, ListAttainment } from './modules/attainment/attainment.controller.js';
import { StatementsController, statementQueries } from './modules/statements/statements.controller.js';
import { DraftPlanVersion, GetPlan, PlansController, PublishPlanVersion, RevisePlanDraft } from './modules/plans/plans.controller.js';
import { AssignPlan, EndAssignment, ListPlanAssignments, PlanAssignmentsController } from './modules/plans/plan-assignments.controller.js';
import { FxRatesController, ListFxRates, RecordFxRate } from './modules/fx/fx-rates.controller.js';

/** Starts the projections once the application is up and stops everything in order when it shuts down. */
class LedgerLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_DB) private readonly readModels: ReadModelDb,
    @Inject(PROJECTION_RUNNER) private readonly runner: ProjectionRunner,
    @Inject(IDEMPOTENCY_STORE) private readonly idempotency: IdempotencyStore,
    @Inject(KAFKA_INTEGRATION) private readonly kafka: KafkaIntegration | null,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.runner.start();
    await this.kafka?.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.kafka?.stop();
    await this.runner.stop();
    await this.store.close();
    await this.readModels.close();
    this.idempotency.close();
  }
}

const useCases = [
  OnboardPayee,
  ChangePayeeManager,
  ChangePayeeTerritory,
  SetQuota,
  CloseDealWon,
  AllocateCredits,
  AmendDeal,
  CancelDeal,
  DraftPlanVersion,
  RevisePlanDraft,
  PublishPlanVersion,
  AssignPlan,
  EndAssignment,
  RecordFxRate,
];
const readQueries = [GetPayee, ListPayees, GetDeal, ListDeals, ListCreditsForPayee, GetAttainment, ListAttainment, ...statementQueries, GetPlan, ListPlanAssignments, ListFxRates];

@Module({})
export class LedgerModule {
  static forRoot(config: LedgerConfig): DynamicModule {
    const logger = new Logger('Projections');
    return {
      module: LedgerModule,
      imports: [CqrsModule.forRoot()],
      controllers: [HealthController, PayeesController, DealsController, AttainmentController, StatementsController, PlansController, PlanAssignmentsController, FxRatesController],
      providers: [
        { provide: LEDGER_CONFIG, useValue: config },
        {
          provide: EVENT_STORE,
          useFactory: (): EventStore => SqliteEventStore.open({ path: join(config.dataDir, 'events.sqlite'), pollIntervalMs: config.storePollMs }),
        },
        { provide: READ_MODEL_DB, useFactory: (): ReadModelDb => SqliteReadModelDb.open({ path: join(config.dataDir, 'read-models.sqlite') }) },
        {
          provide: PROJECTION_RUNNER,
          inject: [EVENT_STORE, READ_MODEL_DB],
          useFactory: (store: EventStore, readModels: ReadModelDb) =>
            new ProjectionRunner(store, readModels, createLedgerProjections(), {
              onError: (error) => logger.error(`Projections stopped: ${error.message}`, error.stack),
            }),
        },
        {
          provide: KAFKA_INTEGRATION,
          inject: [EVENT_STORE],
          useFactory: (store: EventStore): KafkaIntegration | null => (config.kafka === null ? null : new KafkaIntegration(config.kafka, store, config.dataDir)),
        },
        { provide: IDEMPOTENCY_STORE, useFactory: () => new SqliteIdempotencyStore(join(config.dataDir, 'http-idempotency.sqlite')) },
        IdempotencyInterceptor,
        ReadConsistency,
        LedgerLifecycle,
        ...useCases.map((useCase) => useCase.handler),
        ...readQueries.map((query) => query.handler),
      ],
    };
  }
}
