// jest globalTeardown: stops the broker global-setup.mjs started; a broker started elsewhere keeps running.
import { stopKafkaForTests } from './kafka-process.mjs';

export default async function globalTeardown() {
  await stopKafkaForTests();
}
