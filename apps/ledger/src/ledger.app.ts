import 'reflect-metadata';
import { mkdirSync } from 'node:fs';
import { type INestApplication, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { LedgerConfig } from './config/ledger-config.js';
import { LedgerModule, type LedgerModuleOptions } from './ledger.module.js';
import { ProblemDetailsFilter } from './http/problem-details.filter.js';
import { createValidationPipe } from './http/validation.js';
import { IdempotencyInterceptor } from './http/idempotency.js';

const logLevelsFrom = (level: LedgerConfig['logLevel']): LogLevel[] => {
  const order: LogLevel[] = ['error', 'warn', 'log', 'debug', 'verbose'];
  return order.slice(0, order.indexOf(level) + 1);
};

/** Builds the HTTP application (not yet listening): used by main.ts and by the end-to-end tests. */
export async function createLedgerApp(config: LedgerConfig, options: LedgerModuleOptions = {}): Promise<INestApplication> {
  mkdirSync(config.dataDir, { recursive: true });
  const app = await NestFactory.create(LedgerModule.forRoot(config, options), {
    logger: logLevelsFrom(config.logLevel),
    bodyParser: true,
  });
  app.useGlobalFilters(new ProblemDetailsFilter());
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalInterceptors(app.get(IdempotencyInterceptor));
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Incentive Ledger')
      .setDescription(
        'Event-sourced incentive compensation ledger. Commands accept Idempotency-Key and If-Match; errors are RFC 9457 ' +
          'Problem Details with a stable `code`; money is always a decimal string. Every endpoint but health and these docs ' +
          'needs a bearer token; the roles each endpoint allows are listed under its 403 answer.',
      )
      .setVersion('0.1.0')
      .addBearerAuth(
        { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A JWT with `sub`, a `role` and, for a rep or a manager, their `payee_id` (`npm run cli -- token`).' },
        'bearer',
      )
      .addSecurityRequirements('bearer')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return app;
}
