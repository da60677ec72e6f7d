/** gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html) the adapter tells apart. */
const CANCELLED = 1;
const INVALID_ARGUMENT = 3;
const DEADLINE_EXCEEDED = 4;
const RESOURCE_EXHAUSTED = 8;
const ABORTED = 10;
const INTERNAL = 13;
const UNAVAILABLE = 14;

const TRANSIENT_CODES = new Set([CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE]);
/**
 * The client's names for the same errors, which can come without a gRPC code (a reset connection, "write
 * after end"), and for a node that is no longer the leader (the client has switched to the new one).
 */
const TRANSIENT_TYPES = new Set(['unavailable', 'cancelled', 'deadline-exceeded', 'timeout', 'not-leader']);

/**
 * A dropped or reset connection, a node going down or stepping down as leader, a call the server cancelled
 * or timed out: worth trying again. Appends are safe to try again because their event ids make the retry
 * idempotent on the server.
 */
export function isTransient(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const { code, type } = error as { code?: unknown; type?: unknown };
  if (typeof type === 'string' && TRANSIENT_TYPES.has(type)) return true;
  return typeof code === 'number' && TRANSIENT_CODES.has(code);
}

/** The server's answer to a read of $all from a position that is not where a record starts. */
export function isInvalidPosition(error: unknown): boolean {
  return error !== null && typeof error === 'object' && (error as { code?: unknown }).code === INVALID_ARGUMENT;
}

export interface Backoff {
  /** First wait after a failure, ms. */
  firstDelayMs: number;
  /** Longest wait, ms; the wait doubles up to it. */
  maxDelayMs: number;
}

export function backoffDelay(backoff: Backoff, failures: number): number {
  return Math.min(backoff.maxDelayMs, backoff.firstDelayMs * 2 ** Math.min(failures, 20));
}
