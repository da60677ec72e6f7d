import { createRequire } from 'node:module';
import type { MessagePort } from 'node:worker_threads';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * Copies a SQLite file's write-ahead log back into the file (a checkpoint) on a thread of its own, with its own
 * connection, so that a connection writing large transactions (a read-model rebuild) does not pay for it in its
 * commits: SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold, copying every page the
 * log holds and syncing the file. Measured on a statements rebuild, that was about a tenth of the writing thread's
 * time.
 *
 * Checkpoints are PASSIVE: they copy what no reader still needs and never wait for, or block, the writer. The writer
 * asks for one after its commits; requests that arrive while one runs are folded into the next.
 */

type ToCheckpointer = 'checkpoint' | 'close';

interface CheckpointerEnvironment {
  port: MessagePort;
  receiveMessageOnPort(port: MessagePort): { message: unknown } | undefined;
  Database: typeof BetterSqlite3;
  options: { path: string; busyTimeoutMs: number };
}

/** The thread's program. It runs from its source text (no imports). */
function runCheckpointer(environment: CheckpointerEnvironment): void {
  const { port, receiveMessageOnPort, Database, options } = environment;
  const db = new Database(options.path, { timeout: options.busyTimeoutMs });
  const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
  port.on('message', (first: ToCheckpointer) => {
    let close = first === 'close';
    for (let waiting = receiveMessageOnPort(port); waiting !== undefined; waiting = receiveMessageOnPort(port)) close ||= waiting.message === 'close';
    try {
      checkpoint.run();
    } catch {
      // Another connection is checkpointing (SQLITE_BUSY): what is left goes with the next request.
    }
    if (close) {
      db.close();
      port.close();
    }
  });
}

const CHECKPOINTER_SOURCE = `'use strict';
const { parentPort, receiveMessageOnPort, workerData } = require('node:worker_threads');
const Database = require(workerData.betterSqlite3);
(${runCheckpointer.toString()})({ port: parentPort, receiveMessageOnPort, Database, options: workerData.options });
`;

const betterSqlite3Path = createRequire(import.meta.url).resolve('better-sqlite3');

export class WalCheckpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private failure: Error | null = null;

  constructor(options: { path: string; busyTimeoutMs: number }) {
    this.worker = new Worker(CHECKPOINTER_SOURCE, { eval: true, workerData: { betterSqlite3: betterSqlite3Path, options } });
    this.worker.on('error', (error) => (this.failure = error));
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    // Never what keeps a process alive: the writer's connection checkpoints when it closes anyway.
    this.worker.unref();
  }

  /** False once the thread has stopped (it could not open the file): the writer must checkpoint itself again. */
  get running(): boolean {
    return this.failure === null;
  }

  request(): void {
    if (this.failure === null) this.worker.postMessage('checkpoint' satisfies ToCheckpointer);
  }

  /** Runs a last checkpoint, then closes the thread's connection. */
  async close(): Promise<void> {
    if (this.failure === null) {
      this.worker.ref();
      this.worker.postMessage('close' satisfies ToCheckpointer);
    }
    await this.exited;
  }
}
