/**
 * Token verification, case by case: what a caller may present and the stable code each refusal answers with.
 * Tokens are made with jose directly (not with the ledger's minter), so a mistake in the minter cannot hide one
 * in the verifier.
 */
import { createHmac } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { DomainError } from '#lib/shared/domain/domain-error.js';
import { createTempDir } from '#lib/shared/testing/temp-dir.js';
import { loadLedgerConfig, type AuthConfig } from '../../config/ledger-config.js';
import { mintToken, TokenVerifier } from './bearer-tokens.js';
import { loadOrCreateLocalSecret } from './local-secret.js';

const secret = 'a-test-secret-of-at-least-32-bytes-long!';
const otherSecret = 'another-secret-of-at-least-32-bytes-long';
const nowSeconds = () => Math.floor(Date.now() / 1000);

const authOf = (environment: Record<string, string>): AuthConfig => loadLedgerConfig({ LEDGER_DATA_DIR: '/tmp/unused', ...environment }).auth;
const hsAuth = authOf({ LEDGER_AUTH_SECRET: secret });

const standardClaims = (): JWTPayload => ({ sub: 'user-1', iss: 'incentive-ledger', aud: 'incentive-ledger', iat: nowSeconds(), exp: nowSeconds() + 600, role: 'analyst' });

async function hs256(claims: JWTPayload, key = secret, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', ...header }).sign(new TextEncoder().encode(key));
}

/** An HS256 signature over any payload text, as a broken issuer might produce. */
function signedOver(payloadPart: string): string {
  const signingInput = `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${payloadPart}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}

async function refusalCode(verifier: TokenVerifier, token: string): Promise<string> {
  try {
    await verifier.verify(token);
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).kind).toBe('unauthenticated');
    return (error as DomainError).code;
  }
  throw new Error('the token was accepted');
}

describe('TokenVerifier with an HS256 secret', () => {
  let verifier: TokenVerifier;
  beforeAll(async () => {
    verifier = await TokenVerifier.create(hsAuth);
  });

  it('accepts a valid token: the subject and role become the actor, payee_id the caller\'s payee', async () => {
    const principal = await verifier.verify(await hs256({ ...standardClaims(), role: 'rep', payee_id: 'P-1' }));
    expect(principal).toEqual({ actor: { id: 'user-1', role: 'rep' }, payeeId: 'P-1' });
  });

  it('accepts what mintToken makes', async () => {
    const token = await mintToken(hsAuth, secret, { subject: 'fin-7', role: 'finance', ttlSeconds: 60 });
    expect(await verifier.verify(token)).toEqual({ actor: { id: 'fin-7', role: 'finance' }, payeeId: null });
  });

  it.each<[string, () => Promise<string>, string]>([
    ['expired', () => hs256({ ...standardClaims(), iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 }), 'AUTH.TOKEN_EXPIRED'],
    ['not valid yet', () => hs256({ ...standardClaims(), nbf: nowSeconds() + 3600 }), 'AUTH.TOKEN_NOT_YET_VALID'],
    ['signed with another secret', () => hs256(standardClaims(), otherSecret), 'AUTH.TOKEN_SIGNATURE_INVALID'],
    ['from another issuer', () => hs256({ ...standardClaims(), iss: 'someone-else' }), 'AUTH.TOKEN_ISSUER_INVALID'],
    ['for another audience', () => hs256({ ...standardClaims(), aud: 'another-service' }), 'AUTH.TOKEN_AUDIENCE_INVALID'],
    ['without exp', () => hs256({ ...standardClaims(), exp: undefined }), 'AUTH.TOKEN_CLAIM_MISSING'],
    ['without sub', () => hs256({ ...standardClaims(), sub: undefined }), 'AUTH.TOKEN_CLAIM_MISSING'],
    ['without a role', () => hs256({ ...standardClaims(), role: undefined }), 'AUTH.ROLE_MISSING'],
    ['with an unknown role', () => hs256({ ...standardClaims(), role: 'superuser' }), 'AUTH.ROLE_UNKNOWN'],
    ['with a role that is not a string', () => hs256({ ...standardClaims(), role: ['admin'] }), 'AUTH.ROLE_UNKNOWN'],
    ['of a rep without payee_id', () => hs256({ ...standardClaims(), role: 'rep' }), 'AUTH.PAYEE_CLAIM_MISSING'],
    ['of a manager without payee_id', () => hs256({ ...standardClaims(), role: 'manager' }), 'AUTH.PAYEE_CLAIM_MISSING'],
    ['not a JWT at all', async () => 'not-a-token', 'AUTH.TOKEN_MALFORMED'],
    ['with a forged payload that is not JSON', async () => `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.bm90IGpzb24.c2ln`, 'AUTH.TOKEN_SIGNATURE_INVALID'],
    ['correctly signed over a payload that is not JSON', async () => signedOver('bm90IGpzb24'), 'AUTH.TOKEN_MALFORMED'],
    ['unsigned (alg none)', async () => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(standardClaims())).toString('base64url')}.`, 'AUTH.TOKEN_ALGORITHM_REJECTED'],
  ])('refuses a token %s', async (_, make, code) => {
    expect(await refusalCode(verifier, await make())).toBe(code);
  });

  it.each<[string, string | undefined, string]>([
    ['no header', undefined, 'AUTH.TOKEN_MISSING'],
    ['an empty header', '', 'AUTH.TOKEN_MISSING'],
    ['another scheme', 'Basic dXNlcjpwYXNz', 'AUTH.TOKEN_MALFORMED'],
    ['a scheme without a token', 'Bearer', 'AUTH.TOKEN_MALFORMED'],
  ])('refuses an Authorization header with %s', async (_, header, code) => {
    await expect(verifier.verifyAuthorization(header)).rejects.toMatchObject({ code });
  });

  it('reads the scheme without regard to case', async () => {
    const principal = await verifier.verifyAuthorization(`bearer ${await hs256(standardClaims())}`);
    expect(principal.actor).toEqual({ id: 'user-1', role: 'analyst' });
  });

  it('reads the role and the payee from the claims the configuration names', async () => {
    const namespaced = await TokenVerifier.create(authOf({ LEDGER_AUTH_SECRET: secret, LEDGER_AUTH_ROLE_CLAIM: 'https://acme.example/role', LEDGER_AUTH_PAYEE_CLAIM: 'https://acme.example/payee' }));
    const token = await hs256({ ...standardClaims(), role: undefined, 'https://acme.example/role': 'manager', 'https://acme.example/payee': 'M-1' });
    expect(await namespaced.verify(token)).toEqual({ actor: { id: 'user-1', role: 'manager' }, payeeId: 'M-1' });
    expect(await refusalCode(namespaced, await hs256(standardClaims()))).toBe('AUTH.ROLE_MISSING');
  });
});

