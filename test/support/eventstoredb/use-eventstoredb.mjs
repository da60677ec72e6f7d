// jest setupFiles of the "e2e on eventstoredb" project: every app the end-to-end tests start runs on the
// EventStoreDB adapter, against a fresh EventStoreDB test double (see test/support/ledger-test-app.ts).
process.env.LEDGER_TEST_STORE = 'eventstoredb';
