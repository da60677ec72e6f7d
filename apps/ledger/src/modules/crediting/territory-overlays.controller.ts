import { Body, Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiHeader, ApiOperation, ApiProperty, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { assignTerritoryOverlay, endTerritoryOverlay, listTerritoryOverlays } from '#lib/crediting/application/territory-overlay-commands.js';
import { territoryOverlayIdOf } from '#lib/crediting/domain/territory-overlays.decider.js';
import { defineStoreCommand, defineStreamQuery } from '../../cqrs/define.js';
import { Roles } from '../../http/auth/roles.js';
import { accepted, CommandAccepted } from '../../http/command-response.js';
import { commandContextOf, type AuthenticatedRequest } from '../../http/request-context.js';
import { AssignTerritoryOverlayBody, EndTerritoryOverlayBody } from './territory-overlay.dto.js';

export const AssignTerritoryOverlay = defineStoreCommand('AssignTerritoryOverlay', assignTerritoryOverlay);
export const EndTerritoryOverlay = defineStoreCommand('EndTerritoryOverlay', endTerritoryOverlay);
export const ListTerritoryOverlays = defineStreamQuery('ListTerritoryOverlays', (store, parameters: { territory: string }) => listTerritoryOverlays(store, parameters.territory));

const idempotencyHeader = ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Makes a retry safe: same key and body answer the same result; same key, other body: 409.' });
const ifMatchHeader = ApiHeader({ name: 'If-Match', required: false, description: "The ETag (revision) of the territory's overlays you read; 409 if they changed since." });

export class TerritoryOverlayAccepted extends CommandAccepted {
  @ApiProperty({ description: 'The overlay: <payeeId>@<effectiveFrom>', example: 'P-300@2026-01-01' }) assignmentId!: string;
}

/**
 * Territory overlays: payees (overlay specialists, territory managers) who earn overlay credit on every deal of a
 * territory credited while they hold it, unless the deal is given its overlays explicitly. The territory is the path
 * segment, URL-encoded (it is free text, like a payee's territory).
 */
@ApiTags('deals')
@Controller('territories/:territory/overlays')
export class TerritoryOverlaysController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @Roles('analyst', 'admin')
  @ApiOperation({ summary: "Register a payee as overlay holder of a territory from a date (until a date, or open-ended), with a role and a share of each deal" })
  @ApiResponse({ status: 201, type: TerritoryOverlayAccepted })
  @idempotencyHeader
  @ifMatchHeader
  async assign(
    @Param('territory') territory: string,
    @Body() body: AssignTerritoryOverlayBody,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) response: Response,
  ): Promise<TerritoryOverlayAccepted> {
    const input = {
      territory,
      payeeId: body.payeeId,
      role: body.role,
      ...(body.sharePercent !== undefined ? { sharePercent: body.sharePercent } : {}),
      effectiveFrom: body.effectiveFrom,
      effectiveUntil: body.effectiveUntil ?? null,
    };
    const outcome = await this.commands.execute(new AssignTerritoryOverlay.command(input, commandContextOf(request)));
    response.location(`/territories/${encodeURIComponent(territory)}/overlays`);
    return { ...accepted(outcome, response), assignmentId: territoryOverlayIdOf(body.payeeId, body.effectiveFrom) };
  }

  @Post(':assignmentId/end')
  @HttpCode(200)
  @Roles('analyst', 'admin')
  @ApiOperation({ summary: 'End a territory overlay on a date (exclusive), or move the end it has' })
  @ApiResponse({ status: 200, type: TerritoryOverlayAccepted })
  @idempotencyHeader
  @ifMatchHeader
  async end(
    @Param('territory') territory: string,
    @Param('assignmentId') assignmentId: string,
    @Body() body: EndTerritoryOverlayBody,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) response: Response,
  ): Promise<TerritoryOverlayAccepted> {
    const outcome = await this.commands.execute(new EndTerritoryOverlay.command({ territory, assignmentId, effectiveUntil: body.effectiveUntil }, commandContextOf(request)));
    return { ...accepted(outcome, response), assignmentId };
  }

  @Get()
  @Roles('analyst', 'finance', 'admin')
  @ApiOperation({ summary: "A territory's overlay holders, past, present and scheduled, by payee; ETag is their revision" })
  async list(@Param('territory') territory: string, @Res({ passthrough: true }) response: Response) {
    const view = await this.queries.execute(new ListTerritoryOverlays.query({ territory }));
    response.setHeader('ETag', `"${view.revision}"`);
    return view;
  }
}
