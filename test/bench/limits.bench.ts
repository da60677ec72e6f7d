import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Decimal } from 'decimal.js';
import { percentile, type BenchFigure } from './bench-types.js';

/**
 * What bounds the other figures, each measured alone on the same disk and CPU, so docs/benchmarks.md can say how much
 * of a figure each one explains:
 * - fsync: a 4 KiB append to a file then fdatasync, the floor under every durable commit;
 * - a SQLite commit of one 1 KiB row (WAL) with synchronous=FULL (page writes and the fsync) and with synchronous=OFF
 *   (page writes only);
 * - JSON: decoding and encoding one stored event (the event-store bench's DealClosedWon: data and metadata);
 * - decimal arithmetic: the decimal.js work the engine does for one statement line (credit times share, running total,
 *   tier slice times rate, rounding half to even at the cent).
 * It ignores the size: these are per-operation costs.
 */
export interface LimitsBenchOptions {
  dir: string;
}

const SAMPLES = 300;

export async function runLimitsBench(options: LimitsBenchOptions): Promise<BenchFigure[]> {
  const fsync = fsyncTimes(join(options.dir, 'fsync.bin'));
  const full = sqliteCommitTimes(join(options.dir, 'commit-full.sqlite'), 'FULL');
  const off = sqliteCommitTimes(join(options.dir, 'commit-off.sqlite'), 'OFF');
  const json = jsonCosts();
  const decimal = decimalLineCost();
  const round3 = (value: number) => Math.round(value * 1000) / 1000;
  return [
    { name: 'fsync alone: 4 KiB appended then fdatasync, p50', value: round3(percentile(fsync, 50)), unit: 'ms' },
    { name: 'fsync alone: p99', value: round3(percentile(fsync, 99)), unit: 'ms' },
    { name: 'SQLite commit of one 1 KiB row, WAL, synchronous=FULL, p50', value: round3(percentile(full, 50)), unit: 'ms' },
    { name: 'SQLite commit of one 1 KiB row, WAL, synchronous=OFF (page writes, no fsync), p50', value: round3(percentile(off, 50) * 1000), unit: 'µs' },
    { name: 'JSON.parse of one stored event (data + metadata)', value: round3(json.parseMicroseconds), unit: 'µs' },
    { name: 'JSON.stringify of one event (data + metadata)', value: round3(json.stringifyMicroseconds), unit: 'µs' },
    { name: 'decimal.js work of one statement line (share, running total, slice x rate, round half-even)', value: round3(decimal), unit: 'µs' },
  ];
}

function fsyncTimes(path: string): number[] {
  const fd = openSync(path, 'a');
  const block = Buffer.alloc(4096, 7);
  const times: number[] = [];
  try {
    for (let index = 0; index < SAMPLES; index++) {
      const started = performance.now();
      writeSync(fd, block);
      fdatasyncSync(fd);
      times.push(performance.now() - started);
    }
  } finally {
    closeSync(fd);
  }
  return times;
}

function sqliteCommitTimes(path: string, synchronous: 'FULL' | 'OFF'): number[] {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    db.exec('CREATE TABLE events (position INTEGER PRIMARY KEY, stream_id TEXT NOT NULL, data TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO events (stream_id, data) VALUES (?, ?)');
    const commit = db.transaction((index: number) => insert.run(`deal-${index}`, 'x'.repeat(1024)));
    const times: number[] = [];
    for (let index = 0; index < SAMPLES; index++) {
      const started = performance.now();
      commit(index);
      times.push(performance.now() - started);
    }
    return times;
  } finally {
    db.close();
  }
}

function jsonCosts(): { parseMicroseconds: number; stringifyMicroseconds: number } {
  const events = Array.from({ length: 20_000 }, (_, index) => ({
    data: {
      dealId: `deal-${index}`,
      crmDealId: `0065g00000${String(index).padStart(8, '0')}`,
      accountId: `acct-${index % 50}`,
      ownerRepId: `rep-${index % 64}`,
      closeDate: '2026-03-31',
      amount: `${(index % 97) * 1013 + 1250}.75`,
      currency: 'USD',
      measures: { bookings: `${(index % 97) * 1013 + 1250}.75`, revenue: `${(index % 89) * 877 + 990}.10` },
      lines: [
        { sku: 'PLAT-ANNUAL', quantity: 12, unitPrice: '99.00', discountRate: '0.05' },
        { sku: 'SUPPORT-GOLD', quantity: 1, unitPrice: '1200.00', discountRate: '0' },
      ],
      splits: [
        { payeeId: `rep-${index % 64}`, sharePercent: '60' },
        { payeeId: `rep-${(index + 1) % 64}`, sharePercent: '40' },
      ],
    },
    metadata: { actor: { id: 'crm-integration', role: 'system' }, correlationId: `c-${index}`, causationId: null, commandId: `crm-deal-${index}`, occurredAt: '2026-03-31T16:42:11.000Z' },
  }));
  // Warm up, then time.
  const texts = events.map((event) => [JSON.stringify(event.data), JSON.stringify(event.metadata)] as const);
  let started = performance.now();
  for (const event of events) {
    JSON.stringify(event.data);
    JSON.stringify(event.metadata);
  }
  const stringifyMicroseconds = ((performance.now() - started) * 1000) / events.length;
  let checksum = 0;
  for (const [data] of texts.slice(0, 2_000)) checksum += (JSON.parse(data) as { amount: string }).amount.length;
  started = performance.now();
  for (const [data, metadata] of texts) {
    checksum += (JSON.parse(data) as { amount: string }).amount.length;
    checksum += (JSON.parse(metadata) as { occurredAt: string }).occurredAt.length;
  }
  const parseMicroseconds = ((performance.now() - started) * 1000) / texts.length;
  if (checksum === 0) throw new Error('decoded nothing');
  return { parseMicroseconds, stringifyMicroseconds };
}

function decimalLineCost(): number {
  const lines = 100_000;
  const share = new Decimal('0.7');
  const rate = new Decimal('0.08');
  const amounts = Array.from({ length: 1_000 }, (_, index) => `${1_000 + ((index * 7919) % 59_000)}.${String(index % 100).padStart(2, '0')}`);
  let cumulative = new Decimal(0);
  let total = new Decimal(0);
  const line = (index: number) => {
    const value = new Decimal(amounts[index % amounts.length]!).times(share);
    cumulative = cumulative.plus(value);
    total = total.plus(value.times(rate).toDecimalPlaces(2, Decimal.ROUND_HALF_EVEN));
  };
  for (let index = 0; index < 10_000; index++) line(index);
  const started = performance.now();
  for (let index = 0; index < lines; index++) line(index);
  const microseconds = ((performance.now() - started) * 1000) / lines;
  if (total.isZero() || cumulative.isZero()) throw new Error('computed nothing');
  return microseconds;
}
