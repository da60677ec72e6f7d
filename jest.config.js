/**
 * One jest run covers every layer; the file name says which:
 *   *.unit.spec.ts  pure code: deciders, engine tables, property tests
 *   *.int.spec.ts   adapters and projections against real parts (store file, PostgreSQL, Kafka broker)
 *   test/**\/*.e2e.spec.ts  the HTTP API end to end
 * TypeScript runs as native ESM (NestJS 12 is ESM-only), hence node --experimental-vm-modules in package.json.
 */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^#lib/(.*)\\.js$': '<rootDir>/libs/$1',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/{apps,libs,test}/**/*.spec.ts'],
  testTimeout: 60000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.mjs'],
  // A real Kafka broker for the Kafka suites (deploy/kafka/kafka.sh), unless KAFKA_BROKERS names one already.
  globalSetup: '<rootDir>/test/support/kafka/global-setup.mjs',
  globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
};
