/**
 * Kafka for integration tests: a real broker, never a mock.
 *
 * - `kafkaBrokers()` reads the broker list from KAFKA_BROKERS ("host:port,host:port").
 * - `describeWithKafka(name, fn)` runs the suite against that broker. Without one it fails loudly when
 *   KAFKA_REQUIRED=1 (CI), and only on a developer machine does it skip, with a banner saying so.
 * - `startKafkaForTests()` / `stopKafkaForTests()` start and stop deploy/kafka/kafka.sh from a jest
 *   globalSetup / globalTeardown (see global-setup.ts and global-teardown.ts next to this file).
 *
 * This module uses jest's injected `describe` global rather than importing @jest/globals, so the
 * globalSetup side can import it outside a test environment.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Path of the broker control script, relative to this file. */
export const KAFKA_SCRIPT = fileURLToPath(new URL('../../../deploy/kafka/kafka.sh', import.meta.url));

/** Set by startKafkaForTests to the port of a broker it started itself, so teardown stops only that one. */
const STARTED_MARKER = 'INCENTIVE_LEDGER_KAFKA_STARTED_PORT';

/** Broker list from KAFKA_BROKERS, or null when none is configured. */
export function kafkaBrokers(): string[] | null {
  const raw = process.env.KAFKA_BROKERS?.trim();
  if (!raw) return null;
  const brokers = raw
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  return brokers.length > 0 ? brokers : null;
}

/** True when CI (or a developer) demands a broker: a missing broker is then an error, never a skip. */
export function kafkaRequired(): boolean {
  return process.env.KAFKA_REQUIRED === '1' || process.env.KAFKA_REQUIRED === 'true';
}

function banner(lines: string[]): string {
  const width = Math.max(...lines.map((l) => l.length));
  const rule = '!'.repeat(width + 8);
  return [rule, ...lines.map((l) => `!!! ${l.padEnd(width)} !!!`), rule].join('\n');
}

/**
 * A describe block that needs a real Kafka broker. The callback receives the broker list.
 * No broker: throws if KAFKA_REQUIRED=1, otherwise skips the block and says so loudly.
 */
export function describeWithKafka(name: string, fn: (brokers: string[]) => void): void {
  const brokers = kafkaBrokers();
  if (brokers) {
    describe(name, () => fn(brokers));
    return;
  }
  if (kafkaRequired()) {
    throw new Error(
      `Kafka integration suite "${name}" needs a broker but KAFKA_BROKERS is not set and KAFKA_REQUIRED=1. ` +
        `Start one with "deploy/kafka/kafka.sh start" and export KAFKA_BROKERS=127.0.0.1:19092.`,
    );
  }
  console.warn(
    banner([
      `SKIPPED: "${name}" - no Kafka broker (KAFKA_BROKERS is not set).`,
      'These integration tests did NOT run. To run them:',
      '  deploy/kafka/kafka.sh start && export KAFKA_BROKERS=127.0.0.1:19092',
      'CI sets KAFKA_REQUIRED=1, which turns this skip into a failure.',
    ]),
  );
  describe.skip(name, () => fn([]));
}

function available(command: string, args: string[]): boolean {
  const result = spawnSync(command, args, { stdio: 'ignore' });
  return result.error === undefined && result.status === 0;
}

function runScript(subcommand: 'start' | 'stop' | 'status'): { status: number; stdout: string } {
  const result = spawnSync('bash', [KAFKA_SCRIPT, subcommand], {
    // stderr carries progress (and the first-time download); let the developer see it.
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    env: process.env,
  });
  if (result.error) throw result.error;
  return { status: result.status ?? 1, stdout: result.stdout ?? '' };
}

/**
 * For a jest globalSetup: make a broker available and return its address.
 * - KAFKA_BROKERS already set: use it as is (nothing is started or stopped).
 * - Otherwise, with Java and Maven on the PATH: `kafka.sh start` (fetching the jars the first time;
 *   KAFKA_PORT etc. are honoured), then set KAFKA_BROKERS for the test workers.
 * - Otherwise: null (suites then skip, or fail under KAFKA_REQUIRED=1).
 */
export async function startKafkaForTests(): Promise<string[] | null> {
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

/** For a jest globalTeardown: stop the broker that startKafkaForTests started, if any. */
export async function stopKafkaForTests(): Promise<void> {
  const port = process.env[STARTED_MARKER];
  if (!port) return;
  const previousPort = process.env.KAFKA_PORT;
  process.env.KAFKA_PORT = port;
  try {
    const { status } = runScript('stop');
    if (status !== 0) throw new Error(`deploy/kafka/kafka.sh stop failed (exit ${status})`);
  } finally {
    if (previousPort === undefined) delete process.env.KAFKA_PORT;
    else process.env.KAFKA_PORT = previousPort;
    delete process.env[STARTED_MARKER];
    delete process.env.KAFKA_BROKERS;
  }
}
