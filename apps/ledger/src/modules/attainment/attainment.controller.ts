import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { getAttainment, listAttainment, type ListAttainmentQuery } from '#lib/attainment/application/attainment-queries.js';
import { notFoundError, validationError } from '#lib/shared/domain/domain-error.js';
import { defineReadQuery } from '../../cqrs/define.js';
import { ReadConsistency } from '../../http/read-consistency.js';
import { parseListLimit } from '../../http/paging.js';
import { CallerAccess } from '../../http/auth/access.guard.js';
import { PayeeScope, Roles } from '../../http/auth/roles.js';
import type { PayeeAccess } from '#lib/organization/application/payee-access.js';

export const GetAttainment = defineReadQuery('GetAttainment', (db, query: { payeeId: string; periodId: string; measure?: string }) => getAttainment(db, query));
export const ListAttainment = defineReadQuery('ListAttainment', (db, query: ListAttainmentQuery) => listAttainment(db, query));

const requirePeriod = (period: string | undefined): string => {
  if (period === undefined || !/^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$/.test(period)) {
    throw validationError('REQUEST.PERIOD_INVALID', 'period must be a month "2026-03", a quarter "2026-Q1" or a year "2026"', [
      { field: 'period', message: 'must be a month "2026-03", a quarter "2026-Q1" or a year "2026"' },
    ]);
  }
  return period;
};

@ApiTags('attainment')
@Controller()
export class AttainmentController {
  constructor(
    private readonly queries: QueryBus,
    private readonly consistency: ReadConsistency,
  ) {}

  @Get('payees/:payeeId/attainment')
  @Roles('rep', 'manager', 'analyst', 'finance')
  @PayeeScope({ param: 'payeeId' })
  @ApiOperation({ summary: 'A payee\'s credited amount, quota and attainment % per measure in a period, and credits held with their reason' })
  @ApiQuery({ name: 'period', required: true, description: '"2026-03", "2026-Q1" or "2026"' })
  @ApiQuery({ name: 'measure', required: false })
  @ApiQuery({ name: 'waitForPosition', required: false })
  async get(
    @Param('payeeId') payeeId: string,
    @Query('period') period?: string,
    @Query('measure') measure?: string,
    @Query('waitForPosition') waitForPosition?: string,
  ) {
    const periodId = requirePeriod(period);
    await this.consistency.waitFor(waitForPosition);
    const attainment = await this.queries.execute(new GetAttainment.query({ payeeId, periodId, measure }));
    if (attainment === null) throw notFoundError('PAYEE.NOT_FOUND', `Payee ${payeeId} is not onboarded`);
    return attainment;
  }

  @Get('attainment')
  @Roles('rep', 'manager', 'analyst', 'finance')
  @PayeeScope({ list: true })
  @ApiOperation({ summary: 'Everyone\'s attainment in a period, a page at a time' })
  @ApiQuery({ name: 'period', required: true })
  @ApiQuery({ name: 'measure', required: false })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'after', required: false })
  @ApiQuery({ name: 'waitForPosition', required: false })
  async list(
    @Query('period') period?: string,
    @Query('measure') measure?: string,
    @Query('limit') limit?: string,
    @Query('after') after?: string,
    @Query('waitForPosition') waitForPosition?: string,
    @CallerAccess() access?: PayeeAccess,
  ) {
    const periodId = requirePeriod(period);
    await this.consistency.waitFor(waitForPosition);
    return this.queries.execute(new ListAttainment.query({ periodId, measure, limit: parseListLimit(limit), after, access }));
  }
}
