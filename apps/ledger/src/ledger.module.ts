import { join } from 'node:path';
import { Inject, Logger, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import type { EventStore } from '#lib/event-store/event-store.port.js';
import { ProjectionRunner, ProjectionWaitTimeoutError } from '#lib/projections/projection-runner.js';
import { DomainError } from '#lib/shared/domain/domain-error.js';
import type { PayoutDependencies } from '#lib/payouts/application/period-commands.js';
import { PayoutReactions } from '#lib/payouts/application/payout-reactions.js';
import type { ReadModelDb } from '#lib/projections/read-model.port.js';
import { CheckpointFollower } from '#lib/projections/checkpoint-follower.js';
import type { LedgerConfig } from './config/ledger-config.js';
import {
  CHECKPOINT_FOLLOWER,
  CLOCK,
  DISPUTE_ADJUSTMENTS,
  PROJECTOR,
  READ_MODEL_PROGRESS,
  EVENT_STORE,
  KAFKA_INTEGRATION,
  LEDGER_CONFIG,
  PAYOUT_DEPENDENCIES,
  PAYOUT_REACTIONS,
  PROJECTION_RUNNER,
  READ_MODEL_DB,
  systemClock,
  type Clock,
} from './ledger.tokens.js';
import { openEventStore } from './open-event-store.js';
import { openReadModels, projectorLeaseOf } from './open-read-models.js';
import { Projector, ReadModelProgress } from './roles/projector.js';
import { KafkaIntegration } from './kafka/kafka-integration.js';
import { createLedgerProjections } from '#lib/projections/ledger-projections.js';
import { HealthController } from './http/health.controller.js';
import { IDEMPOTENCY_STORE, IdempotencyInterceptor, SqliteIdempotencyStore, type IdempotencyStore } from './http/idempotency.js';
import { ReadConsistency } from './http/read-consistency.js';
import { AccessGuard, TOKEN_VERIFIER } from './http/auth/access.guard.js';
import { TokenVerifier } from './http/auth/bearer-tokens.js';
import { PAYEE_RESOLVERS, type PayeeResolvers } from './http/auth/payee-resolvers.js';
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
  dealPayeeResolver,
  GetDeal,
  ListCreditsForPayee,
  ListDeals,
} from './modules/crediting/deals.controller.js';
import { AttainmentController, GetAttainment, ListAttainment } from './modules/attainment/attainment.controller.js';
import { StatementsController, statementQueries } from './modules/statements/statements.controller.js';
import { DraftPlanVersion, GetPlan, PlansController, PublishPlanVersion, RevisePlanDraft } from './modules/plans/plans.controller.js';
import { AssignPlan, EndAssignment, ListPlanAssignments, PlanAssignmentsController } from './modules/plans/plan-assignments.controller.js';
import { FxRatesController, ListFxRates, RecordFxRate } from './modules/fx/fx-rates.controller.js';
import { PeriodsController, payoutQueries, payoutUseCases } from './modules/payouts/periods.controller.js';
import { LedgerController, ledgerQueries } from './modules/ledger/ledger.controller.js';
import { DisputesController, disputeCommands, disputePayeeResolver, disputeQueries } from './modules/disputes/disputes.controller.js';
import { DisputeProcessTimer } from './modules/disputes/dispute-process-timer.js';
import { earliestOpenPeriodOf } from '#lib/payouts/application/payout-queries.js';
import { PeriodStreamAdjustments } from '#lib/disputes/application/period-adjustments.js';
import type { DisputeAdjustmentPort } from '#lib/disputes/application/dispute-processes.js';
import {
  AssignTerritoryOverlay,
  EndTerritoryOverlay,
  ListTerritoryOverlays,
  TerritoryOverlaysController,
} from './modules/crediting/territory-overlays.controller.js';

/** What a caller (a test, a tool) may put in place of the defaults. */
export interface LedgerModuleOptions {
  /** The service clock; default the system clock. */
  clock?: Clock;
}
import { AuditController, ListAuditTrail } from './modules/audit/audit.controller.js';

/**
 * Starts the projector role (in a single process it takes the lease at once and projects before the first request)
 * and then the Kafka integration once the application is up, and stops them in reverse order when it shuts down.
 */
class LedgerLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_DB) private readonly readModels: ReadModelDb,
    @Inject(PROJECTOR) private readonly projector: Projector,
    @Inject(CHECKPOINT_FOLLOWER) private readonly follower: CheckpointFollower,
    @Inject(IDEMPOTENCY_STORE) private readonly idempotency: IdempotencyStore,
    @Inject(KAFKA_INTEGRATION) private readonly kafka: KafkaIntegration | null,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.projector.start();
    await this.kafka?.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.kafka?.stop();
    await this.projector.stop();
    this.follower.stop();
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
  AssignTerritoryOverlay,
  EndTerritoryOverlay,
  DraftPlanVersion,
  RevisePlanDraft,
  PublishPlanVersion,
  AssignPlan,
  EndAssignment,
  RecordFxRate,
  ...payoutUseCases,
];
/** Records routes address by id, turned into the payees they concern for @PayeeScope({ resolve }). */
const payeeResolvers: PayeeResolvers = { deal: dealPayeeResolver, dispute: disputePayeeResolver };

const readQueries = [...disputeQueries, GetPayee, ListPayees, GetDeal, ListDeals, ListCreditsForPayee, GetAttainment, ListAttainment, ...statementQueries, GetPlan, ListPlanAssignments, ListFxRates, ListTerritoryOverlays, ListAuditTrail, ...payoutQueries, ...ledgerQueries];

