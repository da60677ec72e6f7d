import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, type Type } from '@nestjs/common';
import { Query as CqrsQuery, QueryBus, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { EventStore } from '#lib/event-store/event-store.port.js';
import type { ReadModelDb } from '#lib/projections/read-model.port.js';
import { validationError } from '#lib/shared/domain/domain-error.js';
import { estimateStatement, explainStatementLine, getStatement, modelPlanVersion } from '#lib/statements/application/statement-queries.js';
import { statementAsOf, type StatementAsOf } from '#lib/statements/application/statement-as-of.js';
import { defineReadQuery } from '../../cqrs/define.js';
import { ReadConsistency } from '../../http/read-consistency.js';
import { PayeeScope, Roles } from '../../http/auth/roles.js';
import { EVENT_STORE, READ_MODEL_DB } from '../../ledger.tokens.js';
import { EstimateStatementBody, ModelPlanBody, periodIdPattern } from './statement.dto.js';

export const GetStatement = defineReadQuery('GetStatement', (db, query: { payeeId: string; periodId: string }) => getStatement(db, query));
export const ExplainStatementLine = defineReadQuery('ExplainStatementLine', (db, query: { payeeId: string; periodId: string; lineId: string }) =>
  explainStatementLine(db, query),
);
export const EstimateStatement = defineReadQuery('EstimateStatement', (db, query: Parameters<typeof estimateStatement>[1]) => estimateStatement(db, query));
export const ModelPlanVersion = defineReadQuery('ModelPlanVersion', (db, query: { planId: string; version: number; periodId: string }) => modelPlanVersion(db, query));

/** As of a past time, a statement is read from the log itself: the one query here that needs the event store. */
type AsOfParameters = { payeeId: string; periodId: string; asOf: string };
class GetStatementAsOfQuery extends CqrsQuery<StatementAsOf> {
  constructor(readonly parameters: AsOfParameters) {
    super();
  }
}
@QueryHandler(GetStatementAsOfQuery)
class GetStatementAsOfHandler implements IQueryHandler<GetStatementAsOfQuery, StatementAsOf> {
  constructor(
    @Inject(EVENT_STORE) readonly store: EventStore,
    @Inject(READ_MODEL_DB) readonly db: ReadModelDb,
  ) {}
  execute(query: GetStatementAsOfQuery): Promise<StatementAsOf> {
    return statementAsOf(this.store, this.db, query.parameters);
  }
}
export const GetStatementAsOf: { query: typeof GetStatementAsOfQuery; handler: Type<IQueryHandler> } = { query: GetStatementAsOfQuery, handler: GetStatementAsOfHandler };

/** Every statements query, for the module's providers. */
export const statementQueries = [GetStatement, ExplainStatementLine, EstimateStatement, ModelPlanVersion, GetStatementAsOf];

function requirePeriodId(periodId: string): string {
  if (!periodIdPattern.test(periodId)) {
    throw validationError('PERIOD.INVALID_ID', `"${periodId}" is not a period id`, [
      { field: 'periodId', message: 'must be a month "2026-03", a quarter "2026-Q1" or a year "2026"' },
    ]);
  }
  return periodId;
}

function requireVersion(version: string): number {
  if (!/^[1-9]\d{0,8}$/.test(version)) {
    throw validationError('REQUEST.VERSION_INVALID', 'version must be a positive integer', [{ field: 'version', message: 'must be a positive integer' }]);
  }
  return Number(version);
}

const periodParam = ApiParam({ name: 'periodId', description: 'A period of the payee\'s plan frequency: "2026-03", "2026-Q1" or "2026"' });
const waitQuery = ApiQuery({ name: 'waitForPosition', required: false, description: 'Wait until read models include this log position.' });

@ApiTags('statements')
@Controller()
export class StatementsController {
  constructor(
    private readonly queries: QueryBus,
    private readonly consistency: ReadConsistency,
  ) {}

  @Get('payees/:payeeId/statements/:periodId')
  @Roles('rep', 'manager', 'analyst', 'finance')
  @PayeeScope({ param: 'payeeId' })
  @ApiOperation({
    summary: 'A payee\'s commission statement for a period: lines (rounded once, half-even), totals as sums of lines, attainment and held credits',
    description: 'With ?asOf= the statement is reproduced from the log as it stood at that recorded time (answer: { asOf, position, statement }).',
  })
  @periodParam
  @ApiQuery({ name: 'asOf', required: false, description: 'ISO 8601 time with a zone, e.g. 2026-03-15T09:00:00Z' })
  @waitQuery
  async get(
    @Param('payeeId') payeeId: string,
    @Param('periodId') periodId: string,
    @Query('asOf') asOf?: string,
    @Query('waitForPosition') waitForPosition?: string,
  ) {
    requirePeriodId(periodId);
    await this.consistency.waitFor(waitForPosition);
    if (asOf !== undefined) return this.queries.execute(new GetStatementAsOf.query({ payeeId, periodId, asOf }));
    return this.queries.execute(new GetStatement.query({ payeeId, periodId }));
  }

  @Get('payees/:payeeId/statements/:periodId/lines/:lineId/explain')
  @Roles('rep', 'manager', 'analyst', 'finance')
  @PayeeScope({ param: 'payeeId' })
  @ApiOperation({ summary: 'How one statement line was made: credit, deal, plan version, tier, rate, formula, rounding, and the events behind it' })
  @periodParam
  @ApiParam({ name: 'lineId', description: 'The line\'s lineId, URL-encoded (it holds ":" and "/")' })
  @waitQuery
  async explain(
    @Param('payeeId') payeeId: string,
    @Param('periodId') periodId: string,
    @Param('lineId') lineId: string,
    @Query('waitForPosition') waitForPosition?: string,
  ) {
    requirePeriodId(periodId);
    await this.consistency.waitFor(waitForPosition);
    return this.queries.execute(new ExplainStatementLine.query({ payeeId, periodId, lineId }));
  }

  @Post('payees/:payeeId/statements/:periodId/estimate')
  @Roles('rep', 'manager', 'analyst', 'finance')
  @PayeeScope({ param: 'payeeId' })
  @HttpCode(200)
  @ApiOperation({ summary: 'What-if: the statement with hypothetical deals added, and the difference they make. Records nothing.' })
  @ApiOkResponse({ description: '{ statement, addedLines, difference }' })
  @periodParam
  @waitQuery
  async estimate(
    @Param('payeeId') payeeId: string,
    @Param('periodId') periodId: string,
    @Body() body: EstimateStatementBody,
    @Query('waitForPosition') waitForPosition?: string,
  ) {
    requirePeriodId(periodId);
    await this.consistency.waitFor(waitForPosition);
    return this.queries.execute(new EstimateStatement.query({ payeeId, periodId, deals: body.deals }));
  }

  @Post('plans/:planId/versions/:version/model')
  @Roles('analyst', 'finance')
  @HttpCode(200)
  @ApiOperation({ summary: 'Model a plan version (draft or published) over everyone on the plan in a period: current, modelled and difference per payee. Records nothing.' })
  @ApiParam({ name: 'version', description: 'Version number within the plan' })
  @waitQuery
  async model(
    @Param('planId') planId: string,
    @Param('version') version: string,
    @Body() body: ModelPlanBody,
    @Query('waitForPosition') waitForPosition?: string,
  ) {
    const versionNumber = requireVersion(version);
    await this.consistency.waitFor(waitForPosition);
    return this.queries.execute(new ModelPlanVersion.query({ planId, version: versionNumber, periodId: body.periodId }));
  }
}
