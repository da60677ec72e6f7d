import type { Actor } from '#lib/event-store/event-store.port.js';

/**
 * Everything a command handler needs from the outside world, passed in so that domain code stays pure:
 * who acts, how the request is correlated, the client's idempotency key, and sources of time and ids.
 */
export interface CommandContext {
  actor: Actor;
  correlationId: string;
  /** Id of the event or command that caused this one; null for a command from outside. */
  causationId: string | null;
  /** The client's Idempotency-Key, when it gave one. */
  commandId: string | null;
  /** Revision the client read (If-Match); when present, a mismatch is a 409 and the handler does not retry. */
  expectedRevision?: number;
  /** System clock. */
  now(): Date;
  /** Fresh uuid. */
  newId(): string;
}
