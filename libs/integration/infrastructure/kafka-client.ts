import kafkajs, { type Kafka, type LogEntry } from 'kafkajs';

const { Kafka: KafkaClient, logLevel } = kafkajs;

export interface KafkaClientOptions {
  brokers: readonly string[];
  clientId: string;
  /** Where kafkajs's own log lines go; default nowhere (the relay and consumers report what matters themselves). */
  log?: (level: 'warn' | 'info' | 'debug', message: string) => void;
  /** Most time one connection attempt may take, ms. Default 3000. */
  connectionTimeoutMs?: number;
}

/**
 * One kafkajs client for the ledger's producers and consumers. Its own retries are short (a few hundred ms, a few
 * times): when the broker stays away, the relay and the consumers back off and try again themselves, so a request
 * never hangs for minutes inside the client.
 */
export function createKafkaClient(options: KafkaClientOptions): Kafka {
  const log = options.log;
  return new KafkaClient({
    clientId: options.clientId,
    brokers: [...options.brokers],
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: 30_000,
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
    logLevel: log === undefined ? logLevel.NOTHING : logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      if (log === undefined) return;
      // kafkajs reports every failed connection attempt as an error; while a broker is away those are expected, and
      // the relay and consumers report the outage themselves. So its errors are warnings here, its warnings debug.
      const level = entry.level === logLevel.ERROR ? 'warn' : entry.level === logLevel.WARN ? 'debug' : entry.level === logLevel.INFO ? 'info' : 'debug';
      log(level, `kafkajs ${entry.namespace}: ${entry.log.message}`);
    },
  });
}