describe('TokenVerifier remembering the tokens it verified', () => {
  // A clock the test moves: T is a whole second, as token times are.
  const T = 1_900_000_000;
  let clock = T;
  const at = (seconds: number) => (clock = seconds);
  let verifier: TokenVerifier;
  beforeEach(async () => {
    clock = T;
    verifier = await TokenVerifier.create(hsAuth, { now: () => new Date(clock * 1000) });
  });
  const claimsAt = (extra: JWTPayload = {}): JWTPayload => ({ ...standardClaims(), iat: T, exp: T + 60, ...extra });

  it('answers a token again until exp plus the clock tolerance (30 s), then refuses it as expired', async () => {
    const token = await hs256(claimsAt());
    expect((await verifier.verify(token)).actor).toEqual({ id: 'user-1', role: 'analyst' });
    at(T + 89);
    expect((await verifier.verify(token)).actor.id).toBe('user-1');
    at(T + 90);
    expect(await refusalCode(verifier, token)).toBe('AUTH.TOKEN_EXPIRED');
    at(T + 10);
    // Forgotten once refused: the full check runs again and accepts it at an earlier time.
    expect((await verifier.verify(token)).actor.id).toBe('user-1');
  });

  it('refuses a token before nbf minus the tolerance, before and after it was first accepted', async () => {
    const token = await hs256(claimsAt({ nbf: T + 100, exp: T + 600 }));
    expect(await refusalCode(verifier, token)).toBe('AUTH.TOKEN_NOT_YET_VALID');
    at(T + 70);
    expect((await verifier.verify(token)).actor.id).toBe('user-1');
    at(T + 69);
    expect(await refusalCode(verifier, token)).toBe('AUTH.TOKEN_NOT_YET_VALID');
  });

  it('never remembers a refusal as a pass, nor a pass for another token', async () => {
    const good = await hs256(claimsAt());
    const forged = await hs256(claimsAt(), otherSecret);
    expect(await refusalCode(verifier, forged)).toBe('AUTH.TOKEN_SIGNATURE_INVALID');
    await verifier.verify(good);
    expect(await refusalCode(verifier, forged)).toBe('AUTH.TOKEN_SIGNATURE_INVALID');
    // One character in the middle of the signature changed (the last one's low bits are padding).
    const middle = good.length - 10;
    const tampered = `${good.slice(0, middle)}${good[middle] === 'A' ? 'B' : 'A'}${good.slice(middle + 1)}`;
    expect(await refusalCode(verifier, tampered)).toBe('AUTH.TOKEN_SIGNATURE_INVALID');
  });

  it('hands out a principal no request can change for the next one', async () => {
    const token = await hs256(claimsAt({ role: 'rep', payee_id: 'P-1' }));
    const first = await verifier.verify(token);
    expect(() => {
      (first.actor as { role: string }).role = 'admin';
    }).toThrow(TypeError);
    expect(await verifier.verify(token)).toEqual({ actor: { id: 'user-1', role: 'rep' }, payeeId: 'P-1' });
  });
});

