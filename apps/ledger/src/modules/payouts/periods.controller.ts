import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiHeader, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import {
  approvePayouts,
  closePeriod,
  confirmPayoutsPaid,
  postAdjustmentLines,
  reopenPeriod,
  type CloseOutcome,
  type PayoutDependencies,
  type PayoutsOutcome,
} from '#lib/payouts/application/period-commands.js';
import { getFrozenStatement, getPayeePeriod, getPayout, getPeriod, listPayouts, requirePayoutStatus, type ListPayoutsQuery } from '#lib/payouts/application/payout-queries.js';
import { validationError } from '#lib/shared/domain/domain-error.js';
import { defineCommandWith, defineQueryWith, defineReadQuery, defineStoreCommand } from '../../cqrs/define.js';
import { PayeeScope, Roles } from '../../http/auth/roles.js';
import { accepted, CommandAccepted } from '../../http/command-response.js';
import { parseListLimit } from '../../http/paging.js';
import { ReadConsistency } from '../../http/read-consistency.js';
import { commandContextOf, type AuthenticatedRequest } from '../../http/request-context.js';
import { PAYOUT_DEPENDENCIES } from '../../ledger.tokens.js';
import { ApprovePayoutsBody, ConfirmPaymentsBody, PayoutsAccepted, PeriodClosed, PostLinesBody, ReopenPeriodBody } from './payouts.dto.js';

export const ClosePeriod = defineCommandWith('ClosePeriod', PAYOUT_DEPENDENCIES, closePeriod);
export const ReopenPeriod = defineCommandWith('ReopenPeriod', PAYOUT_DEPENDENCIES, reopenPeriod);
export const PostAdjustmentLines = defineCommandWith('PostAdjustmentLines', PAYOUT_DEPENDENCIES, postAdjustmentLines);
export const ApprovePayouts = defineStoreCommand('ApprovePayouts', approvePayouts);
export const ConfirmPayoutsPaid = defineStoreCommand('ConfirmPayoutsPaid', confirmPayoutsPaid);
export const GetPeriod = defineReadQuery('GetPeriod', (db, query: { calendarId: string; periodId: string }) => getPeriod(db, query));
export const ListPayouts = defineReadQuery('ListPayouts', (db, query: ListPayoutsQuery) => listPayouts(db, query));
export const GetPayout = defineReadQuery('GetPayout', (db, query: { payoutId: string }) => getPayout(db, query.payoutId));
export const GetPayeePeriod = defineReadQuery('GetPayeePeriod', (db, query: { calendarId: string; periodId: string; payeeId: string }) => getPayeePeriod(db, query));
export const GetFrozenStatement = defineQueryWith('GetFrozenStatement', PAYOUT_DEPENDENCIES, (deps: PayoutDependencies, query: { calendarId: string; periodId: string; payeeId: string }) =>
  getFrozenStatement(deps.store, deps.db, query),
);

/** Every payouts use case and query, for the module's providers. */
export const payoutUseCases = [ClosePeriod, ReopenPeriod, PostAdjustmentLines, ApprovePayouts, ConfirmPayoutsPaid];
export const payoutQueries = [GetPeriod, ListPayouts, GetPayout, GetPayeePeriod, GetFrozenStatement];

const periodIdPattern = /^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$/;
const calendarIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function requirePeriod(calendarId: string, periodId: string): { calendarId: string; periodId: string } {
  if (!calendarIdPattern.test(calendarId)) {
    throw validationError('CALENDAR.INVALID_ID', `"${calendarId}" is not a calendar id`, [{ field: 'calendarId', message: 'must be 1 to 64 letters, digits, ".", "_" or "-"' }]);
  }
  if (!periodIdPattern.test(periodId)) {
    throw validationError('PERIOD.INVALID_ID', `"${periodId}" is not a period id`, [{ field: 'periodId', message: 'must be a month "2026-03", a quarter "2026-Q1" or a year "2026"' }]);
  }
  return { calendarId, periodId };
}

const calendarParams = [
  ApiParam({ name: 'calendarId', description: 'The plan calendar: a plan\'s calendarId, or "monthly", "quarterly", "yearly" after its frequency' }),
  ApiParam({ name: 'periodId', description: 'A period of the calendar: "2026-03", "2026-Q1" or "2026"' }),
];
const CalendarPeriod = (): MethodDecorator => (target, key, descriptor) => {
  for (const decorate of calendarParams) decorate(target, key, descriptor);
};
const idempotencyHeader = ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Makes a retry safe: same key and body answer the same result; same key, other body: 409.' });
const waitQuery = ApiQuery({ name: 'waitForPosition', required: false, description: 'Wait until read models include this log position.' });

