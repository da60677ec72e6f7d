import type { Position } from '@eventstore/db-client';

/**
 * How the port's numeric global position maps to EventStoreDB's $all position (docs/decisions/0060).
 *
 * EventStoreDB addresses $all by (commit position, prepare position), both byte offsets in its transaction
 * log. Every append through gRPC is one implicit transaction whose events are committed as they are
 * written, so each event's commit position equals its prepare position: the offset of its own record.
 * The port's position is that offset. Only events written by the legacy TCP API inside explicit
 * transactions have commit != prepare (their commit record comes later, shared by the transaction); the
 * ledger never writes those, and refuses to read one rather than give two events one position.
 *
 * Positions are refused above Number.MAX_SAFE_INTEGER (9 PB of log), as docs/decisions/0004 requires.
 */
export function positionFromAll(position: Position | undefined, where: string): number {
  if (position === undefined) throw new Error(`EventStoreDB returned ${where} without a position`);
  if (position.commit !== position.prepare) {
    throw new Error(
      `EventStoreDB returned ${where} at commit position ${position.commit} and prepare position ${position.prepare}: ` +
        'an event written in an explicit transaction, which the ledger does not write and cannot number',
    );
  }
  return toSafeNumber(position.prepare, `position of ${where}`);
}

/**
 * Reads of one stream go through the server's index, which holds each event's log offset (its prepare
 * position); older servers send 2^64 - 1 as the commit position there, so only the prepare position is used.
 */
export function positionFromStreamRead(position: Position | undefined, where: string): number {
  if (position === undefined) throw new Error(`EventStoreDB returned ${where} without a position`);
  return toSafeNumber(position.prepare, `position of ${where}`);
}

export function toEventStoreDbPosition(position: number): Position {
  if (!Number.isSafeInteger(position) || position < 0) throw new RangeError(`A global position is an integer >= 0, got ${position}`);
  return { commit: BigInt(position), prepare: BigInt(position) };
}

export function toSafeNumber(value: bigint, what: string): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`EventStoreDB ${what} is ${value}, outside the integers the ledger handles exactly (0 to 2^53 - 1)`);
  }
  return Number(value);
}
