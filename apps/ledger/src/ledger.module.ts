import { join } from 'node:path';
import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { EventStore } from '#lib/event-store/event-store.port.js';
import { SqliteEventStore } from '#lib/event-store/embedded/sqlite-event-store.js';
import type { LedgerConfig } from './config/ledger-config.js';
import { EVENT_STORE, LEDGER_CONFIG } from './ledger.tokens.js';
import { HealthController } from './http/health.controller.js';
import { IDEMPOTENCY_STORE, IdempotencyInterceptor, SqliteIdempotencyStore, type IdempotencyStore } from './http/idempotency.js';

/** Closes the adapters in order when the application shuts down (SIGTERM, app.close()). */
class StorageLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(IDEMPOTENCY_STORE) private readonly idempotency: IdempotencyStore,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
    this.idempotency.close();
  }
}

@Module({})
export class LedgerModule {
  static forRoot(config: LedgerConfig): DynamicModule {
    return {
      module: LedgerModule,
      imports: [CqrsModule.forRoot()],
      controllers: [HealthController],
      providers: [
        { provide: LEDGER_CONFIG, useValue: config },
        {
          provide: EVENT_STORE,
          useFactory: (): EventStore =>
            SqliteEventStore.open({ path: join(config.dataDir, 'events.sqlite'), pollIntervalMs: config.storePollMs }),
        },
        { provide: IDEMPOTENCY_STORE, useFactory: () => new SqliteIdempotencyStore(join(config.dataDir, 'http-idempotency.sqlite')) },
        IdempotencyInterceptor,
        StorageLifecycle,
      ],
      exports: [EVENT_STORE, LEDGER_CONFIG],
    };
  }
}
