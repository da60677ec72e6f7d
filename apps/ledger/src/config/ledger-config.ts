import { isAbsolute, resolve } from 'node:path';

/**
 * The one typed configuration of the ledger service, read from the environment and validated at boot.
 * Libraries never read process.env: they receive what they need from here. Every key is documented in
 * README.md ("Configuration").
 */
export interface LedgerConfig {
  /** HTTP port. LEDGER_PORT, default 3000. */
  port: number;
  /** Interface to bind. LEDGER_HOST, default 127.0.0.1. */
  host: string;
  /** Directory holding the embedded store file and the read-model file. LEDGER_DATA_DIR, default ./.data. */
  dataDir: string;
  /** Event store adapter. LEDGER_STORE: 'embedded' (default, a file in dataDir) or 'eventstoredb'. */
  storeKind: StoreKind;
  /**
   * Where the EventStoreDB server is, when storeKind is 'eventstoredb' (null otherwise).
   * LEDGER_EVENTSTOREDB_CONNECTION_STRING, e.g. esdb://localhost:2113?tls=false; required with LEDGER_STORE=eventstoredb.
   */
  eventStoreDbConnectionString: string | null;
  /** Log level. LEDGER_LOG_LEVEL: error | warn | log | debug | verbose, default log. */
  logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
  /** How long a read with ?waitForPosition= may wait for projections, ms. LEDGER_READ_WAIT_MS, default 5000. */
  readWaitMs: number;
  /** Polling interval for changes written by another process to the store file, ms. LEDGER_POLL_MS, default 100. */
  storePollMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Environment = Record<string, string | undefined>;

const logLevels = ['error', 'warn', 'log', 'debug', 'verbose'] as const;
const storeKinds = ['embedded', 'eventstoredb'] as const;
export type StoreKind = (typeof storeKinds)[number];

function integer(environment: Environment, key: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = environment[key];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    problems.push(`${key} must be an integer from ${min} to ${max}, got "${raw}"`);
    return fallback;
  }
  return Number(raw);
}

/** Reads and validates the configuration; throws ConfigError listing every problem at once. */
export function loadLedgerConfig(environment: Environment = process.env, cwd: string = process.cwd()): LedgerConfig {
  const problems: string[] = [];
  const port = integer(environment, 'LEDGER_PORT', 3000, 0, 65535, problems);
  const readWaitMs = integer(environment, 'LEDGER_READ_WAIT_MS', 5000, 0, 600000, problems);
  const storePollMs = integer(environment, 'LEDGER_POLL_MS', 100, 5, 60000, problems);
  const host = environment.LEDGER_HOST || '127.0.0.1';
  const dataDirRaw = environment.LEDGER_DATA_DIR || '.data';
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(cwd, dataDirRaw);
  const storeKind = environment.LEDGER_STORE || 'embedded';
  if (!(storeKinds as readonly string[]).includes(storeKind)) {
    problems.push(`LEDGER_STORE must be one of ${storeKinds.join(', ')}, got "${storeKind}"`);
  }
  const connectionString = environment.LEDGER_EVENTSTOREDB_CONNECTION_STRING || null;
  if (storeKind === 'eventstoredb' && connectionString === null) {
    problems.push('LEDGER_EVENTSTOREDB_CONNECTION_STRING is required with LEDGER_STORE=eventstoredb (e.g. esdb://localhost:2113?tls=false)');
  }
  if (connectionString !== null && !/^esdb(\+discover)?:\/\/[^/?#]+/.test(connectionString)) {
    problems.push(`LEDGER_EVENTSTOREDB_CONNECTION_STRING must be an EventStoreDB connection string (esdb://host:port?... or esdb+discover://...), got "${connectionString}"`);
  }
  const logLevel = environment.LEDGER_LOG_LEVEL || 'log';
  if (!(logLevels as readonly string[]).includes(logLevel)) {
    problems.push(`LEDGER_LOG_LEVEL must be one of ${logLevels.join(', ')}, got "${logLevel}"`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port,
    host,
    dataDir,
    storeKind: storeKind as StoreKind,
    eventStoreDbConnectionString: storeKind === 'eventstoredb' ? connectionString : null,
    logLevel: logLevel as LedgerConfig['logLevel'],
    readWaitMs,
    storePollMs,
  };
}
