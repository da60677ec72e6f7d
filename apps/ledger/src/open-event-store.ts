import { join } from 'node:path';
import type { EventStore } from '#lib/event-store/event-store.port.js';
import { SqliteEventStore } from '#lib/event-store/embedded/sqlite-event-store.js';
import { EventStoreDbEventStore } from '#lib/event-store/eventstoredb/eventstoredb-event-store.js';
import type { LedgerConfig } from './config/ledger-config.js';

/**
 * Opens the event store the configuration names (LEDGER_STORE): the embedded file in the data directory, or
 * an EventStoreDB server, which is asked for its head once so that a wrong address stops the service at boot
 * rather than at its first request. Used by the service and the command line.
 */
export async function openEventStore(config: LedgerConfig): Promise<EventStore> {
  switch (config.storeKind) {
    case 'embedded':
      return SqliteEventStore.open({ path: join(config.dataDir, 'events.sqlite'), pollIntervalMs: config.storePollMs });
    case 'eventstoredb': {
      const connectionString = config.eventStoreDbConnectionString as string;
      const store = EventStoreDbEventStore.open({ connectionString });
      try {
        await store.headPosition();
      } catch (error) {
        await store.close();
        throw new Error(`Cannot read from EventStoreDB at ${connectionString}: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
        });
      }
      return store;
    }
    default: {
      const unknownKind: never = config.storeKind;
      throw new Error(`Unknown event store ${String(unknownKind)}`);
    }
  }
}
