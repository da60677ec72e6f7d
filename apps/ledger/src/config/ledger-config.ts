import { isAbsolute, join, resolve } from 'node:path';
import { disputeCategories, type DisputeCategory } from '#lib/disputes/domain/dispute.decider.js';

/**
 * How bearer tokens are verified. Exactly one source of keys:
 * - `secret`: HS256 with a shared secret (LEDGER_AUTH_SECRET);
 * - `public-key`: RS256/ES256 with one PEM public key (LEDGER_AUTH_PUBLIC_KEY_FILE);
 * - `jwks`: RS256/ES256 with the keys of a JWKS file, chosen by `kid` (LEDGER_AUTH_JWKS_FILE);
 * - `local-secret`: none of these configured: an HS256 secret generated once into the data directory (0600),
 *   so a new install works out of the box and `cli token` can mint tokens for it (docs/decisions/0010).
 */
export type AuthKeySource =
  | { kind: 'secret'; secret: string }
  | { kind: 'public-key'; file: string }
  | { kind: 'jwks'; file: string }
  | { kind: 'local-secret'; file: string };

export interface AuthConfig {
  keys: AuthKeySource;
  /** Required `iss` claim. LEDGER_AUTH_ISSUER, default incentive-ledger. */
  issuer: string;
  /** Required `aud` claim. LEDGER_AUTH_AUDIENCE, default incentive-ledger. */
  audience: string;
  /** Claim holding the caller's role. LEDGER_AUTH_ROLE_CLAIM, default role. */
  roleClaim: string;
  /** Claim holding the caller's own payee id (reps and managers). LEDGER_AUTH_PAYEE_CLAIM, default payee_id. */
  payeeClaim: string;
  /** Clock skew allowed on exp/nbf/iat, seconds. LEDGER_AUTH_CLOCK_TOLERANCE_S, default 30. */
  clockToleranceSeconds: number;
}

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
  /** Where the read models live. LEDGER_READ_MODELS: 'sqlite' (default, a file in dataDir) or 'postgres'. */
  readModelsKind: ReadModelsKind;
  /**
   * The PostgreSQL database of the read models when readModelsKind is 'postgres' (null otherwise). LEDGER_POSTGRES_URL,
   * e.g. postgres://ledger:secret@db:5432/ledger; the database must use the C collation (see deploy/README.md).
   */
  postgresUrl: string | null;
  /** Most PostgreSQL connections one process reads with at once. LEDGER_POSTGRES_POOL_SIZE, default 10. */
  postgresPoolSize: number;
  /**
   * What this process does. LEDGER_ROLES: a comma list of api (HTTP: reads and commands), projector (the projection
   * runner and the durable reactions, while it holds the projector lease) and relay (the Kafka relay), or all
   * (the default: everything in one process).
   */
  roles: readonly LedgerRole[];
  /** How often a projector without the lease tries to take it, and an api process reads the checkpoints of another projector, ms. LEDGER_LEASE_POLL_MS, default 1000. */
  leasePollMs: number;
  /** Log level. LEDGER_LOG_LEVEL: error | warn | log | debug | verbose, default log. */
  logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
  /** How long a read with ?waitForPosition= may wait for projections, ms. LEDGER_READ_WAIT_MS, default 5000. */
  readWaitMs: number;
  /** Polling interval for changes written by another process to the store file, ms. LEDGER_POLL_MS, default 100. */
  storePollMs: number;
  /**
   * How long a command that reads the read models (closing or reopening a period, posting lines by hand) may wait for
   * them to include everything recorded before it, ms. LEDGER_COMMAND_WAIT_MS, default 60000.
   */
  commandWaitMs: number;
  /** Bearer token verification (LEDGER_AUTH_*). */
  auth: AuthConfig;
  /**
   * Business days an analyst has to resolve a dispute, per category. LEDGER_DISPUTE_DUE_DAYS, e.g.
   * "missing_credit=10,wrong_split=10,wrong_rate=15,clawback=10,other=20" (the default); categories left out keep it.
   */
  disputeDueBusinessDays: Record<DisputeCategory, number>;
  /** Business days a rep has to answer a request for information. LEDGER_DISPUTE_INFO_DAYS, default 5. */
  disputeInformationBusinessDays: number;
  /** Calendar days after a resolution during which a dispute may be reopened. LEDGER_DISPUTE_REOPEN_DAYS, default 30. */
  disputeReopenWindowDays: number;
  /** How often the dispute processes look for overdue disputes and pending remedies, ms. LEDGER_DISPUTE_PROCESS_MS, default 5000. */
  disputeProcessIntervalMs: number;
  /** The Kafka integration (relay and inbound consumers); null, and everything Kafka off, without LEDGER_KAFKA_BROKERS. */
  kafka: KafkaConfig | null;
}

