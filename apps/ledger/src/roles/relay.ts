import type { Provider } from '@nestjs/common';
import type { LedgerConfig } from '../config/ledger-config.js';

/**
 * The relay role (LEDGER_ROLES=relay): the process that carries the log's integration events to Kafka. Its providers
 * are registered here, in processes that have the role, and nowhere else.
 */
export function relayProviders(_config: LedgerConfig): Provider[] {
  return [];
}
