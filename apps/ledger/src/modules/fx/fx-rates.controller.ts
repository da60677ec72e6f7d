import { Body, Controller, Get, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiHeader, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { recordFxRate } from '#lib/fx/application/fx-commands.js';
import { listFxRates, type FxRatesQuery } from '#lib/fx/application/fx-queries.js';
import { isIsoDate } from '#lib/organization/domain/calendar.js';
import { validationError, type FieldMessage } from '#lib/shared/domain/domain-error.js';
import { defineStoreCommand, defineStreamQuery } from '../../cqrs/define.js';
import { accepted, CommandAccepted } from '../../http/command-response.js';
import { commandContextOf, type AuthenticatedRequest } from '../../http/request-context.js';
import { RecordFxRateBody } from './fx-rate.dto.js';
import { Roles } from '../../http/auth/roles.js';

export const RecordFxRate = defineStoreCommand('RecordFxRate', recordFxRate);
export const ListFxRates = defineStreamQuery('ListFxRates', (store, query: FxRatesQuery) => listFxRates(store, query));

const currencyPattern = /^[A-Z]{3}$/;

function parseRatesQuery(from: string | undefined, to: string | undefined, fromDate: string | undefined, toDate: string | undefined): FxRatesQuery {
  const fields: FieldMessage[] = [];
  if (from === undefined || !currencyPattern.test(from)) fields.push({ field: 'from', message: 'must be an ISO 4217 code such as "EUR"' });
  if (to === undefined || !currencyPattern.test(to)) fields.push({ field: 'to', message: 'must be an ISO 4217 code such as "USD"' });
  if (fromDate !== undefined && !isIsoDate(fromDate)) fields.push({ field: 'fromDate', message: 'must be a calendar date "YYYY-MM-DD"' });
  if (toDate !== undefined && !isIsoDate(toDate)) fields.push({ field: 'toDate', message: 'must be a calendar date "YYYY-MM-DD"' });
  if (fields.length > 0) {
    throw validationError('REQUEST.FX_QUERY_INVALID', `The rate query is invalid: ${fields.map((field) => `${field.field} ${field.message}`).join('; ')}`, fields);
  }
  return { fromCurrency: from as string, toCurrency: to as string, fromDate, toDate };
}

@ApiTags('fx-rates')
@Controller('fx-rates')
export class FxRatesController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @Roles('analyst')
  @ApiOperation({ summary: 'Record the rate of a currency pair for a date; a rate for a date already recorded corrects it (as a new event)' })
  @ApiResponse({ status: 201, type: CommandAccepted })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Makes a retry safe: same key and body answer the same result; same key, other body: 409.' })
  async record(@Body() body: RecordFxRateBody, @Req() request: AuthenticatedRequest, @Res({ passthrough: true }) response: Response): Promise<CommandAccepted> {
    const outcome = await this.commands.execute(new RecordFxRate.command({ ...body }, commandContextOf(request)));
    response.location(`/fx-rates?from=${encodeURIComponent(body.fromCurrency)}&to=${encodeURIComponent(body.toCurrency)}`);
    return accepted(outcome, response);
  }

  @Get()
  @Roles('analyst', 'finance')
  @ApiOperation({ summary: 'The rates of one currency pair by date, with the rates each correction replaced' })
  @ApiQuery({ name: 'from', required: true, example: 'EUR' })
  @ApiQuery({ name: 'to', required: true, example: 'USD' })
  @ApiQuery({ name: 'fromDate', required: false, description: 'First date (inclusive)' })
  @ApiQuery({ name: 'toDate', required: false, description: 'Last date (inclusive)' })
  async list(
    @Res({ passthrough: true }) response: Response,
    @Query('from') from?: string,
    @Query('to') to?: string,
    @Query('fromDate') fromDate?: string,
    @Query('toDate') toDate?: string,
  ) {
    const view = await this.queries.execute(new ListFxRates.query(parseRatesQuery(from, to, fromDate, toDate)));
    response.setHeader('ETag', `"${view.revision}"`);
    return view;
  }
}
