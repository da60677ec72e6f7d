import { describe, expect, it } from '@jest/globals';
import { everyPayee, payeeAccessWithoutHierarchy, type PayeeAccess } from './payee-access.js';

describe('payee access decided without the hierarchy', () => {
  const rep: PayeeAccess = { kind: 'payee', payeeId: 'P-1' };
  const manager: PayeeAccess = { kind: 'team', managerId: 'M-1' };

  it.each<[string, PayeeAccess, string, boolean | undefined]>([
    ['every payee for an analyst', everyPayee, 'P-9', true],
    ['a rep their own', rep, 'P-1', true],
    ['a rep nobody else', rep, 'P-2', false],
    ['a manager their own', manager, 'M-1', true],
    ['a manager another payee only through the hierarchy', manager, 'P-1', undefined],
  ])('gives %s', (_, access, payeeId, expected) => {
    expect(payeeAccessWithoutHierarchy(access, payeeId)).toBe(expected);
  });
});
