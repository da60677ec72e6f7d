import { Body, Controller, Get, HttpCode, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiHeader, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { changePayeeManager, changePayeeTerritory, onboardPayee, setQuota } from '#lib/organization/application/payee-commands.js';
import { getPayee, listPayees, type ListPayeesQuery } from '#lib/organization/application/payee-queries.js';
import { notFoundError } from '#lib/shared/domain/domain-error.js';
import { defineReadQuery, defineStoreCommand } from '../../cqrs/define.js';
import { accepted, CommandAccepted } from '../../http/command-response.js';
import { commandContextOf, type AuthenticatedRequest } from '../../http/request-context.js';
import { ReadConsistency } from '../../http/read-consistency.js';
import { CallerAccess } from '../../http/auth/access.guard.js';
import { PayeeScope, Roles } from '../../http/auth/roles.js';
import type { PayeeAccess } from '#lib/organization/application/payee-access.js';
import { ChangeManagerBody, ChangeTerritoryBody, OnboardPayeeBody, SetQuotaBody } from './payee.dto.js';
import { parseListLimit } from '../../http/paging.js';

export const OnboardPayee = defineStoreCommand('OnboardPayee', onboardPayee);
export const ChangePayeeManager = defineStoreCommand('ChangePayeeManager', changePayeeManager);
export const ChangePayeeTerritory = defineStoreCommand('ChangePayeeTerritory', changePayeeTerritory);
export const SetQuota = defineStoreCommand('SetQuota', setQuota);
export const GetPayee = defineReadQuery('GetPayee', (db, parameters: { payeeId: string; asOfDate?: string }) =>
  getPayee(db, parameters.payeeId, { asOfDate: parameters.asOfDate }),
);
export const ListPayees = defineReadQuery('ListPayees', (db, query: ListPayeesQuery) => listPayees(db, query));

const idempotencyHeader = ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Makes a retry safe: same key and body answer the same result; same key, other body: 409.' });
const ifMatchHeader = ApiHeader({ name: 'If-Match', required: false, description: 'The ETag (revision) you read; 409 if the payee changed since.' });
const waitQuery = ApiQuery({ name: 'waitForPosition', required: false, description: 'Wait until read models include this log position.' });

@ApiTags('payees')
@Controller('payees')
export class PayeesController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly consistency: ReadConsistency,
  ) {}

  @Post()
  @Roles('analyst')
  @ApiOperation({ summary: 'Onboard a payee (a rep, manager or specialist) into the hierarchy' })
  @ApiResponse({ status: 201, type: CommandAccepted })
  @idempotencyHeader
  async onboard(@Body() body: OnboardPayeeBody, @Req() request: AuthenticatedRequest, @Res({ passthrough: true }) response: Response): Promise<CommandAccepted> {
    const outcome = await this.commands.execute(new OnboardPayee.command({ ...body, email: body.email ?? null, managerId: body.managerId ?? null }, commandContextOf(request)));
    response.location(`/payees/${encodeURIComponent(body.payeeId)}`);
    return accepted(outcome, response);
  }

  @Get()
  @Roles('rep', 'manager', 'analyst', 'finance')
  @PayeeScope({ list: true })
  @ApiOperation({ summary: 'List payees, a page at a time (keyset paging with ?after=)' })
  @ApiQuery({ name: 'managerId', required: false })
  @ApiQuery({ name: 'territory', required: false })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'after', required: false })
  @waitQuery
  async list(
    @Query('managerId') managerId?: string,
    @Query('territory') territory?: string,
    @Query('limit') limit?: string,
    @Query('after') after?: string,
    @Query('waitForPosition') waitForPosition?: string,
    @CallerAccess() access?: PayeeAccess,
  ) {
    await this.consistency.waitFor(waitForPosition);
    return this.queries.execute(new ListPayees.query({ managerId, territory, limit: parseListLimit(limit), after, access }));
  }

  @Get(':payeeId')
  @Roles('rep', 'manager', 'analyst', 'finance')
  @PayeeScope({ param: 'payeeId' })
  @ApiOperation({ summary: 'A payee with manager and territory history and quotas; ETag is its revision' })
  @ApiQuery({ name: 'asOfDate', required: false, description: 'Manager and territory as they stood on this date' })
  @waitQuery
  async get(
    @Param('payeeId') payeeId: string,
    @Res({ passthrough: true }) response: Response,
    @Query('asOfDate') asOfDate?: string,
    @Query('waitForPosition') waitForPosition?: string,
  ) {
    await this.consistency.waitFor(waitForPosition);
    const payee = await this.queries.execute(new GetPayee.query({ payeeId, asOfDate }));
    if (payee === null) throw notFoundError('PAYEE.NOT_FOUND', `Payee ${payeeId} is not onboarded`);
    response.setHeader('ETag', `"${payee.revision}"`);
    return payee;
  }

  @Put(':payeeId/manager')
  @Roles('analyst')
  @HttpCode(200)
  @ApiOperation({ summary: 'Change the payee\'s manager from a date on' })
  @ApiResponse({ status: 200, type: CommandAccepted })
  @idempotencyHeader
  @ifMatchHeader
  async changeManager(@Param('payeeId') payeeId: string, @Body() body: ChangeManagerBody, @Req() request: AuthenticatedRequest, @Res({ passthrough: true }) response: Response) {
    const outcome = await this.commands.execute(new ChangePayeeManager.command({ payeeId, managerId: body.managerId ?? null, effectiveDate: body.effectiveDate }, commandContextOf(request)));
    return accepted(outcome, response);
  }

  @Put(':payeeId/territory')
  @Roles('analyst')
  @HttpCode(200)
  @ApiOperation({ summary: 'Change the payee\'s territory from a date on' })
  @ApiResponse({ status: 200, type: CommandAccepted })
  @idempotencyHeader
  @ifMatchHeader
  async changeTerritory(@Param('payeeId') payeeId: string, @Body() body: ChangeTerritoryBody, @Req() request: AuthenticatedRequest, @Res({ passthrough: true }) response: Response) {
    const outcome = await this.commands.execute(new ChangePayeeTerritory.command({ payeeId, ...body }, commandContextOf(request)));
    return accepted(outcome, response);
  }

  @Put(':payeeId/quotas/:periodId/:measure')
  @Roles('analyst')
  @HttpCode(200)
  @ApiOperation({ summary: 'Set the payee\'s quota for a period ("2026-03", "2026-Q1" or "2026") and measure (e.g. bookings)' })
  @ApiResponse({ status: 200, type: CommandAccepted })
  @idempotencyHeader
  @ifMatchHeader
  async setQuota(
    @Param('payeeId') payeeId: string,
    @Param('periodId') periodId: string,
    @Param('measure') measure: string,
    @Body() body: SetQuotaBody,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) response: Response,
  ) {
    const payee = await this.commands.execute(new SetQuota.command({ payeeId, periodId, measure, amount: body.amount, currency: body.currency }, commandContextOf(request)));
    return accepted(payee, response);
  }
}
