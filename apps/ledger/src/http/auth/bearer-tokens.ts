import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, errors, importSPKI, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Actor } from '#lib/event-store/event-store.port.js';
import { DomainError } from '#lib/shared/domain/domain-error.js';
import type { AuthConfig } from '../../config/ledger-config.js';
import { loadOrCreateLocalSecret } from './local-secret.js';
import { isRole, roles, type Role } from './roles.js';

/** Who a verified token speaks for. `payeeId` is the caller's own payee (required of reps and managers). */
export interface Principal {
  actor: Actor & { role: Role };
  payeeId: string | null;
}

const unauthenticated = (code: string, message: string) => new DomainError(code, message, 'unauthenticated');

/** The asymmetric algorithms accepted from a public key or JWKS file. */
const asymmetricAlgorithms = ['RS256', 'ES256'] as const;

type VerificationKey = { algorithms: string[]; key: Uint8Array | Awaited<ReturnType<typeof importSPKI>> | JWTVerifyGetKey };

function algorithmOfPublicKey(pem: string, file: string): 'RS256' | 'ES256' {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new Error(`${file} must hold an RSA or P-256 EC public key (for RS256 or ES256)`);
}

/** The HS256 secret the configuration names, generated into the data directory when none is configured. */
export function signingSecretOf(auth: AuthConfig): string | null {
  if (auth.keys.kind === 'secret') return auth.keys.secret;
  if (auth.keys.kind === 'local-secret') return loadOrCreateLocalSecret(auth.keys.file);
  return null;
}

