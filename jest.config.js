/**
 * One jest run covers every layer; the file name says which:
 *   *.unit.spec.ts  pure code: deciders, engine tables, property tests
 *   *.int.spec.ts   adapters and projections against real parts (store file, PostgreSQL, Kafka broker)
 *   test/**\/*.e2e.spec.ts  the HTTP API end to end
 * TypeScript runs as native ESM (NestJS 12 is ESM-only), hence node --experimental-vm-modules in package.json.
 */
const typescript = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^#lib/(.*)\\.js$': '<rootDir>/libs/$1',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
};

export default {
  // A run-wide option: jest reads it here, not from a project.
  testTimeout: 60000,
  projects: [
    { ...typescript, displayName: 'ledger', testMatch: ['<rootDir>/{apps,libs,test}/**/*.spec.ts'] },
    // The end-to-end suite once more with the EventStoreDB adapter as the store, over gRPC against the
    // EventStoreDB test double (test/support/eventstoredb): the service must behave the same on either store.
    {
      ...typescript,
      displayName: 'e2e on eventstoredb',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e.spec.ts'],
      setupFiles: ['<rootDir>/test/support/eventstoredb/use-eventstoredb.mjs'],
    },
  ],
  reporters: ['default', '<rootDir>/test/support/summary-reporter.mjs'],
  // A real Kafka broker for the Kafka suites (deploy/kafka/kafka.sh), unless KAFKA_BROKERS names one already.
  globalSetup: '<rootDir>/test/support/kafka/global-setup.mjs',
  globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
};
