import { Body, Controller, Get, HttpCode, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiHeader, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { allocateCredits, amendDeal, cancelDeal, closeDealWon } from '#lib/crediting/application/deal-commands.js';
import { dealPayees, getDeal, listCreditsForPayee, listDeals, type ListCreditsQuery, type ListDealsQuery } from '#lib/crediting/application/deal-queries.js';
import { notFoundError, validationError } from '#lib/shared/domain/domain-error.js';
import { defineReadQuery, defineStoreCommand } from '../../cqrs/define.js';
import { accepted, CommandAccepted } from '../../http/command-response.js';
import { commandContextOf, type AuthenticatedRequest } from '../../http/request-context.js';
import { ReadConsistency } from '../../http/read-consistency.js';
import { parseListLimit } from '../../http/paging.js';
import { CallerAccess } from '../../http/auth/access.guard.js';
import type { PayeeResolver } from '../../http/auth/payee-resolvers.js';
import { PayeeScope, Roles } from '../../http/auth/roles.js';
import type { PayeeAccess } from '#lib/organization/application/payee-access.js';
import { AllocateCreditsBody, AmendDealBody, CancelDealBody, CloseDealBody } from './deal.dto.js';

export const CloseDealWon = defineStoreCommand('CloseDealWon', closeDealWon);
export const AllocateCredits = defineStoreCommand('AllocateCredits', allocateCredits);
export const AmendDeal = defineStoreCommand('AmendDeal', amendDeal);
export const CancelDeal = defineStoreCommand('CancelDeal', cancelDeal);
export const GetDeal = defineReadQuery('GetDeal', (db, parameters: { dealId: string }) => getDeal(db, parameters.dealId));
export const ListDeals = defineReadQuery('ListDeals', (db, query: ListDealsQuery) => listDeals(db, query));
export const ListCreditsForPayee = defineReadQuery('ListCreditsForPayee', (db, query: ListCreditsQuery) => listCreditsForPayee(db, query));

/** A deal concerns its owner and everyone it currently credits. */
export const dealPayeeResolver: PayeeResolver = {
  payeesOf: (reader, dealId) => dealPayees(reader, dealId),
  notFound: (dealId) => notFoundError('DEAL.NOT_FOUND', `Deal ${dealId} is not known`),
};

const idempotencyHeader = ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Makes a retry safe: same key and body answer the same result; same key, other body: 409.' });
const ifMatchHeader = ApiHeader({ name: 'If-Match', required: false, description: 'The ETag (revision) of the deal you read; 409 if it changed since.' });
const waitQuery = ApiQuery({ name: 'waitForPosition', required: false, description: 'Wait until read models include this log position.' });

@ApiTags('deals')
@Controller()
export class DealsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly consistency: ReadConsistency,
  ) {}

  @Post('deals')
  @Roles('analyst')
  @ApiOperation({ summary: 'Close a deal won and credit it: the owner gets 100% primary credit unless splits are given; overlays come on top' })
  @ApiResponse({ status: 201, type: CommandAccepted })
  @idempotencyHeader
  async close(@Body() body: CloseDealBody, @Req() request: AuthenticatedRequest, @Res({ passthrough: true }) response: Response): Promise<CommandAccepted> {
    const { splits, ...deal } = body;
    const outcome = await this.commands.execute(new CloseDealWon.command({ ...deal, ...(splits !== undefined ? { primarySplits: splits } : {}) }, commandContextOf(request)));
    response.location(`/deals/${encodeURIComponent(body.dealId)}`);
    return accepted(outcome, response);
  }

  @Get('deals')
  @Roles('rep', 'manager', 'analyst', 'finance')
  @PayeeScope({ list: true })
  @ApiOperation({ summary: 'List deals, a page at a time (keyset paging with ?after=)' })
  @ApiQuery({ name: 'ownerPayeeId', required: false })
  @ApiQuery({ name: 'status', required: false, enum: ['won', 'cancelled'] })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'after', required: false })
  @waitQuery
  async list(
    @Query('ownerPayeeId') ownerPayeeId?: string,
    @Query('status') status?: string,
    @Query('limit') limit?: string,
    @Query('after') after?: string,
    @Query('waitForPosition') waitForPosition?: string,
    @CallerAccess() access?: PayeeAccess,
  ) {
    if (status !== undefined && status !== 'won' && status !== 'cancelled') {
      throw validationError('REQUEST.STATUS_INVALID', 'status must be "won" or "cancelled"', [{ field: 'status', message: 'must be "won" or "cancelled"' }]);
    }
    await this.consistency.waitFor(waitForPosition);
    return this.queries.execute(new ListDeals.query({ ownerPayeeId, status, limit: parseListLimit(limit), after, access }));
  }

  @Get('deals/:dealId')
  @Roles('rep', 'manager', 'analyst', 'finance')
  @PayeeScope({ resolve: { kind: 'deal', param: 'dealId' } })
  @ApiOperation({ summary: 'A deal with its credits; ETag is its revision' })
  @waitQuery
  async get(@Param('dealId') dealId: string, @Res({ passthrough: true }) response: Response, @Query('waitForPosition') waitForPosition?: string) {
    await this.consistency.waitFor(waitForPosition);
    const deal = await this.queries.execute(new GetDeal.query({ dealId }));
    if (deal === null) throw notFoundError('DEAL.NOT_FOUND', `Deal ${dealId} is not known`);
    response.setHeader('ETag', `"${deal.revision}"`);
    return deal;
  }

  @Put('deals/:dealId/credits')
  @Roles('analyst')
  @HttpCode(200)
  @ApiOperation({ summary: 'Re-allocate the deal\'s credits (a correction is a new event; earlier credits stay in history)' })
  @ApiResponse({ status: 200, type: CommandAccepted })
  @idempotencyHeader
  @ifMatchHeader
  async allocate(@Param('dealId') dealId: string, @Body() body: AllocateCreditsBody, @Req() request: AuthenticatedRequest, @Res({ passthrough: true }) response: Response) {
    const { splits, ...rest } = body;
    const outcome = await this.commands.execute(new AllocateCredits.command({ dealId, primarySplits: splits, ...rest }, commandContextOf(request)));
    return accepted(outcome, response);
  }

  @Post('deals/:dealId/amendments')
  @Roles('analyst')
  @HttpCode(200)
  @ApiOperation({ summary: 'Amend a deal: credits follow their shares' })
  @ApiResponse({ status: 200, type: CommandAccepted })
  @idempotencyHeader
  @ifMatchHeader
  async amend(@Param('dealId') dealId: string, @Body() body: AmendDealBody, @Req() request: AuthenticatedRequest, @Res({ passthrough: true }) response: Response) {
    const outcome = await this.commands.execute(new AmendDeal.command({ dealId, ...body }, commandContextOf(request)));
    return accepted(outcome, response);
  }

  @Post('deals/:dealId/cancellation')
  @Roles('analyst')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel a deal: its credits leave attainment' })
  @ApiResponse({ status: 200, type: CommandAccepted })
  @idempotencyHeader
  @ifMatchHeader
  async cancel(@Param('dealId') dealId: string, @Body() body: CancelDealBody, @Req() request: AuthenticatedRequest, @Res({ passthrough: true }) response: Response) {
    const outcome = await this.commands.execute(new CancelDeal.command({ dealId, ...body }, commandContextOf(request)));
    return accepted(outcome, response);
  }

  @Get('payees/:payeeId/credits')
  @Roles('rep', 'manager', 'analyst', 'finance')
  @PayeeScope({ param: 'payeeId' })
  @ApiOperation({ summary: 'A payee\'s credits, primary and overlay, a page at a time' })
  @ApiQuery({ name: 'fromDate', required: false })
  @ApiQuery({ name: 'toDate', required: false })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'after', required: false })
  @waitQuery
  async credits(
    @Param('payeeId') payeeId: string,
    @Query('fromDate') fromDate?: string,
    @Query('toDate') toDate?: string,
    @Query('limit') limit?: string,
    @Query('after') after?: string,
    @Query('waitForPosition') waitForPosition?: string,
  ) {
    await this.consistency.waitFor(waitForPosition);
    return this.queries.execute(new ListCreditsForPayee.query({ payeeId, fromDate, toDate, limit: parseListLimit(limit), after }));
  }
}
