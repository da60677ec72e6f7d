import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NewEvent, RecordedEvent } from '../event-store.port.js';
import { SqliteEventStore } from './sqlite-event-store.js';
import { verifyChain } from './verify-chain.js';

/**
 * Tampering is done on copies of one store file with raw SQL, the way someone bypassing the service
 * would; verification must name exactly the first event that no longer matches.
 */
describe('verifyChain', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'verify-chain-'));
  const originalPath = join(workDir, 'original.sqlite');
  let recorded: RecordedEvent[];

  beforeAll(async () => {
    const store = SqliteEventStore.open({ path: originalPath });
    for (let deal = 0; deal < 4; deal++) {
      await store.append(`deal-${deal}`, [newEvent(deal), newEvent(deal)], 'no_stream');
    }
    await store.append('deal-0', [newEvent(9)], 1);
    recorded = await store.readAll();
    await store.close();
  });

  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  function tamperedCopy(sql: string, ...parameters: unknown[]): string {
    const path = join(workDir, `${randomUUID()}.sqlite`);
    copyFileSync(originalPath, path);
    const db = new Database(path);
    db.prepare(sql).run(...parameters);
    db.close();
    return path;
  }

  it('accepts an untouched file and reports the head hash', () => {
    const result = verifyChain(originalPath);
    expect(result).toMatchObject({ ok: true, eventsChecked: 9 });
    expect(result.ok && result.headHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('names the event whose data JSON was edited', () => {
    const target = recorded[4];
    const path = tamperedCopy(`UPDATE events SET data = replace(data, '"1000.00"', '"9000.00"') WHERE position = ?`, target.position);
    expect(verifyChain(path)).toEqual({
      ok: false,
      eventsChecked: 4,
      firstBadPosition: target.position,
      eventId: target.eventId,
      streamId: target.streamId,
      reason: 'its content or stored hash changed after it was recorded',
    });
  });

  it('names the event after a deleted one', () => {
    const deleted = recorded[2];
    const following = recorded[3];
    const path = tamperedCopy('DELETE FROM events WHERE position = ?', deleted.position);
    expect(verifyChain(path)).toEqual({
      ok: false,
      eventsChecked: 2,
      firstBadPosition: following.position,
      eventId: following.eventId,
      streamId: following.streamId,
      reason: `events at positions ${deleted.position}..${deleted.position} are missing`,
    });
  });

  it('names an event whose stored hash was replaced, even when its content is intact', () => {
    const target = recorded[7];
    const path = tamperedCopy('UPDATE events SET hash = hex(zeroblob(32)) WHERE position = ?', target.position);
    expect(verifyChain(path)).toMatchObject({ ok: false, eventsChecked: 7, firstBadPosition: target.position, eventId: target.eventId });
  });
});

function newEvent(deal: number): NewEvent {
  return {
    eventId: randomUUID(),
    type: 'DealClosedWon',
    schemaVersion: 1,
    data: { dealId: `deal-${deal}`, amount: '1000.00', currency: 'USD' },
    metadata: {
      actor: { id: 'user-1', role: 'analyst' },
      correlationId: randomUUID(),
      causationId: null,
      commandId: null,
      occurredAt: '2026-01-15T10:00:00.000Z',
    },
  };
}