describe('TokenVerifier with key pairs', () => {
  const folder = createTempDir('ledger-keys');
  afterAll(() => folder.remove());

  it('verifies RS256 with a PEM public key file, and refuses an HS256 token made with that public key as secret', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    const pem = await exportSPKI(publicKey);
    writeFileSync(folder.file('rsa.pem'), pem);
    const verifier = await TokenVerifier.create(authOf({ LEDGER_AUTH_PUBLIC_KEY_FILE: folder.file('rsa.pem') }));
    const token = await new SignJWT(standardClaims()).setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
    expect((await verifier.verify(token)).actor).toEqual({ id: 'user-1', role: 'analyst' });
    // The classic algorithm confusion: the public key used as an HMAC secret.
    expect(await refusalCode(verifier, await hs256(standardClaims(), pem))).toBe('AUTH.TOKEN_ALGORITHM_REJECTED');
    const other = await generateKeyPair('RS256');
    expect(await refusalCode(verifier, await new SignJWT(standardClaims()).setProtectedHeader({ alg: 'RS256' }).sign(other.privateKey))).toBe('AUTH.TOKEN_SIGNATURE_INVALID');
  });

  it('verifies ES256 with the key of a JWKS file named by kid, and refuses a kid it does not hold', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'key-2026', alg: 'ES256', use: 'sig' };
    writeFileSync(folder.file('jwks.json'), JSON.stringify({ keys: [jwk] }));
    const verifier = await TokenVerifier.create(authOf({ LEDGER_AUTH_JWKS_FILE: folder.file('jwks.json'), LEDGER_AUTH_ISSUER: 'https://idp.example', LEDGER_AUTH_AUDIENCE: 'ledger-api' }));
    const claims = { ...standardClaims(), iss: 'https://idp.example', aud: 'ledger-api', role: 'payroll' };
    const token = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'key-2026' }).sign(privateKey);
    expect((await verifier.verify(token)).actor).toEqual({ id: 'user-1', role: 'payroll' });
    const unknownKid = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'key-2025' }).sign(privateKey);
    expect(await refusalCode(verifier, unknownKid)).toBe('AUTH.TOKEN_SIGNATURE_INVALID');
  });

  it('stops at boot on a key file it cannot use', async () => {
    writeFileSync(folder.file('not-a-key.pem'), 'hello');
    await expect(TokenVerifier.create(authOf({ LEDGER_AUTH_PUBLIC_KEY_FILE: folder.file('not-a-key.pem') }))).rejects.toThrow();
    await expect(TokenVerifier.create(authOf({ LEDGER_AUTH_JWKS_FILE: folder.file('missing.json') }))).rejects.toThrow(/ENOENT/);
  });
});

describe('the local secret', () => {
  const folder = createTempDir('ledger-local-secret');
  afterAll(() => folder.remove());

  it('is generated once, private to its owner, and read back the same', () => {
    const first = loadOrCreateLocalSecret(folder.file('data/auth-secret'));
    expect(Buffer.byteLength(first)).toBeGreaterThanOrEqual(32);
    expect(loadOrCreateLocalSecret(folder.file('data/auth-secret'))).toBe(first);
    expect(loadOrCreateLocalSecret(folder.file('other/auth-secret'))).not.toBe(first);
  });

  it('is refused when other users can read it', () => {
    if (process.platform === 'win32') return;
    loadOrCreateLocalSecret(folder.file('shared/auth-secret'));
    chmodSync(folder.file('shared/auth-secret'), 0o644);
    expect(() => loadOrCreateLocalSecret(folder.file('shared/auth-secret'))).toThrow(/chmod 600/);
  });
});

describe('auth configuration', () => {
  it('takes one source of keys at most, and a secret of at least 32 bytes', () => {
    expect(() => authOf({ LEDGER_AUTH_SECRET: secret, LEDGER_AUTH_JWKS_FILE: '/keys.json' })).toThrow(/at most one of/);
    expect(() => authOf({ LEDGER_AUTH_SECRET: 'short' })).toThrow(/at least 32 bytes/);
    expect(authOf({}).keys).toEqual({ kind: 'local-secret', file: '/tmp/unused/auth-secret' });
  });
});
