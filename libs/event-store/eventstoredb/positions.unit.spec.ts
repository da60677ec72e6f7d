import { describe, expect, it } from '@jest/globals';
import { positionFromAll, positionFromStreamRead, toEventStoreDbPosition } from './positions.js';

describe('EventStoreDB positions as port positions', () => {
  it('is the byte offset of the event: commit = prepare for every event an implicit transaction wrote', () => {
    expect(positionFromAll({ commit: 4_821n, prepare: 4_821n }, 'an event')).toBe(4_821);
    expect(toEventStoreDbPosition(4_821)).toEqual({ commit: 4_821n, prepare: 4_821n });
  });

  it('refuses an event of an explicit transaction, whose commit position is shared with the others of it', () => {
    expect(() => positionFromAll({ commit: 9_000n, prepare: 8_512n }, 'an event')).toThrow('explicit transaction');
  });

  it('takes the prepare position of a stream read, where older servers leave the commit position unset', () => {
    expect(positionFromStreamRead({ commit: 18_446_744_073_709_551_615n, prepare: 512n }, 'an event')).toBe(512);
  });

  it('refuses positions a JavaScript number cannot hold exactly, and gives none', () => {
    const tooLarge = BigInt(Number.MAX_SAFE_INTEGER) + 1n;
    expect(() => positionFromAll({ commit: tooLarge, prepare: tooLarge }, 'an event')).toThrow(RangeError);
    expect(positionFromAll({ commit: BigInt(Number.MAX_SAFE_INTEGER), prepare: BigInt(Number.MAX_SAFE_INTEGER) }, 'an event')).toBe(
      Number.MAX_SAFE_INTEGER,
    );
    expect(() => toEventStoreDbPosition(-1)).toThrow(RangeError);
    expect(() => toEventStoreDbPosition(1.5)).toThrow(RangeError);
    expect(() => positionFromAll(undefined, 'an event')).toThrow('without a position');
  });
});
