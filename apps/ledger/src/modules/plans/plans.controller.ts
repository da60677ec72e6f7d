import { Body, Controller, Get, HttpCode, Param, Post, Put, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiHeader, ApiOperation, ApiProperty, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type { PlanVersionContent, PlanState } from '#lib/plans/domain/index.js';
import { draftPlanVersion, publishPlanVersion, revisePlanDraft } from '#lib/plans/application/plan-commands.js';
import { getPlan } from '#lib/plans/application/plan-queries.js';
import type { CommandOutcome } from '#lib/shared/application/handle-command.js';
import { notFoundError, validationError } from '#lib/shared/domain/domain-error.js';
import { defineStoreCommand, defineStreamQuery } from '../../cqrs/define.js';
import { accepted, CommandAccepted } from '../../http/command-response.js';
import { commandContextOf, type AuthenticatedRequest } from '../../http/request-context.js';
import { DraftPlanVersionBody, PlanVersionBody } from './plan.dto.js';
import { Roles } from '../../http/auth/roles.js';

export const DraftPlanVersion = defineStoreCommand('DraftPlanVersion', draftPlanVersion);
export const RevisePlanDraft = defineStoreCommand('RevisePlanDraft', revisePlanDraft);
export const PublishPlanVersion = defineStoreCommand('PublishPlanVersion', publishPlanVersion);
export const GetPlan = defineStreamQuery('GetPlan', (store, parameters: { planId: string }) => getPlan(store, parameters.planId));

const idempotencyHeader = ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Makes a retry safe: same key and body answer the same result; same key, other body: 409.' });
const ifMatchHeader = ApiHeader({ name: 'If-Match', required: false, description: 'The ETag (revision) of the plan you read; 409 if it changed since.' });

export class PlanVersionAccepted extends CommandAccepted {
  @ApiProperty({ example: 'ae-2026' }) planId!: string;
  @ApiProperty({ description: 'The version the command concerns', example: 1 }) version!: number;
}

/** Request bodies arrive as DTO class instances; events hold plain JSON. */
export const plainJson = <Value>(value: unknown): Value => JSON.parse(JSON.stringify(value)) as Value;

const contentOf = (body: PlanVersionBody): PlanVersionContent => {
  const { effectiveFrom, currency, periodFrequency, components, capitalizable, benefitMonths, calendarId, clawback, draw } = plainJson<PlanVersionContent>(body);
  return { effectiveFrom, currency, periodFrequency, components, capitalizable, benefitMonths: benefitMonths ?? null, calendarId, clawback: clawback ?? null, draw: draw ?? null };
};

function parseVersion(version: string): number {
  if (!/^[1-9]\d{0,8}$/.test(version)) {
    throw validationError('REQUEST.VERSION_INVALID', 'version must be a positive whole number', [{ field: 'version', message: 'must be a positive whole number' }]);
  }
  return Number(version);
}

function versionAccepted(outcome: CommandOutcome<PlanState>, planId: string, version: number, response: Response): PlanVersionAccepted {
  return { ...accepted(outcome, response), planId, version };
}

@ApiTags('plans')
@Controller('plans')
export class PlansController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @Roles('analyst')
  @ApiOperation({ summary: 'Draft a plan version: version 1 of a new plan, or the next version of a known one (one draft at a time)' })
  @ApiResponse({ status: 201, type: PlanVersionAccepted })
  @idempotencyHeader
  async draft(@Body() body: DraftPlanVersionBody, @Req() request: AuthenticatedRequest, @Res({ passthrough: true }) response: Response): Promise<PlanVersionAccepted> {
    const outcome: CommandOutcome<PlanState> = await this.commands.execute(new DraftPlanVersion.command({ planId: body.planId, ...contentOf(body) }, commandContextOf(request)));
    const version = outcome.state.status === 'exists' ? outcome.state.versions.length : 1;
    response.location(`/plans/${encodeURIComponent(body.planId)}`);
    return versionAccepted(outcome, body.planId, version, response);
  }

  @Put(':planId/versions/:version')
  @Roles('analyst')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revise a draft version (a published version never changes: draft a new one)' })
  @ApiResponse({ status: 200, type: PlanVersionAccepted })
  @idempotencyHeader
  @ifMatchHeader
  async revise(
    @Param('planId') planId: string,
    @Param('version') versionText: string,
    @Body() body: PlanVersionBody,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) response: Response,
  ): Promise<PlanVersionAccepted> {
    const version = parseVersion(versionText);
    const outcome = await this.commands.execute(new RevisePlanDraft.command({ planId, version, ...contentOf(body) }, commandContextOf(request)));
    return versionAccepted(outcome, planId, version, response);
  }

  @Post(':planId/versions/:version/publish')
  @Roles('analyst')
  @HttpCode(200)
  @ApiOperation({ summary: 'Publish a draft version: statements price credits dated on or after its effectiveFrom with it' })
  @ApiResponse({ status: 200, type: PlanVersionAccepted })
  @idempotencyHeader
  @ifMatchHeader
  async publish(
    @Param('planId') planId: string,
    @Param('version') versionText: string,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) response: Response,
  ): Promise<PlanVersionAccepted> {
    const version = parseVersion(versionText);
    const outcome = await this.commands.execute(new PublishPlanVersion.command({ planId, version }, commandContextOf(request)));
    return versionAccepted(outcome, planId, version, response);
  }

  @Get(':planId')
  @Roles('analyst', 'finance')
  @ApiOperation({ summary: 'A plan\'s versions with their status, dates in force and full content; ETag is the plan\'s revision' })
  async get(@Param('planId') planId: string, @Res({ passthrough: true }) response: Response) {
    const plan = await this.queries.execute(new GetPlan.query({ planId }));
    if (plan === null) throw notFoundError('PLAN.NOT_FOUND', `Plan ${planId} has no versions`);
    response.setHeader('ETag', `"${plan.revision}"`);
    return plan;
  }
}
