import type { LedgerConfig } from '../../ledger/src/config/ledger-config.js';
import { mintToken, signingSecretOf } from '../../ledger/src/http/auth/bearer-tokens.js';
import { isRole, roles } from '../../ledger/src/http/auth/roles.js';

export class TokenOptionsError extends Error {}

const ttlMaxSeconds = 30 * 24 * 3600;
const unitSeconds: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "3600", "90s", "30m", "8h", "7d" as seconds. */
export function parseTtl(text: string): number {
  const match = /^(\d{1,7})([smhd]?)$/.exec(text.trim());
  const seconds = match ? Number(match[1]) * unitSeconds[match[2] || 's'] : NaN;
  if (!(seconds >= 1 && seconds <= ttlMaxSeconds)) throw new TokenOptionsError(`--ttl must be a duration from 1s to 30d such as 3600, 30m, 8h or 7d, got "${text}"`);
  return seconds;
}

/**
 * A token for local use, signed with the secret the service verifies with: LEDGER_AUTH_SECRET, or the secret the
 * service keeps in its data directory (created here if the service has not run yet). Setups verified with a public
 * key or a JWKS take their tokens from their identity provider.
 */
export async function mintLocalToken(config: LedgerConfig, options: { role?: string; payee?: string; sub?: string; ttl?: string }): Promise<string> {
  if (!isRole(options.role)) throw new TokenOptionsError(`--role must be one of ${roles.join(', ')}${options.role === undefined ? '' : `, got "${options.role}"`}`);
  const role = options.role;
  const payeeId = options.payee?.trim() || null;
  if ((role === 'rep' || role === 'manager') && payeeId === null) throw new TokenOptionsError(`A ${role} token needs --payee: the payee whose data (or team) it may see`);
  const subject = options.sub?.trim() || payeeId || `local-${role}`;
  const ttlSeconds = parseTtl(options.ttl ?? '8h');
  const secret = signingSecretOf(config.auth);
  if (secret === null) {
    throw new TokenOptionsError(
      'The service verifies tokens with a public key (LEDGER_AUTH_PUBLIC_KEY_FILE or LEDGER_AUTH_JWKS_FILE): get tokens from the identity provider that holds the private key',
    );
  }
  return mintToken(config.auth, secret, { subject, role, payeeId, ttlSeconds });
}
