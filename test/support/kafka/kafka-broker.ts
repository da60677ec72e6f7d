/**
 * Kafka for integration tests: a real broker, never a mock.
 *
 * - `kafkaBrokers()` reads the broker list from KAFKA_BROKERS ("host:port,host:port").
 * - `describeWithKafka(name, fn)` runs the suite against that broker. Without one it fails loudly when
 *   KAFKA_REQUIRED=1 (CI); only on a developer machine does it skip, with a banner saying so.
 * - `startKafkaForTests()` / `stopKafkaForTests()` start and stop deploy/kafka/kafka.sh; jest wires them
 *   through test/support/kafka/global-setup.mjs and global-teardown.mjs.
 */
import { banner, kafkaBrokers, kafkaRequired } from './kafka-process.mjs';

export { KAFKA_SCRIPT, kafkaBrokers, kafkaRequired, startKafkaForTests, stopKafkaForTests } from './kafka-process.mjs';

/**
 * A describe block that needs a real Kafka broker; the callback receives the broker list.
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
