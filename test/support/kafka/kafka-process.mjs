// Starting and stopping the local Kafka broker (deploy/kafka/kafka.sh) around a jest run.
// Plain ESM JavaScript, because jest loads globalSetup/globalTeardown without the TypeScript module
// mapping; test code imports these through kafka-broker.ts (types in kafka-process.d.mts).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Path of the broker control script. */
export const KAFKA_SCRIPT = fileURLToPath(new URL('../../../deploy/kafka/kafka.sh', import.meta.url));

// Set to the port of a broker startKafkaForTests started itself, so teardown stops only that one.
const STARTED_MARKER = 'INCENTIVE_LEDGER_KAFKA_STARTED_PORT';

/** Broker list from KAFKA_BROKERS ("host:port,host:port"), or null when none is configured. */
export function kafkaBrokers() {
  const raw = process.env.KAFKA_BROKERS?.trim();
  if (!raw) return null;
  const brokers = raw
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  return brokers.length > 0 ? brokers : null;
}

/** True when CI (or a developer) demands a broker: a missing broker is then an error, never a skip. */
export function kafkaRequired() {
  return process.env.KAFKA_REQUIRED === '1' || process.env.KAFKA_REQUIRED === 'true';
}

/** Frames lines in "!!!" so a skipped or missing broker is hard to overlook in test output. */
export function banner(lines) {
  const width = Math.max(...lines.map((l) => l.length));
  const rule = '!'.repeat(width + 8);
  return [rule, ...lines.map((l) => `!!! ${l.padEnd(width)} !!!`), rule].join('\n');
}

function available(command, args) {
  const result = spawnSync(command, args, { stdio: 'ignore' });
  return result.error === undefined && result.status === 0;
}

function runScript(subcommand, env = process.env) {
  const result = spawnSync('bash', [KAFKA_SCRIPT, subcommand], {
    // stderr carries progress (and the first-time download); let the developer see it.
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    env,
  });
  if (result.error) throw result.error;
  return { status: result.status ?? 1, stdout: result.stdout ?? '' };
}

/**
 * For a jest globalSetup: make a broker available and return its address.
 * - KAFKA_BROKERS already set: use it as is (nothing is started or stopped).
 * - Otherwise, with Java and Maven on the PATH: `kafka.sh start` (fetching the jars the first time;
 *   KAFKA_PORT and the other kafka.sh settings are honoured), then export KAFKA_BROKERS to the workers.
 * - Otherwise: null (Kafka suites then skip, or fail under KAFKA_REQUIRED=1).
 */
export async function startKafkaForTests() {
  const existing = kafkaBrokers();
  if (existing) return existing;

  if (!available('java', ['-version']) || !available('mvn', ['-v'])) {
    const message = 'Java and Maven are needed to start a local Kafka broker (deploy/kafka/kafka.sh).';
    if (kafkaRequired()) throw new Error(`${message} KAFKA_REQUIRED=1, so this is an error.`);
    console.warn(banner([`No Kafka broker: ${message}`, 'Kafka integration suites will be SKIPPED.']));
    return null;
  }

  const wasRunning = runScript('status').status === 0;
  const { status, stdout } = runScript('start');
  const match = /^KAFKA_BROKERS=(\S+)$/m.exec(stdout);
  if (status !== 0 || !match) {
    throw new Error(`deploy/kafka/kafka.sh start failed (exit ${status}); see its output above.`);
  }
  process.env.KAFKA_BROKERS = match[1];
  if (!wasRunning) {
    // Only a broker this run started is stopped by the teardown; one a developer runs is left alone.
    process.env[STARTED_MARKER] = match[1].split(':').pop();
  }
  return kafkaBrokers();
}

/** For a jest globalTeardown: stop the broker startKafkaForTests started, if any. */
export async function stopKafkaForTests() {
  const port = process.env[STARTED_MARKER];
  if (!port) return;
  try {
    const { status } = runScript('stop', { ...process.env, KAFKA_PORT: port });
    if (status !== 0) throw new Error(`deploy/kafka/kafka.sh stop failed (exit ${status})`);
  } finally {
    delete process.env[STARTED_MARKER];
    delete process.env.KAFKA_BROKERS;
  }
}
