/**
 * jest globalSetup: starts the local Kafka broker (deploy/kafka/kafka.sh) unless KAFKA_BROKERS is set,
 * and exports KAFKA_BROKERS to the test workers. Pair with global-teardown.ts.
 */
import { startKafkaForTests } from './kafka-broker.js';

export default async function globalSetup(): Promise<void> {
  await startKafkaForTests();
}