const payoutsAccepted = (outcome: PayoutsOutcome, response: Response): PayoutsAccepted => ({ ...accepted(outcome, response), payouts: outcome.payouts });

@ApiTags('periods and payouts')
@Controller()
export class PeriodsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly consistency: ReadConsistency,
  ) {}

  @Post('calendars/:calendarId/periods/:periodId/close')
  @HttpCode(200)
  @Roles('analyst', 'admin')
  @ApiOperation({
    summary: "Close a calendar period: freeze every payee's statement (digest + log position), with the lines posted to it, and price its payout",
    description: 'The read models are first brought up to every event recorded before the close. Periods of a calendar close in order.',
  })
  @ApiResponse({ status: 200, type: PeriodClosed })
  @CalendarPeriod()
  @idempotencyHeader
  async close(@Param('calendarId') calendarId: string, @Param('periodId') periodId: string, @Req() request: AuthenticatedRequest, @Res({ passthrough: true }) response: Response): Promise<PeriodClosed> {
    const outcome: CloseOutcome = await this.commands.execute(new ClosePeriod.command(requirePeriod(calendarId, periodId), commandContextOf(request)));
    return { ...accepted(outcome, response), payeesFrozen: outcome.payeesFrozen, logPosition: outcome.logPosition, totals: outcome.totals };
  }

  @Post('calendars/:calendarId/periods/:periodId/approvals')
  @HttpCode(200)
  @Roles('finance', 'admin')
  @ApiOperation({
    summary: 'Approve payouts of a closed period: some payees, or all still unapproved. The preparer of the close cannot approve (separation of duties)',
    description: 'Each payout has an id derived from payee, period and statement digest: approving again creates nothing.',
  })
  @ApiResponse({ status: 200, type: PayoutsAccepted })
  @CalendarPeriod()
  @idempotencyHeader
  async approve(
    @Param('calendarId') calendarId: string,
    @Param('periodId') periodId: string,
    @Body() body: ApprovePayoutsBody,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) response: Response,
  ): Promise<PayoutsAccepted> {
    const outcome: PayoutsOutcome = await this.commands.execute(new ApprovePayouts.command({ ...requirePeriod(calendarId, periodId), payeeIds: body.payeeIds }, commandContextOf(request)));
    return payoutsAccepted(outcome, response);
  }

  @Post('calendars/:calendarId/periods/:periodId/payments')
  @HttpCode(200)
  @Roles('payroll', 'admin')
  @ApiOperation({ summary: 'Payroll confirms approved payouts were paid, quoting its own reference; the same reference again changes nothing' })
  @ApiResponse({ status: 200, type: PayoutsAccepted })
  @CalendarPeriod()
  @idempotencyHeader
  async pay(
    @Param('calendarId') calendarId: string,
    @Param('periodId') periodId: string,
    @Body() body: ConfirmPaymentsBody,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) response: Response,
  ): Promise<PayoutsAccepted> {
    const outcome: PayoutsOutcome = await this.commands.execute(new ConfirmPayoutsPaid.command({ ...requirePeriod(calendarId, periodId), ...body }, commandContextOf(request)));
    return payoutsAccepted(outcome, response);
  }

  @Post('calendars/:calendarId/periods/:periodId/reopen')
  @HttpCode(200)
  @Roles('finance', 'admin')
  @ApiOperation({
    summary: "Reopen the calendar's latest closed period, with a reason: an audited event that voids its freeze and unpaid approvals",
    description: 'Refused once a payout is paid, once the next period is closed, or once a later period carries a correction of this one.',
  })
  @ApiResponse({ status: 200, type: CommandAccepted })
  @CalendarPeriod()
  @idempotencyHeader
  async reopen(
    @Param('calendarId') calendarId: string,
    @Param('periodId') periodId: string,
    @Body() body: ReopenPeriodBody,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) response: Response,
  ): Promise<CommandAccepted> {
    const outcome = await this.commands.execute(new ReopenPeriod.command({ ...requirePeriod(calendarId, periodId), reason: body.reason }, commandContextOf(request)));
    return accepted(outcome, response);
  }

  @Post('calendars/:calendarId/periods/:periodId/lines')
  @Roles('analyst', 'admin')
  @ApiOperation({ summary: 'Post adjustment lines by hand to an open period, each naming its cause and explaining itself; a closed period refuses them' })
  @ApiResponse({ status: 201, type: CommandAccepted })
  @CalendarPeriod()
  @idempotencyHeader
  async post(
    @Param('calendarId') calendarId: string,
    @Param('periodId') periodId: string,
    @Body() body: PostLinesBody,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) response: Response,
  ): Promise<CommandAccepted> {
    const plain = JSON.parse(JSON.stringify(body)) as PostLinesBody;
    const outcome = await this.commands.execute(new PostAdjustmentLines.command({ ...requirePeriod(calendarId, periodId), ...plain }, commandContextOf(request)));
    return accepted(outcome, response);
  }

  @Get('calendars/:calendarId/periods/:periodId')
  @Roles('analyst', 'finance', 'payroll', 'admin')
  @ApiOperation({ summary: 'A calendar period: status, preparer, log position of the freeze, payees frozen, approved and paid, totals, and every reopen with its reason' })
  @CalendarPeriod()
  @waitQuery
  async period(@Param('calendarId') calendarId: string, @Param('periodId') periodId: string, @Query('waitForPosition') waitForPosition?: string) {
    const parameters = requirePeriod(calendarId, periodId);
    await this.consistency.waitFor(waitForPosition);
    return this.queries.execute(new GetPeriod.query(parameters));
  }

  @Get('calendars/:calendarId/periods/:periodId/payouts')
  @Roles('analyst', 'finance', 'payroll', 'admin')
  @ApiOperation({ summary: "A period's payouts, a payee at a time in payee order: gross, capitalised, adjustments, clawbacks, draw paid and recovered, net, status" })
  @CalendarPeriod()
  @ApiQuery({ name: 'status', required: false, enum: ['pending_approval', 'approved', 'paid'] })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'after', required: false, description: 'Payee id to continue after (nextAfter of the previous page)' })
  @waitQuery
  async payouts(
    @Param('calendarId') calendarId: string,
    @Param('periodId') periodId: string,
    @Query('status') status?: string,
    @Query('limit') limit?: string,
    @Query('after') after?: string,
    @Query('waitForPosition') waitForPosition?: string,
  ) {
    const parameters = requirePeriod(calendarId, periodId);
    const query: ListPayoutsQuery = { ...parameters, status: requirePayoutStatus(status), limit: parseListLimit(limit), after };
    await this.consistency.waitFor(waitForPosition);
    return this.queries.execute(new ListPayouts.query(query));
  }

  @Get('calendars/:calendarId/periods/:periodId/payees/:payeeId')
  @Roles('rep', 'manager', 'analyst', 'finance', 'payroll', 'admin')
  @PayeeScope({ param: 'payeeId' })
  @ApiOperation({
    summary: "What a payee's period holds: lines posted to it (prior-period adjustments and clawbacks, each with its cause and explanation), clawbacks waived and why, the payout, and the draw balance carried",
  })
  @CalendarPeriod()
  @waitQuery
  async payeePeriod(@Param('calendarId') calendarId: string, @Param('periodId') periodId: string, @Param('payeeId') payeeId: string, @Query('waitForPosition') waitForPosition?: string) {
    const parameters = requirePeriod(calendarId, periodId);
    await this.consistency.waitFor(waitForPosition);
    return this.queries.execute(new GetPayeePeriod.query({ ...parameters, payeeId }));
  }

  @Get('calendars/:calendarId/periods/:periodId/payees/:payeeId/frozen-statement')
  @Roles('rep', 'manager', 'analyst', 'finance', 'payroll', 'admin')
  @PayeeScope({ param: 'payeeId' })
  @ApiOperation({ summary: 'A frozen statement reproduced from the log at its log position, its digest recomputed and compared (digestMatches)' })
  @CalendarPeriod()
  @waitQuery
  async frozenStatement(@Param('calendarId') calendarId: string, @Param('periodId') periodId: string, @Param('payeeId') payeeId: string, @Query('waitForPosition') waitForPosition?: string) {
    const parameters = requirePeriod(calendarId, periodId);
    await this.consistency.waitFor(waitForPosition);
    return this.queries.execute(new GetFrozenStatement.query({ ...parameters, payeeId }));
  }

  @Get('payouts/:payoutId')
  @Roles('analyst', 'finance', 'payroll', 'admin')
  @ApiOperation({ summary: 'One payout by its id (URL-encoded)' })
  @waitQuery
  async payout(@Param('payoutId') payoutId: string, @Query('waitForPosition') waitForPosition?: string) {
    await this.consistency.waitFor(waitForPosition);
    return this.queries.execute(new GetPayout.query({ payoutId }));
  }
}
