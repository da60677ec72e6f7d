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
  /** Event store adapter. LEDGER_STORE: 'embedded' (default). */
  storeKind: 'embedded';
  /** Log level. LEDGER_LOG_LEVEL: error | warn | log | debug | verbose, default log. */
  logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
  /** How long a read with ?waitForPosition= may wait for projections, ms. LEDGER_READ_WAIT_MS, default 5000. */
  readWaitMs: number;
  /** Polling interval for changes written by another process to the store file, ms. LEDGER_POLL_MS, default 100. */
  storePollMs: number;
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

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Environment = Record<string, string | undefined>;

const logLevels = ['error', 'warn', 'log', 'debug', 'verbose'] as const;

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
  if (storeKind !== 'embedded') problems.push(`LEDGER_STORE must be "embedded", got "${storeKind}"`);
  const logLevel = environment.LEDGER_LOG_LEVEL || 'log';
  if (!(logLevels as readonly string[]).includes(logLevel)) {
    problems.push(`LEDGER_LOG_LEVEL must be one of ${logLevels.join(', ')}, got "${logLevel}"`);
  }
  const kafka = loadKafkaConfig(environment, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port,
    host,
    dataDir,
    storeKind: 'embedded',
    logLevel: logLevel as LedgerConfig['logLevel'],
    readWaitMs,
    storePollMs,
    kafka,
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
