/**
 * Feed record ids are what consumers dedupe on: a record published again, by this version or a later one, must carry
 * the id the first publication had. These values were derived when the ids were introduced.
 */
import { describe, expect, it } from '@jest/globals';
import { feedMessageId, nameBasedUuid } from './feed-message.js';

describe('feed record ids', () => {
  it('stay the same for the same name', () => {
    expect(feedMessageId('e1', 'icm.payouts.v1', 'approved\u0000p1')).toBe('46af0de2-84d4-51c7-93cc-be8f4e0711e1');
    expect(nameBasedUuid('short')).toBe('315ba24e-00ff-5ffd-99df-140d99532762');
  });

  it('hash the whole name, however long, after a shorter one', () => {
    expect(nameBasedUuid('é'.repeat(400))).toBe('b4307a51-b687-553c-a110-d61705065819');
    expect(nameBasedUuid('short')).toBe('315ba24e-00ff-5ffd-99df-140d99532762');
  });

  it('have the version 5 layout', () => {
    expect(nameBasedUuid('any name')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
