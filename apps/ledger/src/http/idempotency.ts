import { createHash } from 'node:crypto';
import { CallHandler, ExecutionContext, Inject, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import Database from 'better-sqlite3';
import { Observable, from, of, switchMap } from 'rxjs';
import { conflictError } from '#lib/shared/domain/domain-error.js';
import { actorOf, idempotencyKeyOf, type AuthenticatedRequest } from './request-context.js';

/**
 * Idempotency-Key for commands (after Stripe and TigerBeetle): the same key with the same request replays the
 * first answer; the same key with a different request is a 409, never a silent success. Keys are scoped per
 * actor. Only successful answers are remembered, so a client can correct a rejected request and send it again.
 *
 * The remembered answer is written after the command's events are appended. A crash in between leaves the events
 * recorded with the key as their commandId; the command handler finds them on the retry and answers from them.
 */
export interface IdempotencyRecord {
  requestHash: string;
  status: number;
  body: string;
}

export interface IdempotencyStore {
  find(scope: string, key: string): IdempotencyRecord | undefined;
  save(scope: string, key: string, record: IdempotencyRecord): void;
  close(): void;
}

export const IDEMPOTENCY_STORE = Symbol('IdempotencyStore');

export class SqliteIdempotencyStore implements IdempotencyStore {
  private readonly database: Database.Database;
  private readonly selectStatement: Database.Statement<[string, string], { request_hash: string; status: number; body: string }>;
  private readonly insertStatement: Database.Statement<[string, string, string, number, string, string]>;

  constructor(path: string) {
    this.database = new Database(path);
    this.database.pragma('journal_mode = WAL');
    this.database.pragma('busy_timeout = 5000');
    this.database.exec(`CREATE TABLE IF NOT EXISTS idempotency_keys (
      scope TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL,
      recorded_at TEXT NOT NULL, PRIMARY KEY (scope, key))`);
    this.selectStatement = this.database.prepare('SELECT request_hash, status, body FROM idempotency_keys WHERE scope = ? AND key = ?');
    this.insertStatement = this.database.prepare(
      'INSERT OR IGNORE INTO idempotency_keys (scope, key, request_hash, status, body, recorded_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
  }

  find(scope: string, key: string): IdempotencyRecord | undefined {
    const row = this.selectStatement.get(scope, key);
    return row ? { requestHash: row.request_hash, status: row.status, body: row.body } : undefined;
  }

  save(scope: string, key: string, record: IdempotencyRecord): void {
    this.insertStatement.run(scope, key, record.requestHash, record.status, record.body, new Date().toISOString());
  }

  close(): void {
    this.database.close();
  }
}

/** Canonical JSON (sorted keys) so that the same body with keys in another order is the same request. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function requestHashOf(method: string, path: string, body: unknown): string {
  return createHash('sha256').update(`${method} ${path}\n${canonicalJson(body ?? null)}`).digest('hex');
}

@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(@Inject(IDEMPOTENCY_STORE) private readonly store: IdempotencyStore) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const response = context.switchToHttp().getResponse<Response>();
    if (request.method === 'GET' || request.method === 'HEAD') return next.handle();
    const key = idempotencyKeyOf(request);
    if (key === null) return next.handle();
    const scope = actorOf(request).id;
    const requestHash = requestHashOf(request.method, request.path, request.body);
    const remembered = this.store.find(scope, key);
    if (remembered) {
      if (remembered.requestHash !== requestHash) {
        throw conflictError('IDEMPOTENCY.KEY_REUSED', 'This Idempotency-Key was already used for a different request; use a new key for a new request.');
      }
      response.status(remembered.status);
      response.setHeader('Idempotent-Replayed', 'true');
      return of(JSON.parse(remembered.body));
    }
    return next.handle().pipe(
      switchMap((body) =>
        from(
          Promise.resolve().then(() => {
            this.store.save(scope, key, { requestHash, status: response.statusCode, body: JSON.stringify(body ?? null) });
            return body;
          }),
        ),
      ),
    );
  }
}
