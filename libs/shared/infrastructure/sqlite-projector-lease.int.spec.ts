import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from '@jest/globals';
import { createTempDir } from '../testing/temp-dir.js';
import { SqliteProjectorLease } from './sqlite-projector-lease.js';

/** The projector lease beside SQLite read models: one holder at a time, across connections and processes. */

const temp = createTempDir('sqlite-projector-lease');
afterAll(() => temp.remove());

describe('SqliteProjectorLease', () => {
  it('has one holder; another waits until it is released', async () => {
    const path = temp.file('projector.lease');
    const first = new SqliteProjectorLease(path);
    const second = new SqliteProjectorLease(path);
    expect(await first.tryAcquire()).toBe(true);
    expect(await first.tryAcquire()).toBe(true);
    expect(await second.tryAcquire()).toBe(false);
    expect(second.held).toBe(false);
    await first.release();
    expect(await second.tryAcquire()).toBe(true);
    expect(await first.tryAcquire()).toBe(false);
    await second.release();
  });

  it('is refused to another process while held, and free again once its holder is gone', async () => {
    const path = temp.file('across-processes.lease');
    const script = `
      const Database = require('better-sqlite3');
      const db = new Database(${JSON.stringify(path)}, { timeout: 0 });
      try { db.prepare('BEGIN IMMEDIATE').run(); process.stdout.write('acquired'); } catch (e) { process.stdout.write(e.code); }
    `;
    const other = () => spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: process.cwd() }).stdout;
    const lease = new SqliteProjectorLease(path);
    expect(await lease.tryAcquire()).toBe(true);
    expect(other()).toBe('SQLITE_BUSY');
    await lease.release();
    // That process held it and exited without releasing it: the operating system released it with the process.
    expect(other()).toBe('acquired');
    expect(await lease.tryAcquire()).toBe(true);
    await lease.release();
  });
});
