import { afterAll, beforeAll, describe } from '@jest/globals';
import { describeEventStoreContract } from '../contract/event-store.contract.js';
import { EventStoreDbTestDouble } from '../../../test/support/eventstoredb/eventstoredb-test-double.js';
import { EventStoreDbEventStore } from './eventstoredb-event-store.js';

describe('EventStoreDB adapter over gRPC, against the test double', () => {
  let double: EventStoreDbTestDouble;
  beforeAll(async () => {
    double = await EventStoreDbTestDouble.start();
  });
  afterAll(async () => {
    await double.stop();
  });

  describeEventStoreContract('EventStoreDB (test double)', async () => {
    const store = EventStoreDbEventStore.open({ connectionString: double.connectionString });
    return { store, dispose: () => store.close() };
  });
});
