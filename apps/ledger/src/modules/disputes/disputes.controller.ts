import { Body, Controller, Get, HttpCode, Inject, Param, Post, Put, Query, Req, Res, type Type } from '@nestjs/common';
import { Command, CommandBus, CommandHandler, QueryBus, type ICommandHandler } from '@nestjs/cqrs';
import { ApiHeader, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type { EventStore } from '#lib/event-store/event-store.port.js';
import type { ReadModelDb } from '#lib/projections/read-model.port.js';
import type { CommandContext } from '#lib/shared/application/command-context.js';
import type { CommandOutcome } from '#lib/shared/application/handle-command.js';
import { notFoundError, validationError } from '#lib/shared/domain/domain-error.js';
import {
  assignDispute,
  businessDateOf,
  commentOnDispute,
  fileDispute,
  provideDisputeInformation,
  reopenDispute,
  requestDisputeInformation,
  resolveDispute,
  withdrawDispute,
  type DisputeCommandContext,
  type DisputeSettings,
} from '#lib/disputes/application/dispute-commands.js';
import { disputeQueue, disputeStatistics, getDispute, listPayeeDisputes, type DisputeQueueQuery, type PayeeDisputesQuery } from '#lib/disputes/application/dispute-queries.js';
import { LedgerDisputeSubjects, type DisputeSubjects } from '#lib/disputes/application/dispute-subjects.js';
import type { DisputeState, DisputeSubject } from '#lib/disputes/domain/dispute.decider.js';
import type { LedgerConfig } from '../../config/ledger-config.js';
import { defineReadQuery } from '../../cqrs/define.js';
import type { PayeeResolver } from '../../http/auth/payee-resolvers.js';
import { PayeeScope, Roles } from '../../http/auth/roles.js';
import { accepted, CommandAccepted } from '../../http/command-response.js';
import { parseListLimit } from '../../http/paging.js';
import { ReadConsistency } from '../../http/read-consistency.js';
import { commandContextOf, type AuthenticatedRequest } from '../../http/request-context.js';
import { CLOCK, EVENT_STORE, LEDGER_CONFIG, READ_MODEL_DB, type Clock } from '../../ledger.tokens.js';
import {
  AssignDisputeBody,
  CommentBody,
  FileDisputeBody,
  InformationBody,
  InformationRequestBody,
  ReopenBody,
  ResolutionBody,
  WithdrawalBody,
} from './dispute.dto.js';

/** The service's dispute settings, from its configuration. */
export const disputeSettingsOf = (config: LedgerConfig): DisputeSettings => ({
  policy: { resolutionBusinessDays: config.disputeDueBusinessDays, informationBusinessDays: config.disputeInformationBusinessDays },
  reopenWindowDays: config.disputeReopenWindowDays,
});

/** What every dispute command handler has at hand: the store, the subject look-ups and the settings. */
interface DisputeDependencies {
  store: EventStore;
  subjects: DisputeSubjects;
  settings: DisputeSettings;
}

type DisputeCommandRun<Input> = (dependencies: DisputeDependencies, input: Input, context: DisputeCommandContext) => Promise<CommandOutcome<DisputeState>>;

interface DisputeCommandDefinition<Input> {
  command: new (input: Input, context: DisputeCommandContext) => Command<CommandOutcome<DisputeState>> & { input: Input; context: DisputeCommandContext };
  handler: Type<ICommandHandler>;
}

/** Like defineStoreCommand, for dispute commands that also read the statements read model and the settings. */
function defineDisputeCommand<Input>(name: string, run: DisputeCommandRun<Input>): DisputeCommandDefinition<Input> {
  const commandClass = class extends Command<CommandOutcome<DisputeState>> {
    constructor(
      readonly input: Input,
      readonly context: DisputeCommandContext,
    ) {
      super();
    }
  };
  Object.defineProperty(commandClass, 'name', { value: name });
  class Handler implements ICommandHandler<InstanceType<typeof commandClass>> {
    private readonly dependencies: DisputeDependencies;
    constructor(@Inject(EVENT_STORE) store: EventStore, @Inject(READ_MODEL_DB) readModels: ReadModelDb, @Inject(LEDGER_CONFIG) config: LedgerConfig) {
      this.dependencies = { store, subjects: new LedgerDisputeSubjects(store, readModels), settings: disputeSettingsOf(config) };
    }
    execute(command: InstanceType<typeof commandClass>) {
      return run(this.dependencies, command.input, command.context);
    }
  }
  Object.defineProperty(Handler, 'name', { value: `${name}Handler` });
  CommandHandler(commandClass)(Handler);
  return { command: commandClass, handler: Handler };
}

export const FileDispute = defineDisputeCommand('FileDispute', ({ store, subjects, settings }, input: Parameters<typeof fileDispute>[3], context) =>
  fileDispute(store, subjects, settings, input, context),
);
export const AssignDispute = defineDisputeCommand('AssignDispute', ({ store }, input: { disputeId: string; assigneeId: string }, context) => assignDispute(store, input, context));
export const CommentOnDispute = defineDisputeCommand('CommentOnDispute', ({ store }, input: { disputeId: string; text: string }, context) => commentOnDispute(store, input, context));
export const RequestDisputeInformation = defineDisputeCommand('RequestDisputeInformation', ({ store, settings }, input: { disputeId: string; question: string }, context) =>
  requestDisputeInformation(store, settings, input, context),
);
export const ProvideDisputeInformation = defineDisputeCommand(
  'ProvideDisputeInformation',
  ({ store }, input: { disputeId: string; answer: string; evidenceReferences?: string[] }, context) => provideDisputeInformation(store, input, context),
);
export const ResolveDispute = defineDisputeCommand('ResolveDispute', ({ store, subjects, settings }, input: Parameters<typeof resolveDispute>[3], context) =>
  resolveDispute(store, subjects, settings, input, context),
);
export const WithdrawDispute = defineDisputeCommand('WithdrawDispute', ({ store }, input: { disputeId: string; reason?: string }, context) => withdrawDispute(store, input, context));
export const ReopenDispute = defineDisputeCommand('ReopenDispute', ({ store, settings }, input: { disputeId: string; reason: string }, context) =>
  reopenDispute(store, settings, input, context),
);

export const GetDispute = defineReadQuery('GetDispute', (db, query: { disputeId: string; today: string }) => getDispute(db, query.disputeId, query.today));
export const ListPayeeDisputes = defineReadQuery('ListPayeeDisputes', (db, query: PayeeDisputesQuery & { today: string }) => listPayeeDisputes(db, query, query.today));
export const DisputeQueue = defineReadQuery('DisputeQueue', (db, query: DisputeQueueQuery & { today: string }) => disputeQueue(db, query, query.today));
export const DisputeStatistics = defineReadQuery('DisputeStatistics', (db, query: { periodId: string; today: string }) => disputeStatistics(db, query.periodId, query.today));

export const disputeCommands = [FileDispute, AssignDispute, CommentOnDispute, RequestDisputeInformation, ProvideDisputeInformation, ResolveDispute, WithdrawDispute, ReopenDispute];
export const disputeQueries = [GetDispute, ListPayeeDisputes, DisputeQueue, DisputeStatistics];

const idempotencyHeader = ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Makes a retry safe: same key and body answer the same result; same key, other body: 409.' });
const ifMatchHeader = ApiHeader({ name: 'If-Match', required: false, description: 'The ETag (revision) of the dispute you read; 409 if it changed since.' });
const waitQuery = ApiQuery({ name: 'waitForPosition', required: false, description: 'Wait until read models include this log position.' });

/** "a,b" -> ["a", "b"]; absent -> undefined. */
const listOf = (value: string | undefined): string[] | undefined => (value === undefined || value === '' ? undefined : value.split(',').map((item) => item.trim()));

function booleanOf(value: string | undefined, field: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true' || value === 'false') return value === 'true';
  throw validationError('REQUEST.BOOLEAN_INVALID', `${field} must be true or false`, [{ field, message: 'must be true or false' }]);
}

function daysOf(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,5}$/.test(value)) throw validationError('REQUEST.DAYS_INVALID', `${field} must be a whole number of days`, [{ field, message: 'must be a whole number of days' }]);
  return Number(value);
}

