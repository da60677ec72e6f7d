// jest globalSetup: starts the local Kafka broker (deploy/kafka/kafka.sh) unless KAFKA_BROKERS is set,
// and exports KAFKA_BROKERS to the test workers. Pair with global-teardown.mjs.
import { startKafkaForTests } from './kafka-process.mjs';

export default async function globalSetup() {
  await startKafkaForTests();
}
