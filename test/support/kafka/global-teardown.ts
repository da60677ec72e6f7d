/** jest globalTeardown: stops the broker global-setup.ts started (a broker started elsewhere is left running). */
import { stopKafkaForTests } from './kafka-broker.js';

export default async function globalTeardown(): Promise<void> {
  await stopKafkaForTests();
}
