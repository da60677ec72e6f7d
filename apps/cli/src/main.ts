import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadLedgerConfig, type LedgerConfig } from '../../ledger/src/config/ledger-config.js';
import { verifyChain } from '#lib/event-store/embedded/verify-chain.js';
import { rebuildReadModels } from './rebuild.js';
import { seedDemo } from './seed-demo.js';
import { mintLocalToken, TokenOptionsError } from './token.js';

const usage = `Incentive Ledger command line

Usage: npm run cli -- <command> [options]

Commands:
  verify                 recompute the hash chain of the store file; names the first event that does not match
                         (the embedded store only: EventStoreDB checks its own chunks)
  rebuild                drop the read models and rebuild them from position 0 (stop the service first)
  seed-demo              append a small realistic org: payees in a hierarchy, quotas, a few thousand deals with splits
  token                  print a bearer token the service accepts (HS256: LEDGER_AUTH_SECRET or the data directory's secret)

Options:
  --data-dir DIR         the data directory (default: LEDGER_DATA_DIR or ./.data, as the service)
                         The event store is the service's: LEDGER_STORE, LEDGER_EVENTSTOREDB_CONNECTION_STRING
  --payees N             seed-demo: number of payees (default 40)
  --deals N              seed-demo: number of deals (default 3000)
  --seed N               seed-demo: random seed (default 42); the same seed gives the same org
  --role ROLE            token: rep, manager, analyst, finance, payroll or admin
  --payee ID             token: the caller's own payee (required for rep and manager)
  --sub ID               token: the caller's id, recorded as the actor of what they do (default: the payee, or local-<role>)
  --ttl DURATION         token: lifetime, e.g. 3600 (seconds), 30m, 8h, 7d (default 8h, at most 30d)
  -h, --help             this text
`;

export async function runCli(argv: string[], environment: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string' },
      payees: { type: 'string' },
      deals: { type: 'string' },
      seed: { type: 'string' },
      role: { type: 'string' },
      payee: { type: 'string' },
      sub: { type: 'string' },
      ttl: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  if (values.help || command === undefined) {
    process.stdout.write(usage);
    return command === undefined && !values.help ? 2 : 0;
  }
  let config: LedgerConfig;
  try {
    config = loadLedgerConfig(values['data-dir'] ? { ...environment, LEDGER_DATA_DIR: values['data-dir'] } : environment);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const storePath = join(config.dataDir, 'events.sqlite');
  switch (command) {
    case 'verify': {
      if (config.storeKind !== 'embedded') {
        process.stderr.write(
          `verify recomputes the embedded store file's hash chain; LEDGER_STORE=${config.storeKind} has none ` +
            '(EventStoreDB keeps checksums of its own chunks)\n',
        );
        return 2;
      }
      if (!existsSync(storePath)) {
        process.stderr.write(`No store file at ${storePath}\n`);
        return 2;
      }
      const result = verifyChain(storePath);
      if (result.ok) {
        process.stdout.write(`OK: ${result.eventsChecked} events, hash chain intact, head ${result.headHash}\n`);
        return 0;
      }
      process.stdout.write(
        `MISMATCH at position ${result.firstBadPosition}: event ${result.eventId} in stream ${result.streamId}: ${result.reason}\n` +
          `${result.eventsChecked} events before it match.\n`,
      );
      return 1;
    }
    case 'rebuild': {
      const outcome = await rebuildReadModels(config);
      process.stdout.write(`Rebuilt ${outcome.projections.join(', ')} from position 0 to ${outcome.headPosition} in ${outcome.elapsedMs} ms\n`);
      return 0;
    }
    case 'seed-demo': {
      const outcome = await seedDemo(config, {
        payees: Number(values.payees ?? 40),
        deals: Number(values.deals ?? 3000),
        seed: Number(values.seed ?? 42),
      });
      process.stdout.write(`Seeded ${outcome.payees} payees, ${outcome.quotas} quotas and ${outcome.deals} deals (${outcome.events} events)\n`);
      return 0;
    }
    case 'token': {
      try {
        process.stdout.write(`${await mintLocalToken(config, { role: values.role, payee: values.payee, sub: values.sub, ttl: values.ttl })}\n`);
        return 0;
      } catch (error) {
        if (!(error instanceof TokenOptionsError)) throw error;
        process.stderr.write(`${error.message}\n`);
        return 2;
      }
    }
    default:
      process.stderr.write(`Unknown command "${command}".\n\n${usage}`);
      return 2;
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  process.exitCode = await runCli(process.argv.slice(2));
}
