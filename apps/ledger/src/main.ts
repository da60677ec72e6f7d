import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError, loadLedgerConfig } from './config/ledger-config.js';
import { createLedgerApp } from './ledger.app.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadLedgerConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const app = await createLedgerApp(config);
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  const url = await app.getUrl();
  const base = url.replace('[::1]', 'localhost').replace('127.0.0.1', 'localhost');
  new Logger('Ledger').log(`Incentive Ledger is listening on ${base} (data in ${config.dataDir})`);
  new Logger('Ledger').log(`API docs: ${base}/docs (OpenAPI JSON: ${base}/docs-json)`);
  if (config.auth.keys.kind === 'local-secret') {
    new Logger('Ledger').warn(
      `Bearer tokens are signed with the local secret in ${config.auth.keys.file}: mint one with "npm run cli -- token --role admin". ` +
        'In production, configure LEDGER_AUTH_PUBLIC_KEY_FILE, LEDGER_AUTH_JWKS_FILE or LEDGER_AUTH_SECRET.',
    );
  }
}

await main();