async function verificationKeyOf(auth: AuthConfig): Promise<VerificationKey> {
  const keys = auth.keys;
  switch (keys.kind) {
    case 'secret':
    case 'local-secret':
      // Imported once: jose would import raw secret bytes again on every verification, a tenth of a request's CPU.
      return {
        algorithms: ['HS256'],
        key: await crypto.subtle.importKey('raw', new TextEncoder().encode(signingSecretOf(auth) as string), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']),
      };
    case 'public-key': {
      const pem = readFileSync(keys.file, 'utf8');
      const algorithm = algorithmOfPublicKey(pem, keys.file);
      return { algorithms: [algorithm], key: await importSPKI(pem, algorithm) };
    }
    case 'jwks': {
      const jwks = JSON.parse(readFileSync(keys.file, 'utf8')) as Parameters<typeof createLocalJWKSet>[0];
      if (!Array.isArray(jwks?.keys) || jwks.keys.length === 0) throw new Error(`${keys.file} must be a JWKS document: { "keys": [ ... ] }`);
      return { algorithms: [...asymmetricAlgorithms], key: createLocalJWKSet(jwks) };
    }
  }
}

/** Tokens whose verification is remembered, at most; past it the oldest is forgotten first. */
const VERIFIED_TOKENS_LIMIT = 10_000;
/** Longer tokens are verified every time (they would make the remembered set large). */
const VERIFIED_TOKEN_MAX_LENGTH = 4096;

/** A token that verified, with the times between which its claims hold (epoch seconds, tolerance included). */
interface VerifiedToken {
  principal: Principal;
  /** Valid while now < expiresBefore (exp plus the clock tolerance). */
  expiresBefore: number;
  /** Valid once now >= validFrom (nbf minus the clock tolerance; -Infinity without nbf). */
  validFrom: number;
}

export interface TokenVerifierOptions {
  /** The clock (tests); the system clock by default. */
  now?: () => Date;
}

/**
 * Verifies bearer tokens: signature (with the configured keys, algorithms pinned), expiry, issuer, audience, and
 * the claims the ledger needs (sub, a known role, the payee of a rep or manager). Every refusal is a 401 with a
 * stable code.
 *
 * A token that verified is remembered (up to VERIFIED_TOKENS_LIMIT, oldest forgotten first) with its principal and
 * its validity window: a client sending the same token again is answered from memory until the token expires, by the
 * same exp and nbf rules (and clock tolerance) as the full check, which runs again once the window is past and refuses
 * with the usual code. The keys are read once at boot, so a remembered answer is the one the full check would give.
 * A signature check through WebCrypto and the claim checks cost a read about a tenth of its time in the service.
 */
export class TokenVerifier {
  private readonly verified = new Map<string, VerifiedToken>();
  private readonly now: () => Date;

  private constructor(
    private readonly auth: AuthConfig,
    private readonly verificationKey: VerificationKey,
    options: TokenVerifierOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /** Reads the keys once, at boot: a missing or unreadable key file stops the service there, not at the first request. */
  static async create(auth: AuthConfig, options: TokenVerifierOptions = {}): Promise<TokenVerifier> {
    return new TokenVerifier(auth, await verificationKeyOf(auth), options);
  }

  /** Verifies the value of an Authorization header. */
  async verifyAuthorization(header: string | undefined): Promise<Principal> {
    if (header === undefined || header.trim() === '') {
      throw unauthenticated('AUTH.TOKEN_MISSING', 'This endpoint needs a bearer token: send "Authorization: Bearer <token>"');
    }
    const match = /^Bearer +([^\s]+) *$/i.exec(header);
    if (!match) throw unauthenticated('AUTH.TOKEN_MALFORMED', 'The Authorization header must be "Bearer <token>"');
    return this.verify(match[1]);
  }

  async verify(token: string): Promise<Principal> {
    const currentDate = this.now();
    // Seconds since the epoch, as jose counts them for exp and nbf.
    const nowSeconds = Math.floor(currentDate.getTime() / 1000);
    const remembered = this.verified.get(token);
    if (remembered !== undefined) {
      if (nowSeconds < remembered.expiresBefore && nowSeconds >= remembered.validFrom) return remembered.principal;
      this.verified.delete(token);
    }
    let payload: JWTPayload;
    try {
      const options = {
        algorithms: this.verificationKey.algorithms,
        issuer: this.auth.issuer,
        audience: this.auth.audience,
        clockTolerance: this.auth.clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
        currentDate,
      };
      const key = this.verificationKey.key;
      ({ payload } = typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options));
    } catch (error) {
      throw refusalOf(error);
    }
    const principal = this.principalOf(payload);
    this.remember(token, principal, payload);
    return principal;
  }

  /** Remembers a verified token until its exp (a not-yet-valid one is never accepted, so nbf only narrows the window). */
  private remember(token: string, principal: Principal, payload: JWTPayload): void {
    if (token.length > VERIFIED_TOKEN_MAX_LENGTH || typeof payload.exp !== 'number') return;
    if (this.verified.size >= VERIFIED_TOKENS_LIMIT) {
      const oldest = this.verified.keys().next();
      if (oldest.done !== true) this.verified.delete(oldest.value);
    }
    const tolerance = this.auth.clockToleranceSeconds;
    this.verified.set(token, {
      principal,
      expiresBefore: payload.exp + tolerance,
      validFrom: typeof payload.nbf === 'number' ? payload.nbf - tolerance : Number.NEGATIVE_INFINITY,
    });
  }

  private principalOf(payload: JWTPayload): Principal {
    const subject = payload.sub;
    if (typeof subject !== 'string' || subject.trim() === '' || subject.length > 200) {
      throw unauthenticated('AUTH.TOKEN_SUBJECT_INVALID', 'The token\'s "sub" claim must name the caller (1 to 200 characters)');
    }
    const role = payload[this.auth.roleClaim];
    if (role === undefined || role === null || role === '') {
      throw unauthenticated('AUTH.ROLE_MISSING', `The token carries no role: its "${this.auth.roleClaim}" claim must be one of ${roles.join(', ')}`);
    }
    if (!isRole(role)) {
      throw unauthenticated('AUTH.ROLE_UNKNOWN', `The token's role ${JSON.stringify(role)} is not one of ${roles.join(', ')}`);
    }
    const payeeClaim = payload[this.auth.payeeClaim];
    const payeeId = typeof payeeClaim === 'string' && payeeClaim !== '' ? payeeClaim : null;
    if ((role === 'rep' || role === 'manager') && payeeId === null) {
      throw unauthenticated('AUTH.PAYEE_CLAIM_MISSING', `A ${role}'s token must name their own payee in its "${this.auth.payeeClaim}" claim`);
    }
    // Frozen: a remembered principal is handed to every request that presents the same token.
    return Object.freeze({ actor: Object.freeze({ id: subject, role }), payeeId });
  }
}

function refusalOf(error: unknown): DomainError {
  if (error instanceof errors.JWTExpired) return unauthenticated('AUTH.TOKEN_EXPIRED', 'The token has expired: get a new one');
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'iss':
        return unauthenticated('AUTH.TOKEN_ISSUER_INVALID', 'The token was not issued by the issuer this ledger trusts');
      case 'aud':
        return unauthenticated('AUTH.TOKEN_AUDIENCE_INVALID', 'The token is not meant for this ledger (audience)');
      case 'nbf':
        return unauthenticated('AUTH.TOKEN_NOT_YET_VALID', 'The token is not valid yet (nbf)');
      case 'sub':
      case 'exp':
        return unauthenticated('AUTH.TOKEN_CLAIM_MISSING', `The token must carry an "${error.claim}" claim`);
      default:
        return unauthenticated('AUTH.TOKEN_CLAIM_INVALID', `The token's "${error.claim}" claim is not valid: ${error.reason}`);
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return unauthenticated('AUTH.TOKEN_ALGORITHM_REJECTED', 'The token is signed with an algorithm this ledger does not accept');
  if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return unauthenticated('AUTH.TOKEN_SIGNATURE_INVALID', 'The token\'s signature does not verify with the keys this ledger trusts');
  }
  if (error instanceof errors.JOSEError || error instanceof TypeError || error instanceof SyntaxError) {
    return unauthenticated('AUTH.TOKEN_MALFORMED', 'The bearer token is not a well-formed signed JWT');
  }
  return unauthenticated('AUTH.TOKEN_MALFORMED', 'The bearer token could not be read');
}

export interface TokenClaims {
  subject: string;
  role: Role;
  payeeId?: string | null;
  /** Lifetime in seconds. */
  ttlSeconds: number;
}

/** Mints an HS256 token the ledger accepts, for `cli token` and the tests. Tokens for key-pair setups come from the identity provider. */
export async function mintToken(auth: AuthConfig, secret: string, claims: TokenClaims, now: Date = new Date()): Promise<string> {
  const issuedAt = Math.floor(now.getTime() / 1000);
  const payload: JWTPayload = { [auth.roleClaim]: claims.role };
  if (claims.payeeId) payload[auth.payeeClaim] = claims.payeeId;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.subject)
    .setIssuer(auth.issuer)
    .setAudience(auth.audience)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + claims.ttlSeconds)
    .sign(new TextEncoder().encode(secret));
}
