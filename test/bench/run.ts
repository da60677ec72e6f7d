import { runBenchmarks, type Bench } from './bench-runner.js';
import { kafkaServer } from './bench-servers.js';

/**
 * `npm run bench`: runs every benchmark on a real disk folder and prints one table at the end. A missed target
 * makes the exit code 1, so a regression is visible without reading the numbers.
 *
 *   npm run bench -- [key ...] [--size small|medium|large] [--runs N]
 *
 * Keys select groups (`event-store`, `statements`, `disputes`, `payouts`, `kafka`, `emmett`, `sql-baseline`, `scaling`, `limits`, `postgres`;
 * `kafka` needs a broker named by KAFKA_BROKERS, e.g. from deploy/kafka/kafka.sh start; `postgres` starts a PostgreSQL
 * server from the machine's binaries, as the test setup does, unless LEDGER_BENCH_POSTGRES_URL names one).
 * Without --size each benchmark runs at the size its targets are set at; with it, every benchmark generates that
 * size of the synthetic org (test/bench/synthetic-org.ts) and targets set at another size print as n/a. Each figure
 * is the median of the runs (default 3, 1 at large), min and max beside it.
 *
 * Each group's module is loaded when the group runs, so a group is measured in a process holding only what it and the
 * groups before it loaded: loading the whole service (NestJS, gRPC, Kafka and PostgreSQL clients) beside the event
 * store's bench was measured to cost it about 4 µs of CPU per event.
 *
 * A bench that needs a server declares it (`needs: [kafkaServer]` or `[postgresServer]`, from ./bench-servers.js): when
 * the server is not reachable, the table says "skipped: needs Kafka" and the run goes on. A bench that cannot generate
 * every size lists the ones it can (`sizes: ['large']`); asked for another, it is reported as skipped.
 */
const allBenches: Bench[] = [
  { key: 'event-store', name: 'event store (embedded SQLite)', run: async (dir, { size }) => (await import('./event-store.bench.js')).runEventStoreBench({ dir, size, runs: 1 }) },
  {
    key: 'statements',
    name: 'statements read model (full recompute, rebuild from the log, explain / as-of / estimate latency)',
    // The recompute's target is set at large and the rebuild's at medium: three runs without --size, as before.
    defaultSize: 'medium',
    run: async (dir, { size }) => (await import('./statements.bench.js')).runStatementsBench({ dir, size, runs: 1 }),
  },
  {
    key: 'disputes',
    name: 'disputes (filing over HTTP with validation, analyst queue with filters over open disputes)',
    run: async (dir, { size }) => (await import('./disputes.bench.js')).runDisputesBench({ dir, size }),
  },
  {
    key: 'payouts',
    name: 'payouts (close and approve a month of payees x 100 credits end to end; trial balance over the whole ledger)',
    defaultSize: 'large',
    run: async (dir, { size }) => (await import('./payouts.bench.js')).runPayoutsBench({ dir, size }),
  },
  {
    key: 'emmett',
    name: "peer: Emmett's SQLite event store, the same workload on both stores",
    run: async (dir, { size }) => (await import('./emmett-peer.bench.js')).runEmmettPeerBench({ dir, size }),
  },
  {
    key: 'sql-baseline',
    name: 'peer: tiered commissions as one SQL query (better-sqlite3) against the engine, same credits',
    run: async (dir, { size }) => (await import('./sql-baseline.bench.js')).runSqlBaselineBench({ dir, size }),
  },
  {
    key: 'scaling',
    name: 'cost as work grows: append, rebuild and full recompute at sizes ten times apart, each size in its own process',
    defaultSize: 'small',
    // It measures every size up to the one asked for, each in a child process: one run of each.
    defaultRuns: () => 1,
    run: async (dir, { size }) => (await import('./scaling.bench.js')).runScalingBench({ dir, upTo: size }),
  },
  {
    key: 'limits',
    name: 'what bounds the figures, alone: fsync, a SQLite commit, JSON per event, decimal arithmetic per line',
    run: async (dir) => (await import('./limits.bench.js')).runLimitsBench({ dir }),
  },
  {
    key: 'kafka',
    name: 'Kafka relay (catch-up throughput; approval acknowledged -> readable by a consumer) against KAFKA_BROKERS',
    needs: [kafkaServer],
    // Its workload is set by its targets (a catch-up of about 40,000 events, 500 approvals/s for 20 s), not by the org size.
    sizes: ['medium'],
    run: async (dir) => (await import('./kafka.bench.js')).runKafkaBench({ dir }),
  },
  {
    key: 'postgres',
    name: 'read models in PostgreSQL (statements rebuild; statement reads over HTTP under 200 concurrent readers)',
    // Its workload is set by its targets (the statements rebuild's log, 200 readers), not by the org size.
    sizes: ['medium'],
    run: async (dir) => (await import('./postgres.bench.js')).runPostgresBench({ dir }),
  },
];

process.exitCode = await runBenchmarks(allBenches, process.argv.slice(2));