@Module({})
export class LedgerModule {
  static forRoot(config: LedgerConfig, options: LedgerModuleOptions = {}): DynamicModule {
    const logger = new Logger('Projections');
    const reactionsLogger = new Logger('PayoutReactions');
    const projections = createLedgerProjections();
    const roles = new Set(config.roles);
    // Every process answers /health (probes); only the api role serves the ledger's routes.
    const apiControllers = roles.has('api') ? [PayeesController, DealsController, AttainmentController, StatementsController, PlansController, PlanAssignmentsController, FxRatesController, AuditController, DisputesController, PeriodsController, LedgerController, TerritoryOverlaysController] : [];
    return {
      module: LedgerModule,
      imports: [CqrsModule.forRoot()],
      controllers: [HealthController, ...apiControllers],
      providers: [
        { provide: LEDGER_CONFIG, useValue: config },
        { provide: CLOCK, useValue: options.clock ?? systemClock },
        { provide: EVENT_STORE, useFactory: (): Promise<EventStore> => openEventStore(config) },
        { provide: READ_MODEL_DB, useFactory: (): Promise<ReadModelDb> => openReadModels(config) },
        {
          provide: PROJECTION_RUNNER,
          inject: [EVENT_STORE, READ_MODEL_DB],
          useFactory: (store: EventStore, readModels: ReadModelDb) =>
            new ProjectionRunner(store, readModels, projections, {
              onError: (error) => logger.error(`Projections stopped: ${error.message}`, error.stack),
            }),
        },
        {
          provide: CHECKPOINT_FOLLOWER,
          inject: [READ_MODEL_DB],
          useFactory: (readModels: ReadModelDb) => new CheckpointFollower(readModels, projections),
        },
        {
          provide: PROJECTOR,
          inject: [PROJECTION_RUNNER, PAYOUT_REACTIONS, READ_MODEL_DB, READ_MODEL_PROGRESS],
          useFactory: (runner: ProjectionRunner, reactions: PayoutReactions, readModels: ReadModelDb, progress: ReadModelProgress) => {
            const projector = new Projector(runner, reactions, roles.has('projector') ? projectorLeaseOf(config, readModels) : null, config.leasePollMs);
            progress.attach(projector);
            return projector;
          },
        },
        {
          provide: READ_MODEL_PROGRESS,
          inject: [PROJECTION_RUNNER, CHECKPOINT_FOLLOWER],
          useFactory: (runner: ProjectionRunner, follower: CheckpointFollower) => new ReadModelProgress(runner, follower),
        },
        {
          provide: PAYOUT_DEPENDENCIES,
          inject: [EVENT_STORE, READ_MODEL_DB, READ_MODEL_PROGRESS],
          useFactory: (store: EventStore, db: ReadModelDb, progress: ReadModelProgress): PayoutDependencies => ({
            store,
            db,
            async readModelsAt(position) {
              try {
                await progress.waitForPosition(position, { timeoutMs: config.commandWaitMs });
              } catch (error) {
                if (!(error instanceof ProjectionWaitTimeoutError)) throw error;
                throw new DomainError('READ_MODEL.NOT_CAUGHT_UP', `The read models have not reached position ${position} within ${config.commandWaitMs} ms; retry shortly.`, 'unavailable');
              }
            },
          }),
        },
        {
          provide: PAYOUT_REACTIONS,
          inject: [PAYOUT_DEPENDENCIES],
          useFactory: (deps: PayoutDependencies) =>
            new PayoutReactions(deps, { onError: (error) => reactionsLogger.error(`Payout reactions stopped: ${error.message}`, error.stack) }),
        },
        {
          provide: KAFKA_INTEGRATION,
          inject: [EVENT_STORE, CLOCK],
          // The relay role runs the Kafka integration (the parts LEDGER_KAFKA_ROLES names); other processes none of it.
          useFactory: (store: EventStore, clock: Clock): KafkaIntegration | null =>
            config.kafka === null || !roles.has('relay') ? null : new KafkaIntegration(config.kafka, store, config.dataDir, () => clock.now()),
        },
        { provide: IDEMPOTENCY_STORE, useFactory: () => new SqliteIdempotencyStore(join(config.dataDir, 'http-idempotency.sqlite')) },
        {
          provide: DISPUTE_ADJUSTMENTS,
          inject: [EVENT_STORE, READ_MODEL_DB, CLOCK],
          // Which period is a payee's earliest open one is the payouts context's answer (the period after their
          // calendar's latest closed one); a payee on no plan has none, and their approved adjustments wait.
          useFactory: (store: EventStore, db: ReadModelDb, clock: Clock): DisputeAdjustmentPort =>
            new PeriodStreamAdjustments(store, (payeeId) => earliestOpenPeriodOf(db, { payeeId, today: clock.now().toISOString().slice(0, 10) })),
        },
        IdempotencyInterceptor,
        ReadConsistency,
        { provide: TOKEN_VERIFIER, useFactory: () => TokenVerifier.create(config.auth) },
        { provide: PAYEE_RESOLVERS, useValue: payeeResolvers },
        { provide: APP_GUARD, useClass: AccessGuard },
        LedgerLifecycle,
        DisputeProcessTimer,
        ...disputeCommands.map((command) => command.handler),
        ...useCases.map((useCase) => useCase.handler),
        ...readQueries.map((query) => query.handler),
      ],
    };
  }
}
