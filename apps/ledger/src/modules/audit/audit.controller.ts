import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { listAuditTrail, type AuditTrailQuery } from '#lib/audit/application/audit-queries.js';
import type { AuditSubject, AuditSubjectKind } from '#lib/audit/domain/audit-subjects.js';
import { validationError } from '#lib/shared/domain/domain-error.js';
import { defineReadQuery } from '../../cqrs/define.js';
import { Roles } from '../../http/auth/roles.js';
import { parseListLimit } from '../../http/paging.js';
import { ReadConsistency } from '../../http/read-consistency.js';

export const ListAuditTrail = defineReadQuery('ListAuditTrail', (db, query: AuditTrailQuery) => listAuditTrail(db, query));

/** The query field naming each kind of subject. */
const subjectFields: Record<string, AuditSubjectKind> = { payeeId: 'payee', dealId: 'deal', planId: 'plan', periodId: 'period', disputeId: 'dispute' };
const subjectFieldList = Object.keys(subjectFields).join(', ');

function subjectOf(query: Record<string, string | undefined>): AuditSubject {
  const given = Object.keys(subjectFields).filter((field) => query[field] !== undefined);
  if (given.length !== 1) {
    throw validationError('AUDIT.SUBJECT_REQUIRED', `Name exactly one subject: one of ${subjectFieldList}`, [
      { field: given[1] ?? 'payeeId', message: `give exactly one of ${subjectFieldList}` },
    ]);
  }
  const id = query[given[0]] as string;
  if (id === '' || id.length > 200) throw validationError('AUDIT.SUBJECT_INVALID', `${given[0]} must be 1 to 200 characters`, [{ field: given[0], message: 'must be 1 to 200 characters' }]);
  return { kind: subjectFields[given[0]], id };
}

function afterPositionOf(after: string | undefined): number | undefined {
  if (after === undefined) return undefined;
  if (!/^\d{1,15}$/.test(after)) throw validationError('REQUEST.AFTER_INVALID', 'after must be a log position from a previous page', [{ field: 'after', message: 'must be a log position' }]);
  return Number(after);
}

@ApiTags('audit')
@Controller('audit')
export class AuditController {
  constructor(
    private readonly queries: QueryBus,
    private readonly consistency: ReadConsistency,
  ) {}

  @Get()
  @Roles('finance')
  @ApiOperation({
    summary: 'Who did what to a payee, deal, plan, period or dispute: every event that touched it, in log order',
    description:
      'Each entry: position, event id, stream and revision, event type, actor id and role, correlation, causation and idempotency ids, ' +
      'business and recorded time. Name exactly one subject. Pages continue with ?after=<nextAfter>.',
  })
  @ApiQuery({ name: 'payeeId', required: false })
  @ApiQuery({ name: 'dealId', required: false })
  @ApiQuery({ name: 'planId', required: false })
  @ApiQuery({ name: 'periodId', required: false, description: 'e.g. 2026-03: quotas set for it, its close, approvals and payments' })
  @ApiQuery({ name: 'disputeId', required: false })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'after', required: false, description: 'nextAfter of the previous page' })
  @ApiQuery({ name: 'waitForPosition', required: false, description: 'Wait until read models include this log position.' })
  async list(
    @Query('payeeId') payeeId?: string,
    @Query('dealId') dealId?: string,
    @Query('planId') planId?: string,
    @Query('periodId') periodId?: string,
    @Query('disputeId') disputeId?: string,
    @Query('limit') limit?: string,
    @Query('after') after?: string,
    @Query('waitForPosition') waitForPosition?: string,
  ) {
    const subject = subjectOf({ payeeId, dealId, planId, periodId, disputeId });
    const query: AuditTrailQuery = { subject, limit: parseListLimit(limit), afterPosition: afterPositionOf(after) };
    await this.consistency.waitFor(waitForPosition);
    return this.queries.execute(new ListAuditTrail.query(query));
  }
}