/** A dispute concerns the payee it is about. */
export const disputePayeeResolver: PayeeResolver = {
  payeesOf: async (reader, disputeId) => (await reader.all<{ payee_id: string }>('SELECT payee_id FROM disputes WHERE dispute_id = ?', [disputeId])).map((row) => row.payee_id),
  notFound: (disputeId) => notFoundError('DISPUTE.NOT_FOUND', `Dispute ${disputeId} is not known`),
};

/** A rep or manager reaches a dispute of a payee in their scope only (404 otherwise, as if it did not exist). */
const disputeScope = PayeeScope({ resolve: { kind: 'dispute', param: 'disputeId' } });

@ApiTags('disputes')
@Controller()
export class DisputesController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly consistency: ReadConsistency,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** The request's command context, on the service clock (which decides today's date for due dates), with the payee a rep acts as. */
  private contextOf(request: AuthenticatedRequest): DisputeCommandContext {
    return { ...commandContextOf(request), now: () => this.clock.now(), actorPayeeId: request.principal?.payeeId ?? null };
  }

  private today(): string {
    return businessDateOf(this.clock.now());
  }

  private async run<Input>(definition: DisputeCommandDefinition<Input>, input: Input, request: AuthenticatedRequest, response: Response): Promise<CommandAccepted> {
    const outcome: CommandOutcome<DisputeState> = await this.commands.execute(new definition.command(input, this.contextOf(request)));
    return accepted(outcome, response);
  }

  @Post('disputes')
  @Roles('rep', 'analyst')
  @PayeeScope({ body: ['payeeId'] })
  @ApiOperation({ summary: 'File a dispute on a deal, a credit, a statement line or a period; its due date follows from its category' })
  @ApiResponse({ status: 201, type: CommandAccepted })
  @idempotencyHeader
  async file(@Body() body: FileDisputeBody, @Req() request: AuthenticatedRequest, @Res({ passthrough: true }) response: Response): Promise<CommandAccepted> {
    const { subject, ...rest } = body;
    const answer = await this.run(FileDispute, { ...rest, subject: subject as DisputeSubject }, request, response);
    response.location(`/disputes/${encodeURIComponent(answer.streamId.slice('dispute-'.length))}`);
    return answer;
  }

  @Get('disputes')
  @Roles('analyst', 'finance')
  @ApiOperation({ summary: 'The analyst queue, most urgent first: filter by status, category, assignee, overdue, escalation and age (keyset paging with ?after=)' })
  @ApiQuery({ name: 'status', required: false, description: 'Comma-separated; default filed,under_review,info_requested' })
  @ApiQuery({ name: 'category', required: false, description: 'Comma-separated categories' })
  @ApiQuery({ name: 'assigneeId', required: false })
  @ApiQuery({ name: 'unassigned', required: false, enum: ['true', 'false'] })
  @ApiQuery({ name: 'overdue', required: false, enum: ['true', 'false'], description: 'Unresolved and past the due date in force today' })
  @ApiQuery({ name: 'escalated', required: false, enum: ['true', 'false'] })
  @ApiQuery({ name: 'minAgeDays', required: false, description: 'Filed at least this many calendar days ago' })
  @ApiQuery({ name: 'maxAgeDays', required: false, description: 'Filed at most this many calendar days ago' })
  @ApiQuery({ name: 'payeeId', required: false })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'after', required: false })
  @waitQuery
  async queue(
    @Query('status') status?: string,
    @Query('category') category?: string,
    @Query('assigneeId') assigneeId?: string,
    @Query('unassigned') unassigned?: string,
    @Query('overdue') overdue?: string,
    @Query('escalated') escalated?: string,
    @Query('minAgeDays') minAgeDays?: string,
    @Query('maxAgeDays') maxAgeDays?: string,
    @Query('payeeId') payeeId?: string,
    @Query('limit') limit?: string,
    @Query('after') after?: string,
    @Query('waitForPosition') waitForPosition?: string,
  ) {
    const query: DisputeQueueQuery & { today: string } = {
      statuses: listOf(status),
      categories: listOf(category),
      assigneeId,
      unassigned: booleanOf(unassigned, 'unassigned'),
      overdue: booleanOf(overdue, 'overdue'),
      escalated: booleanOf(escalated, 'escalated'),
      minAgeDays: daysOf(minAgeDays, 'minAgeDays'),
      maxAgeDays: daysOf(maxAgeDays, 'maxAgeDays'),
      payeeId,
      limit: parseListLimit(limit),
      after,
      today: this.today(),
    };
    await this.consistency.waitFor(waitForPosition);
    return this.queries.execute(new DisputeQueue.query(query));
  }

  @Get('disputes/statistics')
  @Roles('analyst', 'finance')
  @ApiOperation({ summary: 'Per period: disputes filed, resolutions and the business days they took, and the aging of those still open' })
  @ApiQuery({ name: 'periodId', required: true, description: '"2026-03", "2026-Q1" or "2026"' })
  @waitQuery
  async statistics(@Query('periodId') periodId: string | undefined, @Query('waitForPosition') waitForPosition?: string) {
    if (periodId === undefined) throw validationError('VALIDATION.FAILED', 'periodId is required', [{ field: 'periodId', message: 'is required' }]);
    await this.consistency.waitFor(waitForPosition);
    return this.queries.execute(new DisputeStatistics.query({ periodId, today: this.today() }));
  }

  @Get('disputes/:disputeId')
  @Roles('rep', 'manager', 'analyst', 'finance')
  @disputeScope
  @ApiOperation({ summary: 'A dispute with its timeline: every step with its actor; ETag is its revision' })
  @waitQuery
  async get(
    @Param('disputeId') disputeId: string,
    @Res({ passthrough: true }) response: Response,
    @Query('waitForPosition') waitForPosition?: string,
  ) {
    await this.consistency.waitFor(waitForPosition);
    const dispute = await this.queries.execute(new GetDispute.query({ disputeId, today: this.today() }));
    if (dispute === null) throw notFoundError('DISPUTE.NOT_FOUND', `Dispute ${disputeId} is not known`);
    response.setHeader('ETag', `"${dispute.revision}"`);
    return dispute;
  }

  @Get('payees/:payeeId/disputes')
  @Roles('rep', 'manager', 'analyst', 'finance')
  @PayeeScope({ param: 'payeeId' })
  @ApiOperation({ summary: 'A payee\'s disputes, newest first (a rep: their own only)' })
  @ApiQuery({ name: 'status', required: false, description: 'Comma-separated statuses' })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'after', required: false })
  @waitQuery
  async forPayee(
    @Param('payeeId') payeeId: string,
    @Query('status') status?: string,
    @Query('limit') limit?: string,
    @Query('after') after?: string,
    @Query('waitForPosition') waitForPosition?: string,
  ) {
    await this.consistency.waitFor(waitForPosition);
    return this.queries.execute(new ListPayeeDisputes.query({ payeeId, statuses: listOf(status), limit: parseListLimit(limit), after, today: this.today() }));
  }

  @Put('disputes/:disputeId/assignee')
  @HttpCode(200)
  @Roles('analyst')
  @ApiOperation({ summary: 'Assign the dispute to an analyst: a filed dispute goes under review' })
  @ApiResponse({ status: 200, type: CommandAccepted })
  @idempotencyHeader
  @ifMatchHeader
  assign(@Param('disputeId') disputeId: string, @Body() body: AssignDisputeBody, @Req() request: AuthenticatedRequest, @Res({ passthrough: true }) response: Response) {
    return this.run(AssignDispute, { disputeId, assigneeId: body.assigneeId }, request, response);
  }

  @Post('disputes/:disputeId/comments')
  @HttpCode(200)
  @Roles('rep', 'analyst')
  @disputeScope
  @ApiOperation({ summary: 'Comment (the rep or an analyst), while the dispute is unresolved' })
  @ApiResponse({ status: 200, type: CommandAccepted })
  @idempotencyHeader
  comment(@Param('disputeId') disputeId: string, @Body() body: CommentBody, @Req() request: AuthenticatedRequest, @Res({ passthrough: true }) response: Response) {
    return this.run(CommentOnDispute, { disputeId, text: body.text }, request, response);
  }

  @Post('disputes/:disputeId/information-requests')
  @HttpCode(200)
  @Roles('analyst')
  @ApiOperation({ summary: 'Ask the rep for information: the analyst\'s clock stops and the rep\'s starts' })
  @ApiResponse({ status: 200, type: CommandAccepted })
  @idempotencyHeader
  @ifMatchHeader
  requestInformation(@Param('disputeId') disputeId: string, @Body() body: InformationRequestBody, @Req() request: AuthenticatedRequest, @Res({ passthrough: true }) response: Response) {
    return this.run(RequestDisputeInformation, { disputeId, question: body.question }, request, response);
  }

  @Post('disputes/:disputeId/information')
  @HttpCode(200)
  @Roles('rep')
  @disputeScope
  @ApiOperation({ summary: 'Answer a request for information (the rep, or the filer): the analyst\'s clock restarts with the days it had left' })
  @ApiResponse({ status: 200, type: CommandAccepted })
  @idempotencyHeader
  provideInformation(@Param('disputeId') disputeId: string, @Body() body: InformationBody, @Req() request: AuthenticatedRequest, @Res({ passthrough: true }) response: Response) {
    return this.run(ProvideDisputeInformation, { disputeId, ...body }, request, response);
  }

  @Post('disputes/:disputeId/resolution')
  @HttpCode(200)
  @Roles('analyst')
  @ApiOperation({ summary: 'Resolve: approved (the claimed amount), partially_approved (an amount and a reason) or rejected (a reason). An approval is posted by the remedies process.' })
  @ApiResponse({ status: 200, type: CommandAccepted })
  @idempotencyHeader
  @ifMatchHeader
  resolve(@Param('disputeId') disputeId: string, @Body() body: ResolutionBody, @Req() request: AuthenticatedRequest, @Res({ passthrough: true }) response: Response) {
    const { creditCorrection, ...rest } = body;
    return this.run(
      ResolveDispute,
      {
        disputeId,
        ...rest,
        ...(creditCorrection !== undefined
          ? {
              creditCorrection: {
                dealId: creditCorrection.dealId,
                primarySplits: creditCorrection.splits,
                ...(creditCorrection.overlays !== undefined ? { overlays: creditCorrection.overlays } : {}),
                ...(creditCorrection.creditDate !== undefined ? { creditDate: creditCorrection.creditDate } : {}),
              },
            }
          : {}),
      },
      request,
      response,
    );
  }

  @Post('disputes/:disputeId/withdrawal')
  @HttpCode(200)
  @Roles('rep', 'analyst')
  @disputeScope
  @ApiOperation({ summary: 'Withdraw (the filer, or the rep it is about), while unresolved' })
  @ApiResponse({ status: 200, type: CommandAccepted })
  @idempotencyHeader
  withdraw(@Param('disputeId') disputeId: string, @Body() body: WithdrawalBody, @Req() request: AuthenticatedRequest, @Res({ passthrough: true }) response: Response) {
    return this.run(WithdrawDispute, { disputeId, ...body }, request, response);
  }

  @Post('disputes/:disputeId/reopening')
  @HttpCode(200)
  @Roles('rep', 'analyst')
  @disputeScope
  @ApiOperation({ summary: 'Reopen a resolved dispute within the reopen window (LEDGER_DISPUTE_REOPEN_DAYS)' })
  @ApiResponse({ status: 200, type: CommandAccepted })
  @idempotencyHeader
  @ifMatchHeader
  reopen(@Param('disputeId') disputeId: string, @Body() body: ReopenBody, @Req() request: AuthenticatedRequest, @Res({ passthrough: true }) response: Response) {
    return this.run(ReopenDispute, { disputeId, reason: body.reason }, request, response);
  }
}
