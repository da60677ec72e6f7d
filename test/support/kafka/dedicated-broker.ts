/**
 * A broker of a test's own, on free ports, for tests that stop and restart it: the shared test broker
 * (KAFKA_BROKERS) is never stopped under other suites. Runs deploy/kafka/kafka.sh with its own KAFKA_PORT and
 * KAFKA_STATE_DIR; `restart` keeps the data (KAFKA_KEEP_DATA=1), as a broker coming back after an outage would.
 */
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { KAFKA_SCRIPT } from './kafka-process.mjs';

export interface DedicatedBroker {
  brokers: string[];
  stop(): void;
  /** Starts it again on the same port with the data it had. */
  restart(): void;
  /** Stops it and deletes its data. */
  remove(): void;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 30000 + Math.floor(Math.random() * 20000);
    if ((await portIsFree(port)) && (await portIsFree(port + 1))) return port;
  }
  throw new Error('no two free neighbouring ports found for a test broker');
}

export async function startDedicatedBroker(stateDir: string): Promise<DedicatedBroker> {
  const port = await freePortPair();
  const environment = { ...process.env, KAFKA_PORT: String(port), KAFKA_STATE_DIR: stateDir };
  const run = (command: 'start' | 'stop', extra: Record<string, string> = {}): void => {
    const result = spawnSync('bash', [KAFKA_SCRIPT, command], { env: { ...environment, ...extra }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (result.status !== 0) throw new Error(`kafka.sh ${command} on port ${port} failed (exit ${result.status}):\n${result.stderr}`);
  };
  run('start');
  return {
    brokers: [`127.0.0.1:${port}`],
    stop: () => run('stop'),
    restart: () => run('start', { KAFKA_KEEP_DATA: '1' }),
    remove: () => run('stop'),
  };
}
