import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The local signing secret: when no key is configured, an HS256 secret is generated once into the data directory
 * (owner read/write only) so that a new install works out of the box, and `cli token` reads the same file to mint
 * tokens for it (docs/decisions/0010-local-token-secret.md). Never a secret built into the code.
 */
export function loadOrCreateLocalSecret(file: string): string {
  mkdirSync(dirname(file), { recursive: true });
  try {
    // 'wx': only one of two processes starting at once creates it; the other reads what the first wrote.
    const descriptor = openSync(file, 'wx', 0o600);
    try {
      writeSync(descriptor, `${randomBytes(32).toString('base64url')}\n`);
    } finally {
      closeSync(descriptor);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) {
    throw new Error(`${file} can be read by other users: make it private (chmod 600 ${file}) or configure LEDGER_AUTH_SECRET`);
  }
  const secret = readFileSync(file, 'utf8').trim();
  if (Buffer.byteLength(secret, 'utf8') < 32) throw new Error(`${file} holds no usable secret (at least 32 bytes); delete it to have a new one generated`);
  return secret;
}
