import { describe, expect, it } from '@jest/globals';
import { UnavailableError, WrongExpectedVersionError } from '@eventstore/db-client';
import { backoffDelay, isInvalidPosition, isTransient } from './connection-errors.js';

describe('which EventStoreDB failures are worth another attempt', () => {
  it('tries again after a dropped connection, a reset stream, a timeout or a leader change', () => {
    expect(isTransient({ code: 14, details: 'Connection dropped' })).toBe(true);
    expect(isTransient({ code: 13, details: 'Received RST_STREAM with code 2' })).toBe(true);
    expect(isTransient({ code: 4 })).toBe(true);
    expect(isTransient(new UnavailableError())).toBe(true);
    // NotLeaderError as the client makes it from the server's answer (status NOT_FOUND, exception not-leader).
    expect(isTransient({ type: 'not-leader', code: 5 })).toBe(true);
  });

  it('passes on at once what another attempt would not change', () => {
    expect(isTransient(new WrongExpectedVersionError(undefined, { streamName: 's', expected: 0n, current: 1n }))).toBe(false);
    expect(isTransient({ code: 3, details: 'Trying to read from an invalid position.' })).toBe(false);
    expect(isTransient({ code: 7, details: 'Access denied' })).toBe(false);
    expect(isTransient(new TypeError('bad'))).toBe(false);
    expect(isInvalidPosition({ code: 3 })).toBe(true);
    expect(isInvalidPosition({ code: 14 })).toBe(false);
  });

  it('waits twice as long after each failure, up to the longest wait', () => {
    const backoff = { firstDelayMs: 50, maxDelayMs: 2000 };
    expect([0, 1, 2, 5, 6, 40].map((failures) => backoffDelay(backoff, failures))).toEqual([50, 100, 200, 1600, 2000, 2000]);
  });
});