/** The parts of the Kafka integration a process runs. LEDGER_KAFKA_ROLES, comma-separated; default all three. */
export const kafkaRoles = ['relay', 'crm-intake', 'payroll-confirmations'] as const;
export type KafkaRole = (typeof kafkaRoles)[number];

export interface KafkaConfig {
  /** Bootstrap brokers, host:port. LEDGER_KAFKA_BROKERS, comma-separated. */
  brokers: string[];
  /** Client id the broker sees. LEDGER_KAFKA_CLIENT_ID, default incentive-ledger. */
  clientId: string;
  /** Consumer group of the inbound consumers (suffixed -crm-intake, -payroll-confirmations). LEDGER_KAFKA_GROUP_ID, default incentive-ledger. */
  groupId: string;
  /** Which parts run in this process. LEDGER_KAFKA_ROLES, default relay,crm-intake,payroll-confirmations. */
  roles: ReadonlySet<KafkaRole>;
  /** Topic names, each LEDGER_KAFKA_TOPIC_PREFIX + the versioned name (prefix default empty). */
  topics: { payouts: string; attainment: string; crmDeals: string; crmDealsDeadLetter: string; payrollConfirmations: string; payrollConfirmationsDeadLetter: string };
  /** Partitions of a topic the ledger creates because it is missing. LEDGER_KAFKA_TOPIC_PARTITIONS, default 6. */
  topicPartitions: number;
  /** Replication factor of a topic the ledger creates. LEDGER_KAFKA_REPLICATION_FACTOR, default 1 (use 3 on a real cluster). */
  topicReplicationFactor: number;
  /** Most events the relay publishes as one acknowledged batch. LEDGER_KAFKA_RELAY_BATCH, default 2000. */
  relayBatchSize: number;
  /** Longest wait between attempts while the broker is unreachable, ms. LEDGER_KAFKA_RETRY_MAX_MS, default 10000. */
  retryMaxMs: number;
}

export const defaultDisputeDueBusinessDays: Readonly<Record<DisputeCategory, number>> = {
  missing_credit: 10,
  wrong_split: 10,
  wrong_rate: 15,
  clawback: 10,
  other: 20,
};

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
const readModelsKinds = ['sqlite', 'postgres'] as const;
export type ReadModelsKind = (typeof readModelsKinds)[number];
export const ledgerRoles = ['api', 'projector', 'relay'] as const;
export type LedgerRole = (typeof ledgerRoles)[number];

/** LEDGER_ROLES: "all" (default) or a comma list of roles. */
function rolesOf(environment: Environment, problems: string[]): LedgerRole[] {
  const raw = (environment.LEDGER_ROLES ?? '').trim();
  if (raw === '' || raw === 'all') return [...ledgerRoles];
  const roles: LedgerRole[] = [];
  for (const entry of raw.split(',').map((part) => part.trim())) {
    if (entry === 'all') return [...ledgerRoles];
    if (!(ledgerRoles as readonly string[]).includes(entry)) {
      problems.push(`LEDGER_ROLES must be "all" or a comma list of ${ledgerRoles.join(', ')}; "${entry}" is not one`);
      continue;
    }
    if (!roles.includes(entry as LedgerRole)) roles.push(entry as LedgerRole);
  }
  return roles;
}

function integer(environment: Environment, key: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = environment[key];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    problems.push(`${key} must be an integer from ${min} to ${max}, got "${raw}"`);
    return fallback;
  }
  return Number(raw);
}

/** "missing_credit=10,other=20": the named categories' due days over the defaults. */
function disputeDueDays(environment: Environment, problems: string[]): Record<DisputeCategory, number> {
  const days: Record<DisputeCategory, number> = { ...defaultDisputeDueBusinessDays };
  const raw = environment.LEDGER_DISPUTE_DUE_DAYS;
  if (raw === undefined || raw.trim() === '') return days;
  for (const entry of raw.split(',')) {
    const match = /^\s*([a-z_]+)\s*=\s*(\d{1,3})\s*$/.exec(entry);
    if (!match || !(disputeCategories as readonly string[]).includes(match[1]) || Number(match[2]) < 1) {
      problems.push(`LEDGER_DISPUTE_DUE_DAYS must list category=business days (1 to 999) for ${disputeCategories.join(', ')}; "${entry.trim()}" is not one`);
      continue;
    }
    days[match[1] as DisputeCategory] = Number(match[2]);
  }
  return days;
}

