import { randomUUID } from 'node:crypto';
import type { CommandContext } from '../application/command-context.js';

/** A CommandContext for tests: a fixed clock, fresh uuids, an analyst actor, no idempotency key unless given. */
export function testCommandContext(overrides: Partial<CommandContext> = {}): CommandContext {
  return {
    actor: { id: 'analyst-1', role: 'analyst' },
    correlationId: randomUUID(),
    causationId: null,
    commandId: null,
    now: () => new Date('2026-03-15T09:00:00.000Z'),
    newId: () => randomUUID(),
    ...overrides,
  };
}
