import { connect } from 'node:net';

/**
 * A server a benchmark needs (a Kafka broker, a PostgreSQL server). The runner asks before running the benchmark;
 * when the server is not reachable the table says "skipped: needs <name>" instead of failing.
 */
export interface BenchServer {
  name: string;
  /** Where to look, as the benchmark will (from its environment variable), or null when none is configured. */
  address(): { host: string; port: number } | null;
}

/** Whether a TCP connection to the server opens within the timeout. */
export async function reachable(server: BenchServer, timeoutMs = 1_000): Promise<boolean> {
  const address = server.address();
  if (address === null) return false;
  return new Promise((resolve) => {
    const socket = connect(address);
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function hostPort(text: string | undefined, defaultPort: number): { host: string; port: number } | null {
  if (text === undefined || text.trim() === '') return null;
  const first = text.split(',')[0]!.trim();
  const colon = first.lastIndexOf(':');
  return colon < 0 ? { host: first, port: defaultPort } : { host: first.slice(0, colon), port: Number(first.slice(colon + 1)) };
}

/** A Kafka broker from KAFKA_BROKERS ("host:port,..."), the variable the Kafka test suites read. */
export const kafkaServer: BenchServer = { name: 'Kafka', address: () => hostPort(process.env.KAFKA_BROKERS, 9092) };

/** A PostgreSQL server from PGHOST / PGPORT (libpq's variables, which `pg` reads too). */
export const postgresServer: BenchServer = {
  name: 'PostgreSQL',
  address: () => hostPort(process.env.PGHOST === undefined ? undefined : `${process.env.PGHOST}:${process.env.PGPORT ?? '5432'}`, 5432),
};
