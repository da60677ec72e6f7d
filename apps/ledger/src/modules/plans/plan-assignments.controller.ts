import { Body, Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiHeader, ApiOperation, ApiProperty, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { assignmentIdOf } from '#lib/plans/domain/index.js';
import { assignPlan, endAssignment } from '#lib/plans/application/plan-commands.js';
import { listPlanAssignments } from '#lib/plans/application/plan-queries.js';
import { notFoundError } from '#lib/shared/domain/domain-error.js';
import { defineStoreCommand, defineStreamQuery } from '../../cqrs/define.js';
import { accepted, CommandAccepted } from '../../http/command-response.js';
import { commandContextOf, type AuthenticatedRequest } from '../../http/request-context.js';
import { AssignPlanBody, EndAssignmentBody } from './plan.dto.js';
import { PayeeScope, Roles } from '../../http/auth/roles.js';

export const AssignPlan = defineStoreCommand('AssignPlan', assignPlan);
export const EndAssignment = defineStoreCommand('EndAssignment', endAssignment);
export const ListPlanAssignments = defineStreamQuery('ListPlanAssignments', (store, parameters: { payeeId: string }) => listPlanAssignments(store, parameters.payeeId));

const idempotencyHeader = ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Makes a retry safe: same key and body answer the same result; same key, other body: 409.' });
const ifMatchHeader = ApiHeader({ name: 'If-Match', required: false, description: "The ETag (revision) of the payee's assignments you read; 409 if they changed since." });

export class AssignmentAccepted extends CommandAccepted {
  @ApiProperty({ description: 'The assignment: <planId>@<effectiveFrom>', example: 'ae-2026@2026-01-01' }) assignmentId!: string;
}

@ApiTags('plans')
@Controller('payees/:payeeId/plan-assignments')
export class PlanAssignmentsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @Roles('analyst')
  @ApiOperation({ summary: 'Put a payee on a published plan from a date (until a date, or open-ended); assignments of a payee never overlap' })
  @ApiResponse({ status: 201, type: AssignmentAccepted })
  @idempotencyHeader
  @ifMatchHeader
  async assign(
    @Param('payeeId') payeeId: string,
    @Body() body: AssignPlanBody,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) response: Response,
  ): Promise<AssignmentAccepted> {
    const input = { payeeId, planId: body.planId, effectiveFrom: body.effectiveFrom, effectiveUntil: body.effectiveUntil ?? null };
    const outcome = await this.commands.execute(new AssignPlan.command(input, commandContextOf(request)));
    response.location(`/payees/${encodeURIComponent(payeeId)}/plan-assignments`);
    return { ...accepted(outcome, response), assignmentId: assignmentIdOf(body.planId, body.effectiveFrom) };
  }

  @Post(':assignmentId/end')
  @Roles('analyst')
  @HttpCode(200)
  @ApiOperation({ summary: 'End an assignment on a date (exclusive), or move the end it has' })
  @ApiResponse({ status: 200, type: AssignmentAccepted })
  @idempotencyHeader
  @ifMatchHeader
  async end(
    @Param('payeeId') payeeId: string,
    @Param('assignmentId') assignmentId: string,
    @Body() body: EndAssignmentBody,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) response: Response,
  ): Promise<AssignmentAccepted> {
    const outcome = await this.commands.execute(new EndAssignment.command({ payeeId, assignmentId, effectiveUntil: body.effectiveUntil }, commandContextOf(request)));
    return { ...accepted(outcome, response), assignmentId };
  }

  @Get()
  @Roles('rep', 'manager', 'analyst', 'finance')
  @PayeeScope({ param: 'payeeId' })
  @ApiOperation({ summary: "A payee's plan assignments in date order; ETag is their revision" })
  async list(@Param('payeeId') payeeId: string, @Res({ passthrough: true }) response: Response) {
    const view = await this.queries.execute(new ListPlanAssignments.query({ payeeId }));
    if (view === null) throw notFoundError('PAYEE.NOT_FOUND', `Payee ${payeeId} is not onboarded`);
    response.setHeader('ETag', `"${view.revision}"`);
    return view;
  }
}