/** Reads and validates the configuration; throws ConfigError listing every problem at once. */
export function loadLedgerConfig(environment: Environment = process.env, cwd: string = process.cwd()): LedgerConfig {
  const problems: string[] = [];
  const port = integer(environment, 'LEDGER_PORT', 3000, 0, 65535, problems);
  const readWaitMs = integer(environment, 'LEDGER_READ_WAIT_MS', 5000, 0, 600000, problems);
  const storePollMs = integer(environment, 'LEDGER_POLL_MS', 100, 5, 60000, problems);
  const commandWaitMs = integer(environment, 'LEDGER_COMMAND_WAIT_MS', 60000, 100, 3600000, problems);
  const disputeDueBusinessDays = disputeDueDays(environment, problems);
  const disputeInformationBusinessDays = integer(environment, 'LEDGER_DISPUTE_INFO_DAYS', 5, 1, 999, problems);
  const disputeReopenWindowDays = integer(environment, 'LEDGER_DISPUTE_REOPEN_DAYS', 30, 0, 3650, problems);
  const disputeProcessIntervalMs = integer(environment, 'LEDGER_DISPUTE_PROCESS_MS', 5000, 10, 3600000, problems);
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
  const readModelsKind = environment.LEDGER_READ_MODELS || 'sqlite';
  if (!(readModelsKinds as readonly string[]).includes(readModelsKind)) {
    problems.push(`LEDGER_READ_MODELS must be one of ${readModelsKinds.join(', ')}, got "${readModelsKind}"`);
  }
  const postgresUrl = environment.LEDGER_POSTGRES_URL || null;
  if (readModelsKind === 'postgres' && postgresUrl === null) {
    problems.push('LEDGER_POSTGRES_URL is required with LEDGER_READ_MODELS=postgres (e.g. postgres://ledger:secret@localhost:5432/ledger)');
  }
  if (postgresUrl !== null && !/^postgres(ql)?:\/\/[^/?#]*/.test(postgresUrl)) {
    problems.push('LEDGER_POSTGRES_URL must be a PostgreSQL connection URL (postgres://user:password@host:port/database)');
  }
  const postgresPoolSize = integer(environment, 'LEDGER_POSTGRES_POOL_SIZE', 10, 1, 1000, problems);
  const roles = rolesOf(environment, problems);
  const leasePollMs = integer(environment, 'LEDGER_LEASE_POLL_MS', 1000, 10, 600000, problems);
  const logLevel = environment.LEDGER_LOG_LEVEL || 'log';
  if (!(logLevels as readonly string[]).includes(logLevel)) {
    problems.push(`LEDGER_LOG_LEVEL must be one of ${logLevels.join(', ')}, got "${logLevel}"`);
  }
  const kafka = loadKafkaConfig(environment, problems);
  const auth = authConfig(environment, cwd, dataDir, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port,
    host,
    dataDir,
    storeKind: storeKind as StoreKind,
    eventStoreDbConnectionString: storeKind === 'eventstoredb' ? connectionString : null,
    readModelsKind: readModelsKind as ReadModelsKind,
    postgresUrl: readModelsKind === 'postgres' ? postgresUrl : null,
    postgresPoolSize,
    roles,
    leasePollMs,
    logLevel: logLevel as LedgerConfig['logLevel'],
    readWaitMs,
    storePollMs,
    commandWaitMs,
    auth,
    disputeDueBusinessDays,
    disputeInformationBusinessDays,
    disputeReopenWindowDays,
    disputeProcessIntervalMs,
    kafka,
  };
}

const claimNamePattern = /^[\x21-\x7e]{1,200}$/;

function authConfig(environment: Environment, cwd: string, dataDir: string, problems: string[]): AuthConfig {
  const pathOf = (raw: string) => (isAbsolute(raw) ? raw : resolve(cwd, raw));
  const secret = environment.LEDGER_AUTH_SECRET || undefined;
  const publicKeyFile = environment.LEDGER_AUTH_PUBLIC_KEY_FILE || undefined;
  const jwksFile = environment.LEDGER_AUTH_JWKS_FILE || undefined;
  const given = [secret && 'LEDGER_AUTH_SECRET', publicKeyFile && 'LEDGER_AUTH_PUBLIC_KEY_FILE', jwksFile && 'LEDGER_AUTH_JWKS_FILE'].filter(Boolean);
  if (given.length > 1) problems.push(`Set at most one of LEDGER_AUTH_SECRET, LEDGER_AUTH_PUBLIC_KEY_FILE and LEDGER_AUTH_JWKS_FILE, got ${given.join(' and ')}`);
  // HS256 needs at least as many bytes of key as the hash output (RFC 7518 section 3.2).
  if (secret !== undefined && Buffer.byteLength(secret, 'utf8') < 32) problems.push('LEDGER_AUTH_SECRET must be at least 32 bytes long');
  const keys: AuthKeySource =
    secret !== undefined
      ? { kind: 'secret', secret }
      : publicKeyFile !== undefined
        ? { kind: 'public-key', file: pathOf(publicKeyFile) }
        : jwksFile !== undefined
          ? { kind: 'jwks', file: pathOf(jwksFile) }
          : { kind: 'local-secret', file: join(dataDir, 'auth-secret') };
  const text = (key: string, fallback: string): string => {
    const value = environment[key] || fallback;
    if (!claimNamePattern.test(value)) problems.push(`${key} must be 1 to 200 printable characters without spaces, got "${value}"`);
    return value;
  };
  return {
    keys,
    issuer: text('LEDGER_AUTH_ISSUER', 'incentive-ledger'),
    audience: text('LEDGER_AUTH_AUDIENCE', 'incentive-ledger'),
    roleClaim: text('LEDGER_AUTH_ROLE_CLAIM', 'role'),
    payeeClaim: text('LEDGER_AUTH_PAYEE_CLAIM', 'payee_id'),
    clockToleranceSeconds: integer(environment, 'LEDGER_AUTH_CLOCK_TOLERANCE_S', 30, 0, 600, problems),
  };
}

const brokerPattern = /^[A-Za-z0-9.-]+:\d{1,5}$/;
const topicPrefixPattern = /^[A-Za-z0-9._-]*$/;

function loadKafkaConfig(environment: Environment, problems: string[]): KafkaConfig | null {
  const brokers = (environment.LEDGER_KAFKA_BROKERS ?? '')
    .split(',')
    .map((broker) => broker.trim())
    .filter((broker) => broker !== '');
  if (brokers.length === 0) return null;
  for (const broker of brokers) if (!brokerPattern.test(broker)) problems.push(`LEDGER_KAFKA_BROKERS must list host:port entries, got "${broker}"`);
  const rolesRaw = environment.LEDGER_KAFKA_ROLES || kafkaRoles.join(',');
  const roles = new Set<KafkaRole>();
  for (const role of rolesRaw.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '')) {
    if ((kafkaRoles as readonly string[]).includes(role)) roles.add(role as KafkaRole);
    else problems.push(`LEDGER_KAFKA_ROLES may list ${kafkaRoles.join(', ')}, got "${role}"`);
  }
  const prefix = environment.LEDGER_KAFKA_TOPIC_PREFIX ?? '';
  if (!topicPrefixPattern.test(prefix)) problems.push(`LEDGER_KAFKA_TOPIC_PREFIX may hold letters, digits, ".", "_" and "-", got "${prefix}"`);
  return {
    brokers,
    clientId: environment.LEDGER_KAFKA_CLIENT_ID || 'incentive-ledger',
    groupId: environment.LEDGER_KAFKA_GROUP_ID || 'incentive-ledger',
    roles,
    topics: {
      payouts: `${prefix}icm.payouts.v1`,
      attainment: `${prefix}icm.attainment.v1`,
      crmDeals: `${prefix}crm.deals.v1`,
      crmDealsDeadLetter: `${prefix}crm.deals.v1.dlq`,
      payrollConfirmations: `${prefix}payroll.confirmations.v1`,
      payrollConfirmationsDeadLetter: `${prefix}payroll.confirmations.v1.dlq`,
    },
    topicPartitions: integer(environment, 'LEDGER_KAFKA_TOPIC_PARTITIONS', 6, 1, 1000, problems),
    topicReplicationFactor: integer(environment, 'LEDGER_KAFKA_REPLICATION_FACTOR', 1, 1, 10, problems),
    relayBatchSize: integer(environment, 'LEDGER_KAFKA_RELAY_BATCH', 2000, 1, 100_000, problems),
    retryMaxMs: integer(environment, 'LEDGER_KAFKA_RETRY_MAX_MS', 10_000, 100, 600_000, problems),
  };
}
